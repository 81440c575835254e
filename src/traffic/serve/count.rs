//! The HTTP kinds' listener: at most `max` connections at once (the next `accept` waits for
//! a free slot), a connection that moves no byte for `idle` is closed, and every byte is
//! counted for the summary. (The same bounds as `web/limits.rs`, which is private to `web`,
//! plus the counting.)

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

use super::Totals;

/// A bounded listener that counts what its connections move into `totals`.
pub(super) struct Counting {
    inner: TcpListener,
    slots: Arc<Semaphore>,
    idle: Duration,
    totals: Arc<Totals>,
}

impl Counting {
    /// Wrap `inner`: at most `max` open connections, each closed after `idle` without I/O.
    pub(super) fn new(
        inner: TcpListener,
        max: usize,
        idle: Duration,
        totals: Arc<Totals>,
    ) -> Counting {
        Counting {
            inner,
            slots: Arc::new(Semaphore::new(max)),
            idle,
            totals,
        }
    }
}

impl axum::serve::Listener for Counting {
    type Io = Counted;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // The semaphore is never closed, so this is always a permit.
        let slot = self.slots.clone().acquire_owned().await.ok();
        loop {
            match self.inner.accept().await {
                Ok((io, addr)) => {
                    let _ = io.set_nodelay(true);
                    self.totals.connections.fetch_add(1, Ordering::Relaxed);
                    let io = Counted {
                        io,
                        idle: self.idle,
                        deadline: Box::pin(tokio::time::sleep(self.idle)),
                        totals: self.totals.clone(),
                        _slot: slot,
                    };
                    return (io, addr);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
                    ) => {}
                // Out of file descriptors, most likely: wait for some to close.
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// One connection: counted, bounded by the idle time, holding a slot until dropped.
pub(super) struct Counted {
    io: TcpStream,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
    totals: Arc<Totals>,
    _slot: Option<OwnedSemaphorePermit>,
}

impl Counted {
    /// After a poll: ready restarts the idle clock; pending fails once it has run out.
    fn after<T>(&mut self, cx: &mut Context<'_>, p: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match p {
            Poll::Ready(r) => {
                let next = Instant::now() + self.idle;
                self.deadline.as_mut().reset(next);
                Poll::Ready(r)
            }
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "connection idle for too long",
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let p = Pin::new(&mut this.io).poll_read(cx, buf);
        let n = buf.filled().len().saturating_sub(before);
        this.totals.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
        this.after(cx, p)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let p = Pin::new(&mut this.io).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = p {
            this.totals.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
        }
        this.after(cx, p)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let p = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = p {
            this.totals.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
        }
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
