//! `doctor`: each rule against the real condition it diagnoses, and no false alarm on a
//! healthy server.

use std::net::{TcpListener, TcpStream};

use crate::harness::{codes, json, python, run, tcp_listener};

/// A port where nothing can listen during the test: a socket bound to it that never calls
/// listen(), held by a child process (connects to it are refused).
fn dead_port() -> (crate::harness::Spawned, u16) {
    let p = python(
        "import socket,os,time\n\
         s=socket.socket(); s.bind(('127.0.0.1',0))\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         time.sleep(120)\n",
    );
    let port = p.words[0].parse().unwrap();
    (p, port)
}

#[test]
fn a_healthy_server_gets_a_short_works_verdict() {
    let http = python(
        "import http.server,socketserver,os\n\
         s=http.server.HTTPServer(('127.0.0.1',0), http.server.SimpleHTTPRequestHandler)\n\
         print(s.server_address[1], os.getpid(), flush=True)\n\
         s.serve_forever()\n",
    );
    let target = format!("127.0.0.1:{}", http.words[0]);
    let r = run(&["doctor", &target]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("OK "), "{}", r.stdout);
    let j = json(&["doctor", &target]);
    assert_eq!(j["works"], true);
    assert!(codes(&j).is_empty(), "false alarm: {j}");
}

#[test]
fn nothing_listening_is_named_with_the_nearby_listener() {
    let (_hold, port) = dead_port();
    // A listener a few ports away, the way a dev server moves to the next free port.
    let near = (1..=5)
        .filter_map(|d| port.checked_add(d))
        .find_map(|p| TcpListener::bind(("127.0.0.1", p)).ok());
    let r = json(&["doctor", &format!("127.0.0.1:{port}")]);
    assert_eq!(r["works"], false);
    let c = codes(&r);
    assert_eq!(c[0], "DOC-REFUSED-NOTHING-LISTENING", "{r}");
    assert_eq!(r["attempts"][0]["outcome"], "refused");
    if let Some(near) = &near {
        let other = near.local_addr().unwrap().port();
        assert!(c.contains(&"DOC-NEARBY-LISTENER".to_string()), "{r}");
        assert!(r.to_string().contains(&format!("port {other}")), "{r}");
    }
    assert_eq!(run(&["doctor", &format!("127.0.0.1:{port}")]).code, 1);
}

#[test]
fn listening_on_the_other_loopback_family_is_explained() {
    let v6 = tcp_listener("::1");
    let r = json(&["doctor", &format!("127.0.0.1:{}", v6.words[0])]);
    assert_eq!(codes(&r)[0], "DOC-WRONG-FAMILY", "{r}");
    let evidence = r["findings"][0]["evidence"].to_string();
    assert!(
        evidence.contains(&format!("[::1]:{}", v6.words[0])),
        "{evidence}"
    );
    assert!(
        evidence.contains(&format!("python3[{}]", v6.pid)),
        "{evidence}"
    );
}

#[test]
fn listening_on_another_loopback_address_is_explained() {
    let other = tcp_listener("127.0.0.2");
    let r = json(&["doctor", &format!("127.0.0.1:{}", other.words[0])]);
    assert_eq!(codes(&r)[0], "DOC-OTHER-LOOPBACK-ADDRESS", "{r}");
    assert!(
        r["findings"][0]["evidence"]
            .to_string()
            .contains("127.0.0.2"),
        "{r}"
    );
}

#[test]
fn a_stopped_listener_is_flagged_with_fg_and_kill_cont() {
    let l = tcp_listener("127.0.0.1");
    let pid = rustix::process::Pid::from_raw(l.pid as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::STOP).unwrap();
    let r = json(&["doctor", &format!("127.0.0.1:{}", l.words[0])]);
    rustix::process::kill_process(pid, rustix::process::Signal::CONT).unwrap();
    assert_eq!(r["works"], false, "{r}");
    assert_eq!(codes(&r)[0], "DOC-LISTENER-STOPPED", "{r}");
    let fix = r["findings"][0]["fix"].to_string();
    assert!(
        fix.contains(&format!("kill -CONT {}", l.pid)) && fix.contains("fg"),
        "{fix}"
    );
}

