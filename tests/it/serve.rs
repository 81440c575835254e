//! `portscope serve`: real servers, real sockets (std `TcpStream`), stopped by SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::harness::{TempDir, portscope, run, tcp_listener};
use crate::stream::EventStream;

const WAIT: Duration = Duration::from_secs(30);

/// A running `portscope serve … --json` and its start line.
struct Server {
    stream: EventStream,
    addr: SocketAddr,
    start: Value,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut all = vec!["serve"];
        all.extend_from_slice(args);
        all.push("--json");
        let stream = EventStream::start_until(&all, "serving");
        let start = stream.started.clone();
        let addr = start["address"].as_str().unwrap().parse().unwrap();
        Server {
            stream,
            addr,
            start,
        }
    }

    /// The next live line.
    fn next(&mut self) -> Value {
        self.stream
            .wait_for(WAIT, |_| true)
            .expect("a live line within 30 s")
    }

    /// SIGTERM, then the exit code and the report (the last JSON value printed).
    fn stop(mut self) -> (i32, Value) {
        let code = self.stream.stop(rustix::process::Signal::TERM);
        let last = self.stream.seen.last().cloned().unwrap_or(Value::Null);
        (code, last)
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.set_write_timeout(Some(WAIT)).unwrap();
    s
}

/// One HTTP/1.1 request (connection closed after): the status and the whole response.
fn http(addr: SocketAddr, request: &str) -> (u16, String) {
    let mut s = connect(addr);
    s.write_all(request.as_bytes()).unwrap();
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    let resp = String::from_utf8_lossy(&resp).into_owned();
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, resp)
}

fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    http(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
    )
}

