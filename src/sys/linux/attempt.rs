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
    connect_watching(addr, timeout, true)
}

/// [`connect`]; with `watch_close` false the connection is closed at once instead of waited
/// on (for a caller that sends a request next and sees a closing server in its answer).
pub fn connect_watching(addr: SocketAddr, timeout: Duration, watch_close: bool) -> Attempt {
    let start = Instant::now();
    let (outcome, error) = match TcpStream::connect_timeout(&addr, timeout) {
        Ok(stream) if watch_close => (closes_at_once(&stream), None),
        Ok(stream) => {
            let _ = stream.shutdown(Shutdown::Both);
            (Outcome::Connected, None)
        }
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

/// How an HTTP request over a connection that was accepted ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HttpOutcome {
    /// A status line came back.
    Answered,
    /// The server closed the connection without a byte (its handler crashed, or it drops
    /// requests it does not like).
    EmptyReply,
    /// The connection was reset instead of answered.
    Reset,
    /// No byte came back before the deadline (nothing accepts, or the handler hangs).
    NoAnswer,
    /// Bytes came back, but not an HTTP status line.
    NotHttp,
    /// The TLS handshake failed (an `https://` URL on a port that does not speak TLS, or a
    /// TLS error; its text is in `error`).
    TlsFailed,
    /// The connection or the request could not be made (its text is in `error`).
    Failed,
}

/// One HTTP request as a client makes it: `GET path` with the URL's Host, read until the
/// status line and headers (at most 4 KiB) or the deadline.
#[derive(Debug, Clone, Serialize)]
pub struct HttpAttempt {
    /// Where it was sent.
    pub addr: SocketAddr,
    /// The request line and Host header sent (`GET / HTTP/1.1`, `Host: localhost:3000`).
    pub request: String,
    /// How it ended.
    pub outcome: HttpOutcome,
    /// The status code, when answered.
    pub status: Option<u16>,
    /// The first line of the answer, as text (control characters escaped, at most 200
    /// characters).
    pub first_line: Option<String>,
    /// The `Server` header, when there was one.
    pub server: Option<String>,
    /// The start of the body, when it came with the headers (at most 200 characters).
    pub body_start: Option<String>,
    /// The OS error text, when there was one.
    pub error: Option<String>,
    /// How long it took, milliseconds.
    pub elapsed_ms: f64,
}

/// Send `GET path HTTP/1.1` with `Host: host` to `addr` and read the answer's head within
/// `deadline` (connect included). Read-only for any server that follows HTTP: GET changes
/// nothing, and the connection is closed after the head.
pub fn http_get(addr: SocketAddr, host: &str, path: &str, deadline: Duration) -> HttpAttempt {
    let start = Instant::now();
    match TcpStream::connect_timeout(&addr, deadline) {
        Ok(stream) => {
            let mut on = &stream;
            http_over(&mut on, &stream, (addr, host, path), deadline, start)
        }
        Err(e) => {
            let mut out = HttpAttempt::new(addr, host, path);
            out.error = Some(e.to_string());
            out.elapsed_ms = start.elapsed().as_secs_f64() * 1000.0;
            out
        }
    }
}

impl HttpAttempt {
    /// Not sent yet: outcome `Failed` until the exchange says otherwise.
    pub fn new(addr: SocketAddr, host: &str, path: &str) -> HttpAttempt {
        HttpAttempt {
            addr,
            request: format!("GET {path} HTTP/1.1, Host: {host}"),
            outcome: HttpOutcome::Failed,
            status: None,
            first_line: None,
            server: None,
            body_start: None,
            error: None,
            elapsed_ms: 0.0,
        }
    }
}

/// [`http_get`] over a connection already made (plain, or a TLS session over `sock`):
/// `sock` is the TCP socket underneath, whose timeouts bound each read; `start` is when the
/// attempt began, for `deadline` and `elapsed_ms`.
pub fn http_over<S: Read + std::io::Write>(
    stream: &mut S,
    sock: &TcpStream,
    target: (SocketAddr, &str, &str),
    deadline: Duration,
    start: Instant,
) -> HttpAttempt {
    let (addr, host, path) = target;
    let mut out = HttpAttempt::new(addr, host, path);
    let finish = |mut out: HttpAttempt| {
        out.elapsed_ms = start.elapsed().as_secs_f64() * 1000.0;
        out
    };
    let wire = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: portscope-doctor\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    let _ = sock.set_write_timeout(Some(deadline));
    if let Err(e) = stream
        .write_all(wire.as_bytes())
        .and_then(|()| stream.flush())
    {
        out.outcome = if e.kind() == ErrorKind::ConnectionReset || e.kind() == ErrorKind::BrokenPipe
        {
            HttpOutcome::Reset
        } else {
            HttpOutcome::Failed
        };
        out.error = Some(e.to_string());
        return finish(out);
    }
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    // The read ended (deadline or close): answered if any byte came, else `silent`.
    let ended = |head: &[u8], silent| {
        if head.is_empty() {
            silent
        } else {
            HttpOutcome::Answered
        }
    };
    let outcome = loop {
        let left = deadline.saturating_sub(start.elapsed());
        if left.is_zero() {
            break ended(&head, HttpOutcome::NoAnswer);
        }
        let _ = sock.set_read_timeout(Some(left));
        match stream.read(&mut buf) {
            Ok(0) => {
                break ended(&head, HttpOutcome::EmptyReply);
            }
            Ok(n) => {
                head.extend_from_slice(buf.get(..n).unwrap_or_default());
                if head.len() >= 4096 || head.windows(4).any(|w| w == b"\r\n\r\n") {
                    break HttpOutcome::Answered;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                break ended(&head, HttpOutcome::NoAnswer);
            }
            Err(e) if e.kind() == ErrorKind::ConnectionReset && head.is_empty() => {
                out.error = Some(e.to_string());
                break HttpOutcome::Reset;
            }
            // A TLS peer that closes without close_notify: what came is the answer.
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                break ended(&head, HttpOutcome::EmptyReply);
            }
            Err(e) if head.is_empty() => {
                out.error = Some(e.to_string());
                break HttpOutcome::Failed;
            }
            Err(_) => break HttpOutcome::Answered,
        }
    };
    // An error page's text often comes in a write of its own after the head: wait briefly
    // for it (it says why: "Invalid Host header").
    if outcome == HttpOutcome::Answered
        && head.ends_with(b"\r\n\r\n")
        && !head.starts_with(b"HTTP/1.1 2")
        && !head.starts_with(b"HTTP/1.0 2")
    {
        let _ = sock.set_read_timeout(Some(Duration::from_millis(100)));
        if let Ok(n) = stream.read(&mut buf) {
            head.extend_from_slice(buf.get(..n).unwrap_or_default());
        }
    }
    let _ = sock.shutdown(Shutdown::Both);
    out.outcome = outcome;
    if outcome == HttpOutcome::Answered {
        read_head(&head, &mut out);
    }
    finish(out)
}

/// Fill in the status, first line, `Server` and body start from an answer's first bytes.
fn read_head(head: &[u8], out: &mut HttpAttempt) {
    let text = String::from_utf8_lossy(head);
    let short = |s: &str| {
        let s: String = s.chars().take(200).collect();
        crate::text::terminal(&s).into_owned()
    };
    let (headers, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = headers.split("\r\n");
    let first = lines.next().unwrap_or_default();
    out.first_line = Some(short(first));
    let mut words = first.split_whitespace();
    let status = match (words.next(), words.next()) {
        (Some(v), Some(code)) if v.starts_with("HTTP/") => code.parse::<u16>().ok(),
        _ => None,
    };
    match status {
        Some(code) if (100..=999).contains(&code) => out.status = Some(code),
        _ => out.outcome = HttpOutcome::NotHttp,
    }
    out.server = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("server"))
        .map(|(_, v)| short(v.trim()));
    out.body_start = (!body.trim().is_empty()).then(|| short(body.trim()));
}
