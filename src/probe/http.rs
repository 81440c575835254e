//! Probes for the HTTP family: one `GET /` that names the server and the dev framework behind
//! it, and refinements that recognise the dangerous services that speak HTTP (the Node
//! inspector, Chrome DevTools, Jupyter, the Docker Engine API, Prometheus exporters).
//!
//! Everything here is a pure function of the bytes a server sent: [`parse`] reads the HTTP/1.x
//! framing, this module reads meaning into it. The engine does the I/O and sanitises every
//! string before showing it. Signatures come from `shared/guide/PROTOCOLS.md` and from real
//! replies captured for the tests (`tests/fixtures/http/`).

pub mod parse;
mod proxy;
mod refine;

use std::borrow::Cow;

use self::parse::{Parsed, Response, contains_ci, find_ci, parse_response};
use super::{Auth, Confidence, Hints, Identification, Probe, Send, TlsUse, Verdict};

pub use self::refine::{
    parse_docker_version, parse_json_version, parse_jupyter_api, parse_jupyter_kernels,
    parse_metrics,
};

/// This family's probes: `http-get` first-line, then the refinements of `http` (and of
/// `jupyter`, for its authentication state).
pub const PROBES: &[Probe] = &[
    Probe {
        name: "http-get",
        send: Send::HttpGet("/"),
        parse: parse_root,
        hints: Hints {
            ports: &[
                80, 8080, 8000, 3000, 5000, 5173, 4200, 8888, 8081, 9000, 443, 8443,
            ],
            processes: &[
                "nginx", "apache2", "httpd", "python", "node", "uvicorn", "gunicorn", "java",
            ],
        },
        tls: TlsUse::Both,
        refines: None,
    },
    Probe {
        name: "http-json-version",
        send: Send::HttpGet("/json/version"),
        parse: parse_json_version,
        hints: Hints {
            ports: &[9229, 9222, 9230],
            processes: &[
                "--inspect",
                "--remote-debugging",
                "node",
                "chrome",
                "chromium",
                "electron",
                "deno",
            ],
        },
        tls: TlsUse::Both,
        refines: Some("http"),
    },
    Probe {
        name: "http-jupyter-api",
        send: Send::HttpGet("/api"),
        parse: parse_jupyter_api,
        hints: JUPYTER_HINTS,
        tls: TlsUse::Both,
        refines: Some("http"),
    },
    Probe {
        name: "http-jupyter-kernels",
        send: Send::HttpGet("/api/kernels"),
        parse: parse_jupyter_kernels,
        hints: JUPYTER_HINTS,
        tls: TlsUse::Both,
        refines: Some("jupyter"),
    },
    Probe {
        name: "http-docker-version",
        send: Send::HttpGet("/version"),
        parse: parse_docker_version,
        hints: Hints {
            ports: &[2375, 2376],
            processes: &["dockerd", "podman"],
        },
        tls: TlsUse::Both,
        refines: Some("http"),
    },
    Probe {
        name: "http-metrics",
        send: Send::HttpGet("/metrics"),
        parse: parse_metrics,
        hints: Hints {
            // 9100 (node_exporter's default) is also a printer port: the engine never sends
            // there, so it is not listed.
            ports: &[9090, 9091, 9093, 9115, 9121, 9187, 9113, 9256],
            processes: &[
                "prometheus",
                "exporter",
                "alertmanager",
                "pushgateway",
                "grafana-agent",
                "otelcol",
            ],
        },
        tls: TlsUse::Both,
        refines: Some("http"),
    },
];

const JUPYTER_HINTS: Hints = Hints {
    ports: &[8888, 8889, 8890],
    processes: &["jupyter", "notebook"],
};

/// Longest `title` detail, in characters.
const TITLE_MAX: usize = 120;
/// Longest copied header value (server, location, framework), in characters.
const VALUE_MAX: usize = 160;