#[test]
fn a_full_accept_queue_is_found() {
    // Listens with backlog 1 and never accepts; the test fills the queue.
    let l = python(
        "import socket,os,time\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(1)\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         time.sleep(120)\n",
    );
    let port: u16 = l.words[0].parse().unwrap();
    let mut held = Vec::new();
    for _ in 0..3 {
        if let Ok(c) = TcpStream::connect_timeout(
            &([127, 0, 0, 1], port).into(),
            std::time::Duration::from_millis(200),
        ) {
            held.push(c);
        }
    }
    let r = json(&["doctor", &format!("127.0.0.1:{port}"), "--timeout", "300"]);
    assert!(
        codes(&r).contains(&"DOC-ACCEPT-QUEUE-FULL".to_string()),
        "{r}"
    );
    assert_eq!(r["works"], false, "{r}");
}

#[test]
fn bind_on_a_held_port_names_the_holder() {
    let l = tcp_listener("127.0.0.1");
    let target = format!("127.0.0.1:{}", l.words[0]);
    let r = json(&["doctor", "--bind", &target]);
    assert_eq!(r["mode"], "bind");
    assert_eq!(r["works"], false);
    assert_eq!(codes(&r)[0], "DOC-BIND-HELD", "{r}");
    assert!(
        r["findings"][0]["fix"]
            .to_string()
            .contains(&format!("kill {}", l.pid)),
        "{r}"
    );
    assert_eq!(r["binds"][1]["outcome"], "in_use");
    assert_eq!(run(&["doctor", "--bind", &target]).code, 1);
}

#[test]
fn bind_blocked_only_by_time_wait_is_explained() {
    // The server side closes first, so its end (local port P) goes to TIME_WAIT; then the
    // listener closes too: only the closing connection remains on P.
    let p = python(
        "import socket,os,time\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(1); port=s.getsockname()[1]\n\
         c=socket.create_connection(('127.0.0.1',port)); a,_=s.accept()\n\
         a.close(); time.sleep(0.05); c.close(); s.close(); time.sleep(0.05)\n\
         print(port, os.getpid(), flush=True)\n\
         time.sleep(120)\n",
    );
    let r = json(&["doctor", "--bind", &format!("127.0.0.1:{}", p.words[0])]);
    assert_eq!(codes(&r)[0], "DOC-BIND-TIME-WAIT", "{r}");
    assert_eq!(r["binds"][0]["outcome"], "in_use");
    // The old socket did not set SO_REUSEADDR, so even a bind with it is refused.
    assert_eq!(r["binds"][1]["outcome"], "in_use");
    let f = r["findings"][0].to_string();
    assert!(
        f.contains("SO_REUSEADDR") && f.contains("TIME_WAIT") || f.contains("closing"),
        "{f}"
    );
}

#[test]
fn bind_to_an_address_that_is_not_here_is_explained() {
    // 192.0.2.0/24 is reserved for documentation: no interface has 192.0.2.77.
    let r = json(&["doctor", "--bind", "192.0.2.77:8080"]);
    assert_eq!(codes(&r)[0], "DOC-BIND-ADDRESS-NOT-HERE", "{r}");
    assert_eq!(r["binds"][0]["outcome"], "not_available");
}

#[test]
fn bind_on_a_free_port_works() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let r = json(&["doctor", "--bind", &format!("127.0.0.1:{port}")]);
    assert_eq!(r["works"], true, "{r}");
    assert!(codes(&r).is_empty(), "{r}");
}

#[test]
fn bind_on_a_privileged_port_without_the_capability_is_explained() {
    if !crate::harness::require_root(
        "bind_on_a_privileged_port_without_the_capability_is_explained",
        "drops privileges to uid 65534 to be refused a privileged port",
    ) {
        return;
    }
    let start: u16 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    if start <= 1 {
        crate::harness::skipped(
            "bind_on_a_privileged_port_without_the_capability_is_explained",
            &format!("every port is unprivileged here (ip_unprivileged_port_start = {start})"),
        );
        return;
    }
    let bin = crate::harness::binary_for_other_users();
    let out = bin.run_as_nobody(&[
        "doctor",
        "--bind",
        &format!("127.0.0.1:{}", start - 1),
        "--json",
    ]);
    drop(bin);
    assert_eq!(out.code, 1, "{out:?}");
    let r: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(codes(&r)[0], "DOC-BIND-PRIVILEGED", "{r}");
    assert!(
        r["findings"][0]["fix"]
            .to_string()
            .contains("cap_net_bind_service"),
        "{r}"
    );
}

