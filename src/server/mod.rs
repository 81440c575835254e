//! What every portscope server shares — the dashboard, the exporter and the traffic tools
//! (`serve`, `forward`): a small current-thread runtime, the bounded listener
//! ([`limits`]), HTTP with deadlines ([`http`]), and serving a router until SIGINT or
//! SIGTERM, with a grace period for requests in flight.

pub mod bind;
pub mod http;
pub mod limits;

use std::time::Duration;

use axum::Router;
use tokio::sync::watch;

use crate::error::{Error, Result};
use limits::LimitedListener;

/// After SIGINT/SIGTERM, how long requests in flight may take to finish.
const GRACE: Duration = Duration::from_secs(5);

/// Which signal stopped a server (`None` while it runs). Handlers that stream (SSE) watch it
/// to end their responses, so a graceful shutdown does not wait for them.
pub type StopSignal = watch::Receiver<Option<&'static str>>;

/// Bounds for one server.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Connections served at once (more wait in the kernel's accept queue).
    pub connections: usize,
    /// A connection that moves no byte for this long is closed.
    pub idle: Duration,
    /// How long a request's head and its handler may take.
    pub deadlines: http::Deadlines,
}

/// A current-thread runtime with at most `blocking` threads for blocking work.
pub fn runtime(name: &str, blocking: usize) -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(blocking)
        .thread_name(name)
        .build()
        .map_err(|e| Error::io(format!("starting the {name} runtime"), e))
}

/// A stop channel: the sender goes to [`serve`], receivers to whoever must notice.
pub fn stop_channel() -> (watch::Sender<Option<&'static str>>, StopSignal) {
    watch::channel(None)
}

/// Serve `router` on `listener` (already bound, std) within `bounds` until SIGINT or
/// SIGTERM; returns the signal's name. `what` names the server in errors.
pub async fn serve(
    listener: std::net::TcpListener,
    router: Router,
    bounds: Bounds,
    stop_tx: watch::Sender<Option<&'static str>>,
    what: &str,
) -> Result<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let signals = |e| Error::io("installing the SIGINT/SIGTERM handlers", e);
    let mut term = signal(SignalKind::terminate()).map_err(signals)?;
    let mut int = signal(SignalKind::interrupt()).map_err(signals)?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::io(format!("preparing the {what} socket"), e))?;
    let listener = tokio::net::TcpListener::from_std(listener)
        .map_err(|e| Error::io(format!("preparing the {what} socket"), e))?;
    let listener = LimitedListener::new(listener, bounds.connections, bounds.idle);

    let stop_rx = stop_tx.subscribe();
    let stopping = async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        let _ = stop_tx.send(Some(name));
        name
    };
    http::serve(listener, router, bounds.deadlines, stopping, GRACE).await;
    let stopped_by = (*stop_rx.borrow()).unwrap_or("end of input");
    Ok(stopped_by)
}
