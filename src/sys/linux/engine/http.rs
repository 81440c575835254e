//! The smallest HTTP/1.1 client a container engine needs: one `GET` (or a bodiless `POST`, to
//! stop a container) over a unix socket,
//! `Connection: close`, the answer read to its end under one deadline and a byte bound, the
//! head parsed by `httparse`, a chunked body decoded. No async runtime, no connection pool:
//! portscope makes a handful of calls per command, each bounded (see [`get`]).
//!
//! The parsers ([`parse`], [`dechunk`]) are pure functions over bytes, tested on answers
//! recorded from Docker 20.10 and Podman 4.3.

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use super::EngineError;

/// An engine's answer: its status, its `Server` header, its body (decoded when chunked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The `Server` header (`Docker/20.10.24+dfsg1 (linux)`, `Libpod/4.3.1 (linux)`).
    pub server: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

/// `GET target` on the engine at `socket`: connect, send, read to the end, all within
/// `timeout`; an answer longer than `limit` bytes is refused, not truncated.
pub fn get(
    socket: &Path,
    target: &str,
    limit: usize,
    timeout: Duration,
) -> Result<Response, EngineError> {
    call(socket, "GET", target, limit, timeout)
}

/// `POST target` with an empty body, under the same bounds as [`get`] (an action such as
/// `/containers/ID/stop`: the answer comes when the action is done).
pub fn post(
    socket: &Path,
    target: &str,
    limit: usize,
    timeout: Duration,
) -> Result<Response, EngineError> {
    call(socket, "POST", target, limit, timeout)
}

/// One request without a body, and its whole answer.
fn call(
    socket: &Path,
    method: &str,
    target: &str,
    limit: usize,
    timeout: Duration,
) -> Result<Response, EngineError> {
    let deadline = Instant::now() + timeout;
    let mut stream = connect(socket, timeout)?;
    let length = if method == "GET" {
        ""
    } else {
        "Content-Length: 0\r\n"
    };
    let request = format!(
        "{method} {target} HTTP/1.1\r\nHost: docker\r\nUser-Agent: portscope\r\n{length}Connection: close\r\n\r\n"
    );
    stream
        .set_write_timeout(Some(left(deadline)?))
        .map_err(io_error)?;
    stream.write_all(request.as_bytes()).map_err(io_error)?;
    let mut raw = Vec::with_capacity(16 * 1024);
    let mut buf = [0u8; 16 * 1024];
    loop {
        stream
            .set_read_timeout(Some(left(deadline)?))
            .map_err(io_error)?;
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if raw.len() + n > limit {
                    return Err(EngineError::TooLarge(limit));
                }
                raw.extend_from_slice(&buf[..n]);
                // An engine may keep the connection open after a complete answer.
                if complete(&raw) {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(e)),
        }
    }
    parse(&raw)
}

/// Connect to a unix socket, without blocking past `timeout` (a listener whose backlog is
/// full would otherwise hold a blocking `connect`).
fn connect(socket: &Path, timeout: Duration) -> Result<UnixStream, EngineError> {
    let addr = socket2::SockAddr::unix(socket).map_err(io_error)?;
    let s = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None)
        .map_err(io_error)?;
    s.connect_timeout(&addr, timeout).map_err(io_error)?;
    s.set_nonblocking(false).map_err(io_error)?;
    Ok(UnixStream::from(OwnedFd::from(s)))
}

/// The time left before `deadline`, or the timeout error.
fn left(deadline: Instant) -> Result<Duration, EngineError> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
        .ok_or(EngineError::Timeout)
}

/// What an I/O error means for the caller: no socket, no permission, refused, too slow.
fn io_error(e: std::io::Error) -> EngineError {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound => EngineError::NoSocket,
        ErrorKind::PermissionDenied => EngineError::PermissionDenied,
        ErrorKind::ConnectionRefused => EngineError::Refused,
        ErrorKind::WouldBlock | ErrorKind::TimedOut => EngineError::Timeout,
        _ => EngineError::Io(e.to_string()),
    }
}

/// Whether `raw` already holds a whole answer (its head, and all of a `Content-Length` body
/// or the last chunk of a chunked one).
fn complete(raw: &[u8]) -> bool {
    let Ok(Some((head_len, framing))) = head(raw).map(|h| h.map(|h| (h.len, h.framing))) else {
        return false;
    };
    let body = &raw[head_len..];
    match framing {
        Framing::Length(n) => body.len() >= n,
        Framing::Chunked => matches!(dechunk(body), Ok(Some(_))),
        Framing::ToEof => false,
    }
}

/// How the body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// `Content-Length: N`.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Neither: the body ends with the connection.
    ToEof,
}

/// A parsed head.
struct Head {
    len: usize,
    status: u16,
    server: Option<String>,
    framing: Framing,
}

