//! Fixture tests for the HTTP probes: real replies (see `fixtures.rs` for versions), a few
//! synthetic ones for services not runnable here, and negatives that must never match.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;

use super::fixtures::*;
use super::*;

fn matched(v: Verdict) -> Identification {
    match v {
        Verdict::Match(id) => id,
        other => panic!("expected a match, got {other:?}"),
    }
}

fn detail<'a>(id: &'a Identification, key: &str) -> Option<&'a str> {
    id.details
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn probe(name: &str) -> &'static Probe {
    PROBES
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no probe {name}"))
}

#[test]
fn table_is_as_documented() {
    let root = probe("http-get");
    assert_eq!(root.send, Send::HttpGet("/"));
    assert_eq!(root.refines, None);
    assert_eq!(root.tls, TlsUse::Both);
    assert!(root.hints.ports.contains(&5173) && root.hints.processes.contains(&"uvicorn"));
    for p in PROBES.iter().filter(|p| p.name != "http-get") {
        assert!(p.refines.is_some(), "{} refines something", p.name);
        assert!(matches!(p.send, Send::HttpGet(_)));
        assert!(
            p.hints
                .ports
                .iter()
                .all(|port| !(9100..=9107).contains(port))
        );
    }
    assert_eq!(probe("http-jupyter-kernels").refines, Some("jupyter"));
}

#[test]
fn python_http_server() {
    let id = matched(parse_root(PYTHON_ROOT));
    assert_eq!(id.protocol, "http");
    assert_eq!(id.confidence, Some(Confidence::Certain));
    assert_eq!(id.product.as_deref(), Some("Python http.server"));
    assert_eq!(id.version.as_deref(), Some("3.11.7"));
    assert_eq!(detail(&id, "status"), Some("200 OK"));
    assert_eq!(detail(&id, "server"), Some("SimpleHTTP/0.6 Python/3.11.7"));
    assert_eq!(detail(&id, "title"), Some("Directory listing for /"));
    assert_eq!(id.auth, None);
    let id = matched(parse_root(PYTHON_404));
    assert_eq!(detail(&id, "status"), Some("404 File not found"));
}

#[test]
fn nginx() {
    let id = matched(parse_root(NGINX_ROOT));
    assert_eq!(id.product.as_deref(), Some("nginx"));
    assert_eq!(id.version.as_deref(), Some("1.22.1"));
    assert_eq!(detail(&id, "title"), Some("Welcome to nginx!"));
    let id = matched(parse_root(NGINX_401));
    assert_eq!(id.auth, Some(Auth::Required));
    assert_eq!(detail(&id, "title"), Some("401 Authorization Required"));
    assert_eq!(matched(parse_root(NGINX_403)).auth, Some(Auth::Required));
    assert_eq!(matched(parse_root(NGINX_404)).auth, None);
}

#[test]
fn a_plain_request_refused_by_a_tls_port_says_tls() {
    let cases: [(&[u8], &str, Option<&str>); 4] = [
        (
            NGINX_SSL_PLAIN_400,
            "plain HTTP request was sent to HTTPS",
            Some("nginx"),
        ),
        (
            APACHE_SSL_PLAIN_400,
            "speaking plain HTTP to an SSL",
            Some("Apache httpd"),
        ),
        (GO_HTTPS_PLAIN_400, "HTTP request to an HTTPS server", None),
        (TOMCAT_PLAIN_400, "host and port requires TLS", None),
    ];
    for (bytes, words, product) in cases {
        let refusal = plain_http_refused(bytes).unwrap();
        assert!(refusal.contains(words), "{refusal}");
        let id = matched(parse_root(bytes));
        assert_eq!(id.protocol, "http");
        assert_eq!(id.product.as_deref(), product);
        assert_eq!(detail(&id, "status").map(|s| &s[..3]), Some("400"));
        assert_eq!(detail(&id, "hint"), Some("tls"), "{words}");
    }
    // Not a refusal: other replies, the words outside a 4xx, the words cut off, not HTTP.
    for bytes in [
        NGINX_ROOT,
        NGINX_404,
        APACHE_ROOT_LIKE,
        NODE_ROOT,
        b"SSH-2.0-x\r\n",
    ] {
        assert_eq!(plain_http_refused(bytes), None);
    }
    let head = NGINX_SSL_PLAIN_400
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap();
    let cut = &NGINX_SSL_PLAIN_400[..head + 4];
    assert_eq!(plain_http_refused(cut), None, "the body is not there yet");
}