/// The parsed response when the bytes are HTTP and as complete as `need_body` asks, or the
/// verdict to give now.
pub(crate) fn response(bytes: &[u8], need_body: bool) -> Result<Response<'_>, Verdict> {
    match parse_response(bytes) {
        Parsed::NotHttp => Err(Verdict::NoMatch),
        Parsed::Incomplete => Err(Verdict::NeedMore),
        Parsed::Response(r) if need_body && !r.body_ready() => Err(Verdict::NeedMore),
        Parsed::Response(r) => Ok(r),
    }
}

/// `GET /`: any valid HTTP/1.x status line is `http` (Certain), named as precisely as the
/// reply allows; a few services are recognised outright (Elasticsearch, the Dart VM service).
///
/// A reply whose head is complete is HTTP whatever its body does: one whose body is still
/// coming (a `Content-Length` not yet met, or a body delimited by a close that has not come —
/// a websocket endpoint's 403 that keeps the connection) is identified if it ends there
/// ([`Verdict::MatchIfEnds`]), so the engine reads on while more comes and settles on what it
/// has when the read times out.
pub fn parse_root(bytes: &[u8]) -> Verdict {
    match parse_response(bytes) {
        Parsed::NotHttp => Verdict::NoMatch,
        Parsed::Incomplete => Verdict::NeedMore,
        Parsed::Response(r) if !r.body_ready() => Verdict::MatchIfEnds(identify_root(&r)),
        Parsed::Response(r) => Verdict::Match(identify_root(&r)),
    }
}

fn identify_root(r: &Response<'_>) -> Identification {
    if let Some(id) = elasticsearch(r) {
        return id;
    }
    let body: &[u8] = &r.body;
    if r.status == 403 && contains_ci(body, b"missing or invalid authentication code") {
        return Identification::new("dart-vm-service", Confidence::Certain)
            .product("Dart VM service")
            .auth(Auth::Required)
            .detail("status", status_text(r));
    }
    let mut id = Identification::new("http", Confidence::Certain).detail("status", status_text(r));
    if let Some(server) = r.header("server") {
        id = id.detail("server", text(server, VALUE_MAX));
        id = name_server(id, &String::from_utf8_lossy(server), r);
    }
    if let Some(title) = html_title(body) {
        id = id.detail("title", title);
    }
    let framework = framework(r);
    if let Some(f) = &framework
        && id.product.is_none()
        && matches!(
            f.as_ref(),
            "Express" | "Next.js" | "Vite" | "webpack-dev-server"
        )
    {
        id.product = Some(f.to_string());
    }
    if let Some(f) = framework {
        match id.details.iter_mut().find(|(k, _)| k == "framework") {
            // A reply's own mark (Vite, webpack) beats a guess from the Server header.
            Some((_, v)) if v.ends_with('?') => *v = f.into_owned(),
            Some(_) => {}
            None => id = id.detail("framework", f),
        }
    }
    if matches!(r.status, 400 | 404) && contains_ci(body, b"request was expected") {
        // The Node inspector answers every plain GET except /json* this way.
        id = id.detail("hint", "node-inspector?");
    }
    if refusal_of_plain_http(r).is_some() {
        id = id.detail("hint", "tls");
    }
    if contains_ci(body, b"Ciphers supported in s_server binary") {
        id.product = Some("openssl s_server".into());
    }
    if let Some(why) = websocket(r) {
        id = id.detail("websocket", why);
    }
    if let Some(p) = proxy::proxy(r) {
        id = behind_proxy(id, p, r);
    }
    root_auth(id, r)
}

/// What servers answer a plain HTTP request on their TLS port with (a 4xx whose body says
/// so): nginx, Apache httpd's mod_ssl, Go's net/http (Caddy, Prometheus, node_exporter…),
/// Apache Tomcat (and Spring Boot, which embeds it).
const PLAIN_HTTP_REFUSALS: &[&str] = &[
    "The plain HTTP request was sent to HTTPS port",
    "You're speaking plain HTTP to an SSL-enabled server port",
    "Client sent an HTTP request to an HTTPS server",
    "This combination of host and port requires TLS",
];

