//! The `serve` engine: small test servers on an already-bound socket — `http` (answers every
//! request with the request itself), `static` (a directory's files), `echo` and `discard`
//! (plain TCP). Each reports what happens as [`ServeLine`]s on a channel and stops when its
//! stop future completes (a signal for the command, a drop for [`Background`]).

mod files;
mod http;
mod stream;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, Result};
use crate::server::limits::Counters;

pub use files::listing_html;
pub use http::{Echoed, echo_text};

/// Connections served at once (more wait in the kernel's accept queue).
pub const MAX_CONNECTIONS: usize = 1024;
/// An HTTP connection that moves no byte for this long is closed.
pub const HTTP_IDLE: Duration = Duration::from_secs(60);
/// `serve http|static`: a request's head within 5 s of the connection opening (or of the
/// previous response), a response within 30 s.
pub const DEADLINES: crate::server::http::Deadlines = crate::server::http::Deadlines {
    head: Duration::from_secs(5),
    request: Duration::from_secs(30),
};
/// An echo/discard connection that moves no byte for this long is closed.
pub const STREAM_IDLE: Duration = Duration::from_secs(300);
/// Request paths are cut to this many bytes in live lines.
const PATH_SHOWN: usize = 512;

/// How the address was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Chosen {
    /// No port was given and 62893 was free.
    Default,
    /// No port was given, 62893 was taken: the kernel chose a free port.
    DefaultTaken,
    /// `--port` named it.
    Port,
    /// `--pick` chose it the way `portscope pick` does.
    Pick,
}

/// Which test server to start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ServeKind {
    /// HTTP: answers every request with the request itself and the client's address.
    #[default]
    Http,
    /// Sends back every byte it receives.
    Echo,
    /// Reads and throws away every byte.
    Discard,
    /// Serves the files of a directory over HTTP.
    Static,
}

/// The kind's name as typed on the command line.
pub fn kind_name(kind: ServeKind) -> &'static str {
    match kind {
        ServeKind::Http => "http",
        ServeKind::Echo => "echo",
        ServeKind::Discard => "discard",
        ServeKind::Static => "static",
    }
}

/// The URL a client uses: `http://ADDR/` for the HTTP kinds, `tcp://ADDR` for the others.
pub fn url(kind: ServeKind, addr: SocketAddr) -> String {
    match kind {
        ServeKind::Http | ServeKind::Static => format!("http://{addr}/"),
        ServeKind::Echo | ServeKind::Discard => format!("tcp://{addr}"),
    }
}

/// A line `serve` prints while it runs.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ServeLine {
    /// The server listens.
    Serving {
        /// `http`, `echo`, `discard` or `static`.
        kind: &'static str,
        /// The address it listens on.
        address: SocketAddr,
        /// What a client connects to.
        url: String,
        /// How the address was chosen.
        chosen: Chosen,
        /// The directory `static` serves.
        #[serde(skip_serializing_if = "Option::is_none")]
        dir: Option<PathBuf>,
    },
    /// Something the person should know before using it (a non-loopback address).
    Warning {
        /// What.
        message: String,
    },
    /// An HTTP request was answered.
    Request {
        /// The client's address.
        client: SocketAddr,
        /// The request method.
        method: String,
        /// The path and query as sent (cut to 512 bytes; unsanitised in JSON).
        path: String,
        /// The response status.
        status: u16,
        /// The response body's size, when known.
        bytes: Option<u64>,
    },
    /// An echo/discard connection closed.
    Connection {
        /// The client's address.
        client: SocketAddr,
        /// Bytes received from it.
        bytes_in: u64,
        /// Bytes sent back to it.
        bytes_out: u64,
        /// How long it was open, in seconds.
        seconds: f64,
    },
}

/// What to serve.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The kind of server.
    pub kind: ServeKind,
    /// The directory (`static` only).
    pub dir: Option<PathBuf>,
    /// After the stop, how long requests in flight may take to finish.
    pub grace: Duration,
}

/// Counters shared by a server's tasks.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    pub(crate) requests: AtomicU64,
    /// Connections and bytes (the HTTP kinds count them in their listener).
    pub(crate) io: Arc<Counters>,
}

/// What a server did, once stopped.
#[derive(Debug, Clone, Default)]
pub struct Served {
    /// HTTP requests answered.
    pub requests: u64,
    /// Connections accepted.
    pub connections: u64,
    /// Bytes received (on the wire: HTTP headers included).
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// What stopped it.
    pub stopped_by: String,
}

