//! The I/O of `check connect`: resolve, connect to each address in turn, and read the banner
//! the way check_tcp does — bounded by the deadline and [`BANNER_CAP`] bytes, never sending a
//! byte. Kept apart from the verdict ([`super::connect`]), which is pure.

use std::io::{ErrorKind, Read};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::target::Host;

/// How long the banner may pause before reading stops (check_tcp's `READ_TIMEOUT`).
pub const READ_QUIET: Duration = Duration::from_secs(2);
/// The most banner bytes read.
pub const BANNER_CAP: usize = 16 * 1024;

/// How the attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Connected (and, with `--expect`, read a banner).
    Connected,
    /// Every address refused (RST): nothing listens.
    Refused,
    /// No connection, or no first byte of the banner, within the timeout.
    TimedOut,
    /// Connected, but the server closed without sending anything (with `--expect`).
    NoData,
    /// The host name did not resolve.
    Unresolved,
    /// The resolver itself failed (a temporary failure): UNKNOWN, not an outage.
    ResolverFailed,
    /// Another error (unreachable, reset…): see `error`.
    Failed,
}

/// `--expect` strings and how they must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expect {
    /// The strings (none: no banner is read).
    pub strings: Vec<String>,
    /// Every string must occur (else: any one).
    pub all: bool,
}

