//! Resource bounds for portscope's HTTP servers, below axum (which offers none): at most
//! `max` connections at once, at most `per_source` from one client address, and a connection
//! that moves no byte in either direction for `idle` is closed — a client that opens sockets
//! and sends nothing, or never reads its response, cannot hold a slot forever.
//!
//! Slots go to requests, not to sockets: when every slot is taken, the connection that has
//! waited longest for a request head (a client trickling its headers, or a keep-alive
//! connection sitting idle between requests) is closed to make room, so a crowd of sockets
//! that never finish a request cannot keep a real request out. Only when every connection is
//! in the middle of a request does `accept` wait. Optionally it counts connections and bytes
//! (`serve`'s summary).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// Connections accepted and bytes moved through a listener's connections.
#[derive(Debug, Default)]
pub struct Counters {
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Bytes read from clients.
    pub bytes_in: AtomicU64,
    /// Bytes written to clients.
    pub bytes_out: AtomicU64,
}

/// A TCP listener that hands out at most `max` connections at a time (see the module).
#[derive(Debug)]
pub struct LimitedListener {
    inner: TcpListener,
    slots: Arc<Semaphore>,
    per_source: usize,
    idle: Duration,
    counters: Option<Arc<Counters>>,
    table: Arc<Table>,
}

impl LimitedListener {
    /// Wrap `inner`: at most `max` open connections (and `max / 2` from one address, at
    /// least 1), each closed after `idle` without I/O.
    pub fn new(inner: TcpListener, max: usize, idle: Duration) -> LimitedListener {
        LimitedListener {
            inner,
            slots: Arc::new(Semaphore::new(max)),
            per_source: (max / 2).max(1),
            idle,
            counters: None,
            table: Arc::new(Table::default()),
        }
    }

    /// At most `n` connections from one client address (instead of half of `max`).
    pub fn per_source(mut self, n: usize) -> LimitedListener {
        self.per_source = n.max(1);
        self
    }

    /// Count connections and bytes into `counters`.
    pub fn counting(mut self, counters: Arc<Counters>) -> LimitedListener {
        self.counters = Some(counters);
        self
    }