/// A 200 page that quotes a refusal (documentation about it): not a refusal.
const APACHE_ROOT_LIKE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 56\r\n\r\n\
    You're speaking plain HTTP to an SSL-enabled server port";

#[test]
fn node_inspector_root_and_json_version() {
    let id = matched(parse_root(NODE_ROOT));
    assert_eq!(id.protocol, "http");
    assert_eq!(detail(&id, "hint"), Some("node-inspector?"));
    assert_eq!(detail(&id, "status"), Some("400 Bad Request"));
    let id = matched(parse_json_version(NODE_JSON_VERSION));
    assert_eq!(id.protocol, "node-inspector");
    assert_eq!(id.product.as_deref(), Some("Node.js"));
    assert_eq!(id.version.as_deref(), Some("20.20.2"));
    assert_eq!(id.auth, Some(Auth::NotRequired));
    assert!(detail(&id, "risk").is_some_and(|r| r.contains("code execution")));
    assert_eq!(detail(&id, "protocol_version"), Some("1.1"));
}

#[test]
fn node_inspector_body_split_from_head_is_waited_for() {
    // HTTP/1.0, no Content-Length: the body ends at close. With the head alone (and a
    // Content-Type announcing a body) it is HTTP if the reply ends there, and the engine reads
    // on for the body; with the body it decides, and the body's hint is there.
    let head_end = NODE_ROOT.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let Verdict::MatchIfEnds(head) = parse_root(&NODE_ROOT[..head_end]) else {
        panic!("{:?}", parse_root(&NODE_ROOT[..head_end]))
    };
    assert_eq!(detail(&head, "hint"), None);
    let whole = matched(parse_root(NODE_ROOT));
    assert_eq!(detail(&whole, "hint"), Some("node-inspector?"));
}

#[test]
fn chrome_devtools() {
    let id = matched(parse_json_version(CHROME_JSON_VERSION));
    assert_eq!(id.protocol, "chrome-devtools");
    assert_eq!(id.confidence, Some(Confidence::Certain));
    assert_eq!(id.product.as_deref(), Some("Chrome"));
    assert_eq!(id.version.as_deref(), Some("156.0.8078.79"));
    assert_eq!(detail(&id, "headless"), Some("yes"));
    assert_eq!(id.auth, Some(Auth::NotRequired));
    let root = matched(parse_root(CHROME_ROOT));
    assert_eq!((root.protocol.as_str(), root.product), ("http", None));
}

#[test]
fn dev_servers() {
    let id = matched(parse_root(WERKZEUG_ROOT));
    assert_eq!(id.product.as_deref(), Some("Flask/Werkzeug"));
    assert_eq!(id.version.as_deref(), Some("3.1.9"));
    assert_eq!(detail(&id, "python"), Some("3.11.7"));
    assert_eq!(detail(&id, "title"), Some("Flask demo"));

    let id = matched(parse_root(UVICORN_ROOT));
    assert_eq!((id.product.as_deref(), id.version), (Some("Uvicorn"), None));

    for fixture in [DJANGO_ROOT, DJANGO_404] {
        let id = matched(parse_root(fixture));
        assert_eq!(id.product.as_deref(), Some("Django runserver"));
        assert_eq!(detail(&id, "framework"), Some("Django"));
        assert_eq!(detail(&id, "python"), Some("3.11.7"));
    }
    assert_eq!(
        detail(&matched(parse_root(DJANGO_ROOT)), "title"),
        Some("The install worked successfully! Congratulations!")
    );

    let id = matched(parse_root(VITE_ROOT));
    assert_eq!(detail(&id, "framework"), Some("Vite"));
    assert_eq!(id.product.as_deref(), Some("Vite"));
    assert_eq!(detail(&id, "title"), Some("Vite App"));
    let id = matched(parse_root(VITE_BLOCKED));
    assert_eq!(detail(&id, "framework"), Some("Vite"));
    assert_eq!(id.auth, None, "a Host check is not authentication");

    let id = matched(parse_root(EXPRESS_ROOT));
    assert_eq!(detail(&id, "framework"), Some("Express"));
    assert_eq!(id.product.as_deref(), Some("Express"));
    assert_eq!(detail(&id, "title"), Some("Express demo"));
    assert_eq!(
        detail(&matched(parse_root(EXPRESS_404)), "framework"),
        Some("Express")
    );

    let id = matched(parse_root(WEBPACK_403));
    assert_eq!(detail(&id, "framework"), Some("webpack-dev-server"));
    assert_eq!(id.auth, None);
    let id = matched(parse_root(NEXT_ROOT));
    assert_eq!(detail(&id, "framework"), Some("Next.js"));
    assert_eq!(detail(&id, "title"), Some("Create Next App"));
}

