//! The timed measurements. Every connect, read and write is bounded ([`CONNECT_TIMEOUT`],
//! [`IO_TIMEOUT`]); a server that stops answering ends the run with an error, never a hang.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::stats::{Stats, Throughput};
use crate::error::{Error, Result};

/// How long one connect may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one read or write may wait.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// The buffer throughput writes (64 KiB).
pub const THROUGHPUT_CHUNK: usize = 64 << 10;
/// Round trips write a request in pieces this large and keep at most this much unread, so a
/// large request never fills both directions' buffers at once.
const WINDOW: usize = 64 << 10;
/// Throughput looks for a stop signal once per this many bytes (4 MiB).
const STOP_EVERY: u64 = 4 << 20;
/// The echo check: ends with an empty line, so an HTTP server answers it at once.
const PROBE: &[u8] = b"PORTSCOPE-BENCH echo check\r\n\r\n";

/// Where a measurement connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A loopback TCP address.
    Tcp(SocketAddr),
    /// A unix stream socket path.
    Unix(PathBuf),
}

impl Endpoint {
    /// `tcp` or `unix`.
    pub fn transport(&self) -> &'static str {
        match self {
            Endpoint::Tcp(_) => "tcp",
            Endpoint::Unix(_) => "unix",
        }
    }

    /// The address as text (IP:PORT or the path; not sanitised).
    pub fn address(&self) -> String {
        match self {
            Endpoint::Tcp(a) => a.to_string(),
            Endpoint::Unix(p) => p.display().to_string(),
        }
    }

    fn connect(&self) -> Result<Conn> {
        let conn = match self {
            Endpoint::Tcp(a) => TcpStream::connect_timeout(a, CONNECT_TIMEOUT).map(Conn::Tcp),
            Endpoint::Unix(p) => UnixStream::connect(p).map(Conn::Unix),
        }
        .map_err(|e| self.err("connect to", e))?;
        conn.set_timeouts(Some(IO_TIMEOUT))
            .map_err(|e| self.err("set timeouts on", e))?;
        Ok(conn)
    }

    fn err(&self, doing: &str, e: io::Error) -> Error {
        let addr = self.address();
        if matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ) {
            let secs = IO_TIMEOUT.as_secs();
            return Error::io(
                format!("{doing} {addr}"),
                io::Error::new(io::ErrorKind::TimedOut, format!("no progress in {secs} s")),
            );
        }
        Error::io(format!("{doing} {addr}"), e)
    }
}

/// One connected stream, TCP or unix.
#[derive(Debug)]
enum Conn {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Conn {
    fn set_timeouts(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => {
                s.set_read_timeout(t)?;
                s.set_write_timeout(t)
            }
            Conn::Unix(s) => {
                s.set_read_timeout(t)?;
                s.set_write_timeout(t)
            }
        }
    }

    fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => s.set_read_timeout(t),
            Conn::Unix(s) => s.set_read_timeout(t),
        }
    }

    fn nodelay(&self) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => s.set_nodelay(true),
            Conn::Unix(_) => Ok(()),
        }
    }

    fn try_clone(&self) -> io::Result<Conn> {
        Ok(match self {
            Conn::Tcp(s) => Conn::Tcp(s.try_clone()?),
            Conn::Unix(s) => Conn::Unix(s.try_clone()?),
        })
    }

    fn shutdown_write(&self) {
        // Only a courtesy to the server: the measurement is already complete.
        let _ = match self {
            Conn::Tcp(s) => s.shutdown(Shutdown::Write),
            Conn::Unix(s) => s.shutdown(Shutdown::Write),
        };
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.read(buf),
            Conn::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.write(buf),
            Conn::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Asked between samples: `true` when a stop signal arrived and the run should end.
pub type Stop<'a> = &'a dyn Fn() -> bool;

fn stopped() -> Error {
    Error::io(
        "bench",
        io::Error::new(
            io::ErrorKind::Interrupted,
            "stopped by a signal before it finished",
        ),
    )
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Time `n` fresh connections to `ep`, each to completion of the handshake, then close it.
pub fn measure_connects(ep: &Endpoint, n: u64, stop: Stop) -> Result<Stats> {
    let mut samples = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
    for _ in 0..n {
        if stop() {
            return Err(stopped());
        }
        let start = Instant::now();
        let conn = match ep {
            Endpoint::Tcp(a) => TcpStream::connect_timeout(a, CONNECT_TIMEOUT).map(Conn::Tcp),
            Endpoint::Unix(p) => UnixStream::connect(p).map(Conn::Unix),
        }
        .map_err(|e| ep.err("connect to", e))?;
        samples.push(micros(start.elapsed()));
        drop(conn);
    }
    Stats::from_samples(samples).ok_or_else(|| Error::bad_input("--connects 0", "at least 1"))
}

/// Read into `buf` in full, or fail (EOF counts as a failure).
fn read_full(conn: &mut Conn, buf: &mut [u8]) -> io::Result<()> {
    let mut got = 0;
    while got < buf.len() {
        match conn.read(&mut buf[got..])? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => got += n,
        }
    }
    Ok(())
}

/// Check that `ep` sends back what it is sent, on `conn`; a clear bad-input error when not.
fn check_echo(ep: &Endpoint, conn: &mut Conn) -> Result<()> {
    let not_echo = |what: String| {
        Error::bad_input(
            format!(
                "TARGET {} does not echo ({what})",
                crate::text::terminal(&ep.address())
            ),
            "bench needs an echo server: start one with `portscope serve echo`, or give no TARGET",
        )
    };
    conn.write_all(PROBE).map_err(|e| ep.err("write to", e))?;
    let mut got = Vec::with_capacity(PROBE.len());
    let mut buf = [0u8; 256];
    while got.len() < PROBE.len() {
        let n = match conn.read(&mut buf) {
            Ok(0) if got.is_empty() => {
                return Err(not_echo(
                    "it closed the connection without answering".into(),
                ));
            }
            Ok(0) => break,
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                let secs = IO_TIMEOUT.as_secs();
                return Err(not_echo(if got.is_empty() {
                    format!("no answer within {secs} s")
                } else {
                    format!("only part of the check came back within {secs} s")
                }));
            }
            Err(e) => return Err(ep.err("read from", e)),
        };
        got.extend_from_slice(&buf[..n]);
        if !PROBE.starts_with(&got[..got.len().min(PROBE.len())]) {
            break;
        }
    }
    if got.as_slice() == PROBE {
        return Ok(());
    }
    let first_line = String::from_utf8_lossy(&got);
    let first_line: String = first_line
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(60)
        .collect();
    Err(not_echo(format!("it answered {first_line:?}")))
}

/// On one connection (TCP_NODELAY for TCP), check the target echoes, then time `n` requests
/// of `size` bytes, each read back in full and compared.
pub fn measure_round_trips(ep: &Endpoint, n: u64, size: usize, stop: Stop) -> Result<Stats> {
    let mut conn = ep.connect()?;
    conn.nodelay()
        .map_err(|e| ep.err("set TCP_NODELAY on", e))?;
    check_echo(ep, &mut conn)?;
    let request: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let mut reply = vec![0u8; size];
    let mut samples = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
    for _ in 0..n {
        if stop() {
            return Err(stopped());
        }
        let start = Instant::now();
        exchange(&mut conn, &request, &mut reply).map_err(|e| ep.err("round trip with", e))?;
        samples.push(micros(start.elapsed()));
        if reply != request {
            return Err(Error::io(
                format!("round trip with {}", ep.address()),
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the reply differs from the request",
                ),
            ));
        }
    }
    Stats::from_samples(samples).ok_or_else(|| Error::bad_input("--requests 0", "at least 1"))
}

