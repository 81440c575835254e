//! Integration tests of the history store and `portscope history`: a real recorder
//! (`portscope daemon --events`) following real python3 listeners on ports chosen at run
//! time, stopped, restarted and SIGKILLed; every test uses its own temporary state directory.

use std::time::Duration;

use serde_json::Value;

use crate::harness::{self, Run, Spawned, TempDir};
use crate::stream::EventStream;

mod crash;
mod edges;

/// How far an event's time may be from when the test saw the thing happen, beyond the
/// recorder's interval (a loaded machine delays looks).
const SLACK: f64 = 1.5;

use harness::now_s as now;

/// A recorder into `dir`, looking every `interval`, printing its events.
type Daemon = EventStream;

/// Start a recorder into `dir` and wait for its `watch-started` line.
fn daemon(dir: &TempDir, interval: &str) -> Daemon {
    EventStream::start(&daemon_args(dir, interval))
}

fn daemon_args<'a>(dir: &'a TempDir, interval: &'a str) -> [&'a str; 6] {
    [
        "daemon",
        "--events",
        "--interval",
        interval,
        "--state-dir",
        dir.arg(),
    ]
}

fn unix(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// `t` lies in `[lo, hi]` (give or take the rounding to milliseconds).
fn within(what: &str, t: f64, lo: f64, hi: f64) {
    // JSON times are rounded to milliseconds.
    assert!(
        t >= lo - 0.0005 && t <= hi + 0.0005,
        "{what}: {t:.3} is not within [{lo:.3}, {hi:.3}] ({:+.3} s, {:+.3} s)",
        t - lo,
        t - hi
    );
}

/// `portscope history ARGS --state-dir DIR --json`: the exit code and the parsed report.
fn history(dir: &TempDir, args: &[&str]) -> (i32, Value) {
    let r = harness::run(&[&["history"], args, &["--state-dir", dir.arg(), "--json"]].concat());
    assert!(
        r.stderr.is_empty(),
        "stderr of history {args:?}: {}",
        r.stderr
    );
    let v = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("bad JSON from history {args:?}: {e}\n{}", r.stdout));
    (r.code, v)
}

fn history_text(dir: &TempDir, args: &[&str]) -> Run {
    harness::run(&[&["history"], args, &["--state-dir", dir.arg()]].concat())
}

/// A python3 listener on 127.0.0.1 port 0 that closes its socket on SIGUSR1 and keeps
/// running. Prints `PORT PID`.
fn closable_listener() -> Spawned {
    harness::python(
        "import socket,os,time,signal\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(16)\n\
         signal.signal(signal.SIGUSR1, lambda *a: s.close())\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         end=time.time()+120\n\
         while time.time()<end: time.sleep(0.2)\n",
    )
}

/// Start a listener; `(listener, port, pid, time before, time ready)`.
fn listen() -> (Spawned, u32, u32, f64, f64) {
    let before = now();
    let l = harness::tcp_listener("127.0.0.1");
    let (port, pid) = (l.num(0), l.num(1));
    (l, port, pid, before, now())
}

/// The one stay of `pid` in a timeline. The recorder sees every listener of the machine, so
/// another test's listener may have had the same port number before or after ours: its stays
/// are in the timeline too.
fn stay_of(h: &Value, pid: u32) -> &Value {
    let ours: Vec<&Value> = h["stays"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["pid"].as_u64() == Some(u64::from(pid)))
        .collect();
    assert_eq!(ours.len(), 1, "one stay of pid {pid}: {h}");
    ours[0]
}