#[test]
fn the_wrong_protocol_behind_a_url_is_named() {
    let Some(tls) = crate::servers::tls_server() else {
        return;
    };
    let r = json(&["doctor", &format!("http://127.0.0.1:{}/", tls.port)]);
    assert_eq!(codes(&r)[0], "DOC-PROTOCOL-MISMATCH", "{r}");
    assert!(
        r["findings"][0]["fix"].to_string().contains("https://"),
        "{r}"
    );
    let plain = python(
        "import http.server,os\n\
         s=http.server.HTTPServer(('127.0.0.1',0), http.server.SimpleHTTPRequestHandler)\n\
         print(s.server_address[1], os.getpid(), flush=True)\n\
         s.serve_forever()\n",
    );
    let r = json(&["doctor", &format!("https://127.0.0.1:{}/", plain.words[0])]);
    assert_eq!(codes(&r)[0], "DOC-PROTOCOL-MISMATCH", "{r}");
    assert!(
        r["findings"][0]["title"]
            .as_str()
            .unwrap()
            .contains("plain HTTP"),
        "{r}"
    );
    // The right scheme: no finding.
    let r = json(&["doctor", &format!("http://127.0.0.1:{}/", plain.words[0])]);
    assert_eq!(r["works"], true, "{r}");
    if let Some(redis) = crate::servers::redis(None) {
        let r = json(&["doctor", &format!("http://127.0.0.1:{}/", redis.port)]);
        assert!(
            r["findings"][0]["title"]
                .as_str()
                .unwrap()
                .contains("speaks redis"),
            "{r}"
        );
    }
}

#[test]
fn a_listener_out_of_file_descriptors_is_found() {
    // Limits itself to 32 open files, listens, then opens files until EMFILE.
    let l = python(
        "import socket,os,time,resource\n\
         resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(8)\n\
         held=[]\n\
         try:\n    while True: held.append(open('/dev/null'))\n\
         except OSError: pass\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         time.sleep(120)\n",
    );
    let r = json(&["doctor", &format!("127.0.0.1:{}", l.words[0])]);
    assert!(codes(&r).contains(&"DOC-FD-LIMIT".to_string()), "{r}");
    assert_eq!(r["works"], false, "{r}");
    assert!(
        r.to_string().contains(&format!("prlimit --pid {}", l.pid)),
        "{r}"
    );
}

