//! The dashboard's security decisions, as pure functions over a request's method, path,
//! query and headers (the middleware in [`super`] only applies them):
//!
//! 1. **Host** must name this server: a loopback name or address with its port, or exactly
//!    the `--listen` address — otherwise 403. A page on `evil.example` whose name is
//!    re-pointed at 127.0.0.1 (DNS rebinding) sends `Host: evil.example` and is refused.
//! 2. **Token**: `GET /?token=T` with the right token sets an `HttpOnly; SameSite=Strict`
//!    cookie and redirects to `/`; every other request (static assets excepted) needs that
//!    cookie or an `X-Portscope-Token` header — otherwise 401. Compared in constant time.
//! 3. **State changes** (any method but GET/HEAD) need the `X-Portscope-Token` header (a
//!    cookie alone is what a cross-site form would carry) and an `Origin` equal to
//!    `http://<Host>` — otherwise 403.

use axum::http::{HeaderMap, HeaderValue, Method, header};

/// The cookie that carries the token after the first visit.
pub const COOKIE: &str = "portscope_token";
/// The header scripts send the token in.
pub const TOKEN_HEADER: &str = "x-portscope-token";
/// The Content-Security-Policy of every response: scripts and styles from this server's
/// files only (no inline script), nothing from anywhere else, never framed.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
form-action 'none'";

/// Headers set on every response, whatever its status.
pub const RESPONSE_HEADERS: [(&str, &str); 5] = [
    ("content-security-policy", CSP),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cache-control", "no-store"),
];

/// Who may talk to the server.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Accepted `Host` values (lower case): `127.0.0.1:P`, `localhost:P`, `[::1]:P`, and the
    /// `--listen` address.
    pub hosts: Vec<String>,
    /// The per-run token.
    pub token: String,
}

impl Policy {
    /// The policy for a server listening on `local`.
    pub fn new(local: std::net::SocketAddr, token: String) -> Policy {
        let port = local.port();
        let mut hosts = vec![
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
        ];
        let own = local.to_string().to_ascii_lowercase();
        if !hosts.contains(&own) {
            hosts.push(own);
        }
        Policy { hosts, token }
    }
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Serve it.
    Allow,
    /// The right `/?token=`: set the cookie (this `Set-Cookie` value) and redirect to `/`.
    Login(String),
    /// 401: no token, or the wrong one.
    Unauthorized(&'static str),
    /// 403: a foreign `Host`, or a state change without the header token or the right `Origin`.
    Forbidden(&'static str),
}

/// Decide about one request. `query` is the raw query string.
pub fn check(
    policy: &Policy,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Verdict {
    let Some(host) = headers.get(header::HOST).map(HeaderValue::as_bytes) else {
        return Verdict::Forbidden("portscope ui: a request without a Host header is refused\n");
    };
    if !host_allowed(host, &policy.hosts) {
        return Verdict::Forbidden(
            "portscope ui: refused: the Host header does not name this server (DNS rebinding?)\n",
        );
    }
    let safe = *method == Method::GET || *method == Method::HEAD;
    if safe && path.starts_with("/assets/") {
        return Verdict::Allow;
    }
    let header_token = headers.get(TOKEN_HEADER).map(HeaderValue::as_bytes);
    if safe
        && path == "/"
        && let Some(t) = query.and_then(|q| query_param(q, "token"))
    {
        return if token_eq(t.as_bytes(), policy.token.as_bytes()) {
            Verdict::Login(set_cookie(&policy.token))
        } else {
            Verdict::Unauthorized("portscope ui: wrong token\n")
        };
    }
    let by_cookie = cookie_token(headers).is_some_and(|t| token_eq(t, policy.token.as_bytes()));
    let by_header = header_token.is_some_and(|t| token_eq(t, policy.token.as_bytes()));
    if safe {
        return if by_cookie || by_header {
            Verdict::Allow
        } else {
            Verdict::Unauthorized(
                "portscope ui: open the URL with ?token=… that portscope printed when it started\n",
            )
        };
    }
    if !by_header {
        return Verdict::Forbidden(
            "portscope ui: a state-changing request needs the X-Portscope-Token header\n",
        );
    }
    let origin = headers.get(header::ORIGIN).map(HeaderValue::as_bytes);
    if !origin_ok(origin, host) {
        return Verdict::Forbidden(
            "portscope ui: a state-changing request needs an Origin equal to this server\n",
        );
    }
    Verdict::Allow
}

/// Whether `host` (a `Host` header) is one of `allowed` (ASCII case-insensitive).
pub fn host_allowed(host: &[u8], allowed: &[String]) -> bool {
    allowed
        .iter()
        .any(|a| a.as_bytes().eq_ignore_ascii_case(host))
}

/// Whether `origin` is exactly `http://<host>` (the page this server served).
pub fn origin_ok(origin: Option<&[u8]>, host: &[u8]) -> bool {
    origin.is_some_and(|o| {
        o.len() == "http://".len() + host.len()
            && o.starts_with(b"http://")
            && o["http://".len()..].eq_ignore_ascii_case(host)
    })
}

/// Compare two secrets in time that depends only on their lengths.
pub fn token_eq(given: &[u8], expected: &[u8]) -> bool {
    if given.len() != expected.len() {
        return false;
    }
    let diff = given
        .iter()
        .zip(expected)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    std::hint::black_box(diff) == 0
}

/// The `portscope_token` cookie's value, from any `Cookie` header.
pub fn cookie_token(headers: &HeaderMap) -> Option<&[u8]> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b';'))
        .find_map(|pair| {
            let pair = pair.trim_ascii();
            let (name, value) = pair.split_at(pair.iter().position(|&b| b == b'=')?);
            (name == COOKIE.as_bytes()).then(|| &value[1..])
        })
}

