//! `kill` and watchers that start a holder again: a shell loop respawning a python listener
//! (the port is reported taken again, with the loop as the respawner, and never free); an
//! orphan listener (its parent gone) costs no watch at all; a parent that does not respawn
//! costs `--respawn-wait`, and the port is free.

use std::time::{Duration, Instant};

use crate::engines::free_port;
use crate::harness::{Spawned, spawn};
use crate::kill::{kill, kill_json};

/// python3 listening on 127.0.0.1:`port` (SO_REUSEADDR), printing `PID PPID`, then sleeping.
fn listener_script(port: u16) -> String {
    format!(
        "import socket,os,time\n\
         s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
         s.bind(('127.0.0.1',{port})); s.listen(16)\n\
         try: print(os.getpid(), os.getppid(), flush=True)\n\
         except BrokenPipeError: pass\n\
         time.sleep(120)\n"
    )
}

/// `bash -c 'while true; do python3 -c LISTENER; done'` on a port picked now (again on
/// another if something took it first).
fn respawning_loop() -> (u16, Spawned) {
    for _ in 0..5 {
        let port = free_port();
        let script = "while true; do python3 -c \"$LISTENER\" || sleep 0.2; done";
        let l = crate::harness::spawn_env(
            "bash",
            &["-c", script],
            &[("LISTENER", &listener_script(port))],
        );
        if crate::kill::holding(u32::from(port))
            .iter()
            .any(|s| s["pids"][0].as_u64() == Some(u64::from(l.num(0))))
        {
            return (port, l);
        }
    }
    panic!("the listener loop never held its port");
}

#[test]
fn a_respawned_holder_is_reported_with_its_watcher_and_the_port_is_not_free() {
    let (port, bash) = respawning_loop();
    let first = bash.num(0);
    assert_eq!(bash.num(1), bash.pid, "python3's parent is the loop");
    let p = port.to_string();
    let (code, r) = kill_json(&["--yes", &p]);
    assert_eq!(code, 1, "{r}");
    assert_eq!(r["all_free"], false, "{r}");
    assert_eq!(r["ports"][0]["free"], false, "{r}");
    assert_eq!(r["outcomes"][0]["pid"], first, "{r}");
    let again = &r["respawned"][0];
    assert_eq!(again["port"], port, "{r}");
    assert_ne!(again["pid"], first, "{r}");
    assert_eq!(again["comm"], "python3", "{r}");
    assert_eq!(again["replaced"], serde_json::json!([first]), "{r}");
    assert_eq!(again["respawner"]["pid"], bash.pid, "{r}");
    assert_eq!(again["respawner"]["comm"], "bash", "{r}");
    assert!(again["after_ms"].as_u64().unwrap() < 3000, "{r}");

    // The text says so, and never that the port is free.
    let r = kill(&["--yes", &p]);
    assert_eq!(r.code, 1, "{r:?}");
    let said = format!("port {port} was taken again ");
    assert!(r.stdout.contains(&said), "{r:?}");
    assert!(
        r.stdout.contains(&format!(
            "started by pid {} (bash: bash -c 'while true; do python3",
            bash.pid
        )),
        "{r:?}"
    );
    assert!(
        r.stdout.contains(&format!(
            "the watcher respawns it — stop the watcher (kill {})",
            bash.pid
        )),
        "{r:?}"
    );
    assert!(!r.stdout.contains("free now"), "{r:?}");
}

#[test]
fn an_orphan_holder_costs_no_respawn_watch() {
    // bash starts the listener in the background and exits: python3 is an orphan.
    let port = free_port();
    let orphan = spawn(
        "bash",
        &["-c", "python3 -c \"$0\" & exit 0", &listener_script(port)],
    );
    let pid = orphan.num(0);
    let start = Instant::now();
    let (code, r) = kill_json(&["--yes", &port.to_string()]);
    let took = start.elapsed();
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["outcomes"][0]["pid"], pid, "{r}");
    assert_eq!(r["all_free"], true, "{r}");
    assert!(r.get("respawn_watch_ms").is_none(), "not watched: {r}");
    assert!(took < Duration::from_millis(1500), "{took:?}: {r}");
}

#[test]
fn a_parent_that_does_not_respawn_costs_the_respawn_wait_only() {
    // bash waits for its listener, then sleeps: it would not start it again.
    let port = free_port();
    let waiting = spawn(
        "bash",
        &[
            "-c",
            "python3 -c \"$0\" & wait; sleep 60",
            &listener_script(port),
        ],
    );
    assert_eq!(waiting.num(1), waiting.pid);
    let (code, r) = kill_json(&["--yes", "--respawn-wait", "300ms", &port.to_string()]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["all_free"], true, "{r}");
    assert!(r.get("respawned").is_none(), "{r}");
    let watched = r["respawn_watch_ms"].as_u64().unwrap();
    assert!((300..1500).contains(&watched), "{r}");
}

#[test]
fn a_bad_respawn_wait_is_bad_input() {
    let r = kill(&["--yes", "--respawn-wait", "soon", "8080"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--respawn-wait"), "{r:?}");
}

/// nodemon (from npm: on `$PATH`, or where `.ci/run` installs it) does not start a killed server again — it waits for a
/// file to change: the port is free after the watch, and the report names nodemon as a
/// watcher that still runs.
#[test]
fn nodemon_is_named_as_a_watcher_that_still_runs() {
    let test = "nodemon_is_named_as_a_watcher_that_still_runs";
    // Not a Debian package: .ci/run installs it with npm (and requires it).
    let Some(nodemon) = crate::harness::needs_npm(test, "nodemon", "nodemon") else {
        return;
    };
    let dir = crate::harness::TempDir::new("nodemon");
    let port = free_port();
    std::fs::write(
        dir.join("server.js"),
        format!(
            "require('http').createServer((q, s) => s.end('hi')).listen({port}, '127.0.0.1', \
             () => console.log(process.pid, process.ppid));\n"
        ),
    )
    .unwrap();
    let server = dir.join("server.js");
    let watched = spawn(
        nodemon.to_str().unwrap(),
        &["--quiet", "--watch", dir.arg(), &server],
    );
    let node = watched.num(0);
    let (code, r) = kill_json(&["--yes", &port.to_string()]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["outcomes"][0]["pid"], node, "{r}");
    assert_eq!(r["all_free"], true, "{r}");
    assert!(r.get("respawned").is_none(), "{r}");
    assert_eq!(r["watchers"][0]["pid"], watched.num(1), "{r}");
    assert!(r["respawn_watch_ms"].as_u64().unwrap() >= 1900, "{r}");
}
