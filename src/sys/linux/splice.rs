//! Zero-copy relaying between two sockets with splice(2) through a pipe.
//!
//! One direction of a relay: socket → pipe → socket, all in the kernel, with no
//! `SPLICE_F_MORE` (it holds small writes back for up to 200 ms). The caller sees every
//! chunk moved through a callback, so it can count bytes and notice activity.

use std::io;
use std::os::fd::OwnedFd;

use rustix::pipe::{
    PipeFlags, SpliceFlags, fcntl_getpipe_size, fcntl_setpipe_size, pipe_with, splice,
};
use tokio::io::Interest;
use tokio::net::TcpStream;

/// The pipe capacity asked for once a direction has moved that much (a bulk transfer): fewer,
/// larger splices than the default 64 KiB (throughput 9 → 16 Gbit/s on loopback). Small
/// exchanges keep the default, so many connections do not use up an unprivileged user's
/// `pipe-user-pages-soft`; when growing fails the pipe stays as it is.
const PIPE_SIZE: usize = 1024 * 1024;

/// A pipe used as the kernel-side buffer of one direction.
#[derive(Debug)]
pub struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
    /// Its capacity: how much one splice moves at most.
    size: usize,
}

impl Pipe {
    /// A new non-blocking, close-on-exec pipe (two file descriptors).
    pub fn new() -> io::Result<Pipe> {
        let (read, write) = pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?;
        let size = fcntl_getpipe_size(&write).unwrap_or(4096);
        Ok(Pipe { read, write, size })
    }
}

/// Move bytes from `from` to `to` through `pipe` until `from` reads end-of-file (returns
/// `Ok(())`) or an error. `moved(n)` is called after each chunk reaches `to`.
///
/// Does not shut `to` down: the caller decides what end-of-file means.
pub async fn relay(
    from: &TcpStream,
    to: &TcpStream,
    mut pipe: Pipe,
    mut moved: impl FnMut(usize),
) -> io::Result<()> {
    let mut total = 0usize;
    let mut grown = false;
    loop {
        if !grown && total >= PIPE_SIZE {
            grown = true;
            if let Ok(size) = fcntl_setpipe_size(&pipe.write, PIPE_SIZE) {
                pipe.size = size;
            }
        }
        from.readable().await?;
        let got = match from.try_io(Interest::READABLE, || {
            splice(
                from,
                None,
                &pipe.write,
                None,
                pipe.size,
                SpliceFlags::NONBLOCK,
            )
            .map_err(Into::into)
        }) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        total = total.saturating_add(got);
        let mut left = got;
        while left > 0 {
            to.writable().await?;
            match to.try_io(Interest::WRITABLE, || {
                splice(&pipe.read, None, to, None, left, SpliceFlags::NONBLOCK).map_err(Into::into)
            }) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(n) => {
                    left -= n.min(left);
                    moved(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}
