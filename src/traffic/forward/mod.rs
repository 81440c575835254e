//! The `forward` engine: a TCP relay (zero-copy with splice(2) through
//! [`crate::sys::splice`]) or a UDP relay (one connected socket to the target per client),
//! with an allow list of client networks, a bound on connections at once and an idle timeout.
//!
//! The engine never prints: it hands [`ForwardLine`]s to a callback and returns [`Totals`]
//! when SIGINT or SIGTERM stops it.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::sys::splice;

/// How long connecting to the target may take before the client is closed.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest datagram relayed (bigger ones are truncated by the kernel).
const DATAGRAM: usize = 65_536;

/// The buffer of the plain copy used when a pipe cannot be made.
const COPY_BUF: usize = 64 * 1024;

/// How many clients the UDP relay remembers having told about (denied/refused) so each gets
/// one line, not one per datagram.
const TOLD_CAP: usize = 4096;

/// One network clients may come from: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// The network's address (host bits cleared).
    pub addr: IpAddr,
    /// The prefix length (0..=32 for IPv4, 0..=128 for IPv6).
    pub prefix: u8,
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl Serialize for Cidr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Cidr {
    /// Parse `IP/PREFIX` or a bare IP (one host); bad input names `--allow`. A network
    /// inside `::ffff:0:0/96` (IPv4-mapped) becomes its IPv4 network, as client addresses
    /// do: `::ffff:127.0.0.1` is `127.0.0.1/32`, `::ffff:0:0/96` is `0.0.0.0/0`.
    pub fn parse(text: &str) -> Result<Cidr> {
        let bad = || {
            Error::bad_input(
                format!("--allow {} is not a network", crate::text::echo(text)),
                "expected an IPv4 or IPv6 address with an optional prefix length, e.g. \
                 --allow 192.168.1.0/24, --allow 10.0.0.7 or --allow fd00::/8",
            )
        };
        let t = text.trim();
        let (ip, prefix) = match t.split_once('/') {
            Some((ip, p)) => (ip, Some(p)),
            None => (t, None),
        };
        let addr: IpAddr = ip.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Cidr {
            addr: mask(addr, prefix),
            prefix,
        }
        .unmapped())
    }

    /// An IPv4-mapped network (prefix 96 or longer) as its IPv4 network; others unchanged.
    fn unmapped(self) -> Cidr {
        match self.addr {
            IpAddr::V6(v6) if self.prefix >= 96 => match v6.to_ipv4_mapped() {
                Some(v4) => Cidr {
                    addr: IpAddr::V4(v4),
                    prefix: self.prefix - 96,
                },
                None => self,
            },
            _ => self,
        }
    }

    /// Whether `ip` is inside this network (a v4-mapped IPv6 address counts as its IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                mask(ip, self.prefix) == self.addr
            }
            _ => false,
        }
    }

    /// Whether the whole network is loopback.
    pub fn is_loopback(&self) -> bool {
        match self.addr {
            IpAddr::V4(a) => self.prefix >= 8 && a.is_loopback(),
            IpAddr::V6(a) => self.prefix == 128 && a.is_loopback(),
        }
    }
}

/// The default allow list: loopback only (127.0.0.0/8 and ::1; v4-mapped loopback counts
/// as 127.0.0.0/8).
pub fn loopback_only() -> Vec<Cidr> {
    vec![
        Cidr {
            addr: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)),
            prefix: 8,
        },
        Cidr {
            addr: IpAddr::V6(Ipv6Addr::LOCALHOST),
            prefix: 128,
        },
    ]
}

/// Whether any network in `allow` admits `ip`.
pub fn allowed(allow: &[Cidr], ip: IpAddr) -> bool {
    allow.iter().any(|c| c.contains(ip))
}