#[test]
fn wsgiref_without_django_is_not_called_django() {
    let id = matched(parse_root(PROMETHEUS_CLIENT_METRICS));
    assert_eq!(id.product.as_deref(), Some("Python wsgiref"));
    assert_eq!(id.version.as_deref(), Some("3.11.7"));
    assert_eq!(detail(&id, "framework"), Some("prometheus_client?"));
    let bare =
        b"HTTP/1.0 200 OK\r\nServer: WSGIServer/0.2 CPython/3.12.1\r\nContent-Length: 2\r\n\r\nhi";
    assert_eq!(
        detail(&matched(parse_root(bare)), "framework"),
        Some("Django runserver?")
    );
}

#[test]
fn jupyter() {
    let id = matched(parse_root(JUPYTER_TOKEN_ROOT));
    assert_eq!(id.product.as_deref(), Some("Tornado"));
    assert_eq!(id.version.as_deref(), Some("6.6.1"));
    assert_eq!(detail(&id, "framework"), Some("Jupyter"));
    // Its 404 page is titled "… Jupyter Server" too.
    assert_eq!(
        detail(&matched(parse_root(JUPYTER_404)), "framework"),
        Some("Jupyter")
    );
    let bare = b"HTTP/1.1 200 OK\r\nServer: TornadoServer/6.4\r\nContent-Length: 2\r\n\r\nhi";
    assert_eq!(
        detail(&matched(parse_root(bare)), "framework"),
        Some("Jupyter?")
    );

    let id = matched(parse_jupyter_api(JUPYTER_TOKEN_API));
    assert_eq!(id.protocol, "jupyter");
    assert_eq!(id.product.as_deref(), Some("Jupyter Server"));
    assert_eq!(id.version.as_deref(), Some("2.21.1"));
    assert_eq!(id.auth, None, "/api is open even with a token");
    let id = matched(parse_jupyter_api(JUPYTER_OPEN_API));
    assert_eq!(id.auth, Some(Auth::NotRequired));

    let id = matched(parse_jupyter_kernels(JUPYTER_TOKEN_KERNELS));
    assert_eq!(
        (id.protocol.as_str(), id.auth),
        ("jupyter", Some(Auth::Required))
    );
    let id = matched(parse_jupyter_kernels(JUPYTER_OPEN_KERNELS));
    assert_eq!(id.auth, Some(Auth::NotRequired));
    assert_eq!(detail(&id, "kernels"), Some("0"));
}

#[test]
fn prometheus_metrics() {
    // The path's format, not the product: the port stays `http`.
    let id = matched(parse_metrics(PROMETHEUS_CLIENT_METRICS));
    assert_eq!(id.protocol, "http");
    assert_eq!(detail(&id, "metrics"), Some("prometheus-text"));
    assert_eq!(id.product, None);
    assert_eq!(id.confidence, Some(Confidence::Certain));
    assert_eq!(detail(&id, "families"), Some("10"));
    // node_exporter: a 20 KB prefix of a chunked 58 KB reply is enough (16 KiB kept).
    let id = matched(parse_metrics(NODE_EXPORTER_METRICS));
    let families: usize = detail(&id, "families").unwrap().parse().unwrap();
    assert!(families > 10, "{families}");
    assert_eq!(parse_metrics(NODE_EXPORTER_ROOT), Verdict::NoMatch);
    let build = b"HTTP/1.1 200 OK\r\nContent-Length: 93\r\n\r\n# TYPE node_exporter_build_info gauge\nnode_exporter_build_info{branch=\"x\",version=\"1.5.0\"} 1\n";
    let id = matched(parse_metrics(build));
    assert_eq!(id.product.as_deref(), Some("node_exporter"));
    assert_eq!(id.version.as_deref(), Some("1.5.0"));
}

