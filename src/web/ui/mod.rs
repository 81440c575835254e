//! The `ui` dashboard's server: the page and its files ([`assets`]), the JSON API
//! ([`api`]), and a Server-Sent Events feed of listeners opening and closing, all behind one
//! middleware that applies [`security`] to every request and sets the security headers on
//! every response.
//!
//! One [`Observer`] (on its own thread, one look per second) feeds every `/api/events`
//! client through a broadcast channel, so ten open tabs cost what one does.

pub mod api;
pub mod assets;
pub mod graph;
mod run;
pub mod security;

pub use run::run;

use std::convert::Infallible;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::{broadcast, mpsc, watch};

use crate::error::{Error, Result};
use crate::server::{self, Bounds, StopSignal};
use crate::watch::observe::{Kinds, Observer};
use security::{Policy, Verdict};

/// How often the shared observer looks.
pub const TICK: Duration = Duration::from_secs(1);
/// Connections served at once.
const MAX_CONNECTIONS: usize = 64;
/// A connection that moves no byte for this long is closed (event streams send a comment
/// every [`KEEP_ALIVE`], so they stay).
const IDLE: Duration = Duration::from_secs(120);
/// A request's head must arrive within 5 s of the connection opening (or of the previous
/// response); the handler has 30 s (`/api/kill` waits out a SIGTERM grace and checks the
/// port stays free).
const DEADLINES: server::http::Deadlines = server::http::Deadlines {
    head: Duration::from_secs(5),
    request: Duration::from_secs(30),
};
/// How often an idle event stream gets a keep-alive comment.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Events buffered per client before it is told it lagged.
const BACKLOG: usize = 1024;
/// The largest request body accepted (`/api/kill`'s is a few dozen bytes).
const MAX_BODY: usize = 16 * 1024;

/// What the dashboard needs to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The per-run token.
    pub token: String,
    /// The state directory the history store is in (`None`: the user's default), for
    /// `/api/history` and `/api/who`.
    pub state_dir: Option<PathBuf>,
}

/// What a dashboard run did.
#[derive(Debug, Clone)]
pub struct Served {
    /// Requests answered (any status).
    pub requests: u64,
    /// Listener events seen by the observer.
    pub events: u64,
    /// The signal that stopped it.
    pub stopped_by: String,
}

/// One event, ready for every client: its SSE name and JSON text.
#[derive(Debug)]
struct Item {
    name: &'static str,
    json: String,
}

/// State shared by every request.
pub struct Shared {
    policy: Policy,
    state_dir: Option<PathBuf>,
    events: broadcast::Sender<Arc<Item>>,
    /// `true` once the observer has its baseline (events after that are real changes).
    ready: watch::Receiver<bool>,
    stop: StopSignal,
    requests: AtomicU64,
    seen: Arc<AtomicU64>,
    /// One `/api/probe` run at a time.
    probing: tokio::sync::Semaphore,
}

/// Serve the dashboard on `listener` (already bound) until SIGINT or SIGTERM.
pub fn serve(listener: std::net::TcpListener, opts: Options) -> Result<Served> {
    let local = listener
        .local_addr()
        .map_err(|e| Error::io("reading the dashboard's address", e))?;
    let rt = server::runtime("portscope-ui", 4)?;
    let (stop_tx, stop_rx) = server::stop_channel();
    let (events, _) = broadcast::channel(BACKLOG);
    let (ready_tx, ready) = watch::channel(false);
    let quit = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(AtomicU64::new(0));
    observe(events.clone(), ready_tx, quit.clone(), seen.clone())?;
    let shared = Arc::new(Shared {
        policy: Policy::new(local, opts.token),
        state_dir: opts.state_dir,
        events,
        ready,
        stop: stop_rx,
        requests: AtomicU64::new(0),
        seen,
        probing: tokio::sync::Semaphore::new(1),
    });
    let bounds = Bounds {
        connections: MAX_CONNECTIONS,
        idle: IDLE,
        deadlines: DEADLINES,
    };
    let served = rt.block_on(server::serve(
        listener,
        router(shared.clone()),
        bounds,
        stop_tx,
        "the dashboard",
    ));
    quit.store(true, Ordering::Relaxed);
    rt.shutdown_timeout(Duration::from_secs(1));
    Ok(Served {
        requests: shared.requests.load(Ordering::Relaxed),
        events: shared.seen.load(Ordering::Relaxed),
        stopped_by: served?.into(),
    })
}

