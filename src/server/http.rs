//! Serving HTTP/1.1 on a [`LimitedListener`] with the deadlines axum's own `serve` does not
//! set: a request's head must arrive within [`Deadlines::head`] of the connection opening
//! (or of the previous response, for a keep-alive connection), and the handler must answer
//! within [`Deadlines::request`]. A connection past its head deadline is closed and its slot
//! freed at once; a handler past its deadline is answered `503` and the connection closed.
//! While a request is in progress (until its response's last byte is written, so a live
//! event stream counts) its connection is busy, and never closed to make room for another.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response, StatusCode, header};
use http_body::Frame;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::{mpsc, watch};

use super::limits::{LimitedListener, LimitedStream, RequestGuard, Requests};

/// How long a client has for each step of a request.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// From the connection opening (or the previous response) to the end of a request's head.
    pub head: Duration,
    /// From the end of the head to the response's head (the handler, reading the body
    /// included); a streamed response body is not bounded by it.
    pub request: Duration,
}

/// Serve `router` on `listener` until `stop` completes, then let connections finish their
/// requests within `grace`; returns what `stop` returned. Handlers can extract
/// `ConnectInfo<SocketAddr>`.
pub async fn serve(
    mut listener: LimitedListener,
    router: Router,
    deadlines: Deadlines,
    stop: impl Future<Output = &'static str>,
    grace: Duration,
) -> &'static str {
    let (stopping_tx, stopping_rx) = watch::channel(false);
    // Every connection task holds a sender: when all are gone, the receiver hears `None`.
    let (live_tx, mut live_rx) = mpsc::channel::<()>(1);
    tokio::pin!(stop);
    let name = loop {
        tokio::select! {
            name = &mut stop => break name,
            (stream, peer, conn) = listener.accept() => {
                let task = Connection {
                    router: router.clone(),
                    requests: conn.requests(),
                    peer,
                    deadlines,
                };
                let (stopping, live) = (stopping_rx.clone(), live_tx.clone());
                tokio::spawn(async move {
                    tokio::select! {
                        () = task.run(stream, stopping) => {}
                        () = conn.closed() => {}
                    }
                    drop(live);
                });
            }
        }
    };
    drop(listener);
    let _ = stopping_tx.send(true);
    drop(live_tx);
    let _ = tokio::time::timeout(grace, live_rx.recv()).await;
    name
}

/// One connection's requests.
struct Connection {
    router: Router,
    requests: Requests,
    peer: SocketAddr,
    deadlines: Deadlines,
}

impl Connection {
    async fn run(self, stream: LimitedStream, mut stopping: watch::Receiver<bool>) {
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.deadlines.head);
        let service = Tracked {
            inner: TowerToHyperService::new(self.router),
            requests: self.requests,
            peer: self.peer,
            deadline: self.deadlines.request,
        };
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        tokio::pin!(conn);
        let mut asked = false;
        loop {
            tokio::select! {
                _ = conn.as_mut() => return,
                changed = stopping.changed(), if !asked => {
                    asked = true;
                    if changed.is_err() || *stopping.borrow() {
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
        }
    }
}

/// The router as hyper calls it: with the client's address, the connection marked busy for
/// the request's life, and the handler's deadline.
struct Tracked {
    inner: TowerToHyperService<Router>,
    requests: Requests,
    peer: SocketAddr,
    deadline: Duration,
}

type Answer = Pin<Box<dyn Future<Output = Result<Response<Guarded>, Infallible>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for Tracked {
    type Response = Response<Guarded>;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, mut req: Request<Incoming>) -> Self::Future {
        req.extensions_mut().insert(ConnectInfo(self.peer));
        let guard = self.requests.begin();
        let answer = self.inner.call(req);
        let deadline = self.deadline;
        Box::pin(async move {
            let response = match tokio::time::timeout(deadline, answer).await {
                Ok(Ok(response)) => response,
                Ok(Err(never)) => match never {},
                Err(_) => too_slow(deadline),
            };
            Ok(response.map(|body| Guarded {
                inner: body,
                _guard: guard,
            }))
        })
    }
}

/// The answer when the handler misses its deadline.
fn too_slow(deadline: Duration) -> Response<Body> {
    let text = format!(
        "portscope: the request took longer than {} s\n",
        deadline.as_secs()
    );
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    response.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    response
}

/// A response body that keeps its request's connection busy until it is written or dropped.
pub struct Guarded {
    inner: Body,
    _guard: RequestGuard,
}

impl http_body::Body for Guarded {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    async fn answer(addr: SocketAddr, request: &[u8]) -> (String, Duration) {
        let started = std::time::Instant::now();
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(request).await.unwrap();
        let mut raw = Vec::new();
        let _ = c.read_to_end(&mut raw).await;
        (
            String::from_utf8_lossy(&raw).into_owned(),
            started.elapsed(),
        )
    }

    #[tokio::test]
    async fn deadlines_on_the_head_and_on_the_handler() {
        let inner = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = inner.local_addr().unwrap();
        let listener = LimitedListener::new(inner, 8, Duration::from_secs(60));
        let router = Router::new()
            .route("/slow", get(|| tokio::time::sleep(Duration::from_secs(5))))
            .route("/", get(|| async { "ok" }));
        let deadlines = Deadlines {
            head: Duration::from_millis(300),
            request: Duration::from_millis(200),
        };
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(
            listener,
            router,
            deadlines,
            async move {
                let _ = stop_rx.await;
                "test"
            },
            Duration::from_millis(100),
        ));
        let (ok, _) = answer(
            addr,
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
        let (slow, took) = answer(
            addr,
            b"GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(slow.starts_with("HTTP/1.1 503"), "{slow}");
        assert!(took < Duration::from_secs(2), "{took:?}");
        // A head that never ends: closed at its deadline, with nothing served.
        let (cut, took) = answer(addr, b"GET / HTTP/1.1\r\nHost: x\r\n").await;
        assert!(!cut.contains("200 OK"), "{cut}");
        assert!(
            took >= Duration::from_millis(250) && took < Duration::from_secs(2),
            "{took:?}"
        );
        let _ = stop_tx.send(());
        assert_eq!(server.await.unwrap(), "test");
    }
}