#[test]
fn metrics_of_a_product_that_is_not_prometheus() {
    // etcd's /metrics: the format is Prometheus's, the product is not named in the prefix.
    let id = matched(parse_metrics(ETCD_METRICS));
    assert_eq!(
        (id.protocol.as_str(), id.product.as_deref()),
        ("http", None)
    );
    assert_eq!(detail(&id, "metrics"), Some("prometheus-text"));
}

#[test]
fn a_proxy_is_the_product_and_its_backend_a_detail() {
    let id = matched(parse_root(VARNISH_ROOT));
    assert_eq!(
        (id.product.as_deref(), id.version.as_deref()),
        (Some("Varnish"), Some("7.1"))
    );
    assert_eq!(detail(&id, "backend"), Some("SimpleHTTP/0.6 Python/3.11.7"));
    assert_eq!(detail(&id, "proxy"), Some("Via: 1.1 varnish (Varnish/7.1)"));
    let id = matched(parse_root(SQUID_APACHE));
    assert_eq!(
        (id.product.as_deref(), id.version.as_deref()),
        (Some("Squid"), Some("5.7"))
    );
    assert_eq!(detail(&id, "backend"), Some("Apache/2.4.57 (Debian)"));
    // A proxy that names only its host: not nginx, not named.
    let id = matched(parse_root(VIA_HOST_NGINX));
    assert_eq!((id.product.as_deref(), id.version.as_deref()), (None, None));
    assert_eq!(detail(&id, "backend"), Some("nginx/1.22.1"));
    // No proxy header: the Server header is the product, as before.
    let id = matched(parse_root(NGINX_ROOT));
    assert_eq!(
        (id.product.as_deref(), detail(&id, "backend")),
        (Some("nginx"), None)
    );
}

#[test]
fn websocket_endpoints_are_http_with_a_websocket_detail() {
    let id = matched(parse_root(WEBSOCKETS_426));
    assert_eq!(
        (
            id.protocol.as_str(),
            id.product.as_deref(),
            id.version.as_deref()
        ),
        ("http", Some("websockets"), Some("17.4"))
    );
    assert_eq!(detail(&id, "websocket"), Some("Upgrade: websocket"));
    let id = matched(parse_root(NODE_WS_426));
    assert_eq!(detail(&id, "websocket"), Some("426 Upgrade Required"));
    // The head of a reply whose body never comes is HTTP all the same, once the reply ends.
    let Verdict::MatchIfEnds(id) = parse_root(WS_403_HELD) else {
        panic!("{:?}", parse_root(WS_403_HELD))
    };
    assert_eq!(detail(&id, "websocket"), Some("Sec-WebSocket-Version: 13"));
    assert_eq!(id.auth, Some(Auth::Required));
}

#[test]
fn docker_api() {
    let id = matched(parse_docker_version(DOCKER_VERSION));
    assert_eq!(id.protocol, "docker-api");
    assert_eq!(id.product.as_deref(), Some("Docker Engine"));
    assert_eq!(id.version.as_deref(), Some("28.2.2"));
    assert_eq!(detail(&id, "api_version"), Some("1.50"));
    assert_eq!(detail(&id, "platform"), Some("linux/amd64"));
    assert_eq!(id.auth, Some(Auth::NotRequired));
    assert!(detail(&id, "risk").is_some_and(|r| r.contains("root")));
    let id = matched(parse_root(DOCKER_ROOT));
    assert_eq!(id.product.as_deref(), Some("Docker Engine"));
    assert_eq!(id.version.as_deref(), Some("28.2.2"));
}

