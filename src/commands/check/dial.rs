//! The I/O of `check connect`: resolve, connect to each address in turn, and read the banner
//! the way check_tcp does — bounded by the deadline and [`BANNER_CAP`] bytes, never sending a
//! byte. Kept apart from the verdict ([`super::connect`]), which is pure.

use std::io::{ErrorKind, Read};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
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

/// What [`dial`] found.
#[derive(Debug, Clone)]
pub struct Dialed {
    /// Every address tried, in order.
    pub addresses: Vec<SocketAddr>,
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
        address: None,
        outcome: Outcome::TimedOut,
        error: None,
        elapsed: Duration::ZERO,
        banner: Vec::new(),
        matched: None,
    };
    d.addresses = match resolve(host, port) {
        Ok(a) => a,
        Err(e) => {
            d.outcome = Outcome::Unresolved;
            d.error = Some(e);
            d.elapsed = start.elapsed();
            return d;
        }
    };
    let mut stream = None;
    for addr in &d.addresses {
        let Some(left) = remaining(deadline) else {
            break;
        };
        d.address = Some(*addr);
        match TcpStream::connect_timeout(addr, left) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => {
                d.outcome = match e.kind() {
                    ErrorKind::ConnectionRefused => Outcome::Refused,
                    ErrorKind::TimedOut | ErrorKind::WouldBlock => Outcome::TimedOut,
                    _ => Outcome::Failed,
                };
                d.error = Some(e.to_string());
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

fn resolve(host: &Host, port: u16) -> std::result::Result<Vec<SocketAddr>, String> {
    let addrs: Vec<SocketAddr> = match host {
        Host::Ip(ip) => vec![SocketAddr::new(*ip, port)],
        Host::Name(name) => (name.as_str(), port)
            .to_socket_addrs()
            .map_err(|e| e.to_string())?
            .collect(),
    };
    if addrs.is_empty() {
        return Err("the name has no address".into());
    }
    Ok(addrs)
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
