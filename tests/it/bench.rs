//! `portscope bench`: real echo, discard and HTTP servers (python3, port 0), the built binary.

use crate::harness::{Spawned, python, run};

/// A threaded python TCP server on 127.0.0.1 port 0 that echoes (or, `echo = false`,
/// discards) every byte; prints `PORT`.
fn server(echo: bool) -> Spawned {
    let reply = if echo { "c.sendall(d)" } else { "pass" };
    python(&format!(
        "import socket,threading,time\n\
         def h(c):\n\
         \x20   c.settimeout(60)\n\
         \x20   try:\n\
         \x20       while True:\n\
         \x20           d=c.recv(65536)\n\
         \x20           if not d: break\n\
         \x20           {reply}\n\
         \x20   except OSError: pass\n\
         \x20   c.close()\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(128)\n\
         print(s.getsockname()[1], flush=True)\n\
         def a():\n\
         \x20   while True:\n\
         \x20       c,_=s.accept(); threading.Thread(target=h,args=(c,),daemon=True).start()\n\
         threading.Thread(target=a,daemon=True).start()\n\
         time.sleep(120)\n"
    ))
}

/// The report: `--json` prints exactly one object on standard output (the phase lines are
/// progress, on standard error).
fn report(args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.push("--json");
    let r = run(&all);
    assert_eq!(r.code, 0, "{args:?}: {}{}", r.stdout, r.stderr);
    assert_eq!(
        r.stdout.trim().lines().count(),
        1,
        "one object: {}",
        r.stdout
    );
    let report: serde_json::Value = serde_json::from_str(r.stdout.trim())
        .unwrap_or_else(|e| panic!("bad JSON {:?}: {e}", r.stdout));
    assert_eq!(report["command"], "bench", "{report}");
    assert!(
        r.stderr.contains("round trip:"),
        "progress on stderr: {}",
        r.stderr
    );
    report
}

fn f(v: &serde_json::Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or_else(|| panic!("{k} in {v}"))
}

/// p50 > 0, min ≤ p50 ≤ p90 ≤ p99 ≤ max, count as asked.
fn sane(stats: &serde_json::Value, count: u64) {
    assert_eq!(stats["count"].as_u64(), Some(count), "{stats}");
    let (min, p50, p90) = (f(stats, "min_us"), f(stats, "p50_us"), f(stats, "p90_us"));
    let (p99, max, mean) = (f(stats, "p99_us"), f(stats, "max_us"), f(stats, "mean_us"));
    assert!(p50 > 0.0, "{stats}");
    assert!(
        min <= p50 && p50 <= p90 && p90 <= p99 && p99 <= max,
        "{stats}"
    );
    assert!(min <= mean && mean <= max, "{stats}");
}

fn throughput_positive(t: &serde_json::Value, mode: &str) {
    assert_eq!(t["mode"], mode, "{t}");
    assert!(t["bytes"].as_u64().unwrap() > 0, "{t}");
    assert!(f(t, "bits_per_second") > 0.0, "{t}");
    assert!(f(t, "mib_per_second") > 0.0, "{t}");
    assert!(f(t, "duration_s") >= 0.2, "{t}");
}

#[test]
fn echo_target_percentiles_and_echo_throughput() {
    let echo = server(true);
    let port = echo.words[0].clone();
    let r = report(&[
        "bench",
        &port,
        "--connects",
        "20",
        "--requests",
        "50",
        "--size",
        "100",
        "--duration",
        "500ms",
    ]);
    assert_eq!(r["target"], format!("127.0.0.1:{port}"));
    assert_eq!(r["target_started"], false);
    assert_eq!(r["size_bytes"], 100);
    assert_eq!(r["tcp_nodelay"], true);
    assert!(r["unix"].is_null(), "{r}");
    sane(&r["tcp"]["connect"], 20);
    sane(&r["tcp"]["round_trip"], 50);
    // An echo TARGET without --discard: throughput through the echo, and it says so.
    throughput_positive(&r["tcp"]["throughput"], "echo");
}

#[test]
fn discard_throughput_and_human_table() {
    let (echo, discard) = (server(true), server(false));
    let to = format!("127.0.0.1:{}", discard.words[0]);
    let args = [
        "bench",
        &echo.words[0],
        "--discard",
        &to,
        "--connects",
        "5",
        "--requests",
        "20",
        "--size",
        "200KiB",
        "--duration",
        "500ms",
    ];
    let r = report(&args);
    sane(&r["tcp"]["round_trip"], 20);
    throughput_positive(&r["tcp"]["throughput"], "discard");
    assert_eq!(r["tcp"]["throughput"]["target"], to);
    let human = run(&args);
    assert_eq!(human.code, 0, "{}", human.stderr);
    for want in [
        "PHASE",
        "P50",
        "P99",
        "round trip",
        "connect",
        "Gbit/s",
        "MiB/s",
    ] {
        assert!(human.stdout.contains(want), "{want}: {}", human.stdout);
    }
}