#[test]
fn elasticsearch_and_dart() {
    let id = matched(parse_root(ES_ROOT));
    assert_eq!(id.protocol, "elasticsearch");
    assert_eq!(id.version.as_deref(), Some("7.17.9"));
    assert_eq!(id.auth, Some(Auth::NotRequired));
    assert_eq!(detail(&id, "cluster_name"), Some("docker-cluster"));
    let id = matched(parse_root(ES_401));
    assert_eq!(id.protocol, "elasticsearch");
    assert_eq!(id.confidence, Some(Confidence::Likely));
    assert_eq!(id.auth, Some(Auth::Required));
    let id = matched(parse_root(DART_403));
    assert_eq!(id.protocol, "dart-vm-service");
    assert_eq!(id.auth, Some(Auth::Required));
    let chunked = b"HTTP/1.1 403 Forbidden\r\nx-frame-options: SAMEORIGIN\r\ncontent-type: text/plain; charset=utf-8\r\ntransfer-encoding: chunked\r\n\r\n26\r\nmissing or invalid authentication code\r\n0\r\n\r\n";
    assert_eq!(matched(parse_root(chunked)).protocol, "dart-vm-service");
}

#[test]
fn openssl_s_server_page() {
    let id = matched(parse_root(OPENSSL_S_SERVER));
    assert_eq!(id.protocol, "http");
    assert_eq!(id.product.as_deref(), Some("openssl s_server"));
}

#[test]
fn refinements_reject_other_servers() {
    let others = [
        PYTHON_404,
        NGINX_404,
        JUPYTER_404,
        EXPRESS_404,
        DJANGO_404,
        NODE_ROOT,
        CHROME_ROOT,
        VITE_ROOT,
    ];
    for bytes in others {
        assert_eq!(parse_json_version(bytes), Verdict::NoMatch);
        assert_eq!(parse_jupyter_api(bytes), Verdict::NoMatch);
        assert_eq!(parse_docker_version(bytes), Verdict::NoMatch);
        assert_eq!(parse_metrics(bytes), Verdict::NoMatch);
    }
    assert_eq!(parse_json_version(DOCKER_VERSION), Verdict::NoMatch);
    assert_eq!(parse_docker_version(NODE_JSON_VERSION), Verdict::NoMatch);
    assert_eq!(parse_jupyter_api(UVICORN_ROOT), Verdict::NoMatch);
    assert_eq!(parse_jupyter_kernels(NGINX_404), Verdict::NoMatch);
    assert_eq!(parse_jupyter_kernels(UVICORN_ROOT), Verdict::NoMatch);
}

const NEGATIVES: &[&[u8]] = &[
    b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n",
    b"-ERR unknown command 'GET', with args beginning with: '/' \r\n",
    b"+PONG\r\n",
    b"-DENIED Redis is running in protected mode\r\n",
    b"\x16\x03\x03\x00\x7a\x02\x00\x00\x76\x03\x03",
    b"\x15\x03\x01\x00\x02\x02\x50",
    b"\x00\x00\x12\x04\x00\x00\x00\x00\x00", // HTTP/2 SETTINGS
    b"220 mail ESMTP Postfix\r\n",
    b"RFB 003.008\n",
    b"HTTP/2 200\r\n\r\n",
    b"HTTP/1.1 99 Odd\r\n\r\n",
    b"HTTP/1.1 2000 OK\r\n\r\n",
    b"HTTP/1.x 200 OK\r\n\r\n",
    b"HTTP/1.1200 OK\r\n\r\n",
    b"\xff\xfe\x00junk\x00\r\n\r\n",
];

#[test]
fn negatives_never_match() {
    for bytes in NEGATIVES {
        for p in PROBES {
            let v = (p.parse)(bytes);
            assert_eq!(v, Verdict::NoMatch, "{} on {bytes:?}", p.name);
        }
    }
}

const REAL: &[&[u8]] = &[
    PYTHON_ROOT,
    PYTHON_404,
    NODE_ROOT,
    NODE_JSON_VERSION,
    NGINX_ROOT,
    NGINX_401,
    NGINX_403,
    NGINX_404,
    WERKZEUG_ROOT,
    UVICORN_ROOT,
    PROMETHEUS_CLIENT_METRICS,
    DJANGO_ROOT,
    DJANGO_404,
    JUPYTER_TOKEN_ROOT,
    JUPYTER_TOKEN_API,
    JUPYTER_TOKEN_KERNELS,
    JUPYTER_OPEN_API,
    JUPYTER_OPEN_KERNELS,
    JUPYTER_404,
    VITE_ROOT,
    VITE_BLOCKED,
    EXPRESS_ROOT,
    EXPRESS_404,
    OPENSSL_S_SERVER,
    CHROME_JSON_VERSION,
    CHROME_ROOT,
    NODE_EXPORTER_METRICS,
    NODE_EXPORTER_ROOT,
];

