//! The `/metrics` server: `GET /metrics` (Prometheus text 0.0.4), `GET /` (a pointer to
//! it), 404 elsewhere. Each scrape takes a fresh collection on the blocking pool, but only
//! one collection runs at a time and a result younger than [`REUSE`] is served again, so a
//! crowd of scrapers (or `wrk`) costs at most one collection per second.
//!
//! On loopback the server also refuses requests whose `Host` is not a loopback name: a web
//! page cannot use DNS rebinding to read this machine's port inventory through a browser.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::commands::exporter::collect::{self, CollectOptions, Collector};
use crate::error::{Error, Result};
use crate::render::prometheus as text;
use crate::server;

/// A collection this young is served again instead of taking a new one.
pub const REUSE: Duration = Duration::from_secs(1);
/// Connections served at once (more wait in the kernel's accept queue).
const MAX_CONNECTIONS: usize = 128;
/// A connection that moves no byte for this long is closed.
const IDLE: Duration = Duration::from_secs(150);
/// A request's head must arrive within 5 s of the connection opening (or of the previous
/// response: a keep-alive connection idle longer is closed, and Prometheus reconnects); a
/// collection has 20 s (Prometheus's scrape timeout is 10 s by default).
const DEADLINES: server::http::Deadlines = server::http::Deadlines {
    head: Duration::from_secs(5),
    request: Duration::from_secs(20),
};

/// What a server run did.
#[derive(Debug, Clone)]
pub struct Served {
    /// Fresh collections taken.
    pub collections: u64,
    /// `/metrics` responses sent.
    pub responses: u64,
    /// The signal that stopped it.
    pub stopped_by: String,
}

/// Serve on `listener` (already bound) until SIGINT or SIGTERM.
pub fn serve(listener: std::net::TcpListener, opts: CollectOptions) -> Result<Served> {
    let local = listener
        .local_addr()
        .map_err(|e| Error::io("reading the exporter's address", e))?;
    let rt = server::runtime("portscope-exporter", 2)?;
    let shared = Arc::new(Shared::new(opts, local));
    let stopped_by = rt.block_on(run(listener, shared.clone()))?;
    // A collection still running on the blocking pool is not waited for long.
    rt.shutdown_timeout(Duration::from_secs(1));
    let collections = shared.cache.try_lock().map_or(0, |c| c.collections);
    Ok(Served {
        collections,
        responses: shared.responses.load(Ordering::Relaxed),
        stopped_by: stopped_by.into(),
    })
}

async fn run(listener: std::net::TcpListener, shared: Arc<Shared>) -> Result<&'static str> {
    let bounds = server::Bounds {
        connections: MAX_CONNECTIONS,
        idle: IDLE,
        deadlines: DEADLINES,
    };
    let (stop_tx, _) = server::stop_channel();
    server::serve(listener, router(shared), bounds, stop_tx, "/metrics").await
}

/// The routes.
fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/", get(index))
        .fallback(not_found)
        .with_state(shared)
}

/// State shared by every request.
struct Shared {
    opts: CollectOptions,
    /// Enforce a loopback `Host` (the server listens on loopback).
    loopback: bool,
    /// The last collection, and the bookkeeping done under the same lock.
    cache: tokio::sync::Mutex<Cache>,
    responses: AtomicU64,
}

#[derive(Default)]
struct Cache {
    last: Option<(Instant, Bytes)>,
    collections: u64,
    errors: [u64; 3],
    failing: [bool; 3],
}

impl Shared {
    fn new(opts: CollectOptions, local: SocketAddr) -> Shared {
        Shared {
            opts,
            loopback: local.ip().is_loopback(),
            cache: tokio::sync::Mutex::new(Cache::default()),
            responses: AtomicU64::new(0),
        }
    }

    /// The metrics text: the cached one if young enough, else a fresh collection. The work
    /// runs in its own task, so a client that hangs up mid-scrape neither abandons it nor
    /// lets a second collection start beside it.
    async fn body(self: &Arc<Self>) -> Result<Bytes, String> {
        let me = Arc::clone(self);
        tokio::spawn(async move { me.fresh_or_cached().await })
            .await
            .map_err(|e| format!("the scrape task failed: {e}"))?
    }

