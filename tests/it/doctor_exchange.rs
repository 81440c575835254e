//! `doctor` judges by the exchange a client makes, not by the TCP handshake: a bare port is
//! probed and, when it speaks HTTP, asked `GET /`; a URL gets its own path and Host, over TLS
//! for `https://`, with the certificate verified as curl verifies it. A port whose protocol is
//! unknown is "undecided" (exit 3), never "works".

use crate::harness::{codes, json, needs, output, portscope, python, run};
use crate::servers;

/// A python TCP server on 127.0.0.1 port 0 that, per connection, does what `mode` says:
/// `silent` (accepts, reads, never answers), `close` (accepts and closes at once),
/// `noaccept` (listens, never accepts). Prints `PORT PID`.
fn tcp(mode: &str) -> crate::harness::Spawned {
    python(&format!(
        "import socket,os,time\n\
         mode={mode:?}\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(64)\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         if mode=='noaccept': time.sleep(120)\n\
         held=[]\n\
         while True:\n\
         \x20   c,_=s.accept()\n\
         \x20   if mode=='close': c.close()\n\
         \x20   else: held.append(c)\n"
    ))
}

/// A python HTTP server on 127.0.0.1 port 0 that answers 404 to everything but `/health`,
/// and appends each request line to `log`. Prints `PORT PID`.
fn api(log: &std::path::Path) -> crate::harness::Spawned {
    python(&format!(
        "import http.server,os\n\
         class H(http.server.BaseHTTPRequestHandler):\n\
         \x20   def do_GET(self):\n\
         \x20       open({log:?},'a').write(self.requestline+' '+self.headers['Host']+'\\n')\n\
         \x20       self.send_response(200 if self.path.startswith('/health') else 404)\n\
         \x20       self.end_headers(); self.wfile.write(b'{{}}')\n\
         \x20   def log_message(self,*a): pass\n\
         s=http.server.HTTPServer(('127.0.0.1',0),H)\n\
         print(s.server_address[1], os.getpid(), flush=True)\n\
         s.serve_forever()\n"
    ))
}

#[test]
fn a_bare_port_that_speaks_http_is_asked_get_slash() {
    let dir = crate::harness::TempDir::new("doctor-api");
    let log = dir.path().join("requests");
    let server = api(&log);
    let port = &server.words[0];
    let r = run(&["--json", "doctor", port]);
    assert_eq!(r.code, 0, "{r:?}");
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(j["checked"], "request", "{j}");
    assert!(j["protocol"].as_str().unwrap().starts_with("http"), "{j}");
    // GET / on a bare port answered 404: an API with no root route still works.
    assert_eq!(j["http"]["status"], 404, "{j}");
    assert!(
        !codes(&j).iter().any(|c| c == "DOC-HTTP-STATUS"),
        "a 404 on / is no failure of a bare port: {j}"
    );
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains(&format!("GET / HTTP/1.1 localhost:{port}")),
        "the request a browser sends to http://localhost:{port}/"
    );
    // The URL's own path is what the client asks for, and an error status there fails.
    let ok = run(&["doctor", &format!("http://localhost:{port}/health?full=1")]);
    assert_eq!(ok.code, 0, "{ok:?}");
    assert!(ok.stdout.contains("GET /health?full=1 answered"), "{ok:?}");
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("GET /health?full=1 HTTP/1.1"),
        "the URL's path and query are sent"
    );
    let missing = json(&["doctor", &format!("http://localhost:{port}/nope")]);
    assert_eq!(missing["works"], false, "{missing}");
    assert_eq!(missing["target"]["path"], "/nope", "{missing}");
    assert_eq!(codes(&missing)[0], "DOC-HTTP-STATUS", "{missing}");
}

#[test]
fn a_known_protocol_is_judged_by_its_own_exchange() {
    let Some(redis) = servers::redis(None) else {
        return;
    };
    let r = run(&["--json", "doctor", &redis.port.to_string()]);
    assert_eq!(r.code, 0, "{r:?}");
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(j["checked"], "protocol", "{j}");
    assert!(j["protocol"].as_str().unwrap().starts_with("redis"), "{j}");
    assert!(
        j["verdict"].as_str().unwrap().contains("answers as redis"),
        "{j}"
    );
    assert!(j.get("http").is_none(), "no HTTP request to redis: {j}");
}

