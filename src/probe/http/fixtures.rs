//! Real replies captured on this machine (2026-11-22) by sending the engine's exact request
//! (`GET <path> HTTP/1.1`, `Host: localhost`, `User-Agent: portscope-probe`, `Accept: */*`,
//! `Connection: close`) and saving every byte until close. Files: `tests/fixtures/http/`.

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("../../../tests/fixtures/http/", $name))
    };
}

/// `python3 -m http.server` (Python 3.11.7, SimpleHTTP/0.6), `GET /` (directory listing).
pub const PYTHON_ROOT: &[u8] = fixture!("python-http-server-root.http");
/// Python 3.11.7 `http.server`, `GET /json/version` → 404 (send_error page).
pub const PYTHON_404: &[u8] = fixture!("python-http-server-404.http");
/// `node --inspect=127.0.0.1:PORT` (Node v20.20.2), `GET /` → 400, close-delimited.
pub const NODE_ROOT: &[u8] = fixture!("node-inspector-root.http");
/// Node v20.20.2 inspector, `GET /json/version`.
pub const NODE_JSON_VERSION: &[u8] = fixture!("node-inspector-json-version.http");
/// nginx 1.22.1 (Debian 12 package), `GET /` → the stock "Welcome to nginx!" page.
pub const NGINX_ROOT: &[u8] = fixture!("nginx-root.http");
/// nginx 1.22.1, a location with `auth_basic "restricted"` → 401.
pub const NGINX_401: &[u8] = fixture!("nginx-401.http");
/// nginx 1.22.1, a location with `deny all` → 403.
pub const NGINX_403: &[u8] = fixture!("nginx-403.http");
/// nginx 1.22.1, a missing file → 404.
pub const NGINX_404: &[u8] = fixture!("nginx-404.http");
/// Flask 3.1.3 on Werkzeug 3.1.9 (`flask run`), `GET /` of a one-route app.
pub const WERKZEUG_ROOT: &[u8] = fixture!("werkzeug-root.http");
/// Uvicorn 0.54.0 with a bare ASGI app, `GET /` (chunked JSON).
pub const UVICORN_ROOT: &[u8] = fixture!("uvicorn-root.http");
/// prometheus_client 0.26.0 `start_http_server` (wsgiref), `GET /metrics`.
pub const PROMETHEUS_CLIENT_METRICS: &[u8] = fixture!("prometheus-client-metrics.http");
/// Django 5.2.19 `runserver` (fresh `startproject`, DEBUG), `GET /` → the rocket page.
pub const DJANGO_ROOT: &[u8] = fixture!("django-root.http");
/// Django 5.2.19 `runserver`, `GET /json/version` → the DEBUG 404 page.
pub const DJANGO_404: &[u8] = fixture!("django-404.http");
/// jupyter_server 2.21.1 (Tornado 6.6.1) with a token, `GET /`.
pub const JUPYTER_TOKEN_ROOT: &[u8] = fixture!("jupyter-token-root.http");
/// jupyter_server 2.21.1 with a token, `GET /api`.
pub const JUPYTER_TOKEN_API: &[u8] = fixture!("jupyter-token-api.http");
/// jupyter_server 2.21.1 with a token, `GET /api/kernels` → 403.
pub const JUPYTER_TOKEN_KERNELS: &[u8] = fixture!("jupyter-token-api-kernels.http");
/// jupyter_server 2.21.1 with the token disabled, `GET /api` (sets the anonymous cookie).
pub const JUPYTER_OPEN_API: &[u8] = fixture!("jupyter-open-api.http");
/// jupyter_server 2.21.1 with the token disabled, `GET /api/kernels` → `[]`.
pub const JUPYTER_OPEN_KERNELS: &[u8] = fixture!("jupyter-open-api-kernels.http");
/// jupyter_server 2.21.1, `GET /json/version` → Tornado's 404 page.
pub const JUPYTER_404: &[u8] = fixture!("jupyter-404.http");
/// Vite 8.3.8 dev server, `GET /` (index.html with `/@vite/client` injected).
pub const VITE_ROOT: &[u8] = fixture!("vite-root.http");
/// Vite 8.3.8, `GET /` with `Host: evil.example` → 403 host check (chunked).
pub const VITE_BLOCKED: &[u8] = fixture!("vite-blocked-host.http");
/// Express 5.3.0 on Node v20.20.2, `GET /`.
pub const EXPRESS_ROOT: &[u8] = fixture!("express-root.http");
/// Express 5.3.0, `GET /json/version` → 404.
pub const EXPRESS_404: &[u8] = fixture!("express-404.http");
/// `openssl s_server -www` (OpenSSL 3.0.19), `GET /` inside TLS 1.3: the cipher page.
pub const OPENSSL_S_SERVER: &[u8] = fixture!("openssl-s-server-www.http");
/// Chromium 156.0.8078.79 `--headless --remote-debugging-port`, `GET /json/version`.
pub const CHROME_JSON_VERSION: &[u8] = fixture!("chrome-json-version.http");
/// Chromium 156.0.8078.79 DevTools, `GET /` → empty 200.
pub const CHROME_ROOT: &[u8] = fixture!("chrome-root.http");
/// prometheus-node-exporter 1.5.0 (Debian), `GET /metrics`: the first 20 480 bytes of a
/// 58 KB chunked reply (what the engine holds after its first reads).
pub const NODE_EXPORTER_METRICS: &[u8] = fixture!("node-exporter-metrics-prefix.http");
/// prometheus-node-exporter 1.5.0, `GET /` → its landing page.
pub const NODE_EXPORTER_ROOT: &[u8] = fixture!("node-exporter-root.http");
/// nginx 1.22.1 with `listen … ssl` on a run-time port (2026-12-05), `GET /` in clear text.
pub const NGINX_SSL_PLAIN_400: &[u8] = fixture!("nginx-ssl-plain-400.http");
/// Apache httpd 2.4.71 (Debian) with mod_ssl, `SSLEngine on`, `GET /` in clear text.
pub const APACHE_SSL_PLAIN_400: &[u8] = fixture!("apache-ssl-plain-400.http");
/// prometheus-node-exporter 1.5.0 (Go net/http) with a `tls_server_config`, `GET /` in
/// clear text.
pub const GO_HTTPS_PLAIN_400: &[u8] = fixture!("go-https-plain-400.http");