/// The routes, all behind [`guard`].
fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/assets/{name}", get(asset))
        .route("/api/ls", get(api::ls))
        .route("/api/who", get(api::who))
        .route("/api/history", get(api::history))
        .route("/api/audit", get(api::audit))
        .route("/api/probe", get(api::probe))
        .route("/api/graph", get(api::graph))
        .route("/api/events", get(events))
        .route("/api/kill", post(api::kill))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(shared.clone(), guard))
        .with_state(shared)
}

/// Apply the security policy to the request, and the security headers to the response.
async fn guard(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let verdict = security::check(
        &shared.policy,
        req.method(),
        req.uri().path(),
        req.uri().query(),
        req.headers(),
    );
    let mut response = match verdict {
        Verdict::Allow => next.run(req).await,
        Verdict::Login(cookie) => (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, "/".to_string()),
                (header::SET_COOKIE, cookie),
            ],
        )
            .into_response(),
        Verdict::Unauthorized(why) => plain(StatusCode::UNAUTHORIZED, why),
        Verdict::Forbidden(why) => plain(StatusCode::FORBIDDEN, why),
    };
    let headers = response.headers_mut();
    for (name, value) in security::RESPONSE_HEADERS {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}

async fn index(State(shared): State<Arc<Shared>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        assets::index(&shared.policy.token),
    )
        .into_response()
}

async fn asset(Path(name): Path<String>) -> Response {
    assets::file(&name)
}

async fn not_found() -> Response {
    plain(StatusCode::NOT_FOUND, "portscope ui: not found\n")
}

fn plain(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// `GET /api/events`: `event: ready` once the observer has its baseline, then one
/// `listen-opened`/`listen-closed` event per change (`data:` = the `watch --events` line),
/// `lagged` if this client fell behind, and a keep-alive comment when idle.
async fn events(State(shared): State<Arc<Shared>>) -> Response {
    let (tx, rx) = mpsc::channel::<SseEvent>(64);
    let mut feed = shared.events.subscribe();
    let mut ready = shared.ready.clone();
    let mut stop = shared.stop.clone();
    tokio::spawn(async move {
        let pump = async {
            if ready.wait_for(|r| *r).await.is_err() {
                return;
            }
            let hello = SseEvent::default()
                .event("ready")
                .data(format!("{{\"interval_ms\":{}}}", TICK.as_millis()));
            if tx.send(hello).await.is_err() {
                return;
            }
            loop {
                let next = match feed.recv().await {
                    Ok(item) => SseEvent::default().event(item.name).data(&item.json),
                    Err(broadcast::error::RecvError::Lagged(n)) => SseEvent::default()
                        .event("lagged")
                        .data(format!("{{\"missed\":{n}}}")),
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                if tx.send(next).await.is_err() {
                    return;
                }
            }
        };
        // The stream ends when the server stops, so a graceful shutdown need not wait.
        tokio::select! {
            () = pump => {}
            _ = stop.wait_for(Option::is_some) => {}
        }
    });
    Sse::new(Feed(rx))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

/// One client's events as a stream.
struct Feed(mpsc::Receiver<SseEvent>);

impl futures_core::Stream for Feed {
    type Item = std::result::Result<SseEvent, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|e| e.map(Ok))
    }
}

/// Start the shared observer on its own thread: a baseline look, then one look per
/// [`TICK`], each event sent to every subscriber, until `quit`.
fn observe(
    events: broadcast::Sender<Arc<Item>>,
    ready: watch::Sender<bool>,
    quit: Arc<AtomicBool>,
    seen: Arc<AtomicU64>,
) -> Result<()> {
    let run = move || {
        let mut observer = Observer::new(Kinds::default());
        loop {
            if let Ok(tick) = observer.tick() {
                for e in &tick.events {
                    seen.fetch_add(1, Ordering::Relaxed);
                    let line = crate::render::events::EventLine::new(e);
                    if let Ok(json) = serde_json::to_string(&line) {
                        let name = match e.kind {
                            crate::watch::EventKind::Opened => "listen-opened",
                            crate::watch::EventKind::Closed => "listen-closed",
                        };
                        // No subscriber is not an error: nobody is watching.
                        let _ = events.send(Arc::new(Item { name, json }));
                    }
                }
            }
            ready.send_replace(true);
            let next = std::time::Instant::now() + TICK;
            while std::time::Instant::now() < next {
                if quit.load(Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    };
    std::thread::Builder::new()
        .name("portscope-ui-observer".into())
        .spawn(run)
        .map(drop)
        .map_err(|e| Error::io("starting the dashboard's observer", e))
}