#[test]
fn timeline_across_a_restart() {
    let dir = TempDir::new("timeline");
    let iv = 0.2;
    let mut d1 = daemon(&dir, "200ms");
    let d1_pid = d1.pid;

    let (a, port_a, pid_a, a_before, a_ready) = listen();
    let open_a = d1.event("listen-opened", port_a);
    within(
        "A opened",
        unix(&open_a["unix"]),
        a_before,
        a_ready + iv + SLACK,
    );
    assert_eq!(open_a["pid"].as_u64(), Some(u64::from(pid_a)));

    let (b, port_b, pid_b, b_before, b_ready) = listen();
    let open_b = d1.event("listen-opened", port_b);
    within(
        "B opened",
        unix(&open_b["unix"]),
        b_before,
        b_ready + iv + SLACK,
    );

    let a_kill = now();
    drop(a);
    let a_gone = now();
    let close_a = d1.event("listen-closed", port_a);
    within(
        "A closed",
        unix(&close_a["unix"]),
        a_kill,
        a_gone + iv + SLACK,
    );
    assert_eq!(close_a["ended"], "process-exited");

    let d1_stop = now();
    assert_eq!(d1.stop(rustix::process::Signal::TERM), 0);
    let d1_stopped = now();

    // While nothing records: C opens, B goes away.
    let (_c, port_c, pid_c, _, c_ready) = listen();
    let b_kill = now();
    drop(b);
    // Longer than the shortest gap reported (1 s).
    std::thread::sleep(Duration::from_millis(1300));

    let d2_start = now();
    let mut d2 = daemon(&dir, "200ms");
    let d2_started = now();
    assert!(
        d2.started["caught_up"].as_u64().unwrap() >= 2,
        "{}",
        d2.started
    );
    let close_b = d2.event("listen-closed", port_b);
    assert_eq!(close_b["ended"], "while-not-recording");
    within(
        "B closed (seen)",
        unix(&close_b["unix"]),
        d2_start,
        d2_started,
    );
    let open_c = d2.event("listen-opened", port_c);
    within(
        "C opened (seen)",
        unix(&open_c["unix"]),
        d2_start,
        d2_started,
    );

    // A socket closed by a process that keeps running.
    let d = closable_listener();
    let (port_d, pid_d) = (d.num(0), d.num(1));
    d2.event("listen-opened", port_d);
    let d_close = now();
    let pid = rustix::process::Pid::from_raw(pid_d as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::USR1).unwrap();
    let close_d = d2.event("listen-closed", port_d);
    within(
        "D closed",
        unix(&close_d["unix"]),
        d_close,
        d_close + iv + SLACK,
    );
    assert_eq!(close_d["ended"], "socket-closed");

    // A: one stay, ended by its process's exit.
    let (code, h) = history(&dir, &[&port_a.to_string()]);
    assert_eq!(code, 0, "{h}");
    assert_eq!(h["mode"], "stays");
    let s = stay_of(&h, pid_a);
    assert_eq!(s["process"], "python3");
    assert!(
        s["cmdline"][0].as_str().unwrap().ends_with("python3"),
        "{s}"
    );
    assert_eq!(s["ended"], "process-exited");
    assert_eq!(s["found_open"], false);
    within(
        "A's stay opened",
        unix(&s["opened_at"]["unix"]),
        a_before,
        a_ready + iv + SLACK,
    );
    within(
        "A's stay closed",
        unix(&s["closed_at"]["unix"]),
        a_kill,
        a_gone + iv + SLACK,
    );
    assert_eq!(s["opened_at"]["unix"], open_a["unix"]);
    assert_eq!(s["closed_at"]["unix"], close_a["unix"]);
    assert!(s["opened_at"]["time"].as_str().unwrap().ends_with('Z'));

    // B: closed while nothing recorded, after the first recorder's stop.
    let (_, h) = history(&dir, &[&format!("127.0.0.1:{port_b}/tcp")]);
    let s = stay_of(&h, pid_b);
    assert_eq!(s["ended"], "while-not-recording");
    within(
        "B closed after",
        unix(&s["closed_after"]["unix"]),
        d1_stop,
        d1_stopped,
    );
    assert!(unix(&s["closed_after"]["unix"]) <= b_kill);
    within(
        "B's stay closed",
        unix(&s["closed_at"]["unix"]),
        d2_start,
        d2_started,
    );

    // C: opened while nothing recorded, still open; the recorder runs.
    let (_, h) = history(&dir, &[&port_c.to_string()]);
    let s = stay_of(&h, pid_c);
    assert_eq!(s["found_open"], true);
    assert!(s["closed_at"].is_null() && s["ended"].is_null(), "{s}");
    within(
        "C opened after",
        unix(&s["opened_after"]["unix"]),
        d1_stop,
        d1_stopped,
    );
    assert!(unix(&s["opened_after"]["unix"]) <= c_ready);
    within(
        "C's stay opened",
        unix(&s["opened_at"]["unix"]),
        d2_start,
        d2_started,
    );
    let cov = &h["coverage"];
    assert_eq!(cov["recorder"]["state"], "running", "{cov}");
    assert_eq!(cov["recorder"]["pid"].as_u64(), Some(u64::from(d2.pid)));
    let gaps = cov["gaps"].as_array().unwrap();
    assert!(
        gaps.iter().any(|g| {
            let (from, to) = (unix(&g["from"]["unix"]), unix(&g["to"]["unix"]));
            (d1_stop - 0.0005..=d1_stopped + 0.0005).contains(&from)
                && (d2_start - 0.0005..=d2_started + 0.0005).contains(&to)
        }),
        "the restart is a gap: {cov}"
    );

    // D: the socket closed, the process ran on.
    let (_, h) = history(&dir, &[&port_d.to_string()]);
    assert_eq!(stay_of(&h, pid_d)["ended"], "socket-closed", "{h}");

    // No target: the recent events, in recording order (all of them: the recorder saw every
    // listener of the machine, and tests running alongside may open more than the default 200).
    let (code, h) = history(&dir, &["--limit", "1000000"]);
    assert_eq!(code, 0);
    assert_eq!(h["mode"], "events");
    let ours: Vec<(String, u64)> = h["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            [port_a, port_b, port_c]
                .iter()
                .any(|p| e["port"].as_u64() == Some(u64::from(*p)))
        })
        .map(|e| {
            (
                e["event"].as_str().unwrap().to_string(),
                e["port"].as_u64().unwrap(),
            )
        })
        .collect();
    let p = |x: u32| u64::from(x);
    let expected = vec![
        ("listen-opened".to_string(), p(port_a)),
        ("listen-opened".to_string(), p(port_b)),
        ("listen-closed".to_string(), p(port_a)),
        ("listen-closed".to_string(), p(port_b)),
        ("listen-opened".to_string(), p(port_c)),
    ];
    assert_eq!(ours, expected);
    let ids: Vec<i64> = h["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "newest last");
    assert_ne!(d1_pid, d2.pid);

    // The text form says the same.
    let r = history_text(&dir, &[&port_b.to_string()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains(&format!("port {port_b}: 1 listener recorded")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("closed while nothing was recording, between "),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("recorder running, pid "), "{}", r.stdout);

    // Once the recorder stops, C is "open at the last look", not "still open".
    assert_eq!(d2.stop(rustix::process::Signal::TERM), 0);
    let (_, h) = history(&dir, &[&port_c.to_string()]);
    assert_eq!(h["coverage"]["recorder"]["state"], "not-running");
    let r = history_text(&dir, &[&port_c.to_string()]);
    assert!(r.stdout.contains("open at the last look"), "{}", r.stdout);
}
