//! The HTTP kinds: `http` answers every method and path with 200 and the request itself
//! (plain text, or JSON when asked), `static` serves a directory ([`super::files`]). Every
//! response carries `X-Content-Type-Options: nosniff`; the echo is never HTML, so reflected
//! input cannot run as script.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::ServeKind;
use super::{DEADLINES, HTTP_IDLE, MAX_CONNECTIONS, ServeLine, Setup, Sink, Totals};
use crate::error::Result;
use crate::server::limits::LimitedListener;

/// Request bodies up to this size are read; larger ones get 413.
pub const MAX_BODY: usize = 1024 * 1024;
/// How much of the body the echo shows.
pub const BODY_SHOWN: usize = 64 * 1024;

/// What one server's handlers share.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) local: SocketAddr,
    pub(super) sink: Sink,
    pub(super) totals: Arc<Totals>,
}

/// Serve until `stop` completes, then let requests in flight finish within the grace.
pub(super) async fn serve(
    listener: tokio::net::TcpListener,
    local: SocketAddr,
    setup: &Setup,
    sink: Sink,
    totals: Arc<Totals>,
    stop: impl Future<Output = &'static str> + Send + 'static,
) -> Result<&'static str> {
    let shared = Arc::new(Shared {
        local,
        sink,
        totals: totals.clone(),
    });
    let router = match (setup.kind, &setup.dir) {
        (ServeKind::Static, Some(dir)) => super::files::router(dir, local),
        _ => Router::new().fallback(echo).with_state(shared.clone()),
    }
    .layer(middleware::from_fn_with_state(shared, log));
    let listener =
        LimitedListener::new(listener, MAX_CONNECTIONS, HTTP_IDLE).counting(totals.io.clone());
    let name = crate::server::http::serve(listener, router, DEADLINES, stop, setup.grace).await;
    Ok(name)
}

/// Count and report every request; mark every response nosniff.
async fn log(
    State(s): State<Arc<Shared>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().to_string();
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_string(), |p| p.as_str().to_string());
    let mut resp = next.run(req).await;
    resp.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    s.totals.requests.fetch_add(1, Ordering::Relaxed);
    s.sink.send(ServeLine::Request {
        client,
        method,
        path: super::shown_path(&path),
        status: resp.status().as_u16(),
        bytes: resp.body().size_hint().exact().or_else(|| {
            resp.headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
        }),
    });
    resp
}

/// A request as the echo shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Echoed {
    /// The client's address.
    pub client: SocketAddr,
    /// The server's address.
    pub server: SocketAddr,
    /// The method.
    pub method: String,
    /// The request target (path and query) as sent.
    pub target: String,
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: String,
    /// The headers, in order, names lower-case.
    pub headers: Vec<Header>,
    /// The body's first 64 KiB (bytes not UTF-8 shown as U+FFFD).
    pub body: String,
    /// The body's full size.
    pub body_bytes: usize,
    /// Whether `body` is cut short.
    pub body_truncated: bool,
}

/// One request header.
#[derive(Debug, Clone, Serialize)]
pub struct Header {
    /// Its name, lower-case.
    pub name: String,
    /// Its value (bytes not UTF-8 shown as U+FFFD).
    pub value: String,
}

impl Echoed {
    /// Describe a request from its parts and body.
    pub fn new(parts: &Parts, body: &[u8], client: SocketAddr, server: SocketAddr) -> Echoed {
        let shown = body.get(..BODY_SHOWN).unwrap_or(body);
        Echoed {
            client,
            server,
            method: parts.method.to_string(),
            target: parts
                .uri
                .path_and_query()
                .map_or_else(|| parts.uri.to_string(), |p| p.as_str().to_string()),
            version: format!("{:?}", parts.version),
            headers: parts
                .headers
                .iter()
                .map(|(k, v)| Header {
                    name: k.as_str().to_string(),
                    value: String::from_utf8_lossy(v.as_bytes()).into_owned(),
                })
                .collect(),
            body: String::from_utf8_lossy(shown).into_owned(),
            body_bytes: body.len(),
            body_truncated: shown.len() < body.len(),
        }
    }
}

