//! `check connect HOST:PORT`: check_tcp's semantics — connect, optionally read the banner and
//! look for `--expect` strings, time it all, and judge the time against `-w`/`-c` ranges.
//!
//! What check_tcp (Monitoring Plugins 2.3) does, and so this does too: every address the host
//! resolves to is tried in order until one connects; refused is CRITICAL (`-r`); no connection
//! or no first byte within `-t` is CRITICAL ("Socket timeout"); a server that closes without a
//! byte is CRITICAL ("No data received"); the banner is read until an expected string is in it,
//! the server closes, or it stays quiet for 2 s; a banner without the string is WARNING (`-M`),
//! except that a critical response time stays CRITICAL. The time runs from the start to the end
//! of the banner read. All I/O is in [`super::dial`]: bounded by the deadline and 16 KiB, and
//! nothing is ever sent.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;

use super::dial::{Dialed, Expect, Outcome, dial};
use super::threshold::Range;
use super::{CheckReport, Perf, State, safe};
use crate::error::Result;
use crate::target::Host;

/// The status line's first word (check_tcp's).
pub const SERVICE: &str = "TCP";
/// The most banner characters shown on the status line (JSON has all that was read).
const SHOWN: usize = 120;

/// What `check connect` saw (JSON).
#[derive(Debug, Clone, Serialize)]
pub struct ConnectFacts {
    /// The host as given.
    pub host: String,
    /// The port.
    pub port: u16,
    /// The address connected to (or, when none did, the last one tried).
    pub address: Option<SocketAddr>,
    /// Every address the host stands for, in the order tried: a name's resolver answer,
    /// and for `localhost` both loopback addresses, as curl and browsers take it.
    pub addresses: Vec<SocketAddr>,
    /// The addresses dialled, in order, each with how it ended (dialling stops at the first
    /// that connects, as check_tcp's does).
    pub attempts: Vec<super::dial::Attempt>,
    /// For a host name: what each family of clients dials and whether it would connect
    /// (`reaches`), judged from `attempts`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<crate::knowledge::clients::ClientView>,
    /// How it ended.
    pub outcome: Outcome,
    /// The OS error text, when there was one.
    pub error: Option<String>,
    /// The response time in seconds (connect, and the banner read with `--expect`).
    pub time_seconds: f64,
    /// `-t`, in seconds.
    pub timeout_seconds: f64,
    /// `-w`, as given.
    pub warning: Option<Range>,
    /// `-c`, as given.
    pub critical: Option<Range>,
    /// `--expect` strings.
    pub expect: Vec<String>,
    /// `--all`: every string must be there.
    pub expect_all: bool,
    /// Whether the banner had them (`null` without `--expect`, or when nothing was read).
    pub expect_matched: Option<bool>,
    /// What the server sent (with `--expect`), as UTF-8 with invalid bytes replaced.
    pub banner: Option<String>,
}

/// What `check connect` asks, and how it judges the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The host (an address or a name to resolve).
    pub host: Host,
    /// The TCP port.
    pub port: u16,
    /// The warning range on the response time, in seconds.
    pub warning: Option<Range>,
    /// The critical range on the response time, in seconds.
    pub critical: Option<Range>,
    /// The strings the banner must hold (none: no banner is read).
    pub expect: Expect,
    /// The state when the banner lacks them.
    pub mismatch: State,
    /// The state when the connection is refused.
    pub refuse: State,
    /// How long before the attempt counts as failed (CRITICAL).
    pub timeout: Duration,
}

/// Run the plugin.
pub fn run(opts: &Options) -> Result<CheckReport> {
    let dialed = dial(&opts.host, opts.port, opts.timeout, &opts.expect);
    Ok(verdict(opts, dialed))
}

