//! `ports.toml` at scale: the checks of 20,000 services are linear (they compared every
//! service with every other, and counted lines from the top for each: minutes in a debug
//! build).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::harness::{self, Run, TempDir};

/// Run portscope in `cwd` with the registry in `state`; the run and how long it took.
fn timed(cwd: &Path, state: &str, args: &[&str]) -> (Run, Duration) {
    let start = Instant::now();
    let r = harness::output(
        harness::portscope()
            .args(args)
            .args(["--state-dir", state])
            .current_dir(cwd),
    );
    (r, start.elapsed())
}

/// `[services.sN]` for N in `range`, each with `port(N)` when it gives one.
fn services(range: std::ops::Range<usize>, port: impl Fn(usize) -> Option<usize>) -> String {
    range
        .map(|i| match port(i) {
            Some(p) => format!("[services.s{i}]\nport = {p}\n\n"),
            None => format!("[services.s{i}]\n\n"),
        })
        .collect()
}

#[test]
fn twenty_thousand_services_are_checked_in_well_under_a_second() {
    let dir = TempDir::new("scale-20k");
    let state = dir.join("state");
    let file = dir.path().join("ports.toml");
    std::fs::write(&file, services(0..20_000, |i| Some(10_000 + i))).unwrap();
    // The bound the issue sets for a debug build (a release build is several times faster).
    let limit = Duration::from_secs(2);
    let (r, took) = timed(dir.path(), &state, &["env"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 20_000);
    assert!(took < limit, "env: {took:?}");
    // The clash checks still find what they should, at the end of the file.
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("[services.last]\nport = 10000\n");
    std::fs::write(&file, &text).unwrap();
    let (r, took) = timed(dir.path(), &state, &["check-config", "--json"]);
    assert!(took < limit, "check-config: {took:?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stderr));
    assert_eq!(v["services"].as_array().unwrap().len(), 20_001);
    let dup = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "CFG-DUPLICATE-PORT")
        .unwrap_or_else(|| panic!("no CFG-DUPLICATE-PORT in {}", v["findings"]));
    assert!(dup["title"].as_str().unwrap().contains("s0, last"), "{dup}");
    text.push_str("[services.S1]\n");
    std::fs::write(&file, &text).unwrap();
    let (r, took) = timed(dir.path(), &state, &["env"]);
    assert!(took < limit, "env with a clash: {took:?}");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("ports.toml line 60003: services s1 (line 4) and S1 both become S1_PORT"),
        "{}",
        r.stderr
    );
}
