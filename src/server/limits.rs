//! Resource bounds for portscope's HTTP servers, below axum (which offers none): at most
//! `max` connections at once (the next `accept` waits for a free slot), and a connection
//! that moves no byte in either direction for `idle` is closed — a client that opens
//! sockets and sends nothing, or never reads its response, cannot hold a slot forever.
//! Optionally it counts connections and bytes (`serve`'s summary).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
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

/// A TCP listener that hands out at most `max` connections at a time.
#[derive(Debug)]
pub struct LimitedListener {
    inner: TcpListener,
    slots: Arc<Semaphore>,
    idle: Duration,
    counters: Option<Arc<Counters>>,
}

impl LimitedListener {
    /// Wrap `inner`: at most `max` open connections, each closed after `idle` without I/O.
    pub fn new(inner: TcpListener, max: usize, idle: Duration) -> LimitedListener {
        LimitedListener {
            inner,
            slots: Arc::new(Semaphore::new(max)),
            idle,
            counters: None,
        }
    }

    /// Count connections and bytes into `counters`.
    pub fn counting(mut self, counters: Arc<Counters>) -> LimitedListener {
        self.counters = Some(counters);
        self
    }
}

impl axum::serve::Listener for LimitedListener {
    type Io = LimitedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // The semaphore is never closed, so this is always a permit.
        let slot = self.slots.clone().acquire_owned().await.ok();
        loop {
            match self.inner.accept().await {
                Ok((io, addr)) => {
                    let _ = io.set_nodelay(true);
                    let counters = self.counters.clone();
                    if let Some(c) = &counters {
                        c.connections.fetch_add(1, Ordering::Relaxed);
                    }
                    return (LimitedStream::new(io, self.idle, slot, counters), addr);
                }
                Err(e) if is_connection_error(&e) => {}
                // Out of file descriptors, most likely: wait for some to close.
                Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
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
    use axum::serve::Listener;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn slots_and_idle_timeout() {
        let inner = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = inner.local_addr().unwrap();
        let mut l = LimitedListener::new(inner, 1, Duration::from_millis(200));
        let mut c1 = TcpStream::connect(addr).await.unwrap();
        let (mut s1, _) = l.accept().await;
        // A second client connects (the kernel queues it) but gets no slot while s1 lives.
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
        drop(s1);
        // The slot is free again.
        let third = tokio::time::timeout(Duration::from_secs(2), l.accept()).await;
        assert!(third.is_ok());
    }
}