    /// The next connection with its slot, and its place in the table of connections (a
    /// request marks it busy; [`Conn::closed`] says when it must go to make room).
    pub async fn accept(&mut self) -> (LimitedStream, SocketAddr, Conn) {
        loop {
            let (io, addr) = match self.inner.accept().await {
                Ok(accepted) => accepted,
                Err(e) if is_connection_error(&e) => continue,
                // Out of file descriptors, most likely: wait for some to close.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            };
            let ip = addr.ip();
            let mut made_room = false;
            if self.table.count_from(ip) >= self.per_source {
                if !self.table.make_room(Some(ip)) {
                    // This address holds its share, every one of them mid-request: no room.
                    continue;
                }
                made_room = true;
            }
            let slot = match self.slots.clone().try_acquire_owned() {
                Ok(slot) => Some(slot),
                Err(_) => {
                    if !made_room {
                        self.table.make_room(None);
                    }
                    // The semaphore is never closed, so this is always a permit.
                    self.slots.clone().acquire_owned().await.ok()
                }
            };
            let _ = io.set_nodelay(true);
            let counters = self.counters.clone();
            if let Some(c) = &counters {
                c.connections.fetch_add(1, Ordering::Relaxed);
            }
            let conn = Table::enter(&self.table, ip);
            return (
                LimitedStream::new(io, self.idle, slot, counters),
                addr,
                conn,
            );
        }
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// Where a connection is: waiting for a request head (new, or idle between requests) since
/// a moment, or in the middle of requests.
#[derive(Debug)]
enum Phase {
    Waiting(Instant),
    Busy(u32),
}

#[derive(Debug)]
struct Entry {
    source: IpAddr,
    phase: Phase,
    close: Arc<Notify>,
}

/// The open connections, for choosing whom to close when slots run out.
#[derive(Debug, Default)]
struct Table {
    next: AtomicU64,
    conns: Mutex<HashMap<u64, Entry>>,
}

impl Table {
    fn enter(table: &Arc<Table>, source: IpAddr) -> Conn {
        let id = table.next.fetch_add(1, Ordering::Relaxed);
        let close = Arc::new(Notify::new());
        if let Ok(mut conns) = table.conns.lock() {
            conns.insert(
                id,
                Entry {
                    source,
                    phase: Phase::Waiting(Instant::now()),
                    close: close.clone(),
                },
            );
        }
        Conn {
            id,
            table: Arc::clone(table),
            close,
        }
    }

    fn count_from(&self, ip: IpAddr) -> usize {
        self.conns
            .lock()
            .map_or(0, |c| c.values().filter(|e| e.source == ip).count())
    }

    /// Close the connection (of `source`, if given) that has waited longest for a request
    /// head; `false` when every one is mid-request.
    fn make_room(&self, source: Option<IpAddr>) -> bool {
        let Ok(mut conns) = self.conns.lock() else {
            return false;
        };
        let oldest = conns
            .iter()
            .filter(|(_, e)| source.is_none_or(|ip| e.source == ip))
            .filter_map(|(id, e)| match e.phase {
                Phase::Waiting(since) => Some((since, *id)),
                Phase::Busy(_) => None,
            })
            .min();
        let Some((_, id)) = oldest else {
            return false;
        };
        // Gone from the table at once, so the next accept picks another.
        if let Some(e) = conns.remove(&id) {
            e.close.notify_one();
        }
        true
    }

    fn update(&self, id: u64, f: impl FnOnce(&mut Phase)) {
        if let Ok(mut conns) = self.conns.lock()
            && let Some(e) = conns.get_mut(&id)
        {
            f(&mut e.phase);
        }
    }
}

/// A connection's place in the listener's table; dropping it leaves the table.
#[derive(Debug)]
pub struct Conn {
    id: u64,
    table: Arc<Table>,
    close: Arc<Notify>,
}

impl Conn {
    /// Completes when the connection must close to make room for another.
    pub async fn closed(&self) {
        self.close.notified().await;
    }

    /// A handle for marking requests on this connection.
    pub fn requests(&self) -> Requests {
        Requests {
            id: self.id,
            table: Arc::clone(&self.table),
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Ok(mut conns) = self.table.conns.lock() {
            conns.remove(&self.id);
        }
    }
}

/// Marks requests on one connection (cheap to clone).
#[derive(Debug, Clone)]
pub struct Requests {
    id: u64,
    table: Arc<Table>,
}

impl Requests {
    /// A request's head has been read: the connection is busy until the guard drops (when
    /// the response's last byte is written, or the response is dropped).
    pub fn begin(&self) -> RequestGuard {
        self.table.update(self.id, |p| {
            *p = match p {
                Phase::Busy(n) => Phase::Busy(*n + 1),
                Phase::Waiting(_) => Phase::Busy(1),
            }
        });
        RequestGuard {
            requests: self.clone(),
        }
    }
}

/// One request in progress (see [`Requests::begin`]).
#[derive(Debug)]
pub struct RequestGuard {
    requests: Requests,
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.requests.table.update(self.requests.id, |p| {
            *p = match p {
                Phase::Busy(n) if *n > 1 => Phase::Busy(*n - 1),
                _ => Phase::Waiting(Instant::now()),
            }
        });
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// A connection holding one of the listener's slots until it is dropped.
#[derive(Debug)]
pub struct LimitedStream {
    io: TcpStream,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
    counters: Option<Arc<Counters>>,
    _slot: Option<OwnedSemaphorePermit>,
}

impl LimitedStream {
    fn new(
        io: TcpStream,
        idle: Duration,
        slot: Option<OwnedSemaphorePermit>,
        counters: Option<Arc<Counters>>,
    ) -> LimitedStream {
        LimitedStream {
            io,
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
            counters,
            _slot: slot,
        }
    }

    /// Count `n` bytes written to the client.
    fn wrote(&self, p: &Poll<io::Result<usize>>) {
        if let (Some(c), Poll::Ready(Ok(n))) = (&self.counters, p) {
            c.bytes_out.fetch_add(*n as u64, Ordering::Relaxed);
        }
    }

    /// Bytes moved: the idle clock starts again.
    fn touch(&mut self) {
        let next = Instant::now() + self.idle;
        self.deadline.as_mut().reset(next);
    }

    /// The I/O would wait: fail it if the connection has been idle too long (polling the
    /// deadline also arranges a wake-up when it passes).
    fn check_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection idle for too long",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn after<T>(&mut self, cx: &mut Context<'_>, p: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match p {
            Poll::Ready(r) => {
                self.touch();
                Poll::Ready(r)
            }
            Poll::Pending => match self.check_idle(cx) {
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                _ => Poll::Pending,
            },
        }
    }
}

impl AsyncRead for LimitedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let p = Pin::new(&mut this.io).poll_read(cx, buf);
        if let Some(c) = &this.counters {
            let n = buf.filled().len().saturating_sub(before);
            c.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
        }
        this.after(cx, p)
    }
}

impl AsyncWrite for LimitedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let p = Pin::new(&mut this.io).poll_write(cx, buf);
        this.wrote(&p);
        this.after(cx, p)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let p = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.wrote(&p);
        this.after(cx, p)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let p = Pin::new(&mut this.io).poll_flush(cx);
        this.after(cx, p)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn slots_and_idle_timeout() {
        let inner = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = inner.local_addr().unwrap();
        let mut l = LimitedListener::new(inner, 1, Duration::from_millis(200));
        // (A second connection is accepted and waits for the slot, holding its socket.)
        let mut c1 = TcpStream::connect(addr).await.unwrap();
        let (mut s1, _, conn1) = l.accept().await;
        // s1 is mid-request: a second client connects (the kernel queues it) but gets no
        // slot while s1 lives.
        let _busy = conn1.requests().begin();
        let _c2 = TcpStream::connect(addr).await.unwrap();
        let second = tokio::time::timeout(Duration::from_millis(100), l.accept()).await;
        assert!(second.is_err(), "a second connection got a slot");
        // Bytes keep s1 alive; then silence ends it.
        c1.write_all(b"x").await.unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(s1.read(&mut buf).await.unwrap(), 1);
        let started = Instant::now();
        let e = s1.read(&mut buf).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_millis(150));
        drop((s1, _busy, conn1));
        // The slot is free again.
        let _c3 = TcpStream::connect(addr).await.unwrap();
        let third = tokio::time::timeout(Duration::from_secs(2), l.accept()).await;
        assert!(third.is_ok());
    }

    /// Accept the next connection; `victim` closes when it is told to make room.
    async fn accept_evicting(
        l: &mut LimitedListener,
        victim: (LimitedStream, Conn),
    ) -> Option<(LimitedStream, SocketAddr, Conn)> {
        let (stream, conn) = victim;
        tokio::time::timeout(Duration::from_secs(2), async {
            let next = l.accept();
            tokio::pin!(next);
            tokio::select! {
                got = &mut next => got,
                () = conn.closed() => {
                    drop((stream, conn));
                    next.await
                }
            }
        })
        .await
        .ok()
    }

    #[tokio::test]
    async fn the_longest_waiting_connection_makes_room() {
        let inner = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = inner.local_addr().unwrap();
        let mut l = LimitedListener::new(inner, 2, Duration::from_secs(60)).per_source(2);
        let _c1 = TcpStream::connect(addr).await.unwrap();
        let (s1, _, old) = l.accept().await;
        let _c2 = TcpStream::connect(addr).await.unwrap();
        let (s2, _, young) = l.accept().await;
        // Both slots taken, both waiting for a request head: a third client gets a slot,
        // and the first (the longest waiting) is told to close.
        let _c3 = TcpStream::connect(addr).await.unwrap();
        let (s3, _, busy) = accept_evicting(&mut l, (s1, old))
            .await
            .expect("no room was made");
        // A connection mid-request is never closed for room: with s2 waiting and s3 busy, a
        // fourth client closes s2.
        let _g = busy.requests().begin();
        let _c4 = TcpStream::connect(addr).await.unwrap();
        let fourth = accept_evicting(&mut l, (s2, young)).await;
        assert!(fourth.is_some(), "no room made from the waiting connection");
        let told = tokio::time::timeout(Duration::from_millis(50), busy.closed()).await;
        assert!(told.is_err(), "a connection mid-request was told to close");
        drop(s3);
    }

    #[test]
    fn one_source_holds_half_the_slots() {
        let table = Arc::new(Table::default());
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let conns: Vec<Conn> = (0..3).map(|_| Table::enter(&table, a)).collect();
        assert_eq!(table.count_from(a), 3);
        let _busy: Vec<RequestGuard> = conns.iter().map(|c| c.requests().begin()).collect();
        assert!(!table.make_room(Some(a)), "every one is mid-request");
        drop(_busy);
        assert!(table.make_room(Some(a)));
        assert_eq!(table.count_from(a), 2);
    }
}