#[test]
fn a_socket_left_with_a_child_after_its_parent_exited_is_named() {
    // The parent (leader of its own process group) listens, forks a child that inherits the
    // socket, and exits: the child holds the port on its own.
    let p = python(
        "import socket,os,time\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(8)\n\
         child=os.fork()\n\
         if child==0:\n    time.sleep(120); os._exit(0)\n\
         print(s.getsockname()[1], child, flush=True)\n\
         os._exit(0)\n",
    );
    let child = p.num(1);
    // Wait until the parent is gone.
    for _ in 0..100 {
        if !std::path::Path::new(&format!("/proc/{}", p.pid)).exists()
            || std::fs::read_to_string(format!("/proc/{}/stat", p.pid))
                .is_ok_and(|s| s.contains(") Z "))
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let target = format!("127.0.0.1:{}", p.words[0]);
    let r = json(&["doctor", &target]);
    assert!(
        codes(&r).contains(&"DOC-INHERITED-SOCKET".to_string()),
        "{r}"
    );
    assert!(r.to_string().contains(&format!("kill {child}")), "{r}");
    let b = json(&["doctor", "--bind", &target]);
    let c = codes(&b);
    assert!(
        c.contains(&"DOC-BIND-HELD".to_string()) && c.contains(&"DOC-INHERITED-SOCKET".to_string()),
        "{b}"
    );
}

/// A python HTTP server on 127.0.0.1 port 0; prints `PORT PID`.
fn http_server() -> crate::harness::Spawned {
    python(
        "import http.server,os\n\
         s=http.server.HTTPServer(('127.0.0.1',0), http.server.SimpleHTTPRequestHandler)\n\
         print(s.server_address[1], os.getpid(), flush=True)\n\
         s.serve_forever()\n",
    )
}

/// A stand-in for a corporate proxy: it cannot reach this machine's loopback, so it answers
/// every request 502, and writes each request line it got to `log`. Prints `PORT PID`.
fn proxy(log: &std::path::Path) -> crate::harness::Spawned {
    python(&format!(
        "import http.server,os\n\
         class P(http.server.BaseHTTPRequestHandler):\n\
         \x20   def do_GET(self):\n\
         \x20       open({log:?},'a').write(self.requestline+'\\n')\n\
         \x20       self.send_response(502); self.end_headers()\n\
         \x20   def log_message(self,*a): pass\n\
         s=http.server.HTTPServer(('127.0.0.1',0), P)\n\
         print(s.server_address[1], os.getpid(), flush=True)\n\
         s.serve_forever()\n"
    ))
}

/// What the proxy has been asked so far.
fn proxied(log: &std::path::Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

#[test]
fn a_proxy_the_client_would_use_is_named_and_is_not_works() {
    let Some(curl) = crate::harness::needs(
        "a_proxy_the_client_would_use_is_named_and_is_not_works",
        "curl",
        "curl",
    ) else {
        return;
    };
    let dir = crate::harness::TempDir::new("doctor-proxy");
    let log = dir.0.join("proxy.log");
    let (http, proxy) = (http_server(), proxy(&log));
    let url = format!("http://127.0.0.1:{}/", http.words[0]);
    let proxy_url = format!("http://user:secret@127.0.0.1:{}", proxy.words[0]);
    let doctor = |no_proxy: Option<&str>| {
        let mut cmd = crate::harness::portscope();
        cmd.args(["--json", "doctor", &url])
            .env("http_proxy", &proxy_url);
        if let Some(n) = no_proxy {
            cmd.env("no_proxy", n);
        }
        crate::harness::output(&mut cmd)
    };
    let curl_status = |no_proxy: Option<&str>| {
        let mut cmd = std::process::Command::new(&curl);
        cmd.args(["-s", "-o", "/dev/null", "-w", "%{http_code}", &url]);
        for var in crate::harness::PROXY_VARS {
            cmd.env_remove(var);
        }
        cmd.env("http_proxy", &proxy_url);
        if let Some(n) = no_proxy {
            cmd.env("no_proxy", n);
        }
        String::from_utf8(cmd.output().unwrap().stdout).unwrap()
    };

    // The truth first: curl's request goes to the proxy, which answers 502.
    assert_eq!(curl_status(None), "502");
    assert!(
        proxied(&log).contains(&format!("GET {url} ")),
        "{}",
        proxied(&log)
    );
    // Doctor says so, with the variable (credentials hidden), and exits 1.
    let r = doctor(None);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        !r.stdout.contains("secret"),
        "credentials shown: {}",
        r.stdout
    );
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(j["works"], false, "{j}");
    let f = &j["findings"][0];
    assert_eq!(f["code"], "DOC-PROXY", "{j}");
    assert_eq!(f["severity"], "critical");
    let evidence = f["evidence"].to_string();
    assert!(
        evidence.contains(&format!(
            "http_proxy=http://***@127.0.0.1:{}",
            proxy.words[0]
        )),
        "{evidence}"
    );
    assert!(evidence.contains("curl"), "{evidence}");

    // With no_proxy covering the host as written, curl goes direct and doctor agrees.
    let before = proxied(&log);
    assert_eq!(curl_status(Some("127.0.0.1")), "200");
    assert_eq!(
        proxied(&log),
        before,
        "curl used the proxy despite no_proxy"
    );
    let r = doctor(Some("127.0.0.1"));
    assert_eq!(r.code, 0, "{r:?}");
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(!codes(&j).contains(&"DOC-PROXY".to_string()), "{j}");

    // `localhost` in no_proxy does not cover 127.0.0.1: curl still goes to the proxy.
    assert_eq!(curl_status(Some("localhost")), "502");
    assert_eq!(doctor(Some("localhost")).code, 1);

    // The failing client is a running program: judge with its environment, not ours.
    let mut client = std::process::Command::new("sleep")
        .arg("60")
        .env("http_proxy", &proxy_url)
        .env_remove("no_proxy")
        .env_remove("NO_PROXY")
        .spawn()
        .unwrap();
    let from = client.id().to_string();
    let r = run(&["--json", "doctor", &url, "--env-from", &from]);
    assert_eq!(r.code, 1, "{r:?}");
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(codes(&j), ["DOC-PROXY"], "{j}");
    assert!(
        j["findings"][0]["evidence"][0]
            .as_str()
            .unwrap()
            .starts_with(&format!("in the environment of pid {from}: http_proxy=")),
        "{j}"
    );
    // Our own (clean) environment alone: works.
    assert_eq!(run(&["doctor", &url]).code, 0);
    let _ = client.kill();
    let _ = client.wait();
}

#[test]
fn env_from_must_name_a_running_process() {
    for (pid, says) in [
        ("x", "is not a process id"),
        ("4194304", "no process with that pid"),
    ] {
        let r = run(&["doctor", "http://127.0.0.1:1/", "--env-from", pid]);
        assert_eq!(r.code, 2, "{r:?}");
        assert_eq!(r.stderr.lines().count(), 1, "{r:?}");
        assert!(r.stderr.contains(says), "{r:?}");
    }
}

/// A python HTTP server on 127.0.0.1 port 0 that answers GET the way `mode` says: `ok`
/// (200), `crash` (the handler dies: the connection closes without a byte), `host` (403 from
/// an allowed-hosts check), `reset` (RST instead of an answer) or `noaccept` (a listening
/// socket nobody accepts on). Prints `PORT PID`.
fn answering(mode: &str) -> crate::harness::Spawned {
    python(&format!(
        "import http.server,socket,struct,os,time\n\
         mode={mode:?}\n\
         if mode=='noaccept':\n\
         \x20   s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(8)\n\
         \x20   print(s.getsockname()[1], os.getpid(), flush=True); time.sleep(120)\n\
         class H(http.server.BaseHTTPRequestHandler):\n\
         \x20   def do_GET(self):\n\
         \x20       if mode=='crash': self.connection.close(); raise SystemExit\n\
         \x20       if mode=='reset':\n\
         \x20           self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii',1,0))\n\
         \x20           self.connection.close(); return\n\
         \x20       if mode=='host':\n\
         \x20           self.send_response(403); self.end_headers()\n\
         \x20           self.wfile.write(b'Blocked request. This host (\"127.0.0.1\") is not allowed.'); return\n\
         \x20       self.send_response(200); self.end_headers(); self.wfile.write(b'ok')\n\
         \x20   def log_message(self,*a): pass\n\
         s=http.server.HTTPServer(('127.0.0.1',0),H)\n\
         print(s.server_address[1], os.getpid(), flush=True)\n\
         s.serve_forever()\n"
    ))
}

#[test]
fn a_url_works_only_when_the_request_is_answered() {
    let ok = answering("ok");
    let url = format!("http://127.0.0.1:{}/", ok.words[0]);
    let r = run(&["doctor", &url]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("works: GET / answered HTTP/1.0 200 OK"),
        "{}",
        r.stdout
    );
    let j = json(&["doctor", &url]);
    assert_eq!(j["http"]["outcome"], "answered", "{j}");
    assert_eq!(j["http"]["status"], 200);
    assert!(codes(&j).is_empty(), "{j}");
}

#[test]
fn accepted_but_not_answered_is_named_and_is_not_works() {
    for (mode, code, evidence) in [
        ("crash", "DOC-HTTP-EMPTY-REPLY", "sent to 127.0.0.1:"),
        ("reset", "DOC-HTTP-RESET", "reset"),
        ("host", "DOC-HTTP-STATUS", "answer: HTTP/1.0 403 Forbidden"),
        (
            "noaccept",
            "DOC-HTTP-NO-ANSWER",
            "waiting in its accept queue",
        ),
    ] {
        let server = answering(mode);
        let url = format!("http://127.0.0.1:{}/", server.words[0]);
        // The truth as a client sees it: the TCP handshake succeeds either way.
        assert!(TcpStream::connect(("127.0.0.1", server.words[0].parse::<u16>().unwrap())).is_ok());
        let r = run(&["--json", "doctor", &url]);
        assert_eq!(r.code, 1, "{mode}: a false works: {r:?}");
        let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(j["works"], false, "{mode}: {j}");
        assert_eq!(codes(&j)[0], code, "{mode}: {j}");
        let f = &j["findings"][0];
        assert_eq!(f["severity"], "critical");
        assert!(f["evidence"].to_string().contains(evidence), "{mode}: {j}");
        if mode == "host" {
            assert!(
                f["fix"][0].as_str().unwrap().contains("allowed hosts"),
                "{j}"
            );
        }
    }
}
