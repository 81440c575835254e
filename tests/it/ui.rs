//! Integration tests of `ui`: the real binary on a kernel-chosen port, spoken to with raw
//! HTTP/1.1 over `TcpStream`: the Host check (DNS rebinding), the token and its cookie,
//! state changes needing the header token and a matching Origin, the security headers on
//! every response, the JSON API, the event stream, and hostile process names.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::harness;

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// A running `portscope ui`.
pub(crate) struct Ui {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub(crate) host: String,
    pub(crate) token: String,
    /// The lines of its standard error after the one that says where it serves.
    stderr: std::sync::mpsc::Receiver<String>,
}

impl Ui {
    pub(crate) fn start() -> Ui {
        let ui = Ui::start_with(&[]);
        assert_eq!(ui.token.len(), 64, "{}", ui.token);
        ui
    }

    /// `portscope ui --listen 127.0.0.1:0 ARGS`, without a token in the environment, once
    /// it says where it serves.
    pub(crate) fn start_with(args: &[&str]) -> Ui {
        let state = std::env::temp_dir().join(format!("portscope-ui-test-{}", std::process::id()));
        let mut child = harness::portscope()
            .args(["ui", "--listen", "127.0.0.1:0"])
            .args(args)
            .env("PORTSCOPE_STATE_DIR", &state)
            .env_remove("PORTSCOPE_UI_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let url = line
            .trim_end()
            .strip_prefix("portscope ui: serving http://")
            .unwrap_or_else(|| panic!("unexpected start line {line:?}"));
        let (host, token) = url.split_once("/?token=").unwrap();
        assert!(host.starts_with("127.0.0.1:"), "{line}");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Ui {
            child,
            host: host.into(),
            token: token.into(),
            stderr: lines,
        }
    }

    /// The next line on its standard error (without its newline), within 20 s.
    pub(crate) fn stderr_line(&self) -> String {
        self.stderr
            .recv_timeout(Duration::from_secs(20))
            .expect("no further line on standard error within 20 s")
    }

    pub(crate) fn cookie(&self) -> String {
        format!("Cookie: portscope_token={}\r\n", self.token)
    }

    /// Send `head` (request line and headers, without the final blank line) and `body`.
    fn send(&self, head: &str, body: &str) -> Response {
        let mut s = TcpStream::connect(&self.host).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let length = if body.is_empty() {
            String::new()
        } else {
            format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            )
        };
        write!(s, "{head}{length}Connection: close\r\n\r\n{body}").unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        Response::parse(&String::from_utf8_lossy(&raw))
    }

    pub(crate) fn get(&self, path: &str, extra: &str) -> Response {
        self.send(
            &format!("GET {path} HTTP/1.1\r\nHost: {}\r\n{extra}", self.host),
            "",
        )
    }

    fn kill(&self, extra: &str, body: &str) -> Response {
        self.send(
            &format!("POST /api/kill HTTP/1.1\r\nHost: {}\r\n{extra}", self.host),
            body,
        )
    }

    /// Both headers a state change needs.
    fn action_headers(&self) -> String {
        format!(
            "X-Portscope-Token: {}\r\nOrigin: http://{}\r\n",
            self.token, self.host
        )
    }

    /// SIGTERM it; its exit code and standard output.
    fn stop(mut self) -> (i32, String) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        let mut out = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        let code = self.child.wait().unwrap().code().unwrap_or(-1);
        (code, out)
    }
}

