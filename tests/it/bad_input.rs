//! Bad input, end to end: exit code 2, one line on stderr naming the problem (and what was
//! probably meant), no panic; under `check`, the plugin's UNKNOWN line on stdout, exit 3.

use crate::check::{check, check_json, status};
use crate::harness::{self, run};

fn assert_rejected(args: &[&str], needle: &str) {
    assert_bad_input(&run(args), args, needle);
}

/// Exit 2, nothing on standard output, and one line on standard error that starts with
/// `portscope: error: ` and holds `needle` (any case); `args` names the run in messages.
pub(crate) fn assert_bad_input(r: &harness::Run, args: &[&str], needle: &str) {
    let args: Vec<String> = args.iter().map(|a| a.chars().take(40).collect()).collect();
    assert_eq!(r.code, 2, "{args:?} → {r:?}");
    assert!(
        r.stdout.is_empty(),
        "{args:?} printed to stdout: {}",
        r.stdout
    );
    assert_eq!(
        r.stderr.matches('\n').count(),
        1,
        "{args:?}: not one line: {:?}",
        r.stderr
    );
    assert!(
        r.stderr.starts_with("portscope: error: "),
        "{args:?}: {}",
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{args:?}: {}", r.stderr);
    assert!(
        r.stderr.to_lowercase().contains(&needle.to_lowercase()),
        "{args:?}: expected {needle:?} in {:?}",
        r.stderr
    );
}

#[test]
fn bad_targets_are_rejected_with_one_line() {
    let table: &[(&str, &str)] = &[
        ("0", "port"),
        ("65536", "65535"),
        ("-1", "-1"),
        ("127.0.0.1:", "port"),
        ("[::1", "["),
        ("300.1.1.1:80", "300.1.1.1"),
        ("", "empty"),
        ("   ", "empty"),
        ("80/sctp", "sctp"),
        ("pid:0", "pid"),
        ("pid:abc", "pid"),
        ("3010-3000", "range"),
        ("::1:80", "[::1]:80"),
        ("127.0.0.1", "port"),
        ("a b", "a b"),
        ("gopher://host", "scheme"),
        ("evil\x1b[31m", "1b"),
    ];
    for (input, needle) in table {
        assert_rejected(&["who", input], needle);
        assert_rejected(&["explain", input], needle);
    }
}

#[test]
fn bad_flags_are_rejected_with_one_line() {
    assert_rejected(&["ls", "--state", "bogus"], "bogus");
    assert_rejected(&["ls", "--pid", "abc"], "abc");
    assert_rejected(&["ls", "--pid", "0"], "process id");
    assert_rejected(&["ls", "--user", "no-such-user-here"], "no-such-user-here");
    assert_rejected(&["who", "--pid", "-5"], "-5");
    assert_rejected(&["ls", "--no-such-flag"], "--no-such-flag");
    assert_rejected(&["frobnicate"], "frobnicate");
    assert_rejected(&["who"], "TARGET");
    assert_rejected(&["--color", "purple"], "purple");
    assert_rejected(&["explain", "pid:1"], "who pid:1");
    assert_rejected(&["doctor", "3000-3010"], "one port");
    assert_rejected(&["doctor", "65536"], "65535");
    assert_rejected(&["doctor", "53/udp"], "UDP");
    assert_rejected(&["doctor", "8080", "--timeout", "0"], "--timeout");
    assert_rejected(&["probe", "--deadline", "5", "8080"], "--deadline");
}

#[test]
fn clap_suggestions_stay_on_the_line() {
    let table: &[(&[&str], &str)] = &[
        (
            &["kil", "3000"],
            "unrecognized subcommand 'kil'; did you mean 'kill'?",
        ),
        (
            &["ls", "--tpc"],
            "unexpected argument '--tpc' found; did you mean '--tcp'?",
        ),
        (&["who", "3000", "--jsn"], "did you mean '--json'?"),
        (&["--color", "nevr"], "did you mean 'never'?"),
        (&["chekc"], "did you mean 'check-config' or 'check'?"),
    ];
    for (args, needle) in table {
        assert_rejected(args, needle);
    }
    let r = run(&["kil", "3000"]);
    assert_eq!(
        r.stderr,
        "portscope: error: unrecognized subcommand 'kil'; did you mean 'kill'?\n"
    );
    // With nothing similar, the line says where to read what is accepted.
    assert_rejected(
        &["ls", "--bogus"],
        "; see 'portscope ls --help' for what is accepted",
    );
}

#[test]
fn help_and_version_succeed() {
    let h = run(&["--help"]);
    assert_eq!(h.code, 0);
    assert!(h.stdout.contains("Usage"));
    assert_eq!(run(&["--version"]).code, 0);
    assert_eq!(run(&["who", "--help"]).code, 0);
}

#[test]
fn bad_arguments_are_one_unknown_line_exit_3() {
    let cases: &[&[&str]] = &[
        &["connect", "127.0.0.1:1", "-w", "abc"],
        &["connect", "127.0.0.1:1", "-c", "10:5"],
        &["connect", "127.0.0.1:1", "-w", ""],
        &["connect", "127.0.0.1:1", "-w", "@"],
        &["connect", "127.0.0.1:1", "-t", "0"],
        &["connect", "127.0.0.1:1", "-t", "soon"],
        &["connect", "127.0.0.1:1", "-M", "maybe"],
        &["connect", "127.0.0.1:1", "-e", ""],
        &["connect", "8080"],
        &["connect", "127.0.0.1:1/udp"],
        &["connect", "bad host!:1"],
        &["listen", "node"],
        &["listen", "70000"],
        &["listen", "80", "--bind", "lan"],
        &["listen", "80", "--process", ""],
    ];
    for args in cases {
        let r = check(args);
        assert_eq!(r.code, 3, "{args:?}: {r:?}");
        assert_eq!(r.stdout.lines().count(), 1, "{args:?}: {r:?}");
        let line = status(&r, "PORTSCOPE");
        assert!(
            line.contains("expected"),
            "{args:?}: says what is accepted: {line}"
        );
        assert!(!line.contains('|'), "{line}");
    }
    let (v, code) = check_json(&["connect", "127.0.0.1:1", "-w", "10:5"]);
    assert_eq!(
        (code, &v["state"], &v["exit_code"]),
        (3, &"unknown".into(), &3.into())
    );
    assert!(
        v["summary"].as_str().unwrap().contains("start is greater"),
        "{v}"
    );
}

#[test]
fn usage_errors_are_one_unknown_line_exit_3() {
    // What clap rejects before any plugin runs: unknown flags, missing arguments and values,
    // no plugin or an unknown one. A monitoring system would read exit 2 as CRITICAL.
    let cases: &[(&[&str], &str)] = &[
        (&["--bogus"], "unexpected argument '--bogus'"),
        (
            &[],
            "'portscope check' needs one of: listen, connect, audit",
        ),
        (&["bogus"], "unrecognized subcommand 'bogus'"),
        (&["lsten", "80"], "did you mean 'listen'?"),
        (&["connect"], "required arguments were not provided"),
        (
            &["connect", "127.0.0.1:1", "--no-such-flag"],
            "'--no-such-flag'",
        ),
        (&["connect", "127.0.0.1:1", "-w"], "a value is required"),
        (
            &["listen", "80", "--bnd", "loopback"],
            "did you mean '--bind'?",
        ),
        (&["listen", "80", "81"], "unexpected argument '81'"),
    ];
    for (args, says) in cases {
        let r = check(args);
        assert_eq!(r.code, 3, "{args:?}: {r:?}");
        assert_eq!(r.stdout.lines().count(), 1, "{args:?}: {r:?}");
        let line = status(&r, "PORTSCOPE");
        assert!(line.contains(says), "{args:?}: {line}");
        assert!(!line.contains('|'), "{line}");
    }
    let r = check(&["audit", "--bogus"]);
    assert!(
        status(&r, "PORTSCOPE").contains("see 'portscope check audit --help'"),
        "{r:?}"
    );
    let (v, code) = check_json(&["connect", "127.0.0.1:1", "--bogus"]);
    assert_eq!(
        (code, &v["state"], &v["plugin"]),
        (3, &"unknown".into(), &"connect".into())
    );
    let (v, code) = check_json(&["--bogus"]);
    assert_eq!((code, &v["service"]), (3, &"PORTSCOPE".into()), "{v}");
    assert!(v.get("plugin").is_none(), "no plugin was named: {v}");
    // Help is still help, and other verbs keep exit 2 on standard error.
    assert_eq!(check(&["--help"]).code, 0);
    let r = harness::run(&["ls", "--bogus"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout.is_empty() && r.stderr.starts_with("portscope: error:"),
        "{r:?}"
    );
}
