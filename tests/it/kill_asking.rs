//! Integration tests of when `kill` asks and when it need not: it looks before it asks (a
//! port nothing holds passes without a terminal or `--yes`), a comma list names several
//! ports, the question on a terminal, and bad input. Real holders (python3 on port 0); only
//! the pids each test created are ever signalled.

use std::process::Command;

use portscope::sys::procfs::pid_alive;

use crate::harness::{self, output, tcp_listener};
use crate::kill::{BIN, holding, kill, kill_json};

#[test]
fn bad_input_is_exit_2_with_one_line() {
    let l = tcp_listener("127.0.0.1");
    let port = l.words[0].clone();
    for (args, needle) in [
        (
            vec!["pid:1", "--yes"],
            "kill frees ports: give PORT, HOST:PORT or LOW-HIGH",
        ),
        (
            vec!["node", "--yes"],
            "kill frees ports: give PORT, HOST:PORT or LOW-HIGH",
        ),
        (vec!["70000", "--yes"], "70000"),
        (vec![&port, "--yes", "--signal", "STOP"], "--signal STOP"),
        (vec![&port, "--yes", "--signal", "99"], "expected TERM, INT"),
        (vec![&port, "--yes", "--timeout", "5x"], "--timeout 5x"),
        (vec![&port, "--yes", "--timeout", "-1"], "--timeout"),
        (
            vec![&port],
            "pass --yes, or --dry-run to see what would stop",
        ),
    ] {
        let r = kill(&args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
        assert!(
            r.stderr.starts_with("portscope: error: "),
            "{args:?}: {}",
            r.stderr
        );
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
    }
    assert!(pid_alive(l.pid));
}

#[test]
fn asks_on_a_terminal_and_a_no_stops_nothing() {
    let Some(script) = harness::needs("asks_on_a_terminal", "script", "bsdutils") else {
        return;
    };
    let l = tcp_listener("127.0.0.1");
    let port = l.words[0].clone();
    let ask = |answer: &str| {
        let out = harness::output_with_stdin(
            Command::new(&script)
                .args(["-qec", &format!("'{BIN}' kill {port}"), "/dev/null"])
                .env("NO_COLOR", "1"),
            answer.as_bytes(),
        );
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out) = ask("n\n");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "Send SIGTERM to 1 process(es) (python3[{}])? [y/N]",
            l.pid
        )),
        "{out}"
    );
    assert!(out.contains("nothing was stopped"), "{out}");
    assert!(pid_alive(l.pid));
    let (code, out) = ask("y\n");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("port {port} is free now")), "{out}");
    assert!(!pid_alive(l.pid));
}

/// A port nothing holds: bound on port 0 by the kernel's choice, then closed.
fn free_port() -> u16 {
    let s = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}

#[test]
fn a_free_port_needs_no_terminal_and_no_yes() {
    let port = free_port().to_string();
    let r = output(
        harness::portscope()
            .args(["kill", &port])
            .stdin(std::process::Stdio::null()),
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, format!("nothing holds port {port}: it is free\n"));
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    // Looking first does not lift the question for a port that is held.
    let l = tcp_listener("127.0.0.1");
    let held = l.words[0].clone();
    let r = output(
        harness::portscope()
            .args(["kill", &format!("{port},{held}")])
            .stdin(std::process::Stdio::null()),
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(
        r.stderr
            .contains("pass --yes, or --dry-run to see what would stop"),
        "{}",
        r.stderr
    );
    assert!(pid_alive(l.pid));
}

#[test]
fn a_comma_list_frees_each_port() {
    let (a, b) = (tcp_listener("127.0.0.1"), tcp_listener("127.0.0.1"));
    let list = format!("{},{}", a.words[0], b.words[0]);
    let (code, v) = kill_json(&[&list, "--yes"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["targets"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["all_free"], true, "{v}");
    let mut stopped: Vec<u64> = v["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["pid"].as_u64().unwrap())
        .collect();
    stopped.sort_unstable();
    let mut want = vec![u64::from(a.pid), u64::from(b.pid)];
    want.sort_unstable();
    assert_eq!(stopped, want, "{v}");
    assert!(!pid_alive(a.pid) && !pid_alive(b.pid));
    assert!(holding(a.num(0)).is_empty() && holding(b.num(0)).is_empty());
}
