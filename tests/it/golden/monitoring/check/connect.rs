//! `check connect`: OK with a banner, WARNING on time or an unexpected banner, CRITICAL when
//! refused or timed out, UNKNOWN on a bad range.

use portscope::commands::check::connect::ConnectFacts;
use portscope::commands::check::dial::{Attempt, Outcome};
use portscope::commands::check::threshold::Range;
use portscope::commands::check::{Perf, State};

use super::{check, pin_check};
use crate::golden::monitoring::addr;

fn range(text: &str, flag: &str) -> Range {
    Range::parse(text, flag).expect("a Nagios range")
}

/// The `time` perfdata item, as check_tcp writes it.
fn time_perf(secs: f64, warn: Option<&str>, crit: Option<&str>, timeout: f64) -> Perf {
    Perf {
        label: "time".into(),
        value: secs,
        uom: "s",
        warn: warn.map(str::to_string),
        crit: crit.map(str::to_string),
        min: Some(0.0),
        max: Some(timeout),
        decimals: Some(6),
    }
}

fn connect_facts(host: &str, port: u16, outcome: Outcome, time_seconds: f64) -> ConnectFacts {
    let address = addr(&format!("127.0.0.1:{port}"));
    ConnectFacts {
        host: host.into(),
        port,
        address: Some(address),
        addresses: vec![address],
        attempts: vec![Attempt {
            address,
            outcome: match outcome {
                Outcome::NoData => Outcome::Connected,
                o => o,
            },
            error: (outcome == Outcome::Refused)
                .then(|| "Connection refused (os error 111)".to_string()),
        }],
        clients: vec![],
        outcome,
        error: None,
        time_seconds,
        timeout_seconds: 10.0,
        warning: None,
        critical: None,
        expect: vec![],
        expect_all: false,
        expect_matched: None,
        banner: None,
    }
}

const SSH_BANNER: &str = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n";

/// `check connect localhost:2222 -w 0.5 -c 1 -e SSH`: OK with the banner. `/etc/hosts` says
/// `::1 localhost` only; 127.0.0.1 is added (localhost is both) and the server listens there,
/// so `::1` is refused first, and clients that dial only the resolver's first address fail
/// (the long output says so).
#[test]
fn check_connect_ok_banner() {
    let (v6, v4) = (addr("[::1]:2222"), addr("127.0.0.1:2222"));
    let clients = portscope::knowledge::clients::views("localhost", &[v6.ip()], |ip| ip == v4.ip());
    let mut details = vec![
        format!("{v6}: refused"),
        format!("{v4}: connected"),
        "not every client connects:".to_string(),
    ];
    details.extend(clients.iter().map(|c| c.sentence(2222, "no connection")));
    let details: Vec<&str> = details.iter().map(String::as_str).collect();
    let mut r = check(
        "connect",
        "TCP",
        State::Ok,
        "0.010 second response time on localhost port 2222 [SSH-2.0-OpenSSH_9.2p1 \
         Debian-2+deb12u10]",
        vec![time_perf(0.010_328, Some("0.5"), Some("1"), 10.0)],
        &details,
    );
    let mut facts = connect_facts("localhost", 2222, Outcome::Connected, 0.010_328);
    facts.addresses = vec![v6, v4];
    facts.attempts.insert(
        0,
        Attempt {
            address: v6,
            outcome: Outcome::Refused,
            error: Some("Connection refused (os error 111)".into()),
        },
    );
    facts.clients = clients;
    facts.warning = Some(range("0.5", "-w"));
    facts.critical = Some(range("1", "-c"));
    facts.expect = vec!["SSH".into()];
    facts.expect_matched = Some(true);
    facts.banner = Some(SSH_BANNER.into());
    r.connect = Some(facts);
    pin_check("monitoring-check-connect-ok-banner", r);
}

/// `check connect 127.0.0.1:6379 -w 0.0000001`: WARNING on the response time alone.
#[test]
fn check_connect_warning_time() {
    let mut r = check(
        "connect",
        "TCP",
        State::Warning,
        "0.000 second response time on 127.0.0.1 port 6379",
        vec![time_perf(0.000_063, Some("0.0000001"), None, 10.0)],
        &[],
    );
    let mut facts = connect_facts("127.0.0.1", 6379, Outcome::Connected, 0.000_063);
    facts.warning = Some(range("0.0000001", "-w"));
    r.connect = Some(facts);
    pin_check("monitoring-check-connect-warning-time", r);
}

/// `check connect 127.0.0.1:2222 --expect 220`: WARNING, the banner is not the one expected
/// (its `\r\n` made safe on the status line, whole in JSON).
#[test]
fn check_connect_warning_mismatch() {
    let mut r = check(
        "connect",
        "TCP",
        State::Warning,
        "Unexpected response from 127.0.0.1 port 2222: SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10 \
         (expected '220')",
        vec![time_perf(2.008_726, None, None, 10.0)],
        &[],
    );
    let mut facts = connect_facts("127.0.0.1", 2222, Outcome::Connected, 2.008_726);
    facts.expect = vec!["220".into()];
    facts.expect_matched = Some(false);
    facts.banner = Some(SSH_BANNER.into());
    r.connect = Some(facts);
    pin_check("monitoring-check-connect-warning-mismatch", r);
}

/// `check connect 127.0.0.1:8001`: CRITICAL, refused; no perfdata.
#[test]
fn check_connect_refused() {
    let mut r = check(
        "connect",
        "TCP",
        State::Critical,
        "connect to address 127.0.0.1 and port 8001: Connection refused",
        vec![],
        &[],
    );
    let mut facts = connect_facts("127.0.0.1", 8001, Outcome::Refused, 0.000_211);
    facts.error = Some("Connection refused (os error 111)".into());
    r.connect = Some(facts);
    pin_check("monitoring-check-connect-refused", r);
}

/// `check connect 10.0.0.9:5432 -t 1`: CRITICAL, no connection within the timeout.
#[test]
fn check_connect_timeout() {
    let mut r = check(
        "connect",
        "TCP",
        State::Critical,
        "Socket timeout after 1 seconds connecting to 10.0.0.9 port 5432",
        vec![],
        &[],
    );
    let mut facts = connect_facts("10.0.0.9", 5432, Outcome::TimedOut, 1.000_734);
    facts.address = Some(addr("10.0.0.9:5432"));
    facts.addresses = vec![addr("10.0.0.9:5432")];
    facts.timeout_seconds = 1.0;
    r.connect = Some(facts);
    pin_check("monitoring-check-connect-timeout", r);
}

/// `check connect 127.0.0.1:8000 -w 10:5`: a bad argument is `PORTSCOPE UNKNOWN`, with no facts.
#[test]
fn check_connect_bad_range() {
    let err = Range::parse("10:5", "-w").expect_err("the start is greater than the end");
    let summary = portscope::commands::check::safe(&err.to_string());
    let r = check(
        "connect",
        "PORTSCOPE",
        State::Unknown,
        &summary,
        vec![],
        &[],
    );
    pin_check("monitoring-check-connect-bad-range", r);
}