/// Whether a relay listening on `listen` would accept its own connections to `target`:
/// the same socket, or a wildcard listener on the target's port when the target is an
/// address of this machine (`is_local`) — a wildcard receives connections for every local
/// address, and the IPv6 one for IPv4 too when `dual_stack` (`net.ipv6.bindv6only` = 0).
/// A v4-mapped address counts as its IPv4 address. Pure: the caller asks the system.
pub fn relays_to_itself(
    listen: SocketAddr,
    target: SocketAddr,
    dual_stack: bool,
    is_local: impl Fn(IpAddr) -> bool,
) -> bool {
    if listen.port() != target.port() {
        return false;
    }
    let (l, t) = (canonical(listen.ip()), canonical(target.ip()));
    if l == t {
        return true;
    }
    let covers = match (l, t) {
        (IpAddr::V4(l), IpAddr::V4(_)) => l.is_unspecified(),
        (IpAddr::V6(l), IpAddr::V6(_)) => l.is_unspecified(),
        (IpAddr::V6(l), IpAddr::V4(_)) => l.is_unspecified() && dual_stack,
        (IpAddr::V4(_), IpAddr::V6(_)) => false,
    };
    covers && is_local(t)
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let m = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(bits & m))
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let m = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(bits & m))
        }
    }
}

/// How a connection (or UDP session) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum End {
    /// Both sides closed their sending side (FIN both ways).
    BothClosed,
    /// No byte either way for the idle timeout.
    Idle,
    /// A side reset the connection (RST).
    Reset,
    /// Another error on a socket.
    Error,
    /// portscope was stopped (SIGINT/SIGTERM) while it was open.
    Stopped,
}

/// A line `forward` prints while it runs; `event` in JSON names which.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum ForwardLine {
    /// The relay is listening.
    Start {
        /// `tcp` or `udp`.
        proto: &'static str,
        /// The address it accepts on.
        listen: SocketAddr,
        /// Where it relays to.
        target: SocketAddr,
        /// Client networks admitted.
        allow: Vec<Cidr>,
        /// Connections (UDP: client sessions) at once.
        max_conns: usize,
        /// Seconds without traffic before a connection is closed.
        idle_timeout_s: f64,
        /// Warnings about exposure (remote clients refused, or the target exposed).
        warnings: Vec<String>,
    },
    /// A client connected and the target accepted (UDP: a new client's first datagram).
    Open {
        /// Connection number (from 1).
        id: u64,
        /// The client's address.
        client: SocketAddr,
        /// The target's address.
        target: SocketAddr,
    },
    /// A connection ended.
    Close {
        /// Connection number.
        id: u64,
        /// The client's address.
        client: SocketAddr,
        /// Bytes relayed from the client to the target.
        bytes_to_target: u64,
        /// Bytes relayed from the target to the client.
        bytes_to_client: u64,
        /// Seconds it was open.
        duration_s: f64,
        /// How it ended.
        end: End,
        /// The error, when `end` is `error` or `reset`.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// A client outside the allow list was closed at once.
    Denied {
        /// The client's address.
        client: SocketAddr,
    },
    /// A client beyond `--max-conns` was closed at once.
    Refused {
        /// The client's address.
        client: SocketAddr,
        /// The bound it hit.
        max_conns: usize,
    },
    /// Connecting to the target failed; the client was closed.
    TargetFailed {
        /// Connection number.
        id: u64,
        /// The client's address.
        client: SocketAddr,
        /// The target's address.
        target: SocketAddr,
        /// Why.
        reason: String,
    },
}

/// How a relay is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to relay to.
    pub target: SocketAddr,
    /// Client networks admitted.
    pub allow: Vec<Cidr>,
    /// Connections (UDP: sessions) at once.
    pub max_conns: usize,
    /// No traffic for this long closes a connection.
    pub idle: Duration,
    /// Print no per-connection lines.
    pub quiet: bool,
}

/// What a relay did, counted when it stops.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Totals {
    /// Connections relayed (UDP: sessions).
    pub connections: u64,
    /// Clients denied by the allow list.
    pub denied: u64,
    /// Clients refused by `--max-conns`.
    pub refused: u64,
    /// Connections whose target could not be reached.
    pub target_failed: u64,
    /// Bytes from clients to the target.
    pub bytes_to_target: u64,
    /// Bytes from the target to clients.
    pub bytes_to_client: u64,
}

#[derive(Debug, Default)]
struct Shared {
    active: AtomicUsize,
    connections: AtomicU64,
    denied: AtomicU64,
    refused: AtomicU64,
    target_failed: AtomicU64,
    to_target: AtomicU64,
    to_client: AtomicU64,
}

impl Shared {
    fn totals(&self) -> Totals {
        Totals {
            connections: self.connections.load(Ordering::Relaxed),
            denied: self.denied.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            target_failed: self.target_failed.load(Ordering::Relaxed),
            bytes_to_target: self.to_target.load(Ordering::Relaxed),
            bytes_to_client: self.to_client.load(Ordering::Relaxed),
        }
    }
}