/// The state, status line and perfdata, as check_tcp decides them.
fn verdict(plan: &Options, d: Dialed) -> CheckReport {
    let secs = d.elapsed.as_secs_f64();
    let timeout = plan.timeout.as_secs_f64();
    let host = safe(&plan.host.to_string());
    let port = plan.port;
    let addr_text = d
        .address
        .map_or_else(|| host.clone(), |a| a.ip().to_string());
    let os_error = d.error.as_deref().map(safe).unwrap_or_default();
    let banner = (!d.banner.is_empty()).then(|| String::from_utf8_lossy(&d.banner).into_owned());
    let shown = banner.as_deref().map(show_banner).unwrap_or_default();
    let mut perf = false;
    let (state, summary) = match d.outcome {
        Outcome::Unresolved => (
            State::Critical,
            format!("Invalid hostname, address or socket: {host} ({os_error})"),
        ),
        Outcome::ResolverFailed => (
            State::Unknown,
            format!("Could not resolve {host}: the resolver failed ({os_error})"),
        ),
        Outcome::Refused => (
            plan.refuse,
            format!("connect to address {addr_text} and port {port}: Connection refused"),
        ),
        Outcome::Failed => (
            State::Critical,
            format!("connect to address {addr_text} and port {port}: {os_error}"),
        ),
        Outcome::TimedOut => {
            let doing = match d.address {
                Some(_) if d.error.is_none() => "waiting for data from",
                _ => "connecting to",
            };
            (
                State::Critical,
                format!(
                    "Socket timeout after {} seconds {doing} {host} port {port}",
                    seconds(timeout)
                ),
            )
        }
        Outcome::NoData => (
            State::Critical,
            format!("No data received from host {host} port {port}"),
        ),
        Outcome::Connected => {
            perf = true;
            let alerts = |r: &Option<Range>| r.as_ref().is_some_and(|r| r.alerts(secs));
            let mut state = if alerts(&plan.critical) {
                State::Critical
            } else if alerts(&plan.warning) {
                State::Warning
            } else {
                State::Ok
            };
            if d.matched == Some(false) {
                if state != State::Critical {
                    state = plan.mismatch;
                }
                let wanted: Vec<String> = plan
                    .expect
                    .strings
                    .iter()
                    .map(|s| format!("'{}'", safe(s)))
                    .collect();
                let join = if plan.expect.all { " and " } else { " or " };
                (
                    state,
                    format!(
                        "Unexpected response from {host} port {port}: {shown} (expected {})",
                        wanted.join(join)
                    ),
                )
            } else {
                let mut text = format!("{secs:.3} second response time on {host} port {port}");
                if banner.is_some() {
                    text.push_str(&format!(" [{shown}]"));
                }
                (state, text)
            }
        }
    };
    let mut report = CheckReport::new("connect", SERVICE, state, summary);
    let clients = clients(plan, &d);
    report.details = details(&d, &clients, port);
    if perf {
        report.perfdata.push(Perf {
            label: "time".into(),
            value: secs,
            uom: "s",
            warn: plan.warning.as_ref().map(|r| r.as_str().to_string()),
            crit: plan.critical.as_ref().map(|r| r.as_str().to_string()),
            min: Some(0.0),
            max: Some(timeout),
            decimals: Some(6),
        });
    }
    report.connect = Some(ConnectFacts {
        host: plan.host.to_string(),
        port,
        address: d.address,
        addresses: d.addresses,
        attempts: d.attempts,
        clients,
        outcome: d.outcome,
        error: d.error,
        time_seconds: secs,
        timeout_seconds: timeout,
        warning: plan.warning.clone(),
        critical: plan.critical.clone(),
        expect: plan.expect.strings.clone(),
        expect_all: plan.expect.all,
        expect_matched: d.matched,
        banner,
    });
    report
}

/// The banner for the status line: trailing white space dropped (as check_tcp does), made
/// safe, and cut to [`SHOWN`] characters.
/// For a host name: which clients would connect, judged from the attempts (every client
/// dials a prefix of the addresses tried, so an address not tried is never consulted).
fn clients(plan: &Options, d: &Dialed) -> Vec<crate::knowledge::clients::ClientView> {
    let (Host::Name(name), Some(order)) = (&plan.host, &d.resolved) else {
        return Vec::new();
    };
    crate::knowledge::clients::views(name, order, |ip| {
        d.attempts
            .iter()
            .any(|a| a.address.ip() == ip && a.outcome == Outcome::Connected)
    })
}

/// Long output for a name of several addresses: how each attempt ended, and, when clients
/// part ways, which reach the server.
fn details(
    d: &Dialed,
    clients: &[crate::knowledge::clients::ClientView],
    port: u16,
) -> Vec<String> {
    if d.addresses.len() < 2 {
        return Vec::new();
    }
    let mut lines: Vec<String> = d
        .attempts
        .iter()
        .map(|a| {
            let how = match a.outcome {
                Outcome::Connected => "connected".to_string(),
                Outcome::Refused => "refused".to_string(),
                Outcome::TimedOut => "no answer before the timeout".to_string(),
                _ => a.error.as_deref().map(safe).unwrap_or_default(),
            };
            format!("{}: {how}", a.address)
        })
        .collect();
    if crate::knowledge::clients::part_ways(clients) {
        lines.push("not every client connects:".into());
        lines.extend(
            clients
                .iter()
                .map(|c| safe(&c.sentence(port, "no connection"))),
        );
    }
    lines
}

fn show_banner(banner: &str) -> String {
    let text = safe(banner.trim_end());
    if text.chars().count() <= SHOWN {
        return text;
    }
    let cut: String = text.chars().take(SHOWN).collect();
    format!("{cut}…")
}