#[test]
fn a_silent_port_is_undecided_never_works() {
    let server = tcp("silent");
    let r = run(&["doctor", &format!("127.0.0.1:{}", server.words[0])]);
    assert_eq!(r.code, 3, "undecided, not works: {r:?}");
    assert!(r.stdout.starts_with("UNKNOWN "), "{r:?}");
    assert!(r.stdout.contains("answered none of"), "{r:?}");
    assert!(r.stdout.contains("http-get"), "says what it asked: {r:?}");
    let j = json(&["doctor", &format!("127.0.0.1:{}", server.words[0])]);
    assert_eq!(j["works"], false, "{j}");
    assert_eq!(j["checked"], "connect", "{j}");
}

#[test]
fn a_listener_nobody_accepts_on_is_named() {
    let server = tcp("noaccept");
    let r = run(&["--json", "doctor", &server.words[0]]);
    assert_eq!(r.code, 1, "{r:?}");
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(codes(&j)[0], "DOC-NOT-ACCEPTING", "{j}");
    assert!(
        j["findings"][0]["evidence"]
            .to_string()
            .contains("waiting in its accept queue"),
        "{j}"
    );
}

#[test]
fn a_port_that_closes_at_once_is_named() {
    let server = tcp("close");
    let r = run(&["--json", "doctor", &server.words[0]]);
    assert_eq!(r.code, 1, "{r:?}");
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(codes(&j)[0], "DOC-CLOSED-AT-ONCE", "{j}");
    assert_eq!(j["attempts"][0]["outcome"], "closed_at_once", "{j}");
}

/// curl's exit status for `url`, with `env`: the ground truth for "the request works".
fn curl(curl: &std::path::Path, url: &str, env: &[(&str, &str)]) -> i32 {
    let mut c = std::process::Command::new(curl);
    c.args(["-s", "-o", "/dev/null", "--max-time", "5", url]);
    for (k, v) in env {
        c.env(k, v);
    }
    c.status().unwrap().code().unwrap_or(-1)
}

#[test]
fn https_is_judged_as_a_verifying_client_judges_it() {
    let Some(curl_bin) = needs(
        "https_is_judged_as_a_verifying_client_judges_it",
        "curl",
        "curl",
    ) else {
        return;
    };
    let Some((server, ca)) = servers::tls_server_with_ca() else {
        return;
    };
    let url = format!("https://localhost:{}/", server.port);
    // Trusted through the CA bundle named by SSL_CERT_FILE (curl: CURL_CA_BUNDLE).
    assert_eq!(curl(&curl_bin, &url, &[("CURL_CA_BUNDLE", &ca)]), 0);
    let trusted = output(portscope().args(["doctor", &url]).env("SSL_CERT_FILE", &ca));
    assert_eq!(trusted.code, 0, "{trusted:?}");
    assert!(
        trusted
            .stdout
            .contains("works: GET / answered HTTP/1.0 200 ok"),
        "{trusted:?}"
    );
    // The system bundle does not know that CA: curl fails, and so does the verdict.
    assert_ne!(curl(&curl_bin, &url, &[]), 0);
    let r = run(&["--json", "doctor", &url]);
    assert_eq!(r.code, 1, "{r:?}");
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(codes(&j)[0], "DOC-TLS-UNTRUSTED", "{j}");
    assert!(
        j["findings"][0]["evidence"]
            .to_string()
            .contains("not a CA the system trusts"),
        "{j}"
    );
    // A self-signed certificate (openssl req -x509): refused, and said so.
    let Some(selfsigned) = servers::tls_server() else {
        return;
    };
    let url = format!("https://localhost:{}/", selfsigned.port);
    assert_ne!(curl(&curl_bin, &url, &[]), 0);
    let j = json(&["doctor", &url]);
    assert_eq!(codes(&j)[0], "DOC-TLS-UNTRUSTED", "{j}");
    assert!(
        j["findings"][0]["title"]
            .as_str()
            .unwrap()
            .contains("self-signed"),
        "{j}"
    );
}
