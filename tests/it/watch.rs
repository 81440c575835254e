//! `watch --events` and `daemon`: real listeners opening and closing, seen as JSON lines; and
//! `who`/`explain`/`doctor` naming a free port's last holder from the recorded history.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{self, TempDir, python, run, tcp_listener};
use crate::stream::EventStream;

#[test]
fn events_report_a_listener_opening_and_closing_with_its_process() {
    let mut ev = EventStream::start(&["watch", "--events", "--interval", "200ms"]);
    let before = harness::now_s();
    let listener = tcp_listener("127.0.0.1");
    let port = listener.num(0);
    let opened = ev.event("listen-opened", port);
    assert_eq!(opened["pid"], listener.pid, "{opened}");
    assert_eq!(opened["process"], "python3");
    assert_eq!(opened["address"], "127.0.0.1");
    assert_eq!(opened["proto"], "tcp");
    assert!(opened["cmdline"][0].as_str().unwrap().contains("python3"));
    assert!(opened["cwd"].is_string());
    let t = opened["unix"].as_f64().unwrap();
    assert!(
        t >= before - 0.05 && t <= harness::now_s() + 0.05,
        "opened at {t}, listener started at {before}"
    );
    let killed_at = harness::now_s();
    drop(listener);
    let closed = ev.event("listen-closed", port);
    assert_eq!(closed["ended"], "process-exited", "{closed}");
    assert_eq!(closed["pid"], opened["pid"]);
    assert_eq!(closed["opened_at"], opened["time"]);
    let t = closed["unix"].as_f64().unwrap();
    assert!(
        t >= killed_at && t <= killed_at + 0.2 + 1.0,
        "closed seen at {t}, killed at {killed_at} (interval 200 ms)"
    );
    let code = ev.stop(rustix::process::Signal::TERM);
    let lines = &ev.seen;
    assert_eq!(code, 0);
    let last = lines.last().unwrap();
    assert_eq!(last["event"], "watch-stopped", "{lines:#?}");
    assert_eq!(last["stopped_by"], "signal");
    assert!(last["events"].as_u64().unwrap() >= 2);
}

#[test]
fn a_socket_closed_by_a_process_that_goes_on_is_told_apart_from_an_exit() {
    let mut ev = EventStream::start(&["watch", "--events", "--interval", "200ms", "--tcp"]);
    let p = python(
        "import socket,os,sys,time\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(4)\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         time.sleep(0.8); s.close(); time.sleep(120)\n",
    );
    let port = p.num(0);
    ev.event("listen-opened", port);
    let closed = ev.event("listen-closed", port);
    assert_eq!(closed["ended"], "socket-closed", "{closed}");
    assert!(
        rustix::process::test_kill_process(rustix::process::Pid::from_raw(p.pid as i32).unwrap())
            .is_ok(),
        "the process still runs"
    );
}

#[test]
fn tcp_only_ignores_bound_udp_sockets() {
    let mut ev = EventStream::start(&["watch", "--events", "--interval", "200ms", "--tcp"]);
    let udp = python(
        "import socket,os,time\n\
         s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1',0))\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         time.sleep(120)\n",
    );
    // Let a look or two pass with the UDP socket bound, then open a TCP listener: its event
    // must be the first about either.
    std::thread::sleep(Duration::from_millis(500));
    let tcp = tcp_listener("127.0.0.1");
    let opened = ev.event("listen-opened", tcp.num(0));
    assert_eq!(opened["proto"], "tcp");
    assert!(
        !ev.seen
            .iter()
            .any(|v| v["port"].as_u64() == Some(u64::from(udp.num(0)))),
        "a UDP socket was reported under --tcp: {:#?}",
        ev.seen
    );
}

