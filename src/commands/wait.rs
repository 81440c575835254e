//! `wait`: block until a port is ready — it accepts connections, answers HTTP with a status
//! below 400, or is free — or until the timeout, and say what the last look saw.
//!
//! The addresses are those a client dials: a bare port (or `localhost`) is both 127.0.0.1
//! and ::1, a name is every address it resolves to (a name that does not resolve is an
//! error, never a wait), and any one of them answering is enough. Free is the opposite and
//! asks more: no listening or bound socket on the port that receives for any of them (for a
//! bare port: on any address), as the kernel lists them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::Report;
use super::Ui;
use super::kill::Owner;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::model::{Endpoint, Proto, SockState, Socket};
use crate::snapshot::{self, Owners, Request};
use crate::sys::SocketQuery;
use crate::sys::attempt::{self, HttpOutcome, Outcome};
use crate::sys::procfs::Detail;
use crate::target::{Host, Target};

/// The longest one connect or request may take, whatever the interval.
const ATTEMPT_CAP: Duration = Duration::from_secs(1);

/// What to wait for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "until", rename_all = "snake_case")]
pub enum Until {
    /// A TCP handshake completes on one of the addresses.
    Accepts,
    /// `GET path` is answered with a status below 400 on one of the addresses.
    Http {
        /// The path requested.
        path: String,
    },
    /// Nothing listens on (or is bound to) the port for any of the addresses.
    Free,
}

/// What `wait` is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// A port, an address, a name with a port, or a URL (ranges, pids and process names are
    /// refused by the command line).
    pub target: Target,
    /// What counts as ready.
    pub until: Until,
    /// Give up after this long.
    pub timeout: Duration,
    /// How long between looks.
    pub interval: Duration,
}

/// What one look saw at one address (or, for `free`, on the port).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Seen {
    /// A TCP connect.
    Connect {
        /// Where it dialled.
        addr: SocketAddr,
        /// How it ended.
        outcome: Outcome,
        /// The OS error, when there was one.
        error: Option<String>,
    },
    /// An HTTP request.
    Http {
        /// Where it was sent.
        addr: SocketAddr,
        /// How it ended.
        outcome: HttpOutcome,
        /// The status, when answered.
        status: Option<u16>,
        /// The answer's first line.
        first_line: Option<String>,
        /// The OS or TLS error, when there was one.
        error: Option<String>,
    },
    /// A listening or bound socket on the port.
    Held {
        /// Transport.
        proto: Proto,
        /// Kernel state (`listen`, or `close` for bound but not listening).
        state: SockState,
        /// Its local end.
        local: Endpoint,
        /// Its owners (named only in the last look of a wait that timed out).
        owners: Vec<Owner>,
    },
}

/// What `wait` saw.
#[derive(Debug, Clone, Serialize)]
pub struct WaitReport {
    /// The target as parsed.
    pub target: Target,
    /// What it waited for.
    #[serde(flatten)]
    pub until: Until,
    /// The addresses it looked at (a bare port: 127.0.0.1 and ::1).
    pub addresses: Vec<SocketAddr>,
    /// The condition was met.
    pub met: bool,
    /// Seconds from the start to the look that met it (or to giving up).
    pub elapsed_s: f64,
    /// `--timeout`, in seconds.
    pub timeout_s: f64,
    /// Looks taken.
    pub attempts: u32,
    /// What the last look saw: for `accepts`/`http` one entry per address tried (the one that
    /// met it last); for `free` the sockets still on the port (empty when free).
    pub last: Vec<Seen>,
}

/// The longest `wait` sleeps between checks of [`Ui::cancelled`].
const CANCEL_CHECK: Duration = Duration::from_millis(50);

/// Run `wait`: exit 0 when the condition was met, 1 when the timeout came first (or the
/// caller cancelled). `ui` hears of each look that did not meet it.
pub fn run(opts: &Options, ui: &dyn Ui) -> Result<(Report, Exit)> {
    let report = wait(opts, ui)?;
    let code = if report.met {
        Exit::Success
    } else {
        Exit::Nothing
    };
    Ok((Report::Wait(Box::new(report)), code))
}

fn wait(opts: &Options, ui: &dyn Ui) -> Result<WaitReport> {
    let (port, addresses) = addresses(&opts.target)?;
    let udp = opts.target.proto() == Some(Proto::Udp);
    if udp && opts.until != Until::Free {
        return Err(Error::bad_input(
            format!("{} is UDP: nothing accepts or answers there", opts.target),
            "wait --free works for UDP; to wait for a TCP port give e.g. 3000 or 127.0.0.1:3000",
        ));
    }
    // What an HTTP client is asked to fetch: a bare port as http://localhost:PORT would be.
    let target = match (&opts.until, &opts.target) {
        (Until::Http { path }, Target::Addr { .. }) => with_path(&opts.target, path),
        (Until::Http { path }, _) => http_localhost(port, path),
        _ => opts.target.clone(),
    };
    let start = Instant::now();
    let deadline = start + opts.timeout;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let (met, last) = match &opts.until {
            Until::Accepts => accepts(&addresses, deadline),
            Until::Http { .. } => answers(&target, &addresses, deadline),
            Until::Free => free(&opts.target, port, &addresses, false)?,
        };
        let now = Instant::now();
        if met || now >= deadline || ui.cancelled() {
            let last = if met || opts.until != Until::Free {
                last
            } else {
                // Name who still holds it: a walk of the fds, once, for the message.
                free(&opts.target, port, &addresses, true)?.1
            };
            return Ok(WaitReport {
                target: opts.target.clone(),
                until: opts.until.clone(),
                addresses,
                met,
                elapsed_s: start.elapsed().as_secs_f64(),
                timeout_s: opts.timeout.as_secs_f64(),
                attempts,
                last,
            });
        }
        ui.waiting(attempts, now - start, opts.timeout);
        let until = now + opts.interval.min(deadline - now);
        while !ui.cancelled() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(CANCEL_CHECK));
        }
    }
}