impl Drop for Ui {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) struct Response {
    pub(crate) status: u16,
    /// Header lines, names in lower case.
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn parse(raw: &str) -> Response {
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {raw:?}"));
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Response {
            status,
            headers,
            body: body.into(),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The security headers every response carries.
    fn assert_hardened(&self) {
        assert_eq!(
            self.header("content-security-policy"),
            Some(CSP),
            "{}",
            self.status
        );
        assert_eq!(self.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(self.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(self.header("x-frame-options"), Some("DENY"));
        assert_eq!(self.header("cache-control"), Some("no-store"));
    }
}

fn alive(port: u32) -> bool {
    TcpStream::connect(("127.0.0.1", port as u16)).is_ok()
}

#[test]
fn host_token_cookie_and_headers() {
    let ui = Ui::start();
    let listener = harness::tcp_listener("127.0.0.1");
    let port = listener.num(0);

    // DNS rebinding: a foreign Host is refused even with the right cookie.
    let evil = ui.send(
        &format!(
            "GET /api/ls HTTP/1.1\r\nHost: evil.example\r\n{}",
            ui.cookie()
        ),
        "",
    );
    assert_eq!(evil.status, 403, "{}", evil.body);
    evil.assert_hardened();
    let wrong_port = ui.send("GET / HTTP/1.1\r\nHost: 127.0.0.1:1\r\n", "");
    assert_eq!(wrong_port.status, 403);

    for path in ["/", "/api/ls", "/api/events"] {
        let r = ui.get(path, "");
        assert_eq!(r.status, 401, "{path}: {}", r.body);
        r.assert_hardened();
    }
    let wrong = ui.get("/?token=0000", "");
    assert_eq!(wrong.status, 401);

    let login = ui.get(&format!("/?token={}", ui.token), "");
    assert_eq!(login.status, 303);
    assert_eq!(login.header("location"), Some("/"));
    assert_eq!(
        login.header("set-cookie"),
        Some(
            format!(
                "portscope_token={}; HttpOnly; SameSite=Strict; Path=/",
                ui.token
            )
            .as_str()
        )
    );
    login.assert_hardened();

    let page = ui.get("/", &ui.cookie());
    assert_eq!(page.status, 200);
    page.assert_hardened();
    assert!(page.body.contains(&format!(
        "<meta name=\"portscope-token\" content=\"{}\">",
        ui.token
    )));
    let js = ui.get("/assets/app.js", "");
    assert_eq!(js.status, 200, "assets need no token");
    assert!(
        js.header("content-type")
            .unwrap()
            .starts_with("text/javascript")
    );
    js.assert_hardened();

    let ls = ui.get("/api/ls", &ui.cookie());
    assert_eq!(ls.status, 200, "{}", ls.body);
    ls.assert_hardened();
    let v = ls.json();
    assert_eq!(v["command"], "ls");
    assert_eq!(v["schema_version"], 1);
    let mine = harness::on_port(&v, port);
    assert_eq!(mine.len(), 1, "{v}");
    assert_eq!(harness::pids(&mine[0]), vec![listener.pid]);

    // The header works as well as the cookie.
    let by_header = ui.get("/api/ls", &format!("X-Portscope-Token: {}\r\n", ui.token));
    assert_eq!(by_header.status, 200);

    let who = ui.get(&format!("/api/who?target={port}"), &ui.cookie());
    assert_eq!(who.status, 200, "{}", who.body);
    assert_eq!(who.json()["held"], true);
    let bad = ui.get("/api/who", &ui.cookie());
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"].as_str().unwrap().contains("target"));
    bad.assert_hardened();
    let history = ui.get("/api/history", &ui.cookie());
    assert_eq!(history.status, 200, "{}", history.body);
    assert_eq!(history.json()["store"], serde_json::Value::Null);

    let (code, out) = ui.stop();
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("portscope ui: stopped by SIGTERM after "),
        "{out}"
    );
}

#[test]
fn kill_needs_header_token_and_origin() {
    let ui = Ui::start();
    let listener = harness::tcp_listener("127.0.0.1");
    let port = listener.num(0);
    let body = |dry: bool| format!("{{\"target\":\"127.0.0.1:{port}/tcp\",\"dry_run\":{dry}}}");
    let origin = format!("Origin: http://{}\r\n", ui.host);

    let cookie_only = ui.kill(&format!("{}{origin}", ui.cookie()), &body(false));
    assert_eq!(cookie_only.status, 403, "{}", cookie_only.body);
    cookie_only.assert_hardened();
    let foreign = ui.kill(
        &format!(
            "X-Portscope-Token: {}\r\nOrigin: http://evil.example\r\n",
            ui.token
        ),
        &body(false),
    );
    assert_eq!(foreign.status, 403);
    let no_origin = ui.kill(
        &format!("X-Portscope-Token: {}\r\n", ui.token),
        &body(false),
    );
    assert_eq!(no_origin.status, 403);
    assert!(alive(port));

    let bad = ui.kill(&ui.action_headers(), "{\"target\":\"x\"}");
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(bad.body.trim_end().lines().count(), 1);
    assert!(bad.json()["error"].is_string());

    let dry = ui.kill(&ui.action_headers(), &body(true));
    assert_eq!(dry.status, 200, "{}", dry.body);
    dry.assert_hardened();
    let v = dry.json();
    assert_eq!(v["command"], "kill");
    assert_eq!(v["dry_run"], true);
    assert!(alive(port), "a dry run stopped the listener");

    let real = ui.kill(&ui.action_headers(), &body(false));
    assert_eq!(real.status, 200, "{}", real.body);
    let v = real.json();
    assert_eq!(v["all_free"], true, "{v}");
    assert!(!alive(port), "the listener survived");
}

#[test]
fn events_stream_new_listeners() {
    let ui = Ui::start();
    let mut s = TcpStream::connect(&ui.host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    write!(
        s,
        "GET /api/events HTTP/1.1\r\nHost: {}\r\n{}Accept: text/event-stream\r\n\r\n",
        ui.host,
        ui.cookie()
    )
    .unwrap();
    let mut reader = BufReader::new(s);
    let mut seen = String::new();
    let read_until =
        |reader: &mut BufReader<TcpStream>, seen: &mut String, want: &dyn Fn(&str) -> bool| {
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                seen.push_str(&line);
                if want(seen) {
                    return true;
                }
            }
            false
        };
    assert!(
        read_until(&mut reader, &mut seen, &|s| s.contains("event: ready")),
        "{seen}"
    );
    assert!(seen.starts_with("HTTP/1.1 200"), "{seen}");
    assert!(
        seen.to_ascii_lowercase()
            .contains("content-type: text/event-stream"),
        "{seen}"
    );
    assert!(seen.contains(CSP), "{seen}");

    let listener = harness::tcp_listener("127.0.0.1");
    let port = listener.num(0);
    let wanted = format!("\"port\":{port},");
    let found = read_until(&mut reader, &mut seen, &|s| {
        s.lines().collect::<Vec<_>>().windows(2).any(|w| {
            w[0] == "event: listen-opened" && w[1].starts_with("data: ") && w[1].contains(&wanted)
        })
    });
    assert!(found, "no listen-opened for port {port}:\n{seen}");
    let data = seen
        .lines()
        .find(|l| l.starts_with("data: ") && l.contains(&wanted))
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&data["data: ".len()..]).unwrap();
    assert_eq!(v["event"], "listen-opened");
    assert_eq!(v["pid"], listener.pid);
}

#[test]
fn hostile_process_names_arrive_as_text() {
    let hostile = "<img src=x onerror=alert(1)>";
    let ui = Ui::start();
    let listener = harness::named_listener(hostile);
    let port = listener.num(0);
    let v = ui.get("/api/ls", &ui.cookie()).json();
    let mine = harness::on_port(&v, port);
    assert_eq!(mine.len(), 1, "{v}");
    let pid = listener.pid.to_string();
    let process = &v["processes"][&pid];
    assert_eq!(process["cmdline"][0], hostile, "{process}");
    // comm keeps 15 bytes.
    assert_eq!(process["comm"], &hostile[..15], "{process}");
}

#[test]
fn bad_input_is_one_line_exit_2() {
    for args in [
        &["ui", "--listen", "0.0.0.0:0"][..],
        &["ui", "--listen", "nonsense"],
        &["ui", "--listen", "127.0.0.1:99999"],
        &["ui", "--token", "short"],
    ] {
        let r = harness::output(
            harness::portscope()
                .args(args)
                .env_remove("PORTSCOPE_UI_TOKEN"),
        );
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(r.stderr.starts_with("portscope: error: "), "{}", r.stderr);
        assert!(r.stdout.is_empty());
    }
    let r = harness::run(&["ui", "--listen", "0.0.0.0:0"]);
    assert!(r.stderr.contains("--token"), "{}", r.stderr);
}

/// A python TCP server on 127.0.0.1 port 0 that accepts (so its end of each connection has an
/// owner) and a python client connected to it. Returns (server, client); the server prints
/// `PORT PID`, the client `PID`.
fn connected_pair() -> (harness::Spawned, harness::Spawned) {
    let server = harness::python(
        "import socket,os,time,threading\n\
         threading.Timer(120, os._exit, [0]).start()\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(4)\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         held=[]\n\
         while True: held.append(s.accept())\n",
    );
    let port = server.num(0);
    let client = harness::python(&format!(
        "import socket,os,time\n\
         c=socket.create_connection(('127.0.0.1',{port}))\n\
         print(os.getpid(), flush=True)\n\
         time.sleep(120)\n"
    ));
    (server, client)
}

#[test]
fn graph_pairs_a_local_client_with_its_server() {
    let ui = Ui::start();
    let (server, client) = connected_pair();
    let port = server.num(0);
    let deadline = Instant::now() + Duration::from_secs(10);
    let (v, edge) = loop {
        let r = ui.get("/api/graph", &ui.cookie());
        assert_eq!(r.status, 200, "{}", r.body);
        r.assert_hardened();
        let v = r.json();
        let edge = v["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["port"] == port)
            .cloned();
        // The server's end has an owner once it has accepted: give it a moment.
        if edge.is_some() || Instant::now() > deadline {
            break (v, edge);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(v["command"], "graph");
    assert_eq!(v["schema_version"], 1);
    let edge = edge.unwrap_or_else(|| panic!("no edge on port {port}: {v}"));
    assert_eq!(edge["from_pid"], client.pid, "{v}");
    assert_eq!(edge["to_pid"], server.pid, "{v}");
    assert_eq!(edge["count"], 1, "{v}");
    let node = |pid: u32| {
        v["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["pid"] == pid)
            .cloned()
            .unwrap_or_else(|| panic!("no node {pid}: {v}"))
    };
    assert_eq!(node(server.pid)["process"], "python3");
    assert_eq!(node(server.pid)["listens"], serde_json::json!([port]));
    assert_eq!(node(client.pid)["listens"], serde_json::json!([]));
}

#[test]
fn probe_identifies_http_listeners() {
    let ui = Ui::start();
    let http = harness::python(
        "import http.server,os,threading\n\
         threading.Timer(120, os._exit, [0]).start()\n\
         class H(http.server.BaseHTTPRequestHandler):\n\
         \x20   def do_GET(self):\n\
         \x20       body=b'<html><title>hello</title></html>'\n\
         \x20       self.send_response(200); self.send_header('Content-Type','text/html')\n\
         \x20       self.send_header('Content-Length',str(len(body))); self.end_headers()\n\
         \x20       self.wfile.write(body)\n\
         \x20   def log_message(self,*a): pass\n\
         s=http.server.ThreadingHTTPServer(('127.0.0.1',0),H)\n\
         print(s.server_address[1], os.getpid(), flush=True)\n\
         s.serve_forever()\n",
    );
    let port = http.num(0);
    let other = harness::tcp_listener("127.0.0.1");
    let silent = other.num(0);

    let one = ui.get(&format!("/api/probe?target=127.0.0.1:{port}"), &ui.cookie());
    assert_eq!(one.status, 200, "{}", one.body);
    one.assert_hardened();
    let v = one.json();
    assert_eq!(v["command"], "probe");
    assert_eq!(v["results"][0]["port"], port, "{v}");
    assert_eq!(v["results"][0]["identification"]["protocol"], "http", "{v}");

    // No target: every listening TCP port, this one among them.
    let all = ui.get("/api/probe", &ui.cookie());
    assert_eq!(all.status, 200, "{}", all.body);
    let v = all.json();
    let result = |p: u32| {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["port"] == p && r["addr"] == "127.0.0.1")
            .cloned()
            .unwrap_or_else(|| panic!("port {p} not probed: {v}"))
    };
    let found = result(port);
    assert_eq!(found["identification"]["protocol"], "http", "{found}");
    assert_eq!(found["owner"]["pid"], http.pid, "{found}");
    let quiet = result(silent);
    assert_ne!(quiet["identification"]["protocol"], "http", "{quiet}");
}