#[test]
fn duration_ends_the_watch_with_a_summary_line() {
    let t0 = Instant::now();
    let r = run(&[
        "watch",
        "--events",
        "--interval",
        "100ms",
        "--duration",
        "600ms",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(t0.elapsed() < Duration::from_secs(5));
    let lines: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.first().unwrap()["event"], "watch-started");
    let last = lines.last().unwrap();
    assert_eq!(last["event"], "watch-stopped");
    assert_eq!(last["stopped_by"], "duration");
    assert!(last["seconds"].as_f64().unwrap() >= 0.5);
}

#[test]
fn bad_watch_and_daemon_flags_exit_2_with_one_line() {
    let dir = TempDir::new("watch-bad");
    let d = dir.arg();
    for args in [
        vec!["watch", "--events", "--interval", "10ms"],
        vec!["watch", "--events", "--interval", "soon"],
        vec!["watch", "--events", "--duration", "-1s"],
        vec!["daemon", "--state-dir", d, "--keep", "10s"],
        vec!["daemon", "--state-dir", d, "--max-size", "12parsecs"],
        vec!["daemon", "--state-dir", d, "--max-size", "10KiB"],
    ] {
        let r = run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr.trim().lines().count(), 1, "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
    }
}

#[test]
fn a_free_port_names_its_last_holder_in_who_explain_and_doctor() {
    let dir = TempDir::new("watch-past");
    let d = dir.arg();
    let mut ev = EventStream::start(&[
        "daemon",
        "--events",
        "--interval",
        "200ms",
        "--state-dir",
        d,
    ]);
    let listener = tcp_listener("127.0.0.1");
    let (port, pid) = (listener.num(0), listener.pid);
    ev.event("listen-opened", port);
    drop(listener);
    ev.event("listen-closed", port);
    let code = ev.stop(rustix::process::Signal::TERM);
    assert_eq!(code, 0);
    let p = port.to_string();

    // The freed port can be handed to another test's client as its source port: that socket
    // holds the port (exit 0) but is no listener, so the past holder is still named.
    let who = run(&["who", &p, "--state-dir", d]);
    let j = harness::json(&["who", &p, "--state-dir", d]);
    assert!(
        who.code == 1 || (who.code == 0 && j.get("last_holder").is_some()),
        "exit {}\n{}{}",
        who.code,
        who.stdout,
        who.stderr
    );
    assert!(who.stdout.contains("free since"), "{}", who.stdout);
    assert!(
        who.stdout.contains(&format!("python3 (pid {pid})")),
        "{}",
        who.stdout
    );
    assert!(who.stdout.contains("process exited"), "{}", who.stdout);

    let stay = &j["last_holder"]["stay"];
    assert_eq!(stay["pid"], pid, "{j}");
    assert!(
        stay["closed_at"]["unix"].as_f64().unwrap() > stay["opened_at"]["unix"].as_f64().unwrap()
    );

    let ex = harness::json(&["explain", &format!("127.0.0.1:{port}"), "--state-dir", d]);
    let facts = ex["facts"].as_array().unwrap();
    assert!(
        facts.iter().any(|f| f["topic"] == "history"
            && f["text"].as_str().unwrap().contains(&format!("pid {pid}"))),
        "{facts:#?}"
    );

    let doc = run(&[
        "doctor",
        &format!("127.0.0.1:{port}"),
        "--state-dir",
        d,
        "--json",
    ]);
    let doc: Value = serde_json::from_str(&doc.stdout).unwrap();
    let nothing = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "DOC-REFUSED-NOTHING-LISTENING")
        .cloned()
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert!(
        nothing["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.as_str().unwrap().contains(&format!("pid {pid}"))),
        "{nothing:#}"
    );
    assert!(
        nothing["fix"][0]
            .as_str()
            .unwrap()
            .starts_with("start it again as it was: cd "),
        "{nothing:#}"
    );

    // Without a store, nothing is said about the past (and nothing is invented).
    let empty = TempDir::new("watch-none");
    let j = harness::json(&["who", &p, "--state-dir", empty.arg()]);
    assert!(j.get("last_holder").is_none(), "{j}");
}

#[test]
fn a_listener_whose_owner_is_hidden_says_so() {
    if !harness::require_root(
        "a_listener_whose_owner_is_hidden_says_so",
        "a root listener watched by uid 65534",
    ) {
        return;
    }
    let bin = harness::binary_for_other_users();
    let mut cmd = bin.as_nobody();
    cmd.args(["watch", "--events", "--interval", "200ms", "--tcp"])
        .env("HOME", bin.dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let started: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(started["event"], "watch-started");
    let listener = tcp_listener("127.0.0.1");
    let port = u64::from(listener.num(0));
    let opened = loop {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "watch ended");
        let v: Value = serde_json::from_str(&line).unwrap();
        if v["port"].as_u64() == Some(port) {
            break v;
        }
    };
    assert_eq!(opened["owner_hidden"], true, "{opened}");
    assert_eq!(opened["pid"], Value::Null);
    assert_eq!(opened["uid"], 0);
    let _ = child.kill();
    let _ = child.wait();
}

/// Start `portscope ARGS…` with standard output on a pipe, read its first line, close the
/// pipe's read end, and return how it exited (`None`: still running after `deadline`; it is
/// killed then).
fn exit_after_reader_leaves(args: &[&str], deadline: Duration) -> Option<std::process::ExitStatus> {
    let mut child = harness::portscope()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.contains("\"watch-started\""), "{line}");
    drop(out);
    let until = Instant::now() + deadline;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() >= until {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_idle_event_stream_ends_when_its_reader_goes_away() {
    // A long interval: nothing is written after the first line, so only a look at the
    // descriptor can tell that the reader left.
    let status = exit_after_reader_leaves(
        &["watch", "--events", "--interval", "30s"],
        Duration::from_millis(1500),
    );
    let status = status.expect("watch --events still ran 1.5 s after its reader left");
    assert_eq!(status.code(), Some(0), "{status:?}");

    let dir = TempDir::new("watch-reader");
    let status = exit_after_reader_leaves(
        &[
            "daemon",
            "--events",
            "--interval",
            "30s",
            "--state-dir",
            dir.arg(),
        ],
        Duration::from_millis(1500),
    );
    let status = status.expect("daemon --events still ran 1.5 s after its reader left");
    assert_eq!(status.code(), Some(0), "{status:?}");
}