/// The port and the addresses a client dials for the target.
fn addresses(target: &Target) -> Result<(u16, Vec<SocketAddr>)> {
    let loopback = [
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ];
    let (port, ips) = match target {
        Target::Port { port, .. } => (*port, loopback.to_vec()),
        Target::Addr {
            host: Host::Ip(ip),
            port,
            ..
        } => (*port, vec![*ip]),
        Target::Addr {
            host: Host::Name(name),
            port,
            ..
        } => (*port, crate::snapshot::name_addrs(name)?),
        other => {
            return Err(Error::bad_input(
                format!("wait needs one port, not {other}"),
                "expected e.g. 3000, 127.0.0.1:3000, localhost:3000 or http://localhost:3000/health",
            ));
        }
    };
    Ok((
        port,
        ips.into_iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect(),
    ))
}

/// The target with the path `--http PATH` asks for.
fn with_path(target: &Target, wanted: &str) -> Target {
    let mut t = target.clone();
    if let Target::Addr { path, .. } = &mut t {
        *path = Some(wanted.to_string());
    }
    t
}

/// How long the next connect or request may take: what is left before `deadline`, at most
/// [`ATTEMPT_CAP`], at least a moment (the last look is a real one).
fn cap(deadline: Instant) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .clamp(Duration::from_millis(50), ATTEMPT_CAP)
}

/// One connect per address, until one completes.
fn accepts(addresses: &[SocketAddr], deadline: Instant) -> (bool, Vec<Seen>) {
    let mut seen = Vec::new();
    for &addr in addresses {
        let a = attempt::connect_watching(addr, cap(deadline), false);
        let met = a.outcome == Outcome::Connected;
        seen.push(Seen::Connect {
            addr,
            outcome: a.outcome,
            error: a.error,
        });
        if met {
            return (true, seen);
        }
    }
    (false, seen)
}

/// One GET per address, until one is answered below 400.
fn answers(target: &Target, addresses: &[SocketAddr], deadline: Instant) -> (bool, Vec<Seen>) {
    let mut seen = Vec::new();
    for &addr in addresses {
        let h = crate::doctor::request(target, addr, cap(deadline));
        let met = h.outcome == HttpOutcome::Answered && h.status.is_some_and(|s| s < 400);
        seen.push(Seen::Http {
            addr,
            outcome: h.outcome,
            status: h.status,
            first_line: h.first_line,
            error: h.error,
        });
        if met {
            return (true, seen);
        }
    }
    (false, seen)
}

/// `http://localhost:PORT/PATH`: what a bare port's `--http PATH` asks for.
fn http_localhost(port: u16, path: &str) -> Target {
    Target::Addr {
        host: Host::Name("localhost".into()),
        port,
        proto: None,
        scheme: Some("http".into()),
        path: Some(path.to_string()),
    }
}

/// The listening and bound sockets on the port that receive for the addresses (a bare
/// port: on any address); with `owners`, who holds them.
fn free(
    target: &Target,
    port: u16,
    addresses: &[SocketAddr],
    owners: bool,
) -> Result<(bool, Vec<Seen>)> {
    let proto = target.proto();
    let snap = snapshot::take(&Request {
        sockets: SocketQuery {
            tcp: proto != Some(Proto::Udp),
            udp: proto != Some(Proto::Tcp),
            port_range: Some((port, port)),
            ..SocketQuery::default()
        },
        owners: if owners {
            Owners::Targeted
        } else {
            Owners::Skip
        },
        detail: Detail::Basic,
        threads: 0,
    })?;
    let ips: Vec<IpAddr> = addresses.iter().map(SocketAddr::ip).collect();
    let any_address = matches!(target, Target::Port { .. });
    let held: Vec<Seen> = snap
        .sockets
        .iter()
        .filter(|s| s.port() == Some(port) && holds(s))
        .filter(|s| any_address || snapshot::serves(&s.local, &ips))
        .map(|s| Seen::Held {
            proto: s.proto,
            state: s.state,
            local: s.local.clone(),
            owners: s
                .pids
                .iter()
                .map(|&pid| Owner {
                    pid,
                    comm: snap.process(pid).map_or("?".into(), |p| p.comm.clone()),
                })
                .collect(),
        })
        .collect();
    Ok((held.is_empty(), held))
}

/// A socket that keeps its port taken: a TCP listener or bound socket, any UDP socket.
fn holds(s: &Socket) -> bool {
    match (s.proto, s.state) {
        (_, SockState::TimeWait) => false,
        (Proto::Udp, _) => true,
        (_, st) => st == SockState::Listen || st == SockState::Close,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_port_is_both_loopback_addresses() {
        let (port, a) = addresses(&crate::target::parse("3000").unwrap()).unwrap();
        assert_eq!(port, 3000);
        let shown: Vec<String> = a.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["127.0.0.1:3000", "[::1]:3000"]);
        let (_, a) = addresses(&crate::target::parse("[::1]:8080").unwrap()).unwrap();
        assert_eq!(a.len(), 1);
        assert!(addresses(&crate::target::parse("3000-3010").unwrap()).is_err());
        assert!(addresses(&crate::target::parse("pid:1").unwrap()).is_err());
    }

    #[test]
    fn http_path_replaces_the_urls() {
        let t = crate::target::parse("http://localhost:3000/a").unwrap();
        let t = with_path(&t, "/health");
        assert!(matches!(t, Target::Addr { path: Some(p), .. } if p == "/health"));
    }
}