/// Write `request` and read as many bytes back into `reply`, never leaving more than
/// [`WINDOW`] bytes unread while writing.
fn exchange(conn: &mut Conn, request: &[u8], reply: &mut [u8]) -> io::Result<()> {
    let size = request.len();
    let (mut sent, mut got) = (0, 0);
    while sent < size {
        let end = (sent + WINDOW).min(size);
        conn.write_all(&request[sent..end])?;
        sent = end;
        while sent - got > WINDOW {
            match conn.read(&mut reply[got..sent])? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                k => got += k,
            }
        }
    }
    read_full(conn, &mut reply[got..])
}

/// Write 64 KiB buffers to a discard server for `duration`; the time runs from the first
/// write to the return of the last one.
pub fn measure_discard(ep: &Endpoint, duration: Duration, stop: Stop) -> Result<Throughput> {
    let mut conn = ep.connect()?;
    let chunk = vec![0x5au8; THROUGHPUT_CHUNK];
    let start = Instant::now();
    let mut bytes = 0u64;
    let mut end = start;
    while end.duration_since(start) < duration {
        conn.write_all(&chunk)
            .map_err(|e| ep.err("write to discard target", e))?;
        bytes += THROUGHPUT_CHUNK as u64;
        end = Instant::now();
        if bytes.is_multiple_of(STOP_EVERY) && stop() {
            return Err(stopped());
        }
    }
    conn.shutdown_write();
    let secs = end.duration_since(start).as_secs_f64();
    Ok(Throughput::new("discard", ep.address(), bytes, secs))
}

/// Write 64 KiB buffers to an echo server for `duration` while another thread reads the
/// echo; counts the bytes that came back, from the first write to the last byte read.
pub fn measure_echo_throughput(
    ep: &Endpoint,
    duration: Duration,
    stop: Stop,
) -> Result<Throughput> {
    let mut conn = ep.connect()?;
    let mut reader = conn.try_clone().map_err(|e| ep.err("clone", e))?;
    // Short read waits so the reader notices the end; progress is still bounded by IO_TIMEOUT.
    reader
        .set_read_timeout(Some(Duration::from_millis(100)))
        .map_err(|e| ep.err("set timeouts on", e))?;
    let sent_total = AtomicU64::new(u64::MAX);
    let chunk = vec![0x5au8; THROUGHPUT_CHUNK];
    let start = Instant::now();
    let (written, read) = std::thread::scope(|scope| {
        let sent_total = &sent_total;
        let reading = scope.spawn(move || -> io::Result<(u64, Instant)> {
            let mut buf = vec![0u8; THROUGHPUT_CHUNK];
            let (mut got, mut last) = (0u64, Instant::now());
            loop {
                if got >= sent_total.load(Ordering::Acquire) {
                    return Ok((got, last));
                }
                match reader.read(&mut buf) {
                    Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                    Ok(n) => {
                        got += n as u64;
                        last = Instant::now();
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        ) =>
                    {
                        if last.elapsed() > IO_TIMEOUT {
                            return Err(e);
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        });
        let mut bytes = 0u64;
        let written = loop {
            if start.elapsed() >= duration {
                break Ok(bytes);
            }
            if bytes.is_multiple_of(STOP_EVERY) && stop() {
                break Err(io::Error::new(io::ErrorKind::Interrupted, "stopped"));
            }
            if let Err(e) = conn.write_all(&chunk) {
                break Err(e);
            }
            bytes += THROUGHPUT_CHUNK as u64;
        };
        // Tell the reader where to stop (on a write error: at once).
        sent_total.store(*written.as_ref().unwrap_or(&0), Ordering::Release);
        let read = reading
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the reading thread failed")));
        (written, read)
    });
    written.map_err(|e| match e.kind() {
        io::ErrorKind::Interrupted => stopped(),
        _ => ep.err("write to echo target", e),
    })?;
    let (bytes, last) = read.map_err(|e| ep.err("read the echo from", e))?;
    conn.shutdown_write();
    let secs = last.duration_since(start).as_secs_f64();
    Ok(Throughput::new("echo", ep.address(), bytes, secs))
}