/// Varnish 7.1.1 (Debian 12, `varnishd -a … -b …`) in front of Python 3.11.7's http.server,
/// `GET /` (captured 2026-12-05).
pub const VARNISH_ROOT: &[u8] = fixture!("varnish-root.http");
/// PyPI websockets 17.4 (`websockets.asyncio.server.serve`), `GET /` → 426 with `Upgrade:
/// websocket` (captured 2026-12-05).
pub const WEBSOCKETS_426: &[u8] = fixture!("websockets-426.http");
/// npm ws 8 (`new WebSocketServer({port})`, Node v20.20.2), `GET /` → 426 (captured
/// 2026-12-05).
pub const NODE_WS_426: &[u8] = fixture!("node-ws-426.http");
/// etcd 3.4.23 (Debian 12 `etcd-server`), `GET /metrics`: the first 20 480 bytes of a 146 KB
/// chunked reply (captured 2026-12-05).
pub const ETCD_METRICS: &[u8] = fixture!("etcd-metrics-prefix.http");

// Synthetic replies, written from the services' documented formats (no server here to
// capture from). Marked as such in each name's comment.

/// Synthetic: Elasticsearch 7.17 `GET /` without security.
pub const ES_ROOT: &[u8] = b"HTTP/1.1 200 OK\r\nX-elastic-product: Elasticsearch\r\ncontent-type: application/json; charset=UTF-8\r\ncontent-length: 304\r\n\r\n{\n  \"name\" : \"es01\",\n  \"cluster_name\" : \"docker-cluster\",\n  \"cluster_uuid\" : \"y3mvMBL1Ra2Vt4mKqHqg1w\",\n  \"version\" : {\n    \"number\" : \"7.17.9\",\n    \"build_flavor\" : \"default\",\n    \"lucene_version\" : \"8.11.1\",\n    \"minimum_wire_compatibility_version\" : \"6.8.0\"\n  },\n  \"tagline\" : \"You Know, for Search\"\n}\n";
/// Synthetic: Elasticsearch 8 `GET /` with security on (no product header on the 401).
pub const ES_401: &[u8] = b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"security\" charset=\"UTF-8\"\r\nWWW-Authenticate: ApiKey\r\ncontent-type: application/json\r\ncontent-length: 57\r\n\r\n{\"error\":{\"type\":\"security_exception\"},\"status\":401}\n\n\n\n\n";
/// Synthetic: the Dart VM service `GET /` without its auth code.
pub const DART_403: &[u8] = b"HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 38\r\n\r\nmissing or invalid authentication code";
/// Synthetic: Docker Engine 28.2.2 `GET /version` on tcp://127.0.0.1:2375.
pub const DOCKER_VERSION: &[u8] = b"HTTP/1.1 200 OK\r\nApi-Version: 1.50\r\nContent-Type: application/json\r\nDocker-Experimental: false\r\nOstype: linux\r\nServer: Docker/28.2.2 (linux)\r\nContent-Length: 237\r\n\r\n{\"Platform\":{\"Name\":\"Docker Engine - Community\"},\"Components\":[{\"Name\":\"Engine\",\"Version\":\"28.2.2\"}],\"Version\":\"28.2.2\",\"ApiVersion\":\"1.50\",\"MinAPIVersion\":\"1.24\",\"GitCommit\":\"45873be\",\"GoVersion\":\"go1.24.3\",\"Os\":\"linux\",\"Arch\":\"amd64\"}\n";
/// Synthetic: Docker Engine `GET /` → its JSON 404.
pub const DOCKER_ROOT: &[u8] = b"HTTP/1.1 404 Not Found\r\nApi-Version: 1.50\r\nContent-Type: application/json\r\nServer: Docker/28.2.2 (linux)\r\nContent-Length: 29\r\n\r\n{\"message\":\"page not found\"}\n";
/// Synthetic: webpack-dev-server's host check (`X-Powered-By: Express`, close-delimited).
pub const WEBPACK_403: &[u8] = b"HTTP/1.1 403 Forbidden\r\nX-Powered-By: Express\r\nDate: Sun, 22 Nov 2026 00:00:00 GMT\r\nConnection: close\r\n\r\nInvalid Host header";
/// Synthetic: a Next.js dev server `GET /`.
pub const NEXT_ROOT: &[u8] = b"HTTP/1.1 200 OK\r\nX-Powered-By: Next.js\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 64\r\n\r\n<!DOCTYPE html><html><head><title>Create Next App</title></head>";
/// Synthetic: Apache Tomcat's answer to a plain request on a TLS connector, as its source
/// writes it (`TLSClientHelloExtractor.USE_TLS_RESPONSE`; Spring Boot embeds it).
pub const TOMCAT_PLAIN_400: &[u8] = b"HTTP/1.1 400 \r\nContent-Type: text/plain;charset=UTF-8\r\nConnection: close\r\n\r\nBad Request\r\nThis combination of host and port requires TLS.\r\n";
/// Synthetic: Squid 5.7 as a reverse proxy in front of Apache (its `Via` and `X-Cache`).
pub const SQUID_APACHE: &[u8] = b"HTTP/1.1 200 OK\r\nServer: Apache/2.4.57 (Debian)\r\nContent-Length: 2\r\nX-Cache: MISS from vm\r\nVia: 1.1 vm (squid/5.7)\r\nConnection: close\r\n\r\nok";
/// Synthetic: a proxy that names only its host in `Via`, in front of nginx.
pub const VIA_HOST_NGINX: &[u8] =
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nVia: 1.1 edge-7\r\nContent-Length: 2\r\n\r\nok";
/// Synthetic (as a test server sent it): a websocket endpoint's close-delimited 403 that keeps
/// the connection open — the head is all that ever comes.
pub const WS_403_HELD: &[u8] =
    b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nSec-WebSocket-Version: 13\r\n\r\n";
