//! Crash safety of the store: a recorder SIGKILLed 50 times at random moments while
//! listeners churn; every event it printed (after committing) must be in the store, and the
//! store must open and pass `PRAGMA integrity_check` every time.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{TempDir, daemon, history, now, unix};
use crate::harness;

/// A small xorshift: random kill moments without a dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// What a recorder printed: `(kind, port, inode, unix)` of each event line.
fn printed_events(lines: &[Value]) -> Vec<(String, u64, u64, f64)> {
    lines
        .iter()
        .filter(|v| v["event"] == "listen-opened" || v["event"] == "listen-closed")
        .map(|v| {
            (
                v["event"].as_str().unwrap().to_string(),
                v["port"].as_u64().unwrap(),
                v["inode"].as_u64().unwrap(),
                unix(&v["unix"]),
            )
        })
        .collect()
}

#[test]
fn sigkill_mid_write_loses_nothing_committed() {
    let dir = TempDir::new("sigkill");
    // Listeners opening and closing all the time: every look of the recorder writes.
    let _churn = harness::python(
        "import socket,os,time,random\n\
         print(os.getpid(), flush=True)\n\
         live=[]; end=time.time()+110\n\
         while time.time()<end:\n\
         \x20   s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(1)\n\
         \x20   live.append((time.time()+random.uniform(0.05,0.5), s))\n\
         \x20   t=time.time()\n\
         \x20   for d,x in live:\n\
         \x20       if d<t: x.close()\n\
         \x20   live=[p for p in live if p[0]>=t]\n\
         \x20   time.sleep(0.03)\n",
    );
    let db = dir.path().join("history.db");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ now().to_bits());
    let t0 = Instant::now();
    let (mut kills_with_events, mut total_printed) = (0, 0);
    for round in 0..50 {
        let mut d = daemon(&dir, "100ms");
        std::thread::sleep(Duration::from_millis(rng.below(401)));
        let code = d.stop(rustix::process::Signal::KILL);
        assert_eq!(code, 128 + 9, "round {round}: the daemon died of SIGKILL");
        let printed = printed_events(&d.seen);
        total_printed += printed.len();
        if !printed.is_empty() {
            kills_with_events += 1;
        }

        let conn =
            rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap_or_else(|e| panic!("round {round}: the store does not open: {e}"));
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "round {round}");
        let mut stmt = conn
            .prepare(
                "SELECT count(*) FROM events WHERE kind = ?1 AND port = ?2 AND inode = ?3 \
                 AND abs(time - ?4) < 0.001",
            )
            .unwrap();
        for (kind, port, inode, unix) in &printed {
            let n: i64 = stmt
                .query_row(
                    rusqlite::params![kind, *port as i64, *inode as i64, unix],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(
                n, 1,
                "round {round}: printed {kind} port {port} inode {inode} at {unix} is not in the store"
            );
        }
        drop(stmt);
        drop(conn);
        if round % 10 == 9 {
            let (code, _) = history(&dir, &["--since", "10m"]);
            assert!(
                code == 0 || code == 1,
                "round {round}: history exited {code}"
            );
        }
    }
    eprintln!(
        "sigkill: {kills_with_events} of 50 kills while events flowed, {total_printed} events printed and found, {:?}",
        t0.elapsed()
    );
    assert!(
        kills_with_events >= 30,
        "only {kills_with_events} of 50 kills came while events were flowing ({total_printed} printed)"
    );
    assert!(
        t0.elapsed() < Duration::from_secs(90),
        "50 rounds took {:?}",
        t0.elapsed()
    );
    // After all that, a recorder still opens the store and resumes.
    let mut d = daemon(&dir, "100ms");
    // The daemon catches SIGTERM only once its loop runs, just after `watch-started`.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(d.stop(rustix::process::Signal::TERM), 0);
}
