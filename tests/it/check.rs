//! Integration tests of `check`: the plugins against real listeners on run-time ports, and
//! `check connect` side by side with Debian's `check_tcp` on the same targets.

use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use crate::harness::{self, Run, Spawned, python, tcp_listener};
use crate::servers;

/// Debian's check_tcp (package monitoring-plugins-basic).
const CHECK_TCP: &str = "/usr/lib/nagios/plugins/check_tcp";
/// The banner of [`banner_server`] in most tests.
const SSH_BANNER: &str = "SSH-2.0-portscope_test\r\n";

/// `portscope check ARGS…`.
pub(crate) fn check(args: &[&str]) -> Run {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    harness::run(&all)
}

/// `portscope check ARGS… --json`, with its exit code.
pub(crate) fn check_json(args: &[&str]) -> (serde_json::Value, i32) {
    let mut all = args.to_vec();
    all.push("--json");
    let r = check(&all);
    assert!(r.stderr.is_empty(), "stderr of {args:?}: {}", r.stderr);
    let v = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("bad JSON from {args:?}: {e}\n{}", r.stdout));
    (v, r.code)
}

/// The status line, checked to be `SERVICE STATE - text[|perfdata]` with the state that the
/// exit code stands for, and nothing on standard error.
pub(crate) fn status<'a>(r: &'a Run, service: &str) -> &'a str {
    assert!(r.stderr.is_empty(), "stderr: {}", r.stderr);
    let line = r.stdout.lines().next().unwrap_or("");
    let word = match r.code {
        0 => "OK",
        1 => "WARNING",
        2 => "CRITICAL",
        3 => "UNKNOWN",
        other => panic!("exit {other} is not a plugin status: {r:?}"),
    };
    let head = format!("{service} {word} - ");
    assert!(line.starts_with(&head), "expected {head:?}…, got {r:?}");
    assert!(line.matches('|').count() <= 1, "{line}");
    line
}

/// The state word `check_tcp` printed. It puts it after its service (`TCP OK - …`) or first
/// (`CRITICAL - Socket timeout …`), but prints none for a refused connection (`connect to
/// address … Connection refused`): then the exit code stands for it.
fn check_tcp_state(r: &Run) -> String {
    let first = r.stdout.lines().next().unwrap_or("");
    let words = ["OK", "WARNING", "CRITICAL", "UNKNOWN"];
    first
        .split_whitespace()
        .take(2)
        .find(|w| words.contains(w))
        .map(str::to_string)
        .unwrap_or_else(|| words[usize::try_from(r.code).unwrap_or(3).min(3)].to_string())
}

/// A port nothing listens on: bound to 127.0.0.1:0 and closed.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A threaded server on 127.0.0.1 that sends `banner` to each client, keeps the connection
/// `hold` seconds, then closes it. Prints `PORT PID`.
fn banner_server(banner: &[u8], hold: f64) -> Spawned {
    let hex: String = banner.iter().map(|b| format!("{b:02x}")).collect();
    python(&format!(
        "import socket,os,time,threading\n\
         b=bytes.fromhex('{hex}')\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(64); s.settimeout(120)\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         def serve(c):\n\
         \x20   try:\n\
         \x20       c.sendall(b) if b else None\n\
         \x20       time.sleep({hold})\n\
         \x20   except OSError:\n\
         \x20       pass\n\
         \x20   c.close()\n\
         while True:\n\
         \x20   try:\n\
         \x20       c,_=s.accept()\n\
         \x20   except OSError:\n\
         \x20       break\n\
         \x20   threading.Thread(target=serve,args=(c,),daemon=True).start()\n"
    ))
}

/// A server that accepts every connection and closes it at once. `check connect` targets
/// accept: other tests running meanwhile (audit, probe) connect to every listener of the
/// machine, and would fill the queue of one that never accepts.
fn accepting_server() -> Spawned {
    banner_server(b"", 0.0)
}

/// A listener (backlog 0, never accepting) whose accept queue the returned connections
/// fill: further connects get no answer, so they time out.
fn full_queue() -> (Spawned, Vec<TcpStream>) {
    let l = python(
        "import socket,os,time\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(0)\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         time.sleep(120)\n",
    );
    let port: u16 = l.words[0].parse().unwrap();
    let held = (0..3)
        .filter_map(|_| {
            TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
                .ok()
        })
        .collect();
    (l, held)
}

// ---------------------------------------------------------------------------------------------
// check connect

