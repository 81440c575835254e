//! `ports.toml` at scale: the checks of 20,000 services are linear (they compared every
//! service with every other, and counted lines from the top for each: minutes in a debug
//! build), and `env` reserves thousands of ports in one locked batch with one write (it
//! surveyed the sockets and rewrote the registry, with an fsync, once per service).

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
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

/// A python3 that counts, with inotify, the files renamed into `dir` under the name
/// `registry.json` until its stdin closes; prints `ready` first, then the count.
fn renames_watcher(dir: &Path) -> std::process::Child {
    const SCRIPT: &str = "import ctypes,os,struct,sys\n\
        libc=ctypes.CDLL(None,use_errno=True)\n\
        fd=libc.inotify_init1(0o4000)\n\
        if fd<0 or libc.inotify_add_watch(fd,sys.argv[1].encode(),0x80)<0:\n    sys.exit('inotify: errno %d'%ctypes.get_errno())\n\
        print('ready',flush=True)\n\
        sys.stdin.read()\n\
        n=0\n\
        while True:\n\
        \x20   try: data=os.read(fd,65536)\n\
        \x20   except BlockingIOError: break\n\
        \x20   i=0\n\
        \x20   while i<len(data):\n\
        \x20       ln=struct.unpack_from('iIII',data,i)[3]\n\
        \x20       n+=data[i+16:i+16+ln].rstrip(b'\\0')==b'registry.json'\n\
        \x20       i+=16+ln\n\
        print(n,flush=True)\n";
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT, dir.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready", "the inotify watcher did not start");
    child
}

/// Close the watcher's stdin and read its count.
fn renames_seen(mut watcher: std::process::Child) -> usize {
    drop(watcher.stdin.take());
    let mut out = String::new();
    watcher
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    watcher.wait().unwrap();
    out.trim()
        .parse()
        .unwrap_or_else(|_| panic!("watcher said {out:?}"))
}

#[test]
fn env_reserves_three_thousand_ports_in_one_write() {
    let dir = TempDir::new("scale-env");
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let s = state.to_str().unwrap();
    std::fs::write(dir.path().join("ports.toml"), services(0..3000, |_| None)).unwrap();
    let watcher = renames_watcher(&state);
    let (r, took) = timed(dir.path(), s, &["env", "--json"]);
    let writes = renames_seen(watcher);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // It took a minute and a half in a debug build: a survey and a write per service.
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(
        writes, 1,
        "the registry is written once, not once per reservation"
    );
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let list = v["services"].as_array().unwrap();
    assert_eq!(list.len(), 3000);
    assert!(
        list.iter()
            .all(|s| s["newly_reserved"] == true && s["port_from"] == "reserved")
    );
    let ports: HashSet<u64> = list.iter().map(|s| s["port"].as_u64().unwrap()).collect();
    assert_eq!(ports.len(), 3000, "distinct ports");
    let registry: Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("registry.json")).unwrap())
            .unwrap();
    let names: Vec<&str> = registry["reservations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3000);
    assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted by name");
    // Again: the same ports, nothing new, nothing written.
    let watcher = renames_watcher(&state);
    let (again, _) = timed(dir.path(), s, &["env", "--json"]);
    assert_eq!(renames_seen(watcher), 0);
    let v2: Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(v2["vars"], v["vars"]);
    assert!(
        v2["services"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["newly_reserved"] == false)
    );
}