#[test]
fn every_prefix_of_a_real_reply_waits_or_matches() {
    for bytes in REAL {
        // Every prefix of the head and the first body bytes, then a sample (debug builds).
        for end in (0..bytes.len()).filter(|e| *e < 1024 || e % 61 == 0) {
            let v = parse_root(&bytes[..end]);
            assert_ne!(v, Verdict::NoMatch, "prefix {end} of {:?}", evidence(bytes));
        }
        assert!(matches!(parse_root(bytes), Verdict::Match(_)));
    }
}

fn evidence(bytes: &[u8]) -> String {
    crate::probe::evidence(bytes, 60)
}

#[test]
fn titles() {
    assert_eq!(
        html_title(b"<TITLE lang=en>\n  A &amp; B\t&lt;x&gt; </TITLE>").as_deref(),
        Some("A & B <x>")
    );
    assert_eq!(html_title(b"<title></title>"), None);
    assert_eq!(html_title(b"<titlebar>x</titlebar>"), None);
    assert_eq!(html_title(b"<title>never closed"), None);
    let long = format!("<title>{}</title>", "é".repeat(500));
    let t = html_title(long.as_bytes()).unwrap();
    assert_eq!(t.chars().count(), 120);
    assert!(t.ends_with('…'));
}

#[test]
fn server_header_tokens() {
    assert_eq!(
        server_tokens("Apache/2.4.57 (Debian) OpenSSL/3.0.11"),
        vec![("Apache", Some("2.4.57")), ("OpenSSL", Some("3.0.11"))]
    );
    assert_eq!(
        server_tokens("Docker/28.2.2 (linux)"),
        vec![("Docker", Some("28.2.2"))]
    );
    let id = matched(parse_root(
        b"HTTP/1.1 204 No Content\r\nServer: Kestrel\r\n\r\n",
    ));
    assert_eq!((id.product.as_deref(), id.version), (Some("Kestrel"), None));
    let id = matched(parse_root(
        b"HTTP/1.1 302 Found\r\nLocation: /login?next=%2F\r\nContent-Length: 0\r\n\r\n",
    ));
    assert_eq!(id.auth, Some(Auth::Required));
    assert_eq!(detail(&id, "location"), Some("/login?next=%2F"));
}

proptest! {
    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        for p in PROBES {
            let _ = (p.parse)(&bytes);
        }
        let _ = html_title(&bytes);
        let _ = plain_http_refused(&bytes);
    }

    #[test]
    fn parsers_never_panic_on_http_like_input(
        status in prop_oneof![Just(101u16), 200u16..600],
        headers in proptest::collection::vec(("[A-Za-z-]{1,12}", "[ -~]{0,40}"), 0..8),
        body in proptest::collection::vec(any::<u8>(), 0..512),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut reply = format!("HTTP/1.1 {status} X\r\n");
        for (n, v) in &headers {
            reply.push_str(&format!("{n}: {v}\r\n"));
        }
        reply.push_str("\r\n");
        let mut bytes = reply.into_bytes();
        bytes.extend_from_slice(&body);
        let end = cut.index(bytes.len() + 1);
        for p in PROBES {
            let _ = (p.parse)(&bytes[..end]);
        }
        let _ = plain_http_refused(&bytes[..end]);
        // A complete head always ends the wait for `GET /` once the body is in.
        let full_head = !headers.iter().any(|(n, _)| {
            n.eq_ignore_ascii_case("content-length") || n.eq_ignore_ascii_case("transfer-encoding")
                || n.eq_ignore_ascii_case("content-type")
        });
        if full_head {
            prop_assert!(matches!(parse_root(&bytes), Verdict::Match(_)));
        }
    }
}
