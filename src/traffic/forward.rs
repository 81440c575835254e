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
    /// Parse `IP/PREFIX` or a bare IP (one host); bad input names `--allow`.
    pub fn parse(text: &str) -> Result<Cidr> {
        let bad = || {
            Error::bad_input(
                format!("--allow {} is not a network", crate::text::terminal(text)),
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
        })
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

/// Relay TCP connections accepted on `listener` (bound, std) until SIGINT/SIGTERM; `emit`
/// gets every line as it happens. Returns the totals and the signal's name.
pub async fn run_tcp(
    listener: std::net::TcpListener,
    cfg: Config,
    emit: &dyn Fn(ForwardLine),
) -> Result<(Totals, &'static str)> {
    let prep = |e| Error::io("preparing the listening socket", e);
    listener.set_nonblocking(true).map_err(prep)?;
    let listener = TcpListener::from_std(listener).map_err(prep)?;
    let stop = stop_signal();
    tokio::pin!(stop);
    let shared = Arc::new(Shared::default());
    let cfg = Arc::new(cfg);
    let (tx, mut rx) = mpsc::unbounded_channel::<ForwardLine>();
    let mut next_id = 0u64;
    let signal = loop {
        tokio::select! {
            s = &mut stop => break s?,
            Some(line) = rx.recv() => emit(line),
            accepted = listener.accept() => {
                let (client, peer) = match accepted {
                    Ok(a) => a,
                    // EMFILE and friends: back off a little instead of spinning.
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                if !allowed(&cfg.allow, peer.ip()) {
                    shared.denied.fetch_add(1, Ordering::Relaxed);
                    reject(client);
                    if !cfg.quiet {
                        emit(ForwardLine::Denied { client: peer });
                    }
                    continue;
                }
                if shared.active.load(Ordering::Relaxed) >= cfg.max_conns {
                    shared.refused.fetch_add(1, Ordering::Relaxed);
                    reject(client);
                    if !cfg.quiet {
                        emit(ForwardLine::Refused { client: peer, max_conns: cfg.max_conns });
                    }
                    continue;
                }
                next_id += 1;
                shared.active.fetch_add(1, Ordering::Relaxed);
                let guard = ActiveGuard(Arc::clone(&shared));
                let (cfg, shared, tx) = (Arc::clone(&cfg), Arc::clone(&shared), tx.clone());
                tokio::spawn(async move {
                    let _guard = guard;
                    connection(client, peer, next_id, &cfg, &shared, &tx).await;
                });
            }
        }
    };
    while let Ok(line) = rx.try_recv() {
        emit(line);
    }
    Ok((shared.totals(), signal))
}

/// Close a client we will not serve at once, with a reset so it does not linger.
fn reject(client: TcpStream) {
    let _ = socket2::SockRef::from(&client).set_linger(Some(Duration::ZERO));
    drop(client);
}

async fn connection(
    client: TcpStream,
    peer: SocketAddr,
    id: u64,
    cfg: &Config,
    shared: &Shared,
    tx: &mpsc::UnboundedSender<ForwardLine>,
) {
    let started = Instant::now();
    let target = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(cfg.target)).await {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => return target_failed(id, peer, cfg, shared, tx, e.to_string()),
        Err(_) => {
            let why = format!("no answer within {} s", CONNECT_TIMEOUT.as_secs());
            return target_failed(id, peer, cfg, shared, tx, why);
        }
    };
    shared.connections.fetch_add(1, Ordering::Relaxed);
    // Pass small writes on at once (interactive protocols); bulk throughput is the same.
    let _ = client.set_nodelay(true);
    let _ = target.set_nodelay(true);
    if !cfg.quiet {
        let _ = tx.send(ForwardLine::Open {
            id,
            client: peer,
            target: cfg.target,
        });
    }
    let up = AtomicU64::new(0);
    let down = AtomicU64::new(0);
    let (end, error) = pump(&client, &target, cfg.idle, &up, &down).await;
    if matches!(end, End::Reset | End::Error) {
        for s in [&client, &target] {
            let _ = socket2::SockRef::from(s).set_linger(Some(Duration::ZERO));
        }
    }
    let (up, down) = (up.load(Ordering::Relaxed), down.load(Ordering::Relaxed));
    shared.to_target.fetch_add(up, Ordering::Relaxed);
    shared.to_client.fetch_add(down, Ordering::Relaxed);
    if !cfg.quiet {
        let _ = tx.send(ForwardLine::Close {
            id,
            client: peer,
            bytes_to_target: up,
            bytes_to_client: down,
            duration_s: started.elapsed().as_secs_f64(),
            end,
            error,
        });
    }
}

fn target_failed(
    id: u64,
    peer: SocketAddr,
    cfg: &Config,
    shared: &Shared,
    tx: &mpsc::UnboundedSender<ForwardLine>,
    reason: String,
) {
    shared.target_failed.fetch_add(1, Ordering::Relaxed);
    if !cfg.quiet {
        let _ = tx.send(ForwardLine::TargetFailed {
            id,
            client: peer,
            target: cfg.target,
            reason,
        });
    }
}

/// Relay both ways until both sides have closed, one fails, or nothing moves for `idle`.
async fn pump(
    client: &TcpStream,
    target: &TcpStream,
    idle: Duration,
    up: &AtomicU64,
    down: &AtomicU64,
) -> (End, Option<String>) {
    let started = Instant::now();
    let last = AtomicU64::new(0);
    let both = async {
        tokio::try_join!(
            direction(client, target, up, &last, started),
            direction(target, client, down, &last, started)
        )
    };
    let watch = async {
        loop {
            let quiet_since = Duration::from_millis(last.load(Ordering::Relaxed));
            let deadline = started + quiet_since + idle;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline.into()).await;
        }
    };
    tokio::select! {
        r = both => match r {
            Ok(_) => (End::BothClosed, None),
            Err(e) => {
                let end = match e.kind() {
                    io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe => End::Reset,
                    _ => End::Error,
                };
                (end, Some(e.to_string()))
            }
        },
        () = watch => (End::Idle, None),
    }
}

