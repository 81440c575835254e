//! Bad input, end to end: exit code 2, one line on stderr naming the problem, no panic.

use crate::harness::run;

fn assert_rejected(args: &[&str], needle: &str) {
    let r = run(args);
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