/// `10`, `0.5`: seconds without a trailing `.0`.
fn seconds(s: f64) -> String {
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn plan(warn: Option<&str>, crit: Option<&str>, expect: &[&str]) -> Options {
        Options {
            host: Host::Ip("127.0.0.1".parse().unwrap()),
            port: 8080,
            warning: warn.map(|w| Range::parse(w, "-w").unwrap()),
            critical: crit.map(|c| Range::parse(c, "-c").unwrap()),
            expect: Expect {
                strings: expect.iter().map(|s| s.to_string()).collect(),
                all: false,
            },
            mismatch: State::Warning,
            refuse: State::Critical,
            timeout: Duration::from_secs(10),
        }
    }

    fn dialed(outcome: Outcome, ms: u64, banner: &[u8], matched: Option<bool>) -> Dialed {
        Dialed {
            addresses: vec!["127.0.0.1:8080".parse().unwrap()],
            attempts: Vec::new(),
            resolved: None,
            address: Some("127.0.0.1:8080".parse().unwrap()),
            outcome,
            error: (outcome != Outcome::Connected && outcome != Outcome::TimedOut)
                .then(|| "Connection refused (os error 111)".to_string()),
            elapsed: Duration::from_millis(ms),
            banner: banner.to_vec(),
            matched,
        }
    }

    #[test]
    fn states_as_check_tcp() {
        let state = |p: &Options, d: Dialed| verdict(p, d).state;
        let ok = || dialed(Outcome::Connected, 1, b"", None);
        assert_eq!(state(&plan(None, None, &[]), ok()), State::Ok);
        assert_eq!(
            state(&plan(Some("0.0001"), None, &[]), ok()),
            State::Warning
        );
        assert_eq!(
            state(&plan(None, Some("0.0001"), &[]), ok()),
            State::Critical
        );
        assert_eq!(
            state(&plan(Some("0.0001"), Some("0.0001"), &[]), ok()),
            State::Critical
        );
        assert_eq!(state(&plan(Some("5"), Some("10"), &[]), ok()), State::Ok);
        assert_eq!(
            state(
                &plan(None, None, &[]),
                dialed(Outcome::Refused, 0, b"", None)
            ),
            State::Critical
        );
        assert_eq!(
            state(
                &plan(None, None, &[]),
                dialed(Outcome::TimedOut, 0, b"", None)
            ),
            State::Critical
        );
        let mismatch = || dialed(Outcome::Connected, 1, b"SSH-2.0-x\r\n", Some(false));
        assert_eq!(
            state(&plan(None, None, &["FTP"]), mismatch()),
            State::Warning
        );
        assert_eq!(
            state(&plan(None, Some("0.0001"), &["FTP"]), mismatch()),
            State::Critical
        );
        let mut p = plan(Some("0.0001"), None, &["FTP"]);
        p.mismatch = State::Ok;
        // check_tcp: the mismatch state replaces a warning on time.
        assert_eq!(state(&p, mismatch()), State::Ok);
    }

    #[test]
    fn status_texts() {
        let r = verdict(
            &plan(None, None, &["SSH"]),
            dialed(Outcome::Connected, 1, b"SSH-2.0-x\r\n", Some(true)),
        );
        assert_eq!(
            r.summary,
            "0.001 second response time on 127.0.0.1 port 8080 [SSH-2.0-x]"
        );
        let time = &r.perfdata[0];
        assert_eq!(
            (time.label.as_str(), time.value, time.uom, time.decimals),
            ("time", 0.001, "s", Some(6))
        );
        assert_eq!((time.min, time.max), (Some(0.0), Some(10.0)));
        let r = verdict(
            &plan(None, None, &[]),
            dialed(Outcome::Refused, 0, b"", None),
        );
        assert_eq!(
            r.summary,
            "connect to address 127.0.0.1 and port 8080: Connection refused"
        );
        assert!(r.perfdata.is_empty());
        let r = verdict(
            &plan(None, None, &["FTP"]),
            dialed(Outcome::Connected, 1, b"a|b\nTCP OK - x", Some(false)),
        );
        assert_eq!(
            r.summary,
            "Unexpected response from 127.0.0.1 port 8080: a\\x7cb\\x0aTCP OK - x (expected 'FTP')"
        );
        let r = verdict(
            &plan(None, None, &[]),
            dialed(Outcome::TimedOut, 0, b"", None),
        );
        assert_eq!(
            r.summary,
            "Socket timeout after 10 seconds waiting for data from 127.0.0.1 port 8080"
        );
        let long = vec![b'x'; 500];
        let r = verdict(
            &plan(None, None, &["x"]),
            dialed(Outcome::Connected, 1, &long, Some(true)),
        );
        assert!(r.summary.ends_with("…]"), "{}", r.summary);
        assert_eq!(r.connect.unwrap().banner.unwrap().len(), 500);
    }
}