#[test]
fn unix_baseline_side_by_side() {
    let echo = server(true);
    let r = report(&[
        "bench",
        &echo.words[0],
        "--unix",
        "--connects",
        "10",
        "--requests",
        "30",
        "--duration",
        "500ms",
    ]);
    sane(&r["tcp"]["round_trip"], 30);
    sane(&r["unix"]["round_trip"], 30);
    sane(&r["unix"]["connect"], 10);
    assert_eq!(r["unix"]["transport"], "unix");
    // Same mode on both sides so they compare.
    throughput_positive(&r["unix"]["throughput"], "echo");
    let path = r["unix"]["echo"].as_str().unwrap().to_string();
    assert!(path.ends_with("echo.sock"), "{path}");
    assert!(
        !std::path::Path::new(&path).exists(),
        "the unix servers' directory outlived the run: {path}"
    );
    assert!(f(&r["tcp_over_unix"], "round_trip_p50") > 0.0, "{r}");
    assert!(f(&r["tcp_over_unix"], "throughput") > 0.0, "{r}");
}

#[test]
fn http_target_is_not_an_echo() {
    let http = python(
        "import http.server,threading,time\n\
         class H(http.server.SimpleHTTPRequestHandler):\n\
         \x20   def log_message(self,*a): pass\n\
         s=http.server.ThreadingHTTPServer(('127.0.0.1',0),H)\n\
         print(s.server_address[1], flush=True)\n\
         threading.Thread(target=s.serve_forever,daemon=True).start()\n\
         time.sleep(120)\n",
    );
    let started = std::time::Instant::now();
    let r = run(&[
        "bench",
        &http.words[0],
        "--requests",
        "5",
        "--connects",
        "5",
    ]);
    assert_ne!(r.code, 0, "{}", r.stdout);
    let errors: Vec<&str> = r.stderr.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "{}", r.stderr);
    assert!(errors[0].contains("does not echo"), "{}", r.stderr);
    assert!(r.stderr.contains("portscope serve echo"), "{}", r.stderr);
    // The check gets an answer at once: no waiting for a timeout.
    assert!(started.elapsed().as_secs() < 4, "{:?}", started.elapsed());
}

#[test]
fn a_stop_signal_ends_the_run_promptly() {
    use std::io::{BufRead, BufReader};
    let echo = server(true);
    let discard = server(false);
    let to = format!("127.0.0.1:{}", discard.words[0]);
    let mut child = crate::harness::portscope()
        .args(["bench", &echo.words[0], "--discard", &to, "--unix"])
        .args(["--requests", "10", "--connects", "5", "--duration", "30s"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Progress goes to standard error: wait there for the long throughput phase to begin.
    let mut progress = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("tcp throughput") {
        line.clear();
        assert!(
            progress.read_line(&mut line).unwrap() > 0,
            "bench ended early"
        );
    }
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let asked = std::time::Instant::now();
    let status = child.wait().unwrap();
    assert!(asked.elapsed().as_secs() < 10, "{:?}", asked.elapsed());
    assert_eq!(status.code(), Some(3));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut progress, &mut err).unwrap();
    assert!(err.contains("stopped by a signal"), "{err}");
}

#[test]
fn refused_target_fails_quickly() {
    // A port that was free a moment ago: nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let r = run(&["bench", &port]);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("connect to 127.0.0.1"), "{}", r.stderr);
}

#[test]
fn bad_input_is_one_line_exit_2() {
    for args in [
        &["bench", "10.1.2.3:80"][..],
        &["bench", "192.0.2.1:9"],
        &["bench", "8080", "--discard", "0.0.0.0:9"],
        &["bench", "8080", "--size", "0"],
        &["bench", "8080", "--size", "2MiB"],
        &["bench", "8080", "--requests", "abc"],
        &["bench", "8080", "--connects", "-3"],
        &["bench", "8080", "--duration", "10m"],
        &["bench", "not-a-port"],
    ] {
        let r = run(args);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert_eq!(r.stderr.trim().lines().count(), 1, "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
    }
    let r = run(&["bench", "10.1.2.3:80"]);
    assert!(r.stderr.contains("loopback"), "{}", r.stderr);
}

/// Needs `crate::traffic::serve::background` (the `serve` engine) to start the echo and
/// discard servers.
#[test]
fn no_target_uses_background_servers() {
    let r = report(&[
        "bench",
        "--connects",
        "10",
        "--requests",
        "20",
        "--duration",
        "500ms",
    ]);
    assert_eq!(r["target_started"], true, "{r}");
    assert!(
        r["target"].as_str().unwrap().starts_with("127.0.0.1:"),
        "{r}"
    );
    sane(&r["tcp"]["round_trip"], 20);
    sane(&r["tcp"]["connect"], 10);
    throughput_positive(&r["tcp"]["throughput"], "discard");
}
