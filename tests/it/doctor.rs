//! `doctor`: each rule against the real condition it diagnoses, and no false alarm on a
//! healthy server.

use std::net::{TcpListener, TcpStream};

use crate::harness::{json, python, run, tcp_listener};

/// The finding codes of a doctor report.
fn codes(r: &serde_json::Value) -> Vec<String> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

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
