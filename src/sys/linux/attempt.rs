//! Actually try: a TCP connect with a short timeout, classified the way the client saw it;
//! a test bind (TCP or UDP) that is closed at once; the route's source address (a UDP connect,
//! which sends nothing).

use std::io::{ErrorKind, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use serde::Serialize;

/// How a connect attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The handshake completed.
    Connected,
    /// The server accepted and closed at once without a byte (tcpwrapped, or a crash loop).
    ClosedAtOnce,
    /// RST: nothing listens there (or a firewall rejects with a reset).
    Refused,
    /// No answer in time: a full accept queue, a firewall that drops, or an unreachable host.
    TimedOut,
    /// Reset during the handshake.
    Reset,
    /// The address is not reachable from here (no route, network down, address family off).
    Unreachable,
    /// Any other error (its text is in `error`).
    Failed,
}

/// One connect attempt.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    /// Where it dialed.
    pub addr: SocketAddr,
    /// What happened.
    pub outcome: Outcome,
    /// The OS error text, when there was one.
    pub error: Option<String>,
    /// How long it took, milliseconds.
    pub elapsed_ms: f64,
}

/// Connect to `addr` within `timeout`; if it connects, wait a moment to see whether the
/// server closes straight away. Nothing is sent.
pub fn connect(addr: SocketAddr, timeout: Duration) -> Attempt {
    let start = Instant::now();
    let (outcome, error) = match TcpStream::connect_timeout(&addr, timeout) {
        Ok(stream) => (closes_at_once(&stream), None),
        Err(e) => {
            let outcome = match e.kind() {
                ErrorKind::ConnectionRefused => Outcome::Refused,
                ErrorKind::TimedOut | ErrorKind::WouldBlock => Outcome::TimedOut,
                ErrorKind::ConnectionReset => Outcome::Reset,
                ErrorKind::NetworkUnreachable
                | ErrorKind::HostUnreachable
                | ErrorKind::AddrNotAvailable
                | ErrorKind::NetworkDown => Outcome::Unreachable,
                _ => Outcome::Failed,
            };
            (outcome, Some(e.to_string()))
        }
    };
    Attempt {
        addr,
        outcome,
        error,
        elapsed_ms: start.elapsed().as_secs_f64() * 1000.0,
    }
}

/// `ClosedAtOnce` when the server ends the connection within 100 ms without data, else
/// `Connected` (servers that wait for the client are the normal case).
fn closes_at_once(stream: &TcpStream) -> Outcome {
    let mut s = stream;
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let mut byte = [0u8; 1];
    let outcome = match s.read(&mut byte) {
        Ok(0) => Outcome::ClosedAtOnce,
        Err(e) if e.kind() == ErrorKind::ConnectionReset => Outcome::ClosedAtOnce,
        _ => Outcome::Connected,
    };
    let _ = stream.shutdown(Shutdown::Both);
    outcome
}

/// How a test bind ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BindOutcome {
    /// The address could be bound (it was released at once; nothing listened).
    Ok,
    /// EADDRINUSE.
    InUse,
    /// EACCES/EPERM: a privileged port without the capability.
    PermissionDenied,
    /// EADDRNOTAVAIL: no interface here has that address.
    NotAvailable,
    /// Another error (its text is in `error`).
    Failed,
}

/// One test bind.
#[derive(Debug, Clone, Serialize)]
pub struct BindAttempt {
    /// The address bound.
    pub addr: SocketAddr,
    /// Whether `SO_REUSEADDR` was set first (servers usually set it).
    pub reuseaddr: bool,
    /// What happened.
    pub outcome: BindOutcome,
    /// The OS error text, when there was one.
    pub error: Option<String>,
}

/// Bind a fresh TCP socket to `addr` (with or without `SO_REUSEADDR`) and close it at once:
/// nothing listens, no connection is made.
pub fn bind(addr: SocketAddr, reuseaddr: bool) -> BindAttempt {
    bind_proto(addr, reuseaddr, false)
}

/// Like [`bind`], for TCP or (`udp`) UDP.
pub fn bind_proto(addr: SocketAddr, reuseaddr: bool, udp: bool) -> BindAttempt {
    use rustix::io::Errno;
    let family = if addr.is_ipv4() {
        rustix::net::AddressFamily::INET
    } else {
        rustix::net::AddressFamily::INET6
    };
    let kind = if udp {
        rustix::net::SocketType::DGRAM
    } else {
        rustix::net::SocketType::STREAM
    };
    let result = rustix::net::socket(family, kind, None).and_then(|fd| {
        rustix::net::sockopt::set_socket_reuseaddr(&fd, reuseaddr)?;
        rustix::net::bind(&fd, &addr)
    });
    let (outcome, error) = match result {
        Ok(()) => (BindOutcome::Ok, None),
        Err(e) => {
            let outcome = match e {
                Errno::ADDRINUSE => BindOutcome::InUse,
                Errno::ACCESS | Errno::PERM => BindOutcome::PermissionDenied,
                Errno::ADDRNOTAVAIL => BindOutcome::NotAvailable,
                _ => BindOutcome::Failed,
            };
            (outcome, Some(std::io::Error::from(e).to_string()))
        }
    };
    BindAttempt {
        addr,
        reuseaddr,
        outcome,
        error,
    }
}

/// The address this machine sends from towards the rest of the world (the default route's
/// source, IPv6 when `v6`), found by connecting a UDP socket to a documentation address
/// (`203.0.113.1` or `2001:db8::1`): the kernel picks the route and the source address, and
/// no packet is sent. `None` without such a route, or when it is loopback or unspecified.
pub fn outward_source_addr(v6: bool) -> Option<IpAddr> {
    let (local, remote): (SocketAddr, SocketAddr) = if v6 {
        (
            (Ipv6Addr::UNSPECIFIED, 0).into(),
            ("2001:db8::1".parse::<Ipv6Addr>().ok()?, 9).into(),
        )
    } else {
        (
            (Ipv4Addr::UNSPECIFIED, 0).into(),
            (Ipv4Addr::new(203, 0, 113, 1), 9).into(),
        )
    };
    let socket = UdpSocket::bind(local).ok()?;
    socket.connect(remote).ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified() && !ip.is_loopback()).then_some(ip)
}