    async fn fresh_or_cached(self: Arc<Self>) -> Result<Bytes, String> {
        let mut cache = self.cache.lock().await;
        if let Some((at, body)) = &cache.last
            && at.elapsed() < REUSE
        {
            return Ok(body.clone());
        }
        let started = Instant::now();
        let opts = self.opts.clone();
        let mut metrics = tokio::task::spawn_blocking(move || collect::collect(&opts))
            .await
            .map_err(|e| format!("the collection failed: {e}"))?;
        cache.collections += 1;
        for run in &metrics.collectors {
            let i = run.collector.index();
            let failed = run.error.is_some();
            cache.errors[i] += u64::from(failed);
            if failed != cache.failing[i] {
                log_transition(run.collector, run.error.as_deref());
            }
            cache.failing[i] = failed;
        }
        metrics.errors_total = Some(cache.errors);
        let body = Bytes::from(text::metrics(&metrics));
        cache.last = Some((started, body.clone()));
        Ok(body)
    }

    /// Refuse what this server never accepts: a request body, or (on loopback) a `Host`
    /// that is not a loopback name.
    fn refuse(&self, headers: &HeaderMap) -> Option<Response> {
        let has_body = headers.contains_key(header::TRANSFER_ENCODING)
            || headers
                .get(header::CONTENT_LENGTH)
                .is_some_and(|v| v.as_bytes() != b"0");
        if has_body {
            return Some(plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "portscope exporter: requests carry no body\n",
            ));
        }
        let host = headers.get(header::HOST).map(HeaderValue::as_bytes);
        if self.loopback && host.is_some_and(|h| !is_loopback_host(h)) {
            return Some(plain(
                StatusCode::FORBIDDEN,
                "portscope exporter: this server listens on loopback and answers only requests \
                 addressed to a loopback Host (127.0.0.1, [::1], localhost)\n",
            ));
        }
        None
    }
}

/// Print a collector's change of health (once per change, not once per scrape).
fn log_transition(c: Collector, error: Option<&str>) {
    text::notice(&text::collector_line(c, error));
}

/// Whether a `Host` header names this machine's loopback: `localhost`, `*.localhost`
/// (RFC 6761), a loopback IPv4 address or `[::1]`, with or without a port.
pub fn is_loopback_host(host: &[u8]) -> bool {
    let Ok(host) = std::str::from_utf8(host) else {
        return false;
    };
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((inside, port)) if port.is_empty() || port.starts_with(':') => inside,
            _ => return false,
        }
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    let lower = name.to_ascii_lowercase();
    lower == "localhost"
        || lower.ends_with(".localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

async fn metrics(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Some(refused) = shared.refuse(&headers) {
        return refused;
    }
    match shared.body().await {
        Ok(body) => {
            shared.responses.fetch_add(1, Ordering::Relaxed);
            (
                [
                    (header::CONTENT_TYPE, text::CONTENT_TYPE),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                body,
            )
                .into_response()
        }
        Err(e) => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("portscope exporter: {e}\n"),
        ),
    }
}

async fn index(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Some(refused) = shared.refuse(&headers) {
        return refused;
    }
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!DOCTYPE html>\n<html><head><title>portscope exporter</title></head>\
         <body><h1>portscope exporter</h1><p><a href=\"/metrics\">/metrics</a></p></body></html>\n",
    )
        .into_response()
}

async fn not_found() -> Response {
    plain(
        StatusCode::NOT_FOUND,
        "portscope exporter: not found; the metrics are at /metrics\n",
    )
}

fn plain(status: StatusCode, body: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for ok in [
            "127.0.0.1",
            "127.0.0.1:9797",
            "127.1.2.3:80",
            "[::1]:9797",
            "[::1]",
            "localhost",
            "LocalHost:9797",
            "grafana.localhost:3000",
        ] {
            assert!(is_loopback_host(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "example.com",
            "evil.example:9797",
            "localhost.evil.example",
            "10.0.0.1:9797",
            "[::2]:9797",
            "[::1]x",
            "0.0.0.0:9797",
            "",
        ] {
            assert!(!is_loopback_host(bad.as_bytes()), "{bad}");
        }
    }
}
