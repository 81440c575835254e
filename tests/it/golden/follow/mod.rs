//! Golden tests of the follow verbs (see `golden/mod.rs`): the reports `watch`, `daemon`, `ui`
//! and the traffic tools (`serve`, `forward`, `tap`, `bench`) print when they stop, `history`'s
//! answers, and the live lines printed while they run; this file holds the fixtures they share.
//!
//! Times are fixed Unix seconds; `history` renders local times in the report's own zone, which
//! the fixtures set to UTC, so nothing here depends on the machine's time zone (`pin` masks the
//! tables' date-times anyway; times of day stay). The `watch-stopped` line carries the moment
//! it was printed, so `watch.rs` masks it.

mod bench;
mod forward;
mod history;
mod serve;
mod tap;
mod ui;
mod watch;

use std::net::{IpAddr, SocketAddr};

use portscope::model::Proto;
use portscope::render;
use portscope::render::style::Palette;
use portscope::traffic::Line;
use portscope::watch::{Ending, Event, EventKind, Listener, Owner};

use crate::golden::pin_text;

/// Pin live lines: `NAME.txt` as a person sees them, `NAME.json` as `--json` prints them.
fn pin_lines(name: &str, lines: &[Line]) {
    let pal = Palette::new(false);
    let text: String = lines
        .iter()
        .map(|l| render::traffic::text(l, false, &pal))
        .collect();
    let json: String = lines
        .iter()
        .map(|l| render::traffic::text(l, true, &pal))
        .collect();
    pin_text(&format!("{name}.txt"), &text, &[]);
    pin_text(&format!("{name}.json"), &json, &[]);
}

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("socket address")
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("ip address")
}

fn args(words: &[&str]) -> Vec<String> {
    words.iter().map(ToString::to_string).collect()
}

/// An owner as the recorder first saw it (user root, no container or unit, no workers).
fn owner(pid: u32, process: &str, cmdline: &[&str], cwd: &str, start_time: u64) -> Owner {
    Owner {
        pid,
        process: process.into(),
        cmdline: args(cmdline),
        user: Some("root".into()),
        uid: 0,
        cwd: Some(cwd.into()),
        container: None,
        unit: None,
        start_time: Some(start_time),
        others: Vec::new(),
    }
}

/// A TCP listener held by `owner` (`None`: hidden from this user).
fn listener(address: &str, port: u16, inode: u64, owner: Option<Owner>) -> Listener {
    Listener {
        proto: Proto::Tcp,
        address: ip(address),
        port,
        inode,
        uid: 0,
        owner_hidden: owner.is_none(),
        owner,
    }
}

/// The pyenv Python the demo servers run under.
const PYTHON: &str = "/root/.pyenv/versions/3.11.7/bin/python3";

/// gunicorn with two workers under `app.service`, user www-data.
fn gunicorn(start_time: u64) -> Owner {
    let mut o = owner(
        4242,
        "gunicorn",
        &[
            "/usr/bin/python3",
            "/usr/bin/gunicorn",
            "-w",
            "2",
            "app:app",
        ],
        "/srv/app",
        start_time,
    );
    o.others = vec![4243, 4244];
    o.unit = Some("app.service".into());
    o.user = Some("www-data".into());
    o.uid = 33;
    o
}

fn opened(time: f64, l: Listener) -> Event {
    Event {
        kind: EventKind::Opened,
        time,
        listener: l,
        opened_at: None,
        ending: None,
    }
}

fn closed(time: f64, l: Listener, opened_at: f64, ending: Ending) -> Event {
    Event {
        kind: EventKind::Closed,
        time,
        listener: l,
        opened_at: Some(opened_at),
        ending: Some(ending),
    }
}