/// Whether `bytes` are an HTTP reply refusing a plain request because the port speaks TLS:
/// the refusal's words (nginx, Apache mod_ssl, Go, Tomcat), or `None`. The port is TLS, and the
/// engine then tries a handshake rather than stop at `http`.
pub fn plain_http_refused(bytes: &[u8]) -> Option<&'static str> {
    match parse_response(bytes) {
        Parsed::Response(r) => refusal_of_plain_http(&r),
        Parsed::NotHttp | Parsed::Incomplete => None,
    }
}

fn refusal_of_plain_http(r: &Response<'_>) -> Option<&'static str> {
    if !(400..500).contains(&r.status) {
        return None;
    }
    PLAIN_HTTP_REFUSALS
        .iter()
        .find(|words| contains_ci(&r.body, words.as_bytes()))
        .copied()
}

/// Why the reply is a websocket endpoint's answer to a plain `GET`, if it is: `Upgrade:
/// websocket`, a `Sec-WebSocket-Version` (what RFC 6455 servers send with a refused
/// handshake), or `426 Upgrade Required`.
fn websocket(r: &Response<'_>) -> Option<String> {
    if let Some(v) = r.header("sec-websocket-version") {
        return Some(format!("Sec-WebSocket-Version: {}", text(v, 20)));
    }
    if r.headers_named("upgrade")
        .any(|u| contains_ci(u, b"websocket"))
    {
        return Some("Upgrade: websocket".into());
    }
    // 426 with no `Upgrade` at all: what a websocket-only server says (npm `ws`); a 426 that
    // asks for another protocol (`Upgrade: TLS/1.2`) is not one.
    (r.status == 426 && r.header("upgrade").is_none()).then(|| status_text(r))
}

/// The proxy answered: it is the product, and the backend's `Server` header (passed on) is the
/// `backend` detail — unless `Server` is the proxy's own (Varnish's error page).
fn behind_proxy(mut id: Identification, p: proxy::Proxy, r: &Response<'_>) -> Identification {
    let server = r
        .header_str("server")
        .map(|s| text(s.as_bytes(), VALUE_MAX));
    let own = match (&p.product, &server) {
        (Some(product), Some(server)) => server
            .to_ascii_lowercase()
            .starts_with(&product.to_ascii_lowercase()),
        _ => false,
    };
    if own {
        id.version = id.version.or(p.version);
    } else {
        if let Some(server) = server {
            id = id.detail("backend", server);
        }
        id.product = p.product;
        id.version = p.version;
    }
    id.detail("proxy", p.evidence)
}

/// Authentication from the status: 401/403 (but not a dev server's Host check) and a
/// redirect to a login page mean credentials are wanted.
fn root_auth(mut id: Identification, r: &Response<'_>) -> Identification {
    let host_check = id
        .details
        .iter()
        .any(|(k, v)| k == "framework" && (v == "Vite" || v == "webpack-dev-server"));
    match r.status {
        401 | 407 => id.auth = Some(Auth::Required),
        403 if !host_check => id.auth = Some(Auth::Required),
        300..=399 => {
            if let Some(location) = r.header("location") {
                id = id.detail("location", text(location, VALUE_MAX));
                if [&b"login"[..], b"signin", b"sign_in", b"/auth"]
                    .iter()
                    .any(|w| contains_ci(location, w))
                {
                    id.auth = Some(Auth::Required);
                }
            }
        }
        _ => {}
    }
    id
}

/// `Elasticsearch` (or OpenSearch) from `GET /`: the JSON banner, the product header, or the
/// security realm's 401.
fn elasticsearch(r: &Response<'_>) -> Option<Identification> {
    let body: &[u8] = &r.body;
    let tagline_es = contains_ci(body, b"You Know, for Search");
    let tagline_os = contains_ci(body, b"The OpenSearch Project");
    let header = r
        .header("x-elastic-product")
        .is_some_and(|v| v.eq_ignore_ascii_case(b"Elasticsearch"));
    if r.status == 200 && (tagline_es || tagline_os) {
        let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let field = |path: &[&str]| {
            let mut v = json.as_ref()?;
            for key in path {
                v = v.get(key)?;
            }
            v.as_str().map(|s| text(s.as_bytes(), VALUE_MAX))
        };
        let product = if tagline_os {
            "OpenSearch"
        } else {
            "Elasticsearch"
        };
        let mut id = Identification::new("elasticsearch", Confidence::Certain)
            .product(product)
            .auth(Auth::NotRequired);
        id.version = field(&["version", "number"]);
        if let Some(cluster) = field(&["cluster_name"]) {
            id = id.detail("cluster_name", cluster);
        }
        return Some(id.detail(
            "risk",
            "no authentication: anyone who can connect can read and write every index",
        ));
    }
    let security_realm = r
        .headers_named("www-authenticate")
        .any(|v| contains_ci(v, b"realm=\"security\""));
    if r.status == 401 && (security_realm || header) {
        let confidence = if header {
            Confidence::Certain
        } else {
            Confidence::Likely
        };
        return Some(
            Identification::new("elasticsearch", confidence)
                .product("Elasticsearch")
                .auth(Auth::Required)
                .detail("status", status_text(r)),
        );
    }
    if header {
        return Some(
            Identification::new("elasticsearch", Confidence::Certain)
                .product("Elasticsearch")
                .detail("status", status_text(r)),
        );
    }
    None
}

/// Product and version from the `Server` header (and, for wsgiref, the reply's other marks).
fn name_server(mut id: Identification, server: &str, r: &Response<'_>) -> Identification {
    let tokens = server_tokens(server);
    let Some(&(mut name, mut version)) = tokens.first() else {
        return id;
    };
    // `Python/3.12 aiohttp/3.9.1`, `Python/3.11 websockets/17.4`: the library, not the
    // language, is the server.
    if let Some(&(n, v)) = tokens
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("aiohttp") || n.eq_ignore_ascii_case("websockets"))
    {
        (name, version) = (n, v);
    }
    let other = |wanted: &str| {
        tokens
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(wanted))
            .and_then(|(_, v)| *v)
    };
    let (product, version): (&str, Option<&str>) = match name.to_ascii_lowercase().as_str() {
        "nginx" => ("nginx", version),
        "apache" => ("Apache httpd", version),
        "simplehttp" | "basehttp" => ("Python http.server", other("Python")),
        "wsgiserver" => {
            let python = other("CPython").or(other("Python"));
            if django_marks(r) {
                if let Some(v) = python {
                    id = id.detail("python", v);
                }
                id = id.detail("framework", "Django");
                ("Django runserver", None)
            } else {
                let guess = if contains_ci(&r.body, b"# TYPE ") {
                    "prometheus_client?"
                } else {
                    "Django runserver?"
                };
                id = id.detail("framework", guess);
                ("Python wsgiref", python)
            }
        }
        "werkzeug" => {
            if let Some(v) = other("Python") {
                id = id.detail("python", v);
            }
            ("Flask/Werkzeug", version)
        }
        "uvicorn" => ("Uvicorn", version),
        "tornadoserver" => {
            let jupyter = html_title(&r.body).is_some_and(|t| t.contains("Jupyter"));
            id = id.detail("framework", if jupyter { "Jupyter" } else { "Jupyter?" });
            ("Tornado", version)
        }
        "docker" => ("Docker Engine", version),
        "gunicorn" => ("Gunicorn", version),
        "hypercorn-h11" | "hypercorn-h2" | "hypercorn" => ("Hypercorn", version),
        "microsoft-iis" => ("IIS", version),
        "apache-coyote" => ("Apache Tomcat", None),
        "openresty" => ("OpenResty", version),
        // `nghttpd nghttp2/1.52.0`: the server, and the library whose release it is.
        "nghttpd" | "nghttpx" => (name, version.or(other("nghttp2"))),
        _ => (name, version),
    };
    id.product = Some(text(product.as_bytes(), VALUE_MAX));
    id.version = version.map(|v| text(v.as_bytes(), VALUE_MAX));
    id
}