/// One direction: relay until end-of-file, then pass the half-close on (shutdown write).
async fn direction(
    from: &TcpStream,
    to: &TcpStream,
    count: &AtomicU64,
    last: &AtomicU64,
    started: Instant,
) -> io::Result<()> {
    let moved = |n: usize| {
        count.fetch_add(n as u64, Ordering::Relaxed);
        let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        last.store(ms, Ordering::Relaxed);
    };
    match splice::Pipe::new() {
        Ok(pipe) => splice::relay(from, to, pipe, moved).await?,
        Err(_) => copy(from, to, moved).await?,
    }
    match socket2::SockRef::from(to).shutdown(Shutdown::Write) {
        Err(e) if e.kind() != io::ErrorKind::NotConnected => Err(e),
        _ => Ok(()),
    }
}

/// The fallback when no pipe can be made: a plain copy through a 64 KiB buffer.
async fn copy(from: &TcpStream, to: &TcpStream, mut moved: impl FnMut(usize)) -> io::Result<()> {
    let mut buf = vec![0u8; COPY_BUF];
    loop {
        from.readable().await?;
        let n = match from.try_read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        };
        let mut off = 0;
        while off < n {
            to.writable().await?;
            match to.try_write(buf.get(off..n).unwrap_or_default()) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(w) => {
                    off += w;
                    moved(w);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// One UDP client's session: a socket connected to the target.
#[derive(Debug)]
struct Session {
    id: u64,
    sock: Arc<UdpSocket>,
    started: Instant,
    /// Milliseconds after `started` of the last datagram either way.
    last: Arc<AtomicU64>,
    up: Arc<AtomicU64>,
    down: Arc<AtomicU64>,
}

/// Relay UDP datagrams received on `sock` (bound, std) until SIGINT/SIGTERM: one connected
/// socket to the target per client, replies sent back to it, sessions expire when idle.
pub async fn run_udp(
    sock: std::net::UdpSocket,
    cfg: Config,
    emit: &dyn Fn(ForwardLine),
) -> Result<(Totals, &'static str)> {
    let prep = |e| Error::io("preparing the listening socket", e);
    sock.set_nonblocking(true).map_err(prep)?;
    let listen = Arc::new(UdpSocket::from_std(sock).map_err(prep)?);
    let stop = stop_signal();
    tokio::pin!(stop);
    let mut totals = Totals::default();
    let mut sessions: HashMap<SocketAddr, Session> = HashMap::new();
    let mut told: HashSet<SocketAddr> = HashSet::new();
    let (ended_tx, mut ended_rx) = mpsc::unbounded_channel::<(SocketAddr, End)>();
    let mut buf = vec![0u8; DATAGRAM];
    let mut next_id = 0u64;
    let signal = loop {
        tokio::select! {
            s = &mut stop => break s?,
            Some((client, end)) = ended_rx.recv() => {
                if let Some(s) = sessions.remove(&client) {
                    close_session(client, &s, end, &cfg, &mut totals, emit);
                }
            }
            got = listen.recv_from(&mut buf) => {
                let Ok((n, client)) = got else { continue };
                if !allowed(&cfg.allow, client.ip()) {
                    totals.denied += 1;
                    if remember(&mut told, client) && !cfg.quiet {
                        emit(ForwardLine::Denied { client });
                    }
                    continue;
                }
                if !sessions.contains_key(&client) {
                    if sessions.len() >= cfg.max_conns {
                        totals.refused += 1;
                        if remember(&mut told, client) && !cfg.quiet {
                            emit(ForwardLine::Refused { client, max_conns: cfg.max_conns });
                        }
                        continue;
                    }
                    next_id += 1;
                    match open_session(next_id, client, &listen, &cfg, &ended_tx).await {
                        Ok(s) => {
                            totals.connections += 1;
                            if !cfg.quiet {
                                emit(ForwardLine::Open { id: next_id, client, target: cfg.target });
                            }
                            sessions.insert(client, s);
                        }
                        Err(e) => {
                            totals.target_failed += 1;
                            if !cfg.quiet {
                                emit(ForwardLine::TargetFailed {
                                    id: next_id, client, target: cfg.target, reason: e.to_string(),
                                });
                            }
                            continue;
                        }
                    }
                }
                if let Some(s) = sessions.get(&client) {
                    let data = buf.get(..n).unwrap_or_default();
                    if s.sock.send(data).await.is_ok() {
                        s.up.fetch_add(n as u64, Ordering::Relaxed);
                        s.last.store(ms_since(s.started), Ordering::Relaxed);
                    }
                }
            }
        }
    };
    for (client, s) in std::mem::take(&mut sessions) {
        close_session(client, &s, End::Stopped, &cfg, &mut totals, emit);
    }
    Ok((totals, signal))
}

fn remember(told: &mut HashSet<SocketAddr>, client: SocketAddr) -> bool {
    if told.len() >= TOLD_CAP {
        told.clear();
    }
    told.insert(client)
}

fn ms_since(t: Instant) -> u64 {
    u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn close_session(
    client: SocketAddr,
    s: &Session,
    end: End,
    cfg: &Config,
    totals: &mut Totals,
    emit: &dyn Fn(ForwardLine),
) {
    let (up, down) = (s.up.load(Ordering::Relaxed), s.down.load(Ordering::Relaxed));
    totals.bytes_to_target += up;
    totals.bytes_to_client += down;
    if !cfg.quiet {
        emit(ForwardLine::Close {
            id: s.id,
            client,
            bytes_to_target: up,
            bytes_to_client: down,
            duration_s: s.started.elapsed().as_secs_f64(),
            end,
            error: None,
        });
    }
}

async fn open_session(
    id: u64,
    client: SocketAddr,
    listen: &Arc<UdpSocket>,
    cfg: &Config,
    ended: &mpsc::UnboundedSender<(SocketAddr, End)>,
) -> io::Result<Session> {
    let local: SocketAddr = match cfg.target {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let sock = UdpSocket::bind(local).await?;
    sock.connect(cfg.target).await?;
    let s = Session {
        id,
        sock: Arc::new(sock),
        started: Instant::now(),
        last: Arc::new(AtomicU64::new(0)),
        up: Arc::new(AtomicU64::new(0)),
        down: Arc::new(AtomicU64::new(0)),
    };
    let (sock, last, down, started) = (
        Arc::clone(&s.sock),
        Arc::clone(&s.last),
        Arc::clone(&s.down),
        s.started,
    );
    let (listen, ended, idle) = (Arc::clone(listen), ended.clone(), cfg.idle);
    tokio::spawn(async move {
        let mut buf = vec![0u8; DATAGRAM];
        let end = loop {
            let deadline = started + Duration::from_millis(last.load(Ordering::Relaxed)) + idle;
            if Instant::now() >= deadline {
                break End::Idle;
            }
            tokio::select! {
                () = tokio::time::sleep_until(deadline.into()) => {}
                got = sock.recv(&mut buf) => match got {
                    Ok(n) => {
                        let data = buf.get(..n).unwrap_or_default();
                        if listen.send_to(data, client).await.is_ok() {
                            down.fetch_add(n as u64, Ordering::Relaxed);
                        }
                        last.store(ms_since(started), Ordering::Relaxed);
                    }
                    // ICMP port unreachable from the target: keep the session, like a
                    // lost datagram; the idle timeout ends it.
                    Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {}
                    Err(_) => break End::Error,
                },
            }
        };
        let _ = ended.send((client, end));
    });
    Ok(s)
}

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