/// One parameter of a raw query string (no percent-decoding: tokens are plain ASCII).
pub fn query_param<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find_map(|(k, v)| (k == name).then_some(v))
}

/// The `Set-Cookie` value for `token`.
pub fn set_cookie(token: &str) -> String {
    format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/")
}

/// Whether a `--token` value is acceptable: 16 to 256 characters a cookie and a URL carry
/// as they are (letters, digits, `-._~`).
pub fn token_ok(token: &str) -> bool {
    (16..=256).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const T: &str = "0123456789abcdef0123456789abcdef";

    fn policy() -> Policy {
        Policy::new("127.0.0.1:4000".parse().unwrap(), T.into())
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn get(path: &str, query: Option<&str>, h: &[(&'static str, &str)]) -> Verdict {
        check(&policy(), &Method::GET, path, query, &headers(h))
    }

    fn post(h: &[(&'static str, &str)]) -> Verdict {
        check(&policy(), &Method::POST, "/api/kill", None, &headers(h))
    }

    #[test]
    fn hosts() {
        let p = policy();
        for ok in [
            "127.0.0.1:4000",
            "localhost:4000",
            "LOCALHOST:4000",
            "[::1]:4000",
        ] {
            assert!(host_allowed(ok.as_bytes(), &p.hosts), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:4000",
            "127.0.0.1",
            "127.0.0.1:4001",
            "127.0.0.2:4000",
            "localhost",
            "localhost.evil.example:4000",
            "",
        ] {
            assert!(!host_allowed(bad.as_bytes(), &p.hosts), "{bad}");
        }
        let wide = Policy::new("0.0.0.0:5000".parse().unwrap(), T.into());
        assert!(host_allowed(b"0.0.0.0:5000", &wide.hosts));
        assert!(host_allowed(b"127.0.0.1:5000", &wide.hosts));
        let v6 = Policy::new("[::1]:5000".parse().unwrap(), T.into());
        assert_eq!(v6.hosts.len(), 3);
    }

    #[test]
    fn foreign_or_missing_host_is_forbidden_before_anything_else() {
        let with_token = format!("{COOKIE}={T}");
        let v = get(
            "/",
            None,
            &[("host", "evil.example"), ("cookie", &with_token)],
        );
        assert!(matches!(v, Verdict::Forbidden(_)), "{v:?}");
        assert!(matches!(
            get("/assets/app.js", None, &[]),
            Verdict::Forbidden(_)
        ));
    }

    #[test]
    fn login_cookie_and_header() {
        let host = ("host", "127.0.0.1:4000");
        let q = format!("token={T}");
        assert_eq!(get("/", Some(&q), &[host]), Verdict::Login(set_cookie(T)));
        assert!(matches!(
            get("/", Some("token=nope"), &[host]),
            Verdict::Unauthorized(_)
        ));
        assert!(matches!(get("/", None, &[host]), Verdict::Unauthorized(_)));
        assert!(matches!(
            get("/api/ls", None, &[host]),
            Verdict::Unauthorized(_)
        ));
        assert_eq!(get("/assets/app.js", None, &[host]), Verdict::Allow);
        let c = format!("a=b; {COOKIE}={T}; c=d");
        assert_eq!(
            get("/api/ls", None, &[host, ("cookie", &c)]),
            Verdict::Allow
        );
        let wrong = format!("{COOKIE}={}", T.replace('0', "1"));
        assert!(matches!(
            get("/api/ls", None, &[host, ("cookie", &wrong)]),
            Verdict::Unauthorized(_)
        ));
        assert_eq!(
            get("/api/ls", None, &[host, (TOKEN_HEADER, T)]),
            Verdict::Allow
        );
        // The token in a query string authenticates only the login URL.
        assert!(matches!(
            get("/api/ls", Some(&q), &[host]),
            Verdict::Unauthorized(_)
        ));
    }

    #[test]
    fn state_changes_need_header_token_and_origin() {
        let host = ("host", "localhost:4000");
        let cookie = format!("{COOKIE}={T}");
        let origin = ("origin", "http://localhost:4000");
        assert!(matches!(
            post(&[host, ("cookie", &cookie), origin]),
            Verdict::Forbidden(_)
        ));
        assert!(matches!(
            post(&[host, (TOKEN_HEADER, T)]),
            Verdict::Forbidden(_)
        ));
        assert!(matches!(
            post(&[host, (TOKEN_HEADER, T), ("origin", "http://evil.example")]),
            Verdict::Forbidden(_)
        ));
        assert!(matches!(
            post(&[host, (TOKEN_HEADER, T), ("origin", "http://127.0.0.1:4000")]),
            Verdict::Forbidden(_)
        ));
        assert!(matches!(
            post(&[host, (TOKEN_HEADER, "x"), origin]),
            Verdict::Forbidden(_)
        ));
        assert_eq!(post(&[host, (TOKEN_HEADER, T), origin]), Verdict::Allow);
    }

    #[test]
    fn small_parts() {
        assert!(token_eq(b"abc", b"abc"));
        assert!(!token_eq(b"abc", b"abd"));
        assert!(!token_eq(b"abc", b"abcd"));
        assert_eq!(query_param("a=1&token=xy", "token"), Some("xy"));
        assert_eq!(query_param("tokens=1", "token"), None);
        assert!(origin_ok(Some(b"http://[::1]:9"), b"[::1]:9"));
        assert!(!origin_ok(Some(b"https://[::1]:9"), b"[::1]:9"));
        assert!(!origin_ok(None, b"[::1]:9"));
        assert!(token_ok(T));
        assert!(!token_ok("short"));
        assert!(!token_ok("0123456789abcdef;x=y"));
        assert!(!token_ok("0123456789abcdef 0123"));
    }
}
