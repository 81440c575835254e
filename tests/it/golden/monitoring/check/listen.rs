//! `check listen`: OK with one and several listeners, CRITICAL on a wrong bind or nothing
//! listening, WARNING on one LAN address, UNKNOWN when the owner is hidden.

use portscope::commands::check::Perf;
use portscope::commands::check::State;
use portscope::commands::check::listen::{BindRule, ListenFacts, Listener};
use portscope::knowledge::addr_class::Exposure;
use portscope::model::{Hidden, Proto};

use super::{check, hidden_line, pin_check};

/// What an unprivileged user could not see.
fn hidden_as_user() -> Hidden {
    Hidden {
        sockets: 1,
        ownerless: 0,
        processes: 86,
        reason: "the file descriptors of 86 process(es) (uid 0) could not be read".into(),
        hint: "to see them, run as root (sudo portscope …) or grant CAP_SYS_PTRACE and \
               CAP_DAC_READ_SEARCH (sudo setcap cap_sys_ptrace,cap_dac_read_search+ep \
               \"$(command -v portscope)\")"
            .into(),
    }
}

fn listener(address: &str, exposure: Exposure, owners: &[(&str, u32)]) -> Listener {
    Listener {
        address: address.into(),
        exposure,
        pids: owners.iter().map(|(_, pid)| *pid).collect(),
        processes: owners
            .iter()
            .map(|(name, _)| Some(name.to_string()))
            .collect(),
        owner_hidden: false,
    }
}

fn listen_facts(
    port: u16,
    bind: Option<BindRule>,
    process: Option<&str>,
    listeners: Vec<Listener>,
    hidden: Hidden,
) -> ListenFacts {
    ListenFacts {
        port,
        proto: Proto::Tcp,
        bind,
        process: process.map(str::to_string),
        listeners,
        hidden,
    }
}

/// `check listen 8000 --bind loopback --process python3`: OK.
#[test]
fn check_listen_ok() {
    let mut r = check(
        "listen",
        "LISTEN",
        State::Ok,
        "TCP port 8000: python3[4242] on 127.0.0.1 (loopback only)",
        vec![Perf::count("listeners", 1)],
        &[],
    );
    r.listen = Some(listen_facts(
        8000,
        Some(BindRule::Loopback),
        Some("python3"),
        vec![listener(
            "127.0.0.1",
            Exposure::Loopback,
            &[("python3", 4242)],
        )],
        Hidden::default(),
    ));
    pin_check("monitoring-check-listen-ok", r);
}

/// `check listen 80`: OK with several listeners, one long-output line each.
#[test]
fn check_listen_several() {
    let mut r = check(
        "listen",
        "LISTEN",
        State::Ok,
        "TCP port 80: nginx[1201],nginx[1202],+2 on 0.0.0.0 (all interfaces), \
         nginx[1201],nginx[1202],+2 on :: (all interfaces)",
        vec![Perf::count("listeners", 2)],
        &[
            "tcp nginx[1201],nginx[1202],+2 on 0.0.0.0 (all interfaces)",
            "tcp nginx[1201],nginx[1202],+2 on :: (all interfaces)",
        ],
    );
    let workers = [
        ("nginx", 1201),
        ("nginx", 1202),
        ("nginx", 1203),
        ("nginx", 1204),
    ];
    r.listen = Some(listen_facts(
        80,
        None,
        None,
        vec![
            listener("0.0.0.0", Exposure::AllInterfaces, &workers),
            listener("::", Exposure::AllInterfaces, &workers),
        ],
        Hidden::default(),
    ));
    pin_check("monitoring-check-listen-several", r);
}

/// `check listen 6379 --bind loopback`: CRITICAL, it listens on all interfaces.
#[test]
fn check_listen_critical_bind() {
    let mut r = check(
        "listen",
        "LISTEN",
        State::Critical,
        "TCP port 6379 listens on 0.0.0.0 (all interfaces, redis-server[4242]), not on loopback \
         only",
        vec![Perf::count("listeners", 1)],
        &[],
    );
    r.listen = Some(listen_facts(
        6379,
        Some(BindRule::Loopback),
        None,
        vec![listener(
            "0.0.0.0",
            Exposure::AllInterfaces,
            &[("redis-server", 4242)],
        )],
        Hidden::default(),
    ));
    pin_check("monitoring-check-listen-critical-bind", r);
}

/// `check listen 9229 --bind loopback`: WARNING, it listens on one LAN address (reachable only by
/// whoever can route to it).
#[test]
fn check_listen_warning_specific() {
    let mut r = check(
        "listen",
        "LISTEN",
        State::Warning,
        "TCP port 9229 listens on 192.168.1.20 (this address only, node[4243]), not on loopback \
         only",
        vec![Perf::count("listeners", 1)],
        &[],
    );
    r.listen = Some(listen_facts(
        9229,
        Some(BindRule::Loopback),
        None,
        vec![listener(
            "192.168.1.20",
            Exposure::Specific,
            &[("node", 4243)],
        )],
        Hidden::default(),
    ));
    pin_check("monitoring-check-listen-warning-specific", r);
}

/// `check listen 8001`: CRITICAL, nothing listens.
#[test]
fn check_listen_nothing() {
    let mut r = check(
        "listen",
        "LISTEN",
        State::Critical,
        "nothing listens on TCP port 8001",
        vec![Perf::count("listeners", 0)],
        &[],
    );
    r.listen = Some(listen_facts(8001, None, None, vec![], Hidden::default()));
    pin_check("monitoring-check-listen-nothing", r);
}

/// `check listen 8000 --process python3` as an unprivileged user: UNKNOWN, the owner is hidden;
/// the hidden-owner line follows.
#[test]
fn check_listen_unknown_hidden() {
    let hidden = hidden_as_user();
    let detail = hidden_line(&hidden);
    let mut r = check(
        "listen",
        "LISTEN",
        State::Unknown,
        "cannot see the owner of TCP port 8000 on 127.0.0.1, so cannot tell whether it is \
         python3; run as root (sudo portscope …)",
        vec![Perf::count("listeners", 1)],
        &[&detail],
    );
    r.listen = Some(listen_facts(
        8000,
        None,
        Some("python3"),
        vec![Listener {
            address: "127.0.0.1".into(),
            exposure: Exposure::Loopback,
            pids: vec![],
            processes: vec![],
            owner_hidden: true,
        }],
        hidden,
    ));
    pin_check("monitoring-check-listen-unknown-hidden", r);
}
