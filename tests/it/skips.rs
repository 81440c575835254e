//! What a test needs — root, a program, a browser, systemd, an npm package — and the one
//! decision when it is missing: skip with one visible line, or fail where skipping is forbidden
//! (CI sets `PORTSCOPE_REQUIRE_ROOT=1`, `PORTSCOPE_REQUIRE_BROWSER=1` and
//! `PORTSCOPE_REQUIRE_NPM=1`, runs as root and installs every package). Re-exported by
//! `harness`, where the tests find them.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::harness::{TempDir, is_root};

/// Where a program is looked for after `PATH`: a normal user's `PATH` on Debian lacks the sbin
/// directories, where `ip`, `nft`, `sshd` and `dnsmasq` live.
const SBIN: [&str; 3] = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/// For tests that need root: true to go on. When not root, writes one line saying the test
/// was skipped and why — or fails, when `PORTSCOPE_REQUIRE_ROOT=1` (CI runs as root).
pub fn require_root(test: &str, why: &str) -> bool {
    let needs = format!("root ({why})");
    let required = required("PORTSCOPE_REQUIRE_ROOT");
    or_skip(
        is_root().then_some(()),
        required,
        test,
        &needs,
        "CI runs the tests as root",
    )
    .is_some()
}

/// For a test that runs `tool` (from Debian package `package`): its path, to go on. When it is
/// missing, writes one line `skipped TEST: needs TOOL (Debian package PACKAGE)` and returns
/// `None` — or fails, when `PORTSCOPE_REQUIRE_ROOT=1` (CI: `.ci/run` installs the package).
/// `tool` is looked up as [`find_tool`] does.
pub fn needs(test: &str, tool: &str, package: &str) -> Option<PathBuf> {
    let needs = format!("{tool} (Debian package {package})");
    let required = required("PORTSCOPE_REQUIRE_ROOT");
    or_skip(
        find_tool(tool),
        required,
        test,
        &needs,
        ".ci/run installs it",
    )
}

/// For a test that needs something a Debian package installs that is not a program (a file,
/// an NSS module): `found`, to go on. When not found, writes one line `skipped TEST: needs
/// NEEDS` — or fails, when `PORTSCOPE_REQUIRE_ROOT=1` (CI: `.ci/run` installs the package).
pub fn needs_installed(test: &str, found: bool, needs: &str) -> bool {
    let required = required("PORTSCOPE_REQUIRE_ROOT");
    or_skip(
        found.then_some(()),
        required,
        test,
        needs,
        ".ci/run installs it",
    )
    .is_some()
}

/// For a test that needs a program from npm (not in Debian): its path, to go on. Looked for on
/// `$PATH`, then in `$PORTSCOPE_NPM_BIN` (`.ci/run` installs the npm packages there). When
/// missing, writes one line `skipped TEST: needs TOOL (npm package PKG)` — or fails, when
/// `PORTSCOPE_REQUIRE_NPM=1` (CI).
pub fn needs_npm(test: &str, tool: &str, package: &str) -> Option<PathBuf> {
    let found = find_tool(tool).or_else(|| {
        let dir = std::env::var_os("PORTSCOPE_NPM_BIN")?;
        let path = PathBuf::from(dir).join(tool);
        path.is_file().then_some(path)
    });
    let needs = format!("{tool} (npm package {package})");
    let required = required("PORTSCOPE_REQUIRE_NPM");
    or_skip(
        found,
        required,
        test,
        &needs,
        ".ci/run installs it with npm",
    )
}

/// For a browser test: `(chromium, chromedriver)`, to go on. When either is missing, writes one
/// line saying the test was skipped — or fails, when `PORTSCOPE_REQUIRE_BROWSER=1` (CI:
/// `.ci/run` installs both).
pub fn needs_browser(test: &str) -> Option<(PathBuf, PathBuf)> {
    let found = find_tool("chromium").zip(find_tool("chromedriver"));
    let needs = "chromium and chromedriver (Debian packages chromium chromium-driver)";
    let required = required("PORTSCOPE_REQUIRE_BROWSER");
    or_skip(found, required, test, needs, ".ci/run installs them")
}

/// For a test that needs systemd as the running init (`/run/systemd/system`): true to go on.
/// Otherwise writes one line saying the test was skipped — or fails, when
/// `PORTSCOPE_REQUIRE_SYSTEMD=1` (CI's containers run no systemd, so `.ci/run` leaves it unset;
/// set it on a machine booted with systemd).
pub fn needs_systemd(test: &str) -> bool {
    let found = Path::new("/run/systemd/system").is_dir();
    let needs = "systemd as the running init (pid 1, /run/systemd/system)";
    let fix = "run the tests on a machine booted with systemd, or unset PORTSCOPE_REQUIRE_SYSTEMD";
    or_skip(
        found.then_some(()),
        required("PORTSCOPE_REQUIRE_SYSTEMD"),
        test,
        needs,
        fix,
    )
    .is_some()
}

/// Writes `skipped TEST: WHY` as one line on the process's standard error — once per test:
/// a test that starts several missing servers says so once. TEST is the running test's name
/// as libtest knows it (what `cargo test NAME` takes), `test` off a test thread. Not
/// `eprintln!`: libtest captures that for every test that passes, so a skip would go unseen in
/// a plain `cargo test`; a write on `std::io::stderr()` itself is not captured.
pub fn skipped(test: &str, why: &str) {
    let test = test_name(test);
    if first_skip_of(&test) {
        let _ = writeln!(std::io::stderr().lock(), "skipped {test}: {why}");
    }
}

/// The running test's name (`probe::redis_is_named`).
pub fn current_test() -> String {
    test_name("an unnamed test")
}

