//! The commands people type first, from the tools they know: `portscope 3000` (kill-port,
//! fuser, lsof) is `portscope who 3000` in every spelling of a port, address or URL, while a
//! process name or a mistyped verb stays a usage error with a suggestion.

use std::net::TcpListener;

use crate::harness::{json, on_port, pids, run, tcp_listener};

/// A port nothing listens on: bound to 127.0.0.1:0 and closed.
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn a_lone_target_is_asked_of_who() {
    let l = tcp_listener("127.0.0.1");
    let port = l.num(0);
    let who = json(&["who", &port.to_string()]);
    assert_eq!(pids(&on_port(&who, port)[0]), [l.pid], "{who}");
    let spellings = [
        port.to_string(),
        format!(":{port}"),
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("http://localhost:{port}/"),
    ];
    for target in &spellings {
        let lone = json(&[target]);
        let asked = json(&["who", target]);
        assert_eq!(lone["command"], "who", "{target}: {lone}");
        assert_eq!(lone["target"], asked["target"], "{target}");
        assert_eq!(lone["held"], true, "{target}: {lone}");
        let socks = on_port(&lone, port);
        assert_eq!(socks.len(), 1, "{target}: {lone}");
        assert_eq!(pids(&socks[0]), [l.pid], "{target}: {lone}");
        assert_eq!(on_port(&lone, port), on_port(&asked, port), "{target}");
    }
    // --json before the target, and the table: the same as `who`'s.
    let before = run(&["--json", &spellings[0]]);
    assert_eq!(before.code, 0, "{before:?}");
    let parsed: serde_json::Value = serde_json::from_str(&before.stdout).unwrap();
    assert_eq!(parsed["target"], who["target"]);
    let table = run(&[&spellings[1]]);
    assert_eq!(table.code, 0, "{table:?}");
    let header = table.stdout.lines().next().unwrap_or("");
    assert_eq!(
        header,
        run(&["who", &spellings[1]]).stdout.lines().next().unwrap()
    );
    assert!(table.stdout.contains(&l.pid.to_string()), "{table:?}");
}

#[test]
fn a_lone_free_port_exits_1_as_who_does() {
    let port = free_port().to_string();
    let lone = run(&[&port]);
    let asked = run(&["who", &port]);
    assert_eq!((lone.code, asked.code), (1, 1), "{lone:?} {asked:?}");
    assert_eq!(lone.stdout, asked.stdout);
    assert!(lone.stdout.starts_with("nothing holds"), "{lone:?}");
    // Text written as a port but wrong is who's own one-line reason, not "unknown verb".
    let bad = run(&["65536"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("65535"), "{bad:?}");
}

#[test]
fn a_process_name_or_a_typo_is_not_a_target() {
    for (word, told) in [
        (
            "node",
            "unrecognized subcommand 'node'; see 'portscope --help'",
        ),
        ("pid:1", "unrecognized subcommand 'pid:1'"),
        ("kil", "unrecognized subcommand 'kil'; did you mean 'kill'?"),
    ] {
        let r = run(&[word]);
        assert_eq!(r.code, 2, "{word}: {r:?}");
        assert!(r.stdout.is_empty(), "{word}: {r:?}");
        assert!(r.stderr.contains(told), "{word}: {r:?}");
    }
}

#[test]
fn help_version_completions_and_man_are_unchanged() {
    let help = run(&["help"]);
    assert_eq!(help.code, 0, "{help:?}");
    assert!(help.stdout.contains("Usage: portscope"), "{help:?}");
    assert_eq!(run(&["--help"]).stdout, help.stdout);
    let version = run(&["--version"]);
    assert_eq!(version.code, 0);
    assert!(version.stdout.starts_with("portscope "), "{version:?}");
    let bash = run(&["completions", "bash"]);
    assert_eq!(bash.code, 0);
    assert!(bash.stdout.contains("complete -F"), "{}", bash.stderr);
    let man = run(&["man", "who"]);
    assert_eq!(man.code, 0);
    assert!(man.stdout.contains(".TH"), "{}", man.stderr);
    // A target before `--help` asks for who's help.
    let who_help = run(&["3000", "--help"]);
    assert_eq!(who_help.code, 0);
    assert_eq!(who_help.stdout, run(&["who", "--help"]).stdout);
}