/// The plain-text echo.
pub fn echo_text(e: &Echoed) -> String {
    let mut out = format!(
        "portscope serve http: your request, as received\nclient: {}\nserver: {}\n\n{} {} {}\n",
        e.client, e.server, e.method, e.target, e.version
    );
    for h in &e.headers {
        out.push_str(&format!("{}: {}\n", h.name, h.value));
    }
    out.push('\n');
    if e.body_bytes > 0 {
        out.push_str(&e.body);
        if !e.body.ends_with('\n') {
            out.push('\n');
        }
        if e.body_truncated {
            out.push_str(&format!(
                "[body cut: first {} of {} bytes shown]\n",
                BODY_SHOWN, e.body_bytes
            ));
        }
    }
    out
}

/// Whether the client asked for JSON (`Accept: application/json` or `?format=json`).
fn wants_json(parts: &Parts) -> bool {
    let accept = parts
        .headers
        .get_all(header::ACCEPT)
        .iter()
        .any(|v| v.to_str().is_ok_and(|s| s.contains("application/json")));
    let query = parts
        .uri
        .query()
        .is_some_and(|q| q.split('&').any(|kv| kv == "format=json"));
    accept || query
}

/// Plain text or JSON, never HTML, never cached, no active content.
fn respond(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'"),
    );
    r
}

/// Any method, any path: 200 and the request itself.
async fn echo(
    State(s): State<Arc<Shared>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let too_big = || {
        respond(
            StatusCode::PAYLOAD_TOO_LARGE,
            "text/plain; charset=utf-8",
            format!("portscope serve http: request bodies are limited to {MAX_BODY} bytes\n"),
        )
    };
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return too_big();
    }
    let Ok(bytes) = axum::body::to_bytes(Body::new(body), MAX_BODY).await else {
        return too_big();
    };
    let echoed = Echoed::new(&parts, &bytes, client, s.local);
    if wants_json(&parts) {
        let text = serde_json::to_string_pretty(&echoed).unwrap_or_default() + "\n";
        respond(StatusCode::OK, "application/json", text)
    } else {
        respond(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            echo_text(&echoed),
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn parts(uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = axum::http::Request::builder().method("POST").uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn text_echo_shows_everything() {
        let p = parts("/a/b?x=1", &[("x-test", "yes"), ("host", "h")]);
        let e = Echoed::new(
            &p,
            b"hello",
            "127.0.0.1:4000".parse().unwrap(),
            "127.0.0.1:80".parse().unwrap(),
        );
        let t = echo_text(&e);
        assert!(t.contains("client: 127.0.0.1:4000\n"), "{t}");
        assert!(t.contains("server: 127.0.0.1:80\n"), "{t}");
        assert!(t.contains("POST /a/b?x=1 HTTP/1.1\n"), "{t}");
        assert!(t.contains("x-test: yes\n"), "{t}");
        assert!(t.ends_with("\nhello\n"), "{t}");
        assert!(!wants_json(&p));
        assert!(wants_json(&parts("/?a=b&format=json", &[])));
        assert!(wants_json(&parts("/", &[("accept", "application/json")])));
    }

    #[test]
    fn big_bodies_are_cut() {
        let p = parts("/", &[]);
        let body = vec![b'a'; BODY_SHOWN + 10];
        let a = "127.0.0.1:1".parse().unwrap();
        let e = Echoed::new(&p, &body, a, a);
        assert_eq!(e.body.len(), BODY_SHOWN);
        assert!(e.body_truncated && e.body_bytes == BODY_SHOWN + 10);
        assert!(echo_text(&e).contains("[body cut: first 65536 of 65546 bytes shown]"));
        let e = Echoed::new(&p, b"\xff\xfe", a, a);
        assert_eq!(e.body, "\u{fffd}\u{fffd}");
    }
}