/// The running test's name — libtest names each test's thread so — else `fallback`.
fn test_name(fallback: &str) -> String {
    match std::thread::current().name() {
        Some(name) if name != "main" => name.to_string(),
        _ => fallback.to_string(),
    }
}

/// True the first time it is asked for `test`.
fn first_skip_of(test: &str) -> bool {
    use std::collections::BTreeSet;
    use std::sync::Mutex;
    static SKIPPED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    SKIPPED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(test.to_string())
}

/// True when the environment variable `gate` is `1`: skipping is forbidden.
fn required(gate: &str) -> bool {
    std::env::var(gate).as_deref() == Ok("1")
}

/// `found`, or — when it is `None` — a failure if `required`, else one skip line on stderr.
fn or_skip<T>(found: Option<T>, required: bool, test: &str, needs: &str, fix: &str) -> Option<T> {
    if found.is_none() {
        assert!(!required, "{}", missing(&test_name(test), needs, fix));
        skipped(test, &format!("needs {needs}"));
    }
    found
}

/// The failure message when skipping is forbidden.
fn missing(test: &str, needs: &str, fix: &str) -> String {
    format!("{test} needs {needs}, which is missing here, and skipping is forbidden: {fix}")
}

/// The program `tool`, found as a shell would (the first `PATH` directory that holds it), then
/// in `/usr/local/sbin`, `/usr/sbin`, `/sbin`. An absolute path is taken as it is; an absolute
/// path with one `*` component (`/usr/lib/postgresql/*/bin/postgres`) is the match with the
/// highest version. Found only if it is a regular file with an execute bit. Prints nothing.
pub fn find_tool(tool: &str) -> Option<PathBuf> {
    if tool.starts_with('/') {
        return if tool.contains('*') {
            newest_match(Path::new(tool))
        } else {
            Some(PathBuf::from(tool)).filter(|p| is_executable(p))
        };
    }
    if tool.contains('/') {
        return None; // relative paths would depend on where the tests run
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .filter(|d| d.is_absolute())
        .chain(SBIN.map(PathBuf::from))
        .map(|d| d.join(tool))
        .find(|p| is_executable(p))
}

/// A regular file (symlinks followed) with at least one execute bit.
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The executable match of `pattern` (one component holds `*`) whose `*` part is the highest
/// version: `16` above `9`, `16.2` above `16`.
fn newest_match(pattern: &Path) -> Option<PathBuf> {
    let parts: Vec<&str> = pattern.iter().filter_map(|c| c.to_str()).collect();
    let star = parts.iter().position(|c| c.contains('*'))?;
    if parts[star + 1..].iter().any(|c| c.contains('*')) {
        return None;
    }
    let parent: PathBuf = parts[..star].iter().collect();
    let rest: PathBuf = parts[star + 1..].iter().collect();
    let (prefix, suffix) = parts[star].split_once('*')?;
    let mut found: Vec<(Vec<u64>, String, PathBuf)> = std::fs::read_dir(&parent)
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let middle = name.strip_prefix(prefix)?.strip_suffix(suffix)?.to_string();
            let path = entry.path().join(&rest);
            is_executable(&path).then(|| (version_key(&middle), middle, path))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, _, path)| path)
}

/// The numbers in `text`, in order, to compare versions (`9` < `16` < `16.2`).
fn version_key(text: &str) -> Vec<u64> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect()
}

#[test]
fn a_missing_tool_is_skipped_once_where_skipping_is_allowed() {
    assert_eq!(find_tool("portscope-no-such-tool"), None);
    let test = test_name("unused");
    assert_eq!(
        test,
        "skips::a_missing_tool_is_skipped_once_where_skipping_is_allowed"
    );
    assert!(first_skip_of(&test), "this test has not skipped yet");
    assert!(
        !first_skip_of(&test),
        "a second skip line would be one too many"
    );
    assert_eq!(
        missing("t", "nft (Debian package nftables)", ".ci/run installs it"),
        "t needs nft (Debian package nftables), which is missing here, and skipping is \
         forbidden: .ci/run installs it"
    );
}

#[test]
#[should_panic(
    expected = "skips::a_missing_tool_fails_where_skipping_is_forbidden needs nft \
                           (Debian package nftables), which is missing here"
)]
fn a_missing_tool_fails_where_skipping_is_forbidden() {
    or_skip(
        None::<PathBuf>,
        true,
        "t",
        "nft (Debian package nftables)",
        "",
    );
}

#[test]
fn tools_are_found_on_path_by_absolute_path_and_by_pattern() {
    use std::os::unix::fs::PermissionsExt;
    let sh = find_tool("sh").expect("sh on PATH");
    assert!(sh.is_absolute() && sh.ends_with("sh"), "{}", sh.display());
    assert_eq!(find_tool(sh.to_str().unwrap()), Some(sh));
    assert_eq!(find_tool("/"), None, "a directory is not a program");
    assert_eq!(
        find_tool("bin/sh"),
        None,
        "relative paths are not looked up"
    );
    let dir = TempDir::new("find-tool");
    for (version, mode) in [("9", 0o755), ("16", 0o755), ("16.2", 0o755), ("17", 0o644)] {
        let bin = dir.path().join(version).join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(bin.join("server"), "").unwrap();
        std::fs::set_permissions(bin.join("server"), std::fs::Permissions::from_mode(mode))
            .unwrap();
    }
    assert_eq!(
        find_tool(&dir.join("*/bin/server")),
        Some(dir.path().join("16.2/bin/server")),
        "the highest version with an execute bit"
    );
    assert_eq!(find_tool(&dir.join("*/bin/other")), None);
}