#[test]
fn http_echoes_the_request_and_the_client() {
    let mut srv = Server::start(&["--port", "0"]);
    assert_eq!(srv.start["kind"], "http");
    assert_eq!(srv.start["chosen"], "port");
    assert_eq!(srv.start["url"], format!("http://{}/", srv.addr));
    let mut s = connect(srv.addr);
    let me = s.local_addr().unwrap();
    s.write_all(
        b"POST /some/path?q=1 HTTP/1.1\r\nHost: x\r\nX-Portscope-Test: hello-42\r\n\
          Content-Length: 5\r\nConnection: close\r\n\r\nabcde",
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains(&format!("client: {me}")), "{resp}");
    assert!(resp.contains("x-portscope-test: hello-42"), "{resp}");
    assert!(resp.contains("POST /some/path?q=1 HTTP/1.1"), "{resp}");
    assert!(resp.contains("\nabcde"), "{resp}");
    let lower = resp.to_ascii_lowercase();
    assert!(lower.contains("content-type: text/plain"), "{resp}");
    assert!(lower.contains("x-content-type-options: nosniff"), "{resp}");
    let line = srv.next();
    assert_eq!(line["event"], "request");
    assert_eq!(line["client"], me.to_string());
    assert_eq!(line["method"], "POST");
    assert_eq!(line["path"], "/some/path?q=1");
    assert_eq!(line["status"], 200);

    // JSON, by Accept and by ?format=json.
    let (status, resp) = http(
        srv.addr,
        "GET /j HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200);
    let body = resp.split("\r\n\r\n").nth(1).unwrap();
    let v: Value = serde_json::from_str(body).unwrap();
    let client: SocketAddr = v["client"].as_str().unwrap().parse().unwrap();
    assert!(client.ip().is_loopback() && client.port() != 0, "{v}");
    assert_eq!(v["server"], srv.addr.to_string());
    assert_eq!(v["target"], "/j");
    let (_, resp) = get(srv.addr, "/?format=json");
    assert!(resp.contains("\"target\": \"/?format=json\""), "{resp}");

    // A body over 1 MiB is refused.
    let (status, _) = http(
        srv.addr,
        "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 413);

    let (code, report) = srv.stop();
    assert_eq!(code, 0);
    assert_eq!(report["stopped_by"], "SIGTERM");
    assert!(report["requests"].as_u64().unwrap() >= 4, "{report}");
}

#[test]
fn echo_returns_a_mebibyte_intact() {
    let mut srv = Server::start(&["echo", "--port", "0"]);
    assert_eq!(srv.start["url"], format!("tcp://{}", srv.addr));
    // Pseudo-random bytes (xorshift).
    let mut x = 0x9E37_79B9_7F4A_7C15_u64;
    let data: Vec<u8> = (0..1 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let s = connect(srv.addr);
    let mut w = s.try_clone().unwrap();
    let sent = data.clone();
    let writer = std::thread::spawn(move || {
        w.write_all(&sent).unwrap();
        w.shutdown(std::net::Shutdown::Write).unwrap();
    });
    let mut back = Vec::new();
    (&s).read_to_end(&mut back).unwrap();
    writer.join().unwrap();
    assert_eq!(back.len(), data.len());
    assert!(back == data, "echoed bytes differ");
    let line = srv.next();
    assert_eq!(line["event"], "connection");
    assert_eq!(line["bytes_in"], 1 << 20);
    assert_eq!(line["bytes_out"], 1 << 20);
    let (code, report) = srv.stop();
    assert_eq!(code, 0);
    assert_eq!(report["bytes_out"], 1 << 20);
}

#[test]
fn discard_counts_what_it_drops() {
    let mut srv = Server::start(&["discard", "--port", "0"]);
    for _ in 0..2 {
        let mut s = connect(srv.addr);
        s.write_all(&vec![0x5a; 300_000]).unwrap();
        drop(s);
        let line = srv.next();
        assert_eq!(line["event"], "connection");
        assert_eq!(line["bytes_in"], 300_000);
        assert_eq!(line["bytes_out"], 0);
    }
    let (code, report) = srv.stop();
    assert_eq!(code, 0);
    assert_eq!(report["kind"], "discard");
    assert_eq!(report["connections"], 2);
    assert_eq!(report["bytes_in"], 600_000);
    assert_eq!(report["stopped_by"], "SIGTERM");
}

#[test]
fn static_serves_files_lists_safely_and_never_leaves_dir() {
    let tmp = TempDir::new("serve-static");
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("hello.txt"), "hello from portscope\n").unwrap();
    std::fs::write(root.join("<img src=x>.txt"), "x").unwrap();
    std::fs::write(tmp.path().join("secret.txt"), "SECRET-OUTSIDE").unwrap();
    let srv = Server::start(&["static", root.to_str().unwrap(), "--port", "0"]);
    assert_eq!(srv.start["kind"], "static");

    let (status, resp) = get(srv.addr, "/hello.txt");
    assert_eq!(status, 200, "{resp}");
    assert!(resp.ends_with("\r\n\r\nhello from portscope\n"), "{resp}");
    assert!(
        resp.to_ascii_lowercase()
            .contains("content-type: text/plain"),
        "{resp}"
    );

    let (status, listing) = get(srv.addr, "/");
    assert_eq!(status, 200, "{listing}");
    assert!(listing.contains("Directory listing for /"), "{listing}");
    assert!(listing.contains("&lt;img src=x&gt;.txt"), "{listing}");
    assert!(!listing.contains("<img"), "{listing}");
    assert!(listing.contains("href=\"sub/\""), "{listing}");
    let (status, _) = get(srv.addr, "/sub/");
    assert_eq!(status, 200);
    // DNS rebinding: a page on another name must not read the directory.
    let (status, resp) = http(
        srv.addr,
        "GET /hello.txt HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 403, "{resp}");
    assert!(!resp.contains("hello from portscope"), "{resp}");

    for path in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/sub/../../secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/../",
        "/%2e%2e/",
        "/sub/%2e%2e%2f%2e%2e%2f",
    ] {
        let (status, resp) = get(srv.addr, path);
        assert!(!resp.contains("SECRET-OUTSIDE"), "{path}: {resp}");
        assert!(!resp.contains("secret.txt</a>"), "{path}: {resp}");
        assert!((400..500).contains(&status), "{path}: {status}");
    }
    let (code, _) = srv.stop();
    assert_eq!(code, 0);
}

#[test]
fn a_taken_port_names_its_holder() {
    let holder = tcp_listener("127.0.0.1");
    let port = holder.num(0);
    let r = run(&["serve", "--port", &port.to_string()]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains(&port.to_string()), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("pid {}", holder.pid)),
        "{}",
        r.stderr
    );
}

#[test]
fn pick_serves_on_a_free_port() {
    let srv = Server::start(&["echo", "--pick"]);
    assert_eq!(srv.start["chosen"], "pick");
    assert!(srv.addr.port() >= 1024);
    let mut s = connect(srv.addr);
    s.write_all(b"ping").unwrap();
    let mut b = [0u8; 4];
    s.read_exact(&mut b).unwrap();
    assert_eq!(&b, b"ping");
}

#[test]
fn default_port_when_free_else_a_free_one() {
    let srv = Server::start(&[]);
    let port = srv.addr.port();
    assert!(srv.addr.ip().is_loopback());
    match srv.start["chosen"].as_str().unwrap() {
        "default" => assert_eq!(port, 62893),
        "default_taken" => assert_ne!(port, 62893),
        other => panic!("chosen {other}"),
    }
    // The text form says where.
    drop(srv);
    let mut child = portscope()
        .args(["serve", "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.starts_with("Development server started at http://127.0.0.1:"),
        "{line}"
    );
    assert!(line.contains("Ctrl-C to stop"), "{line}");
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let tmp = TempDir::new("serve-bad");
    let file = tmp.join("f.txt");
    std::fs::write(&file, "x").unwrap();
    let missing = tmp.join("missing");
    for args in [
        vec!["serve", "static"],
        vec!["serve", "static", &missing],
        vec!["serve", "static", &file],
        vec!["serve", "--port", "70000"],
        vec!["serve", "--bind", "nowhere"],
        vec!["serve", "echo", tmp.arg()],
    ] {
        let r = run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr.trim().lines().count(), 1, "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
    }
}

#[test]
fn a_server_whose_log_reader_leaves_goes_on_and_says_so_once() {
    let mut child = portscope()
        .args(["serve", "http", "--pick", "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let start: Value = serde_json::from_str(&line).unwrap();
    let addr: SocketAddr = start["address"].as_str().unwrap().parse().unwrap();
    drop(out);
    for _ in 0..3 {
        assert_eq!(get(addr, "/still-there").0, 200);
    }
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let done = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&done.stderr);
    assert_eq!(err.matches("standard output is closed").count(), 1, "{err}");
    assert!(err.contains("portscope serve: "), "{err}");
}
