//! Flag values checked whether or not the mode that uses them is on, addresses that must be
//! this machine's (`pick --host`, `run --host`), and errors that repeat what the user typed
//! cutting it short: each case is exit 2 with one line on standard error.

use crate::bad_input::assert_bad_input;
use crate::harness::{self, TempDir};

/// `portscope ARGS` (with a fresh state directory) is exit 2 with one line holding `needle`.
fn rejected(args: &[&str], needle: &str) -> harness::Run {
    let r = run_with_state(args);
    assert_bad_input(&r, args, needle);
    r
}

/// `portscope ARGS` with a fresh state directory.
fn run_with_state(args: &[&str]) -> harness::Run {
    let state = TempDir::new("flags");
    harness::output(
        harness::portscope()
            .args(args)
            .env("PORTSCOPE_STATE_DIR", state.path()),
    )
}

#[test]
fn pick_host_not_on_this_machine_is_an_error_not_every_port_in_use() {
    // 192.0.2.0/24 is TEST-NET-1: documentation only, never an address of a real host.
    rejected(
        &["pick", "--host", "192.0.2.77"],
        "--host 192.0.2.77 is not an address of this host",
    );
    let r = run_with_state(&["pick", "--host", "127.0.0.1"]);
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn watch_checks_retention_flags_without_record_and_refuses_duration_0() {
    for (args, needle) in [
        (&["--keep", "abc"][..], "--keep abc is not a duration"),
        (&["--max-size", "abc"], "--max-size abc is not a size"),
        (&["--keep", "10s"], "--keep 10s is too short"),
    ] {
        // --duration: on a build that lets the flag through, watch ends instead of hanging.
        let all = [&["watch", "--events", "--duration", "1s"][..], args].concat();
        rejected(&all, needle);
    }
    let r = rejected(
        &["watch", "--events", "--duration", "0"],
        "--duration 0 is too short",
    );
    assert!(r.stderr.contains("100ms to 24h"), "{r:?}");
}

#[test]
fn run_host_is_an_address_of_this_machine_or_localhost() {
    rejected(
        &["run", "--host", "300.1.1.1", "--", "true"],
        "--host 300.1.1.1 is not an IP address",
    );
    rejected(
        &["run", "--host", "192.0.2.77", "--", "true"],
        "--host 192.0.2.77 is not an address of this host",
    );
    for host in ["localhost", "127.0.0.1", "0.0.0.0"] {
        let r = run_with_state(&["run", "--host", host, "--", "true"]);
        assert_eq!(r.code, 0, "{host}: {r:?}");
        assert!(r.stderr.contains(&format!("HOST={host}")), "{r:?}");
    }
}

#[test]
fn a_100kb_argument_is_not_repeated_whole() {
    let long = "x".repeat(100_000);
    let path = format!("/{long}");
    let flag = format!("--{long}");
    let cases: Vec<Vec<&str>> = vec![
        vec!["who", &long],
        vec!["who", "1", &long],
        vec![&long],
        vec!["ls", &flag],
        vec!["pick", "--host", &long],
        vec!["forward", &long, "1"],
        vec!["kill", "1", "--signal", &long],
        vec!["run", "--host", &long, "--", "true"],
        vec!["ls", "--user", &long],
        vec!["history", "--since", &long],
        vec!["audit", "--allowlist", &path],
        vec!["check-config", "--config", &path],
        vec!["watch", "--keep", &long],
    ];
    for args in cases {
        let r = harness::run(&args);
        let shown: Vec<String> = args.iter().map(|a| a.chars().take(20).collect()).collect();
        assert_eq!(
            r.code,
            2,
            "{shown:?}: {}",
            r.stderr.get(..300).unwrap_or(&r.stderr)
        );
        assert_eq!(r.stderr.matches('\n').count(), 1, "{shown:?}");
        assert!(
            r.stderr.len() < 300,
            "{shown:?}: {} bytes: {}",
            r.stderr.len(),
            r.stderr.get(..300).unwrap_or_default()
        );
        assert!(
            r.stderr.contains("x…") || r.stderr.contains("x\"…"),
            "{shown:?}: {}",
            r.stderr
        );
    }
    // A plugin's bad argument is its UNKNOWN line on standard output: cut the same way.
    let r = harness::run(&["check", "listen", "80", "--bind", &long]);
    assert_eq!(r.code, 3, "{}", r.stdout.get(..300).unwrap_or(&r.stdout));
    assert!(
        r.stdout.len() < 300 && r.stdout.contains("xxx…"),
        "{}",
        r.stdout.len()
    );
}