/// The head of `raw`, when all of it has arrived.
fn head(raw: &[u8]) -> Result<Option<Head>, EngineError> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    let len = match resp.parse(raw) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(EngineError::Malformed(format!("HTTP head: {e}"))),
    };
    let value = |name: &str| {
        resp.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
    };
    let chunked = value("transfer-encoding").is_some_and(|v| {
        v.to_ascii_lowercase()
            .split(',')
            .any(|t| t.trim() == "chunked")
    });
    let status = resp.code.unwrap_or(0);
    // 1xx, 204 and 304 answers have no body, whatever their headers say (RFC 9112 6.3).
    let bodiless = status < 200 || status == 204 || status == 304;
    let framing = match (chunked, value("content-length")) {
        _ if bodiless => Framing::Length(0),
        (true, _) => Framing::Chunked,
        (false, Some(n)) => Framing::Length(
            n.parse()
                .map_err(|_| EngineError::Malformed(format!("Content-Length {n}")))?,
        ),
        (false, None) => Framing::ToEof,
    };
    Ok(Some(Head {
        len,
        status,
        server: value("server"),
        framing,
    }))
}

/// Parse a whole answer (read to its end).
pub fn parse(raw: &[u8]) -> Result<Response, EngineError> {
    let Some(h) = head(raw)? else {
        return Err(EngineError::Malformed(if raw.is_empty() {
            "the engine closed the connection without an answer".into()
        } else {
            "the answer ended inside its head".into()
        }));
    };
    let rest = &raw[h.len..];
    let body = match h.framing {
        Framing::Length(n) => rest
            .get(..n)
            .ok_or_else(|| EngineError::Malformed(format!("the body ended before its {n} bytes")))?
            .to_vec(),
        Framing::Chunked => dechunk(rest)?.ok_or_else(|| {
            EngineError::Malformed("the chunked body ended before its last chunk".into())
        })?,
        Framing::ToEof => rest.to_vec(),
    };
    Ok(Response {
        status: h.status,
        server: h.server,
        body,
    })
}

/// Decode a chunked body: `Some(body)` once the last (empty) chunk is in, `None` while more
/// is to come; an error for a malformed one.
pub fn dechunk(mut rest: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
    let bad = |what: &str| EngineError::Malformed(format!("chunked body: {what}"));
    let mut body = Vec::with_capacity(rest.len());
    loop {
        let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let line = std::str::from_utf8(&rest[..eol]).map_err(|_| bad("a size that is not text"))?;
        // A size may carry extensions after `;`.
        let size = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| bad("a size that is not hex"))?;
        rest = &rest[eol + 2..];
        if size == 0 {
            return Ok(Some(body));
        }
        if rest.len() < size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&rest[..size]);
        if &rest[size..size + 2] != b"\r\n" {
            return Err(bad("a chunk not followed by CRLF"));
        }
        rest = &rest[size + 2..];
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const DOCKER: &[u8] =
        b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n\
Docker-Experimental: false\r\nOstype: linux\r\nServer: Docker/20.10.24+dfsg1 (linux)\r\n\
Date: Sat, 05 Dec 2026 06:39:40 GMT\r\nContent-Length: 2\r\n\r\n[]";

    #[test]
    fn a_docker_answer_with_a_length() {
        let r = parse(DOCKER).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.server.as_deref(), Some("Docker/20.10.24+dfsg1 (linux)"));
        assert_eq!(r.body, b"[]");
        assert!(complete(DOCKER));
        assert!(!complete(&DOCKER[..DOCKER.len() - 1]));
    }

    #[test]
    fn a_chunked_answer() {
        let raw = b"HTTP/1.1 200 OK\r\nServer: Libpod/4.3.1 (linux)\r\nTransfer-Encoding: chunked\r\n\r\n\
4\r\n[{\"a\r\n5;ext=1\r\n\":1}]\r\n0\r\n\r\n";
        let r = parse(raw).unwrap();
        assert_eq!(r.body, b"[{\"a\":1}]");
        assert!(complete(raw));
        assert!(!complete(&raw[..raw.len() - 5]));
        assert_eq!(dechunk(b"4\r\nab").unwrap(), None);
        assert!(dechunk(b"zz\r\n").is_err());
        assert!(dechunk(b"2\r\nabXY").is_err());
    }

    #[test]
    fn no_content_and_not_modified_have_no_body() {
        // Docker 20.10's answer to a stop; Podman's 304 for a container already stopped.
        let raw = b"HTTP/1.1 204 No Content\r\nApi-Version: 1.41\r\nServer: Docker/20.10.24+dfsg1 (linux)\r\n\r\n";
        assert!(complete(raw));
        let r = parse(raw).unwrap();
        assert_eq!((r.status, r.body.len()), (204, 0));
        let raw = b"HTTP/1.1 304 Not Modified\r\nServer: Libpod/4.3.1 (linux)\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert!(complete(raw));
        assert_eq!(parse(raw).unwrap().status, 304);
    }

    #[test]
    fn short_and_broken_answers_are_errors() {
        assert!(parse(b"").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n").is_err());
        assert!(parse(b"\x00\x01garbage\r\n\r\n").is_err());
        let r = parse(b"HTTP/1.0 404 Not Found\r\n\r\nno such container").unwrap();
        assert_eq!(
            (r.status, r.body.as_slice()),
            (404, &b"no such container"[..])
        );
    }
}