/// Decrements the active count when a connection task ends, however it ends.
struct ActiveGuard(Arc<Shared>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Wait for SIGINT or SIGTERM; returns its name.
async fn stop_signal() -> Result<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let failed = |e| Error::io("installing the SIGINT/SIGTERM handlers", e);
    let mut term = signal(SignalKind::terminate()).map_err(failed)?;
    let mut int = signal(SignalKind::interrupt()).map_err(failed)?;
    Ok(tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    })
}

fn ms_since(t: Instant) -> u64 {
    u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX)
}

mod tcp;
mod udp;

pub use tcp::run_tcp;
pub use udp::run_udp;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        let c = Cidr::parse("192.168.1.77/24").unwrap();
        assert_eq!(c.to_string(), "192.168.1.0/24");
        assert!(c.contains("192.168.1.5".parse().unwrap()));
        assert!(!c.contains("192.168.2.5".parse().unwrap()));
        assert!(c.contains("::ffff:192.168.1.9".parse().unwrap()));
        assert_eq!(Cidr::parse("10.0.0.7").unwrap().prefix, 32);
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!(
            Cidr::parse("fd00::/8")
                .unwrap()
                .contains("fd12::1".parse().unwrap())
        );
        for bad in [
            "",
            "10.0.0.0/33",
            "::/129",
            "host",
            "1.2.3.4/-1",
            "1.2.3.4/x",
        ] {
            let e = Cidr::parse(bad).unwrap_err().to_string();
            assert!(e.contains("--allow"), "{bad}: {e}");
        }
    }

    #[test]
    fn v4_mapped_networks_are_ipv4_networks() {
        for (text, want) in [
            ("::ffff:127.0.0.1", "127.0.0.1/32"),
            ("::ffff:127.0.0.1/128", "127.0.0.1/32"),
            ("::ffff:10.1.2.3/104", "10.0.0.0/8"),
            ("::ffff:0:0/96", "0.0.0.0/0"),
            ("::1", "::1/128"),
            ("::/0", "::/0"),
        ] {
            assert_eq!(Cidr::parse(text).unwrap().to_string(), want, "{text}");
        }
        let lo = Cidr::parse("::ffff:127.0.0.1").unwrap();
        assert!(lo.contains("127.0.0.1".parse().unwrap()));
        assert!(lo.contains("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!lo.contains("127.0.0.2".parse().unwrap()));
        assert!(lo.is_loopback());
    }

    #[test]
    fn a_relay_to_itself_is_seen() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        let lo = |ip: IpAddr| ip.is_loopback() || ip == IpAddr::from([192, 168, 1, 5]);
        let loops = |l, t| relays_to_itself(a(l), a(t), true, lo);
        assert!(loops("127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(loops("[::ffff:127.0.0.1]:8080", "127.0.0.1:8080"));
        assert!(loops("0.0.0.0:8080", "127.0.0.1:8080"));
        assert!(loops("0.0.0.0:8080", "192.168.1.5:8080"));
        assert!(loops("[::]:8080", "[::1]:8080"));
        assert!(loops("[::]:8080", "127.0.0.1:8080"));
        assert!(!relays_to_itself(
            a("[::]:8080"),
            a("127.0.0.1:8080"),
            false,
            lo
        ));
        assert!(!loops("127.0.0.1:8080", "127.0.0.1:8081"));
        assert!(!loops("127.0.0.1:8080", "127.0.0.2:8080"));
        assert!(!loops("127.0.0.1:8080", "[::1]:8080"));
        assert!(!loops("0.0.0.0:8080", "[::1]:8080"));
        assert!(!loops("0.0.0.0:8080", "192.168.1.9:8080"));
        assert!(!loops("127.0.0.1:0", "127.0.0.1:8080"));
    }

    #[test]
    fn loopback_default() {
        let a = loopback_only();
        for ip in ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"] {
            assert!(allowed(&a, ip.parse().unwrap()), "{ip}");
        }
        for ip in ["10.0.0.1", "::2", "192.168.0.1"] {
            assert!(!allowed(&a, ip.parse().unwrap()), "{ip}");
        }
        assert!(a.iter().all(Cidr::is_loopback));
        assert!(!Cidr::parse("0.0.0.0/0").unwrap().is_loopback());
    }
}
