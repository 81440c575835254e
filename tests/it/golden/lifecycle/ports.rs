//! Golden tests of `pick`, `reserve` and `release`: one port, several, from a range; a new
//! reservation, an earlier one, the list, a prune, a release and a name not found.

use std::path::PathBuf;

use portscope::commands::Report;
use portscope::commands::pick::PickReport;
use portscope::commands::reserve::{Action, ReserveReport, Row};
use portscope::store::registry::Reservation;

use super::{REGISTRY, v4};
use crate::golden::pin;

/// 2026-11-22 02:29:54 UTC.
const CREATED: i64 = 1_795_314_594;

fn pick_report(ports: &[u16]) -> PickReport {
    PickReport {
        ports: ports.to_vec(),
        range: (1024, 65535),
        host: None,
        udp: false,
        avoided_ephemeral: Some((32768, 60999)),
        avoided_well_known: true,
        lease_seconds: 60.0,
        registry: REGISTRY.into(),
    }
}

/// `pick`: one port.
#[test]
fn pick_one() {
    pin(
        "lifecycle-pick-one",
        &Report::Pick(Box::new(pick_report(&[10283]))),
    );
}

/// `pick --count 3 --udp`.
#[test]
fn pick_several_udp() {
    let mut r = pick_report(&[12201, 12202, 12203]);
    r.udp = true;
    pin("lifecycle-pick-several", &Report::Pick(Box::new(r)));
}

/// `pick --range 3000-3999 --host 127.0.0.1 --lease 5m`.
#[test]
fn pick_range_host() {
    let mut r = pick_report(&[3973]);
    r.range = (3000, 3999);
    r.host = Some(v4(127, 0, 0, 1));
    r.avoided_well_known = false;
    r.lease_seconds = 300.0;
    pin("lifecycle-pick-range", &Report::Pick(Box::new(r)));
}

// ---------------------------------------------------------------------------------------
// reserve, release

fn row(name: &str, port: u16, dir: Option<&str>, listening: bool, exists: bool) -> Row {
    Row {
        reservation: Reservation::new(name, port, dir.map(PathBuf::from), CREATED),
        listening,
        dir_exists: dir.map(|_| exists),
    }
}

fn reserve_report(action: Action, name: Option<&str>, rows: Vec<Row>) -> Report {
    Report::Reserve(Box::new(ReserveReport {
        action,
        name: name.map(String::from),
        reservations: rows,
        notes: vec![],
        registry: REGISTRY.into(),
    }))
}

/// `reserve shop/web` on a terminal, the first time: the port, how, and a note.
#[test]
fn reserve_new() {
    let r = ReserveReport {
        action: Action::Reserved,
        name: Some("shop/web".into()),
        reservations: vec![row("shop/web", 32307, Some("/home/dev/shop"), false, true)],
        notes: vec![
            "port 32307 is in this machine's ephemeral range 32000-60999: an outgoing connection may take it while your service is down".into(),
        ],
        registry: REGISTRY.into(),
    };
    pin("lifecycle-reserve-new", &Report::Reserve(Box::new(r)));
}

/// `reserve shop/web` again: the same port, reserved earlier.
#[test]
fn reserve_earlier() {
    let report = reserve_report(
        Action::Existing,
        Some("shop/web"),
        vec![row("shop/web", 32307, Some("/home/dev/shop"), true, true)],
    );
    pin("lifecycle-reserve-earlier", &report);
}

/// `reserve --list`: a table, one row per name.
#[test]
fn reserve_list() {
    let report = reserve_report(
        Action::List,
        None,
        vec![
            row("shop/api", 8000, Some("/home/dev/shop"), true, true),
            row("shop/web", 32307, Some("/home/dev/shop"), false, true),
            row("blog", 24791, Some("/home/dev/old-blog"), false, false),
            row("ci", 12000, None, false, false),
        ],
    );
    pin("lifecycle-reserve-list", &report);
}

/// `reserve --prune`: the names whose directory is gone are forgotten.
#[test]
fn reserve_prune() {
    let report = reserve_report(
        Action::Pruned,
        None,
        vec![row("blog", 24791, Some("/home/dev/old-blog"), false, false)],
    );
    pin("lifecycle-reserve-prune", &report);
}

/// `release shop/web`.
#[test]
fn release_found() {
    let report = reserve_report(
        Action::Released,
        Some("shop/web"),
        vec![row("shop/web", 32307, Some("/home/dev/shop"), false, true)],
    );
    pin("lifecycle-release", &report);
}

/// `release nope`: no such reservation (exit 1).
#[test]
fn release_not_found() {
    let report = reserve_report(Action::NotFound, Some("nope"), vec![]);
    pin("lifecycle-release-not-found", &report);
}
