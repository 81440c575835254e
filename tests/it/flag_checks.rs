//! Errors that repeat what the user typed cut it short: each case is exit 2 with one line
//! on standard error.

use crate::harness;

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
