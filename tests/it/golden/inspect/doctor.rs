//! `doctor` pinned: a server on the other loopback family (refused), one that works with a
//! warning about that family, and `--bind` on an address already held. The findings and
//! verdicts are written here as `doctor` words them, because the functions producing them are
//! private.

use std::net::SocketAddr;

use portscope::commands::Report;
use portscope::doctor::{
    Attempt, BindAttempt, BindOutcome, Checked, DoctorReport, HttpAttempt, HttpOutcome, Outcome,
};
use portscope::model::{Finding, Severity};

use super::{LO4, LO6, at, pin, target};
use crate::golden::finding;

/// What Node.js users are told when localhost resolves to the other family first.
const NODE_FIX: &str = "Node.js ≥ 17 keeps the resolver's order for localhost: pass --dns-result-order=ipv4first to the client, or listen on both families";

fn attempt(addr: SocketAddr, outcome: Outcome, elapsed_ms: f64) -> Attempt {
    Attempt {
        addr,
        outcome,
        error: (outcome == Outcome::Refused).then(|| "Connection refused (os error 111)".into()),
        elapsed_ms,
    }
}

/// The report of `doctor TARGET` in `mode`, its verdict and one finding.
fn doctor(
    text: &str,
    mode: &'static str,
    works: bool,
    verdict: &str,
    attempts: Vec<Attempt>,
    binds: Vec<BindAttempt>,
    finding: Finding,
) -> Report {
    Report::Doctor(Box::new(DoctorReport {
        target: target(text),
        works,
        checked: if mode == "bind" {
            Checked::Bind
        } else {
            Checked::Connect
        },
        protocol: None,
        verdict: verdict.into(),
        mode,
        attempts,
        resolution: None,
        clients: vec![],
        binds,
        http: None,
        findings: vec![finding],
    }))
}

/// `doctor localhost:5173`: Vite listens on `::1` only, localhost means 127.0.0.1 here.
#[test]
fn wrong_family() {
    let title = "node[4311] listens on [::1]:5173 — the other loopback family — so 127.0.0.1:5173 is refused";
    let report = doctor(
        "localhost:5173",
        "connect",
        false,
        title,
        vec![attempt(at(LO4, 5173), Outcome::Refused, 0.2)],
        vec![],
        finding(
            "DOC-WRONG-FAMILY",
            Severity::Critical,
            title,
            &[
                "connect to 127.0.0.1:5173: refused",
                "node[4311] listens on [::1]:5173 only",
                "localhost resolves here to 127.0.0.1",
            ],
            &[
                "connect to [::1]:5173 instead",
                "or make the server listen where clients dial: bind 127.0.0.1 (or 0.0.0.0 for every address, which also exposes it to the network)",
                NODE_FIX,
            ],
        ),
    );
    pin("inspect-doctor-wrong-family", &report);
}

/// `doctor localhost:3000` when it works: both addresses tried, the first connected, and
/// the port, found to speak HTTP, answered `GET /`.
#[test]
fn works() {
    let mut report = doctor(
        "localhost:3000",
        "connect",
        true,
        "localhost:3000 works: GET / answered HTTP/1.1 200 OK (held by node[4242])",
        vec![
            attempt(at(LO4, 3000), Outcome::Connected, 101.4),
            attempt(at(LO6, 3000), Outcome::Refused, 0.1),
        ],
        vec![],
        finding(
            "DOC-WRONG-FAMILY",
            Severity::Warning,
            "[::1]:3000 is refused, but another address of the same name works: node[4242] listens on the other loopback family; a client that tries only the first address fails",
            &[
                "connect to [::1]:3000: refused",
                "node[4242] listens on 127.0.0.1:3000 only",
                "localhost resolves here to 127.0.0.1, then ::1",
            ],
            &[
                "connect to 127.0.0.1:3000 instead",
                "or make the server listen where clients dial: bind ::1 (or :: for every address, which also exposes it to the network)",
                NODE_FIX,
            ],
        ),
    );
    if let Report::Doctor(r) = &mut report {
        let mut h = HttpAttempt::new(at(LO4, 3000), "localhost:3000", "/");
        h.outcome = HttpOutcome::Answered;
        h.status = Some(200);
        h.first_line = Some("HTTP/1.1 200 OK".into());
        h.server = None;
        h.elapsed_ms = 2.1;
        r.http = Some(h);
        r.checked = Checked::Request;
        r.protocol = Some("http (Vite)".into());
    }
    pin("inspect-doctor-works", &report);
}

/// `doctor --bind 127.0.0.1:3000`: node already holds it; both test binds fail.
#[test]
fn bind_held() {
    let addr = at(LO4, 3000);
    let in_use = |reuseaddr| BindAttempt {
        addr,
        reuseaddr,
        outcome: BindOutcome::InUse,
        error: Some("Address already in use (os error 98)".into()),
    };
    let title = "node[4242] already holds 127.0.0.1:3000: the address is in use";
    let report = doctor(
        "127.0.0.1:3000",
        "bind",
        false,
        title,
        vec![],
        vec![in_use(false), in_use(true)],
        finding(
            "DOC-BIND-HELD",
            Severity::Critical,
            title,
            &[
                "node[4242] is bound to 127.0.0.1:3000 (listen)",
                "pid 4242: node /home/dev/app/node_modules/.bin/next dev",
                "started in /home/dev/app",
                "running since 2026-12-04 09:12:40 UTC",
            ],
            &[
                "kill 4242   # then check that 127.0.0.1:3000 is free: portscope doctor --bind 127.0.0.1:3000",
                "or start your program on another port (portscope explain 3000 shows what the range means)",
            ],
        ),
    );
    pin("inspect-doctor-bind-held", &report);
}