/// Django's runserver answers with its security headers (or its own pages).
fn django_marks(r: &Response<'_>) -> bool {
    let is = |name: &str, value: &[u8]| {
        r.header(name)
            .is_some_and(|v| v.eq_ignore_ascii_case(value))
    };
    contains_ci(&r.body, b"django")
        || (is("x-frame-options", b"DENY") && is("cross-origin-opener-policy", b"same-origin"))
}

/// `Server` value as `(name, version)` tokens, comments in parentheses skipped:
/// `SimpleHTTP/0.6 Python/3.11.7` → `[("SimpleHTTP", Some("0.6")), ("Python", Some("3.11.7"))]`.
fn server_tokens(server: &str) -> Vec<(&str, Option<&str>)> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    for word in server.split_ascii_whitespace() {
        if depth > 0 || word.starts_with('(') {
            depth = depth.saturating_add(word.matches('(').count());
            depth = depth.saturating_sub(word.matches(')').count());
            continue;
        }
        let (name, version) = match word.split_once('/') {
            Some((n, v)) => (n, Some(v).filter(|v| !v.is_empty())),
            None => (word, None),
        };
        if !name.is_empty() && out.len() < 8 {
            out.push((name, version));
        }
    }
    out
}

/// The dev framework the reply reveals: Vite, webpack-dev-server, or `X-Powered-By`.
fn framework(r: &Response<'_>) -> Option<Cow<'static, str>> {
    let body: &[u8] = &r.body;
    if contains_ci(body, b"/@vite/client")
        || (r.status == 403 && contains_ci(body, b"Blocked request. This host"))
    {
        return Some(Cow::Borrowed("Vite"));
    }
    if r.status == 403 && contains_ci(body, b"Invalid Host") {
        return Some(Cow::Borrowed("webpack-dev-server"));
    }
    let powered = r.header("x-powered-by")?;
    Some(match powered {
        p if p.eq_ignore_ascii_case(b"Express") => Cow::Borrowed("Express"),
        p if p.eq_ignore_ascii_case(b"Next.js") => Cow::Borrowed("Next.js"),
        p => Cow::Owned(text(p, VALUE_MAX)),
    })
}

/// `404 Not Found`.
pub(crate) fn status_text(r: &Response<'_>) -> String {
    let reason = text(r.reason, 60);
    if reason.is_empty() {
        r.status.to_string()
    } else {
        format!("{} {reason}", r.status)
    }
}

/// The HTML `<title>`: entities for `& < > " '` decoded, whitespace collapsed, at most
/// `TITLE_MAX` (120) characters; `None` when absent or empty.
pub fn html_title(body: &[u8]) -> Option<String> {
    let open = find_ci(body, b"<title")?;
    let after = &body[open + 6..];
    // `<title>` or `<title lang=…>`, not `<titlebar>`.
    if !matches!(after.first(), Some(b'>' | b' ' | b'\t' | b'\r' | b'\n')) {
        return None;
    }
    let start = after.iter().position(|&b| b == b'>')? + 1;
    let inner = &after[start..];
    let end = find_ci(inner, b"</title")?;
    let raw = String::from_utf8_lossy(&inner[..end]);
    let decoded = raw
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    let title = text(decoded.as_bytes(), TITLE_MAX);
    (!title.is_empty()).then_some(title)
}

/// Bytes as one line of text: invalid UTF-8 replaced, whitespace runs collapsed to one space,
/// trimmed, at most `max` characters (an ellipsis marks a cut).
pub(crate) fn text(bytes: &[u8], max: usize) -> String {
    let lossy = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    for (count, word) in lossy.split_whitespace().enumerate() {
        if count > 0 {
            out.push(' ');
        }
        out.push_str(word);
        if out.len() > max * 4 {
            break;
        }
    }
    if out.chars().count() > max {
        out = out.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
    }
    out
}

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;
