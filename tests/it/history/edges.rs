//! The edges of the store and of `history`: a second recorder, retention, a missing store,
//! bad input, a corrupt file.

use super::{TempDir, daemon, history, history_text, now, unix, within};
use crate::harness;

#[test]
fn a_second_recorder_is_refused() {
    let dir = TempDir::new("second");
    let d = daemon(&dir, "1s");
    let r = harness::run(&["daemon", "--duration", "1s", "--state-dir", dir.arg()]);
    assert_ne!(r.code, 0);
    let expected = format!(
        "another recorder (pid {}) is recording into {}",
        d.pid,
        dir.path().join("history.db").display()
    );
    assert!(r.stderr.contains(&expected), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    drop(d);
}

#[test]
fn retention_forgets_old_events_and_says_so() {
    let dir = TempDir::new("retention");
    let r = harness::run(&["daemon", "--duration", "300ms", "--state-dir", dir.arg()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let db = dir.path().join("history.db");
    let old = now() - 7200.0;
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        for (i, kind) in ["listen-opened", "listen-closed"].iter().enumerate() {
            conn.execute(
                "INSERT INTO events (session, time, kind, proto, address, port, inode, uid, \
                 owner_hidden, pid, process, opened_at, ending) \
                 VALUES (1, ?1, ?2, 'tcp', '127.0.0.1', 1, 42, 0, 0, 7, 'old', ?3, ?4)",
                rusqlite::params![
                    old + i as f64,
                    kind,
                    (i == 1).then_some(old),
                    (i == 1).then_some("process-exited")
                ],
            )
            .unwrap();
        }
        conn.execute("UPDATE sessions SET started_at = ?1", [old - 10.0])
            .unwrap();
    }
    let (code, h) = history(&dir, &["1"]);
    assert_eq!(code, 0, "{h}");
    assert_eq!(h["stays"][0]["process"], "old");
    let r = harness::run(&[
        "daemon",
        "--duration",
        "300ms",
        "--keep",
        "1h",
        "--state-dir",
        dir.arg(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (code, h) = history(&dir, &["1"]);
    assert_eq!(code, 1, "forgotten: {h}");
    let from = unix(&h["coverage"]["from"]["unix"]);
    within(
        "coverage starts at the cut",
        from,
        now() - 3600.0 - 60.0,
        now() - 3600.0 + 5.0,
    );
    let r = history_text(&dir, &["1"]);
    assert!(
        r.stdout.starts_with("No listener recorded on port 1."),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("covers "), "{}", r.stdout);
}

#[test]
fn a_missing_store_says_where_it_looked() {
    let dir = TempDir::new("missing");
    let r = history_text(&dir, &["8000"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let path = dir.path().join("history.db");
    assert!(
        r.stdout.contains(&format!(
            "No history recorded: no store at {}.",
            path.display()
        )),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("portscope daemon"), "{}", r.stdout);
    assert!(
        r.stdout.contains("contrib/portscope-daemon.service"),
        "{}",
        r.stdout
    );
    let (code, h) = history(&dir, &[]);
    assert_eq!(code, 1);
    assert!(h["store"].is_null());
    assert_eq!(h["looked_in"][0], path.to_str().unwrap());
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = TempDir::new("bad");
    for args in [
        &["70000"][..],
        &["8000", "--since", "yesterday-ish"],
        &["8000", "--until", "25:99"],
        &["--limit", "0"],
        &["--limit", "lots"],
        &["--since", "1h", "--until", "2h"],
        &["node", "--process", "python3"],
    ] {
        let r = history_text(&dir, args);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.starts_with("portscope: error: "),
            "{args:?}: {}",
            r.stderr
        );
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
    }
}

#[test]
fn a_corrupt_store_is_named_and_left_alone() {
    let dir = TempDir::new("corrupt");
    let path = dir.path().join("history.db");
    let junk: Vec<u8> = (0..4096u32).map(|i| (i * 13 % 251) as u8).collect();
    std::fs::write(&path, &junk).unwrap();
    let r = history_text(&dir, &["8000"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains(path.to_str().unwrap()), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    let r = harness::run(&["daemon", "--duration", "1s", "--state-dir", dir.arg()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("untouched"), "{}", r.stderr);
    assert_eq!(std::fs::read(&path).unwrap(), junk, "byte-identical");
}
