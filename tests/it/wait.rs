//! `wait`: real servers that come up (or go away) after a delay, on ports the test got from
//! the kernel (port 0), and the timeout.

use std::time::{Duration, Instant};

use crate::harness::{Spawned, python, run};

/// A port nothing holds now: the kernel's choice for port 0, closed again.
fn free_port() -> u16 {
    let s = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}

/// Run `portscope wait ARGS…` and say how long it took.
fn wait(args: &[&str]) -> (crate::harness::Run, Duration) {
    let mut all = vec!["wait"];
    all.extend_from_slice(args);
    let t0 = Instant::now();
    let r = run(&all);
    (r, t0.elapsed())
}

/// A python script that prints its pid at once (the ready line) and then runs `body`.
fn later(body: &str) -> Spawned {
    python(&format!(
        "import socket,os,time,sys\nprint(os.getpid(), flush=True)\n{body}\ntime.sleep(120)\n"
    ))
}

#[test]
fn a_server_that_starts_late_is_waited_for() {
    let port = free_port();
    let _server = later(&format!(
        "time.sleep(0.5)\n\
         s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
         s.bind(('127.0.0.1',{port})); s.listen(16)"
    ));
    let (r, took) = wait(&[&port.to_string(), "--timeout", "20s"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .starts_with(&format!("127.0.0.1:{port} accepts connections (after ")),
        "{}",
        r.stdout
    );
    assert!(
        took >= Duration::from_millis(400),
        "met before the server listened: {took:?}"
    );
}

#[test]
fn http_waits_for_a_status_below_400() {
    let port = free_port();
    // 503 for the first requests (about 0.6 s), then 200.
    let _server = later(&format!(
        "from http.server import BaseHTTPRequestHandler, HTTPServer\n\
         t0=time.time()\n\
         class H(BaseHTTPRequestHandler):\n\
         \x20   def do_GET(self):\n\
         \x20       code = 200 if time.time()-t0 > 0.6 and self.path == '/health' else 503\n\
         \x20       self.send_response(code); self.send_header('Content-Length','0'); self.end_headers()\n\
         \x20   def log_message(self, *a): pass\n\
         HTTPServer(('127.0.0.1',{port}), H).serve_forever()"
    ));
    let (r, took) = wait(&[&port.to_string(), "--http", "/health", "--timeout", "20s"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains(" 200 OK"), "{}", r.stdout);
    assert!(took >= Duration::from_millis(500), "met on a 503: {took:?}");
    // A URL implies --http with its path; a path that only ever gets 503 times out (exit 1)
    // and says what it saw.
    let url = format!("http://127.0.0.1:{port}/other");
    let (r, _) = wait(&[&url, "--timeout", "500ms"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("503"), "{}", r.stdout);
}

#[test]
fn free_waits_for_the_holder_to_go() {
    let holder = python(
        "import socket,os,time\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(16)\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         time.sleep(0.5); s.close(); time.sleep(120)\n",
    );
    let port = holder.words[0].clone();
    let (r, took) = wait(&[&port, "--free", "--timeout", "20s"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .starts_with(&format!("port {port} is free (after ")),
        "{}",
        r.stdout
    );
    assert!(
        took >= Duration::from_millis(300),
        "free while held: {took:?}"
    );
}

#[test]
fn the_timeout_exits_1_with_what_was_seen() {
    let port = free_port().to_string();
    let (r, took) = wait(&[&port, "--timeout", "300ms"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(r.stdout.starts_with("gave up after "), "{}", r.stdout);
    assert!(
        r.stdout
            .contains(&format!("127.0.0.1:{port} refused the connection")),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(&format!("[::1]:{port} ")), "{}", r.stdout);
    // A held port under --free names its holder at the timeout.
    let holder = crate::harness::tcp_listener("127.0.0.1");
    let (r, _) = wait(&[&holder.words[0], "--free", "--timeout", "300ms", "--json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["command"], "wait");
    assert_eq!(v["until"], "free");
    assert_eq!(v["met"], false);
    assert_eq!(v["last"][0]["kind"], "held", "{v}");
    assert_eq!(v["last"][0]["owners"][0]["pid"], holder.pid, "{v}");
}

#[test]
fn bad_targets_exit_2_with_one_line() {
    for args in [
        vec!["3000-3010"],
        vec!["pid:1"],
        vec!["53/udp"],
        vec!["nonexistent.invalid:80"],
        vec!["3000", "--timeout", "soon"],
        vec![],
    ] {
        let (r, _) = wait(&args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
    }
}