impl Expect {
    /// Whether `data` holds the strings (anywhere, as check_tcp matches `-e`).
    pub fn matches(&self, data: &[u8]) -> bool {
        let found = |s: &String| contains(data, s.as_bytes());
        if self.all {
            self.strings.iter().all(found)
        } else {
            self.strings.iter().any(found)
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// One address tried, and how the attempt ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// The address dialled.
    pub address: SocketAddr,
    /// `connected`, `refused`, `timed_out` or `failed`.
    pub outcome: Outcome,
    /// The OS error text, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What [`dial`] found.
#[derive(Debug, Clone)]
pub struct Dialed {
    /// Every address the host stands for, in the order they are tried.
    pub addresses: Vec<SocketAddr>,
    /// The addresses dialled, in order, each with how it ended (the rest were not needed).
    pub attempts: Vec<Attempt>,
    /// The resolver's own answer for a host name (before `localhost` gains both loopback
    /// addresses): the order clients that trust the resolver dial.
    pub resolved: Option<Vec<std::net::IpAddr>>,
    /// The address connected to, or the last one tried.
    pub address: Option<SocketAddr>,
    /// How it ended.
    pub outcome: Outcome,
    /// The OS error text, when there was one.
    pub error: Option<String>,
    /// From the start (name resolution included) to the end of the banner read.
    pub elapsed: Duration,
    /// The bytes read (with `expect` only), at most [`BANNER_CAP`].
    pub banner: Vec<u8>,
    /// Whether `banner` matched (with `expect` only, after at least one byte).
    pub matched: Option<bool>,
}

/// Connect to `host:port` (each address in turn) within `timeout`; with `expect` strings,
/// read the banner as check_tcp does. Never sends a byte.
pub fn dial(host: &Host, port: u16, timeout: Duration, expect: &Expect) -> Dialed {
    let start = Instant::now();
    let deadline = start + timeout;
    let mut d = Dialed {
        addresses: Vec::new(),
        attempts: Vec::new(),
        resolved: None,
        address: None,
        outcome: Outcome::TimedOut,
        error: None,
        elapsed: Duration::ZERO,
        banner: Vec::new(),
        matched: None,
    };
    match resolve(host, port) {
        Ok((addresses, resolved)) => {
            d.addresses = addresses;
            d.resolved = resolved;
        }
        Err((outcome, e)) => {
            d.outcome = outcome;
            d.error = Some(e);
            d.elapsed = start.elapsed();
            return d;
        }
    }
    let mut stream = None;
    for addr in &d.addresses {
        let Some(left) = remaining(deadline) else {
            break;
        };
        d.address = Some(*addr);
        match TcpStream::connect_timeout(addr, left) {
            Ok(s) => {
                stream = Some(s);
                d.attempts.push(Attempt {
                    address: *addr,
                    outcome: Outcome::Connected,
                    error: None,
                });
                break;
            }
            Err(e) => {
                d.outcome = match e.kind() {
                    ErrorKind::ConnectionRefused => Outcome::Refused,
                    ErrorKind::TimedOut | ErrorKind::WouldBlock => Outcome::TimedOut,
                    _ => Outcome::Failed,
                };
                d.error = Some(e.to_string());
                d.attempts.push(Attempt {
                    address: *addr,
                    outcome: d.outcome,
                    error: d.error.clone(),
                });
            }
        }
    }
    let Some(stream) = stream else {
        d.elapsed = start.elapsed();
        return d;
    };
    d.outcome = Outcome::Connected;
    d.error = None;
    if !expect.strings.is_empty() {
        read_banner(&stream, deadline, expect, &mut d);
    }
    let _ = stream.shutdown(Shutdown::Both);
    d.elapsed = start.elapsed();
    d
}

/// Time left before `deadline`, or `None` when it has passed.
fn remaining(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
}

/// The addresses to dial, and for a name the resolver's own answer.
type Resolved = (Vec<SocketAddr>, Option<Vec<std::net::IpAddr>>);

/// Every address `host` stands for, in the order dialled — a name as curl takes it: the
/// resolver's answer, and for `localhost` both loopback addresses (RFC 6761) — and, for a
/// name, the resolver's own answer. A name that does not resolve is [`Outcome::Unresolved`];
/// a resolver that could not answer, [`Outcome::ResolverFailed`].
fn resolve(host: &Host, port: u16) -> std::result::Result<Resolved, (Outcome, String)> {
    match host {
        Host::Ip(ip) => Ok((vec![SocketAddr::new(*ip, port)], None)),
        Host::Name(name) => {
            let res = crate::sys::sysctl::resolve(name);
            if !crate::snapshot::resolves(&res) {
                let outcome = match crate::snapshot::unresolved(&res) {
                    crate::error::Error::BadInput { .. } => Outcome::Unresolved,
                    _ => Outcome::ResolverFailed,
                };
                let reason = res
                    .error
                    .unwrap_or_else(|| "the name has no address".into());
                return Err((outcome, reason));
            }
            let dials = crate::knowledge::clients::as_curl_dials(name, &res.addresses);
            let addrs = dials.iter().map(|ip| SocketAddr::new(*ip, port)).collect();
            Ok((addrs, Some(res.addresses)))
        }
    }
}

/// Read until the strings are in, the server closes or resets, it is quiet for
/// [`READ_QUIET`] after the first byte, [`BANNER_CAP`] bytes, or the deadline (then: timed out).
fn read_banner(stream: &TcpStream, deadline: Instant, expect: &Expect, d: &mut Dialed) {
    let mut s = stream;
    let mut buf = [0u8; 4096];
    loop {
        let Some(left) = remaining(deadline) else {
            d.outcome = Outcome::TimedOut;
            break;
        };
        let (wait, at_deadline) = if d.banner.is_empty() || left <= READ_QUIET {
            (left, true)
        } else {
            (READ_QUIET, false)
        };
        if stream.set_read_timeout(Some(wait)).is_err() {
            d.outcome = Outcome::Failed;
            d.error = Some("could not set a read timeout".into());
            return;
        }
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let room = BANNER_CAP - d.banner.len();
                d.banner.extend_from_slice(&buf[..n.min(room)]);
                if expect.matches(&d.banner) || d.banner.len() >= BANNER_CAP {
                    break;
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if at_deadline {
                    d.outcome = Outcome::TimedOut;
                }
                break;
            }
            // A reset ends the banner like a close does.
            Err(_) => break,
        }
    }
    if d.outcome == Outcome::Connected {
        if d.banner.is_empty() {
            d.outcome = Outcome::NoData;
        } else {
            d.matched = Some(expect.matches(&d.banner));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expect_matching() {
        let any = Expect {
            strings: vec!["SSH".into(), "FTP".into()],
            all: false,
        };
        let all = Expect {
            all: true,
            ..any.clone()
        };
        assert!(any.matches(b"SSH-2.0-x"));
        assert!(!all.matches(b"SSH-2.0-x"));
        assert!(all.matches(b"FTP SSH"));
        assert!(!any.matches(b""));
    }
}
