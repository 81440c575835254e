//! `explain` pinned: a loopback address on a port outside the ephemeral range that nothing
//! holds, and the Vite default held right now. The facts are written here as `explain` words
//! them, because the functions producing them are private.

use portscope::commands::Report;
use portscope::commands::explain::{ExplainReport, Fact, Origin, PortFacts};
use portscope::knowledge::addr_class::{self, Exposure};
use portscope::knowledge::{dev_ports, iana, ranges};
use portscope::model::{Hidden, Proto};
use portscope::sys::sysctl::Resolution;

use super::{LO4, LO6, full, listen, pin, target, who_free, who_listener, who_report};

fn general(topic: &'static str, reference: &str, text: String) -> Fact {
    Fact {
        topic,
        text,
        origin: Origin::General {
            reference: reference.into(),
        },
    }
}

fn here(topic: &'static str, read: &str, text: String) -> Fact {
    Fact {
        topic,
        text,
        origin: Origin::Machine { read: read.into() },
    }
}

const EPHEMERAL: (u16, u16) = (32768, 60999);
const NOW_READ: &str = "netlink sock_diag and /proc/<pid>/fd";

/// The port facts `explain` states, in its order, on a machine with the Linux default
/// ephemeral range and privileged ports below 1024.
fn port_facts(port: u16, facts: &mut Vec<Fact>) -> PortFacts {
    let range = ranges::iana_range(port);
    let (lo, hi) = range.span();
    facts.push(general(
        "port",
        ranges::RANGES_SOURCE,
        format!("{port} is in the IANA {} range ({lo}-{hi})", range.label()),
    ));
    let elsewhere = if range == ranges::IanaRange::Dynamic {
        " (on Windows and macOS, whose ephemeral range is 49152-65535, it would be an ordinary automatic port)"
    } else {
        ""
    };
    facts.push(here(
        "ephemeral",
        "/proc/sys/net/ipv4/ip_local_port_range",
        format!(
            "{port} is NOT in this machine's ephemeral range {}-{}: the Linux kernel here never assigns it automatically, so a program chose this number{elsewhere}",
            EPHEMERAL.0, EPHEMERAL.1
        ),
    ));
    facts.push(here(
        "privileged",
        "/proc/sys/net/ipv4/ip_unprivileged_port_start",
        format!("{port} is not privileged here: any user may bind ports from 1024 up"),
    ));
    facts.push(general(
        "service",
        iana::IANA_SOURCE,
        format!("IANA has no service registered on {port}"),
    ));
    let commonly = dev_ports::dev_ports(port, Proto::Tcp);
    for d in &commonly {
        let mut text = format!("commonly {} — it prints: {}", d.what, d.banner);
        if let Some(risk) = d.risk {
            text.push_str(&format!(" (if exposed: {risk})"));
        }
        facts.push(general(
            "common",
            "portscope's table of developer defaults",
            text,
        ));
    }
    if commonly.is_empty() {
        let source = "what tools print (portscope's table)";
        facts.push(general(
            "common",
            source,
            "no well-known program uses this port by default; addresses like this usually come from one of the following. On Linux a bind to port 0 gets a port from the ephemeral range, so outside it they apply when the address was printed on Windows or macOS, or when the tool picked the number itself".into(),
        ));
        for s in dev_ports::random_port_sources() {
            facts.push(general(
                "common",
                source,
                format!(
                    "  · {}. Seen as: {}. Holder: {}",
                    s.what, s.looks_like, s.who_listens
                ),
            ));
        }
    }
    PortFacts {
        port,
        iana_range: range,
        ephemeral_range: Some(EPHEMERAL),
        in_ephemeral_range: Some(false),
        privileged: Some(false),
        iana: vec![],
        commonly,
    }
}

/// `explain 127.0.0.1:62893`: how localhost resolves here, the loopback block, the dynamic
/// range outside the ephemeral range, what prints such addresses, and nothing holding it.
#[test]
fn loopback_62893() {
    let mut facts = Vec::new();
    let resolution = Resolution {
        name: "localhost".into(),
        addresses: vec![LO4],
        hosts_lines: vec!["127.0.0.1 localhost".into()],
        error: None,
    };
    facts.push(here(
        "localhost",
        "getaddrinfo() and /etc/hosts",
        "localhost resolves here to 127.0.0.1".into(),
    ));
    facts.push(here(
        "localhost",
        "/etc/hosts",
        "/etc/hosts: 127.0.0.1 localhost".into(),
    ));
    let info = addr_class::classify(LO4);
    facts.push(general(
        "address",
        addr_class::ADDR_SOURCE,
        format!(
            "127.0.0.1 is {} ({} {}): {}",
            info.class.label(),
            info.block,
            info.rfc,
            info.meaning
        ),
    ));
    let port = port_facts(62893, &mut facts);
    facts.push(here(
        "now",
        NOW_READ,
        "nothing holds it right now: no listener and no connection (connecting now would be refused)".into(),
    ));
    let report = ExplainReport {
        target: target("127.0.0.1:62893"),
        address: Some(info),
        resolution: Some(resolution),
        port: Some(port),
        facts,
        now: Some(who_free("127.0.0.1:62893")),
    };
    pin("inspect-explain-62893", &Report::Explain(Box::new(report)));
}

/// `explain 5173`: the Vite default, held right now (so the footer points to `who`).
#[test]
fn vite_held() {
    let mut facts = Vec::new();
    let port = port_facts(5173, &mut facts);
    facts.push(here(
        "now",
        NOW_READ,
        "held right now: 1 listening and 0 other socket(s), by node[4311]".into(),
    ));
    let vite = full(
        4311,
        "node",
        &["node", "/home/dev/app/node_modules/.bin/vite"],
        "/usr/bin/node",
        &[(4290, "npm"), (4100, "bash"), (1, "systemd")],
    );
    let now = who_report(
        "5173",
        vec![who_listener(
            Exposure::Loopback,
            listen(Proto::Tcp, LO6, 5173, 91_877, 1000, &[4311]),
        )],
        vec![vite],
        Hidden::default(),
    );
    let report = ExplainReport {
        target: target("5173"),
        address: None,
        resolution: None,
        port: Some(port),
        facts,
        now: Some(now),
    };
    pin("inspect-explain-5173", &Report::Explain(Box::new(report)));
}