#[test]
fn connect_to_a_listener_is_ok_with_check_tcp_perfdata() {
    let l = accepting_server();
    let port = &l.words[0];
    let r = check(&["connect", &format!("127.0.0.1:{port}")]);
    assert_eq!(r.code, 0, "{r:?}");
    let line = status(&r, "TCP");
    let (text, perf) = line.split_once('|').unwrap();
    assert!(
        text.ends_with(&format!(" second response time on 127.0.0.1 port {port}")),
        "{line}"
    );
    // time=0.000123s;;;0.000000;10.000000
    let value = perf
        .strip_prefix("time=")
        .and_then(|p| p.strip_suffix("s;;;0.000000;10.000000"))
        .unwrap_or_else(|| panic!("perfdata {perf}"));
    let secs: f64 = value.parse().unwrap();
    assert!(
        value.split('.').nth(1).unwrap().len() == 6 && secs < 10.0,
        "{perf}"
    );
    assert_eq!(r.stdout.lines().count(), 1, "{r:?}");
}

#[test]
fn connect_to_a_closed_port_is_critical() {
    let port = closed_port();
    let r = check(&["connect", &format!("127.0.0.1:{port}")]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(
        status(&r, "TCP"),
        format!("TCP CRITICAL - connect to address 127.0.0.1 and port {port}: Connection refused")
    );
    // -r: the state of a refusal.
    let r = check(&["connect", &format!("127.0.0.1:{port}"), "-r", "warn"]);
    assert_eq!(r.code, 1, "{r:?}");
    status(&r, "TCP");
}

#[test]
fn connect_thresholds_cross_warning_and_critical() {
    let l = accepting_server();
    let target = format!("127.0.0.1:{}", l.words[0]);
    // A loopback connect takes tens of microseconds: far above 0.1 µs, far below 5 s.
    let cases: &[(&[&str], i32, &str)] = &[
        (&["-w", "0.0000001"], 1, ";0.0000001;;0.000000;10.000000"),
        (&["-c", "0.0000001"], 2, ";;0.0000001;0.000000;10.000000"),
        (
            &["-w", "0.0000001", "-c", "0.0000001"],
            2,
            ";0.0000001;0.0000001;",
        ),
        (&["-w", "5", "-c", "10"], 0, ";5;10;0.000000;10.000000"),
        // Ranges: alert below 5 s (a fast answer is the alert here), inside 0..10.
        (&["-w", "5:"], 1, ";5:;;"),
        (&["-c", "@0:10"], 2, ";;@0:10;"),
        (&["-w", "~:5", "-t", "2.5"], 0, ";~:5;;0.000000;2.500000"),
    ];
    for (flags, code, perf) in cases {
        let mut args = vec!["connect", target.as_str()];
        args.extend_from_slice(flags);
        let r = check(&args);
        assert_eq!(r.code, *code, "{flags:?}: {r:?}");
        let line = status(&r, "TCP");
        assert!(line.contains(perf), "{flags:?}: {line}");
    }
}

#[test]
fn connect_expect_matches_and_mismatches_the_banner() {
    let s = banner_server(SSH_BANNER.as_bytes(), 0.3);
    let target = format!("127.0.0.1:{}", s.words[0]);
    let run = |flags: &[&str]| {
        let mut args = vec!["connect", target.as_str()];
        args.extend_from_slice(flags);
        check(&args)
    };
    let r = run(&["-e", "SSH-2.0"]);
    assert_eq!(r.code, 0, "{r:?}");
    let line = status(&r, "TCP");
    assert!(line.contains(" [SSH-2.0-portscope_test]|time="), "{line}");

    let r = run(&["--expect", "FTP"]);
    assert_eq!(r.code, 1, "{r:?}");
    let line = status(&r, "TCP");
    assert!(
        line.contains(&format!(
            "Unexpected response from 127.0.0.1 port {}: SSH-2.0-portscope_test (expected 'FTP')",
            s.words[0]
        )),
        "{line}"
    );
    assert_eq!(run(&["-e", "FTP", "-M", "crit"]).code, 2);
    assert_eq!(run(&["-e", "FTP", "-M", "ok"]).code, 0);
    assert_eq!(run(&["-e", "FTP", "-e", "SSH"]).code, 0);
    assert_eq!(run(&["-e", "FTP", "-e", "SSH", "--all"]).code, 1);
    // A critical time stays critical when the banner is wrong too.
    assert_eq!(run(&["-e", "FTP", "-c", "0.0000001"]).code, 2);

    let (v, code) = check_json(&["connect", &target, "-e", "SSH"]);
    assert_eq!(code, 0);
    assert_eq!(v["command"], "check");
    assert_eq!(v["plugin"], "connect");
    assert_eq!(v["state"], "ok");
    assert_eq!(v["exit_code"], 0);
    assert_eq!(v["connect"]["outcome"], "connected");
    assert_eq!(v["connect"]["expect_matched"], true);
    assert_eq!(v["connect"]["banner"], SSH_BANNER);
    assert_eq!(v["perfdata"][0]["label"], "time");
    assert_eq!(v["perfdata"][0]["uom"], "s");
}

#[test]
fn connect_timeouts_and_silence_are_critical() {
    let (q, _held) = full_queue();
    let r = check(&["connect", &format!("127.0.0.1:{}", q.words[0]), "-t", "1"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        status(&r, "TCP").contains("Socket timeout after 1 seconds connecting to 127.0.0.1"),
        "{r:?}"
    );

    let silent = banner_server(b"", 30.0);
    let target = format!("127.0.0.1:{}", silent.words[0]);
    let r = check(&["connect", &target, "-e", "SSH", "-t", "0.5"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        status(&r, "TCP").contains("Socket timeout after 0.5 seconds waiting for data"),
        "{r:?}"
    );
    // Without --expect nothing is read: a silent server is fine.
    assert_eq!(check(&["connect", &target, "-t", "0.5"]).code, 0);

    let closes = banner_server(b"", 0.0);
    let r = check(&[
        "connect",
        &format!("127.0.0.1:{}", closes.words[0]),
        "-e",
        "x",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        status(&r, "TCP").contains("No data received from host"),
        "{r:?}"
    );
}

#[test]
fn a_hostile_banner_cannot_break_the_status_line() {
    let evil = b"evil\r\nTCP OK - fake|time=1s;;;0;10\r\n\x1b[31mred\xff|";
    let s = banner_server(evil, 0.3);
    let target = format!("127.0.0.1:{}", s.words[0]);
    for (flags, code) in [(&["-e", "evil"][..], 0), (&["-e", "nope"][..], 1)] {
        let mut args = vec!["connect", target.as_str()];
        args.extend_from_slice(flags);
        let r = check(&args);
        assert_eq!(r.code, code, "{r:?}");
        assert_eq!(r.stdout.lines().count(), 1, "{r:?}");
        let line = status(&r, "TCP");
        assert_eq!(line.matches('|').count(), 1, "{line}");
        assert!(
            line.contains("evil\\x0d\\x0aTCP OK - fake\\x7ctime=1s"),
            "{line}"
        );
        assert!(!line.contains('\x1b') && !line.contains('\r'), "{line}");
    }
}

#[test]
fn side_by_side_with_check_tcp() {
    let Some(check_tcp) = harness::needs(
        "side_by_side_with_check_tcp",
        CHECK_TCP,
        "monitoring-plugins-basic",
    ) else {
        return;
    };
    let open = accepting_server();
    let banner = banner_server(SSH_BANNER.as_bytes(), 0.3);
    let mute = banner_server(b"", 0.0);
    let (queue, _held) = full_queue();
    let closed = closed_port().to_string();
    let (open, banner, mute, queue) = (
        &open.words[0],
        &banner.words[0],
        &mute.words[0],
        &queue.words[0],
    );
    // port, flags (the same letters for both), the state check_tcp gives.
    let cases: &[(&str, &[&str], &str)] = &[
        (open, &[], "OK"),
        (&closed, &[], "CRITICAL"),
        (&closed, &["-r", "warn"], "WARNING"),
        (&closed, &["-r", "ok"], "OK"),
        (banner, &["-e", "SSH-2.0"], "OK"),
        (banner, &["-e", "portscope_test"], "OK"),
        (banner, &["-e", "FTP"], "WARNING"),
        (banner, &["-e", "FTP", "-M", "crit"], "CRITICAL"),
        (banner, &["-e", "FTP", "-M", "ok"], "OK"),
        (banner, &["-e", "FTP", "-e", "SSH"], "OK"),
        (banner, &["-e", "FTP", "-e", "SSH", "-A"], "WARNING"),
        (banner, &["-e", "FTP", "-c", "0.0000001"], "CRITICAL"),
        (banner, &["-e", "FTP", "-M", "ok", "-w", "0.0000001"], "OK"),
        (mute, &["-e", "SSH"], "CRITICAL"),
        (open, &["-w", "0.0000001"], "WARNING"),
        (open, &["-c", "0.0000001"], "CRITICAL"),
        (open, &["-w", "0.0000001", "-c", "0.0000001"], "CRITICAL"),
        (open, &["-w", "5", "-c", "10"], "OK"),
        (queue, &["-t", "1"], "CRITICAL"),
    ];
    for (port, flags, expected) in cases {
        let target = format!("127.0.0.1:{port}");
        let mut ours = vec!["connect", target.as_str()];
        ours.extend_from_slice(flags);
        let mine = check(&ours);
        let mut theirs = vec!["-H", "127.0.0.1", "-p", port];
        theirs.extend_from_slice(flags);
        let reference = harness::output(std::process::Command::new(&check_tcp).args(&theirs));
        let what = format!(
            "{flags:?} on {target}\n portscope: {} (exit {})\n check_tcp: {} (exit {})",
            mine.stdout.trim_end(),
            mine.code,
            reference.stdout.trim_end(),
            reference.code
        );
        let word = status(&mine, "TCP").split_whitespace().nth(1).unwrap_or("");
        assert_eq!(
            check_tcp_state(&reference),
            *expected,
            "check_tcp itself: {what}"
        );
        assert_eq!(word, *expected, "{what}");
        assert_eq!(mine.code, reference.code, "{what}");
    }
}

// ---------------------------------------------------------------------------------------------
// check listen

#[test]
fn listen_ok_critical_and_where() {
    let lo = tcp_listener("127.0.0.1");
    let (port, pid) = (&lo.words[0], &lo.words[1]);
    let r = check(&["listen", port]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout,
        format!(
            "LISTEN OK - TCP port {port}: python3[{pid}] on 127.0.0.1 (loopback only)\
             |listeners=1;;;0\n"
        )
    );
    assert_eq!(
        check(&["listen", &format!("{port}/tcp"), "--bind", "loopback"]).code,
        0
    );
    let r = check(&["listen", port, "--bind", "any"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        status(&r, "LISTEN").contains("listens on loopback only (127.0.0.1 python3["),
        "{r:?}"
    );

    let wide = tcp_listener("0.0.0.0");
    let r = check(&["listen", &wide.words[0], "--bind", "loopback"]);
    assert_eq!(r.code, 2, "{r:?}");
    let line = status(&r, "LISTEN");
    assert!(
        line.contains(&format!(
            "listens on 0.0.0.0 (all interfaces, python3[{}]), not on loopback only",
            wide.words[1]
        )),
        "{line}"
    );
    assert_eq!(check(&["listen", &wide.words[0], "--bind", "any"]).code, 0);

    let port = closed_port().to_string();
    let r = check(&["listen", &port]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(
        r.stdout,
        format!("LISTEN CRITICAL - nothing listens on TCP port {port}|listeners=0;;;0\n")
    );
}

#[test]
fn listen_checks_the_owner() {
    let l = tcp_listener("127.0.0.1");
    let (port, pid) = (&l.words[0], &l.words[1]);
    let r = check(&["listen", port, "--process", "python3"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = check(&["listen", port, "--process", "nginx"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(
        status(&r, "LISTEN"),
        format!(
            "LISTEN CRITICAL - TCP port {port} on 127.0.0.1 is held by python3[{pid}], \
             not by nginx|listeners=1;;;0"
        )
    );
    let (v, code) = check_json(&["listen", port, "--process", "nginx"]);
    assert_eq!(code, 2);
    assert_eq!(v["state"], "critical");
    let listener = &v["listen"]["listeners"][0];
    assert_eq!(listener["address"], "127.0.0.1");
    assert_eq!(listener["exposure"], "loopback");
    assert_eq!(listener["pids"][0].as_u64(), pid.parse::<u64>().ok());
    assert_eq!(listener["processes"][0], "python3");
    assert_eq!(v["perfdata"][0]["label"], "listeners");
    assert_eq!(v["perfdata"][0]["value"], 1.0);
}

#[test]
fn listen_on_udp_and_on_two_sockets() {
    let u = python(
        "import socket,os,time\n\
         s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('127.0.0.1',0))\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         time.sleep(120)\n",
    );
    let r = check(&["listen", &format!("{}/udp", u.words[0])]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(status(&r, "LISTEN").starts_with(&format!("LISTEN OK - UDP port {}: ", u.words[0])));

    // Two sockets on one port, 127.0.0.1 and ::1 (IPv6 only): one long-output line each.
    let two = python(
        "import socket,os,time\n\
         a=socket.socket(); a.bind(('127.0.0.1',0)); a.listen(8); p=a.getsockname()[1]\n\
         b=socket.socket(socket.AF_INET6); b.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)\n\
         b.bind(('::1',p)); b.listen(8)\n\
         print(p, os.getpid(), flush=True)\n\
         time.sleep(120)\n",
    );
    let r = check(&["listen", &two.words[0], "--bind", "loopback"]);
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{r:?}");
    assert!(lines[0].ends_with("|listeners=2;;;0"), "{r:?}");
    assert!(
        lines[1..].iter().all(|l| l.starts_with("tcp python3[")),
        "{r:?}"
    );
}

#[test]
fn listen_never_guesses_a_hidden_owner() {
    if !harness::require_root(
        "listen_never_guesses_a_hidden_owner",
        "runs portscope as nobody, who may not read root's /proc/<pid>/fd",
    ) {
        return;
    }
    let l = tcp_listener("127.0.0.1");
    let bin = harness::binary_for_other_users();
    let as_nobody = |args: &[&str]| bin.run_as_nobody(&[&["check"], args].concat());
    let port = l.words[0].as_str();
    let r = as_nobody(&["listen", port, "--process", "python3"]);
    let exists = as_nobody(&["listen", port]);
    drop(bin);
    assert_eq!(r.code, 3, "{r:?}");
    let line = status(&r, "LISTEN");
    assert!(
        line.contains("cannot see the owner") && line.contains("root"),
        "{line}"
    );
    assert!(r.stdout.contains("hidden owner"), "{r:?}");
    // Whether something listens needs no owner: that is still answered.
    let r = exists;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(status(&r, "LISTEN").contains("(owner hidden)"), "{r:?}");
}

// ---------------------------------------------------------------------------------------------
// check audit

/// The state an audit's counts stand for.
fn audit_state(critical: u64, warning: u64) -> (&'static str, i32) {
    match (critical, warning) {
        (c, _) if c > 0 => ("CRITICAL", 2),
        (_, w) if w > 0 => ("WARNING", 1),
        _ => ("OK", 0),
    }
}

#[test]
fn audit_line_agrees_with_its_counts_and_json() {
    let r = check(&["audit", "--no-probe"]);
    let line = status(&r, "AUDIT");
    let (_, perf) = line
        .split_once('|')
        .unwrap_or_else(|| panic!("no perfdata: {line}"));
    let counts: Vec<u64> = perf
        .split(' ')
        .zip(["critical=", "warning=", "info="])
        .map(|(item, label)| {
            let n = item
                .strip_prefix(label)
                .and_then(|rest| rest.strip_suffix(";;;0"))
                .unwrap_or_else(|| panic!("perfdata {perf}"));
            n.parse().unwrap()
        })
        .collect();
    assert_eq!(counts.len(), 3, "{perf}");
    let (word, code) = audit_state(counts[0], counts[1]);
    assert_eq!(r.code, code, "{r:?}");
    assert!(line.starts_with(&format!("AUDIT {word} - ")), "{line}");
    // One long-output line per finding (and one about hidden owners, if any).
    let total: u64 = counts.iter().sum();
    let per_finding = r.stdout.lines().skip(1).filter(|l| l.starts_with('['));
    assert_eq!(per_finding.count() as u64, total, "{r:?}");

    let (v, code) = check_json(&["audit", "--no-probe"]);
    let findings = v["audit"]["findings"].as_array().unwrap();
    let sev = |s: &str| findings.iter().filter(|f| f["severity"] == s).count() as u64;
    let (word, expected) = audit_state(sev("critical"), sev("warning"));
    assert_eq!(code, expected, "{v}");
    assert_eq!(v["exit_code"], expected, "{v}");
    assert_eq!(v["state"], word.to_lowercase(), "{v}");
    assert_eq!(v["audit"]["critical"], sev("critical"), "{v}");
    let hidden_line = usize::from(v["audit"]["hidden"]["sockets"].as_u64() > Some(0));
    assert_eq!(
        v["details"].as_array().unwrap().len(),
        findings.len() + hidden_line,
        "{v}"
    );
}

#[test]
fn audit_is_critical_for_redis_open_to_the_network() {
    let Some(redis) = servers::redis_exposed() else {
        return;
    };
    let r = check(&["audit"]);
    assert_eq!(r.code, 2, "{r:?}\n{}", redis.log());
    let line = status(&r, "AUDIT");
    assert!(line.contains("critical"), "{line}");
    let port = format!(" on {}/tcp", redis.port);
    assert!(
        r.stdout
            .lines()
            .skip(1)
            .any(|l| l.starts_with("[critical] AUD-") && l.contains(&port)),
        "no critical finding{port}: {r:?}"
    );
}