/// Where a server's live lines go (nowhere for [`Background`]).
#[derive(Debug, Clone)]
pub(crate) struct Sink(Option<mpsc::Sender<ServeLine>>);

impl Sink {
    /// Report a line; dropped when the printer is behind (a stalled terminal must not stall
    /// the server).
    pub(crate) fn send(&self, line: ServeLine) {
        if let Some(tx) = &self.0 {
            let _ = tx.try_send(line);
        }
    }
}

/// Cut a request path for a live line.
pub(crate) fn shown_path(path: &str) -> String {
    if path.len() <= PATH_SHOWN {
        return path.to_string();
    }
    let mut end = PATH_SHOWN;
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &path[..end])
}

/// Serve `setup` on `listener` until `stop` completes (its output names what stopped it).
/// Live lines go to `lines` when given.
pub async fn serve(
    listener: std::net::TcpListener,
    setup: Setup,
    lines: Option<mpsc::Sender<ServeLine>>,
    stop: impl Future<Output = &'static str> + Send + 'static,
) -> Result<Served> {
    let local = listener
        .local_addr()
        .map_err(|e| Error::io("reading the server's address", e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::io("preparing the server socket", e))?;
    let listener = tokio::net::TcpListener::from_std(listener)
        .map_err(|e| Error::io("preparing the server socket", e))?;
    let totals = Arc::new(Totals::default());
    let sink = Sink(lines);
    let stopped_by = match setup.kind {
        ServeKind::Http | ServeKind::Static => {
            http::serve(listener, local, &setup, sink, totals.clone(), stop).await?
        }
        ServeKind::Echo | ServeKind::Discard => {
            let echo = setup.kind == ServeKind::Echo;
            stream::serve(listener, echo, sink, totals.clone(), stop).await
        }
    };
    Ok(Served {
        requests: totals.requests.load(Ordering::Relaxed),
        connections: totals.io.connections.load(Ordering::Relaxed),
        bytes_in: totals.io.bytes_in.load(Ordering::Relaxed),
        bytes_out: totals.io.bytes_out.load(Ordering::Relaxed),
        stopped_by: stopped_by.to_string(),
    })
}

/// A test server running on its own thread until dropped: what `bench` starts when it is
/// given no target (`serve echo` on a free loopback port).
#[derive(Debug)]
pub struct Background {
    /// The address it listens on (the kernel's choice when port 0 was asked for).
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Start `kind` on `addr` (port 0: any free port) on a thread of its own; it stops when the
/// returned value is dropped. `static` needs a directory and is refused here.
pub fn background(kind: ServeKind, addr: SocketAddr) -> Result<Background> {
    if kind == ServeKind::Static {
        return Err(Error::bad_input(
            "a background static server needs a directory",
            "expected http, echo or discard",
        ));
    }
    let listener = std::net::TcpListener::bind(addr)
        .map_err(|e| Error::io(format!("listening on {addr}"), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("reading the server's address", e))?;
    let rt = crate::server::runtime("portscope-serve", 1)?;
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let setup = Setup {
        kind,
        dir: None,
        grace: Duration::from_millis(200),
    };
    let thread = std::thread::Builder::new()
        .name("portscope-serve".into())
        .spawn(move || {
            let stop = async move {
                let _ = stop_rx.await;
                "drop"
            };
            let _ = rt.block_on(serve(listener, setup, None, stop));
            rt.shutdown_timeout(Duration::from_millis(200));
        })
        .map_err(|e| Error::io("starting the server thread", e))?;
    Ok(Background {
        addr,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn background_echo_and_discard() {
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let bg = background(ServeKind::Echo, any).unwrap();
        assert_ne!(bg.addr.port(), 0);
        let mut c = std::net::TcpStream::connect(bg.addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c.write_all(b"hello").unwrap();
        let mut got = [0u8; 5];
        c.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hello");
        let addr = bg.addr;
        drop(bg);
        // Stopped: the port no longer accepts.
        assert!(std::net::TcpStream::connect(addr).is_err());

        let bg = background(ServeKind::Discard, any).unwrap();
        let mut c = std::net::TcpStream::connect(bg.addr).unwrap();
        c.write_all(&[7u8; 100_000]).unwrap();
        drop(bg);
        assert!(background(ServeKind::Static, any).is_err());
    }

    #[test]
    fn paths_are_cut() {
        assert_eq!(shown_path("/a"), "/a");
        let long = "é".repeat(400);
        let cut = shown_path(&long);
        assert!(cut.len() <= PATH_SHOWN + 3 && cut.ends_with("..."));
    }
}
