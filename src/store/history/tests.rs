//! Unit tests of the store: schema, reopen, linking, resume, retention, refusals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::path::PathBuf;

use super::*;
use crate::watch::EventKind;

const KEEP_ALL: Retention = Retention {
    keep_s: 1e9,
    max_bytes: 1 << 30,
};

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("portscope-hist-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

use crate::watch::fixture_listener as listener;

fn opened(time: f64, l: &Listener) -> Event {
    Event {
        kind: EventKind::Opened,
        time,
        listener: l.clone(),
        opened_at: None,
        ending: None,
    }
}

fn closed(time: f64, opened_at: f64, l: &Listener, ending: Ending) -> Event {
    Event {
        kind: EventKind::Closed,
        time,
        listener: l.clone(),
        opened_at: Some(opened_at),
        ending: Some(ending),
    }
}

/// Times in the tests: a fixed base (this run's start) plus `offset` seconds, so that
/// sessions (which start at the real time) come before the events.
fn ts(offset: f64) -> f64 {
    static BASE: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *BASE.get_or_init(crate::time::now) + offset
}

fn all() -> Query {
    Query::default()
}

fn reader(dir: &std::path::Path) -> Reader {
    Reader::open(&dir.join(FILE)).unwrap().expect("a store")
}

/// `meta.pruned_before` (tests use made-up times, so coverage itself, which starts at the
/// real start of the session, cannot show it).
fn pruned_before(dir: &std::path::Path) -> f64 {
    let conn = rusqlite::Connection::open(dir.join(FILE)).unwrap();
    conn.query_row(
        "SELECT CAST(value AS REAL) FROM meta WHERE key = 'pruned_before'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn creates_records_links_and_reopens() {
    let dir = temp_dir("basic");
    let (mut w, resumed) = Writer::open(&dir, KEEP_ALL).unwrap();
    assert_eq!(
        resumed,
        Resumed {
            open: vec![],
            last_alive: None
        }
    );
    let a = listener(8000, 11, 100);
    let b = listener(8001, 12, 200);
    w.record(&[]).unwrap(); // the start-up diff of a new store: nothing
    w.record(&[opened(ts(10.0), &a), opened(ts(10.0), &b)])
        .unwrap();
    w.record(&[closed(ts(20.0), ts(10.0), &a, Ending::ProcessExited)])
        .unwrap();
    w.heartbeat(ts(25.0)).unwrap();
    w.stopped(ts(30.0)).unwrap();
    drop(w);

    let r = reader(&dir);
    let ev = r.events(&all()).unwrap();
    assert_eq!(ev.len(), 3);
    assert_eq!(
        ev[0].event,
        opened(ts(10.0), &a),
        "the owner survives the round trip"
    );
    assert!(ev.windows(2).all(|p| p[0].id < p[1].id));
    let stays = r.stays(&all()).unwrap();
    assert_eq!(stays.len(), 2);
    assert_eq!(stays[0].listener, a);
    assert_eq!(
        (stays[0].opened_at, stays[0].closed_at),
        (ts(10.0), Some(ts(20.0)))
    );
    assert_eq!(stays[0].ending, Some(Ending::ProcessExited));
    assert_eq!((stays[1].closed_at, stays[1].ending), (None, None));
    assert_eq!(r.coverage().unwrap().map(|c| c.1), Some(ts(30.0)));
    assert_eq!(r.recorder(), Recorder::NotRunning);
    let last = r.last_holder(8000, Some(Proto::Tcp)).unwrap().unwrap();
    assert_eq!(last.listener.owner.map(|o| o.pid), Some(100));
    assert!(r.last_holder(8000, Some(Proto::Udp)).unwrap().is_none());
    drop(r);

    // The close row links to its open row.
    let conn = rusqlite::Connection::open(dir.join(FILE)).unwrap();
    let link: (i64, i64) = conn
        .query_row(
            "SELECT c.open_id, o.id FROM events c JOIN events o ON o.port = c.port \
             AND o.kind = 'listen-opened' WHERE c.kind = 'listen-closed'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(link.0, link.1);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let vacuum: i64 = conn
        .query_row("PRAGMA auto_vacuum", [], |r| r.get(0))
        .unwrap();
    assert_eq!(vacuum, 2, "incremental");
    drop(conn);

    // Reopen: the listener still open is resumed, with the previous stop as last alive.
    let (mut w, resumed) = Writer::open(&dir, KEEP_ALL).unwrap();
    assert_eq!(resumed.last_alive, Some(ts(30.0)));
    assert_eq!(resumed.open.len(), 1);
    assert_eq!(resumed.open[0].listener, b);
    assert_eq!(resumed.open[0].opened_at, ts(10.0));
    // The start-up diff: b closed while nothing recorded, c was found open.
    let c = listener(8002, 13, 300);
    w.record(&[
        closed(ts(40.0), ts(10.0), &b, Ending::WhileNotRecording),
        opened(ts(40.0), &c),
    ])
    .unwrap();
    drop(w);
    let r = reader(&dir);
    let stays = r.stays(&all()).unwrap();
    assert_eq!(stays.len(), 3);
    let sb = &stays[1];
    assert_eq!(sb.listener.port, 8001);
    assert_eq!(sb.ending, Some(Ending::WhileNotRecording));
    assert_eq!(sb.closed_after, Some(ts(30.0)));
    let sc = &stays[2];
    assert!(sc.found_open);
    assert_eq!(sc.opened_after, Some(ts(30.0)));
    assert_eq!(sc.closed_at, None);
    assert_eq!(r.sessions().unwrap().len(), 2);
    assert_eq!(
        r.sessions().unwrap()[1].stopped_at,
        None,
        "dropped without a clean stop"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn queries_filter_by_port_address_process_time_and_limit() {
    let dir = temp_dir("query");
    let (mut w, _) = Writer::open(&dir, KEEP_ALL).unwrap();
    let mut wild = listener(9000, 1, 10);
    wild.address = IpAddr::from([0, 0, 0, 0]);
    let lo = listener(9000, 2, 11);
    let mut v6 = listener(9000, 3, 12);
    v6.address = "::1".parse().unwrap();
    let mut node = listener(9001, 4, 13);
    if let Some(o) = node.owner.as_mut() {
        o.process = "MainThread".into();
        o.cmdline = vec!["/opt/node/bin/node".into(), "server.js".into()];
    }
    w.record(&[]).unwrap();
    w.record(&[opened(100.0, &wild)]).unwrap();
    w.record(&[
        closed(200.0, 100.0, &wild, Ending::SocketClosed),
        opened(200.0, &lo),
    ])
    .unwrap();
    w.record(&[opened(300.0, &v6), opened(300.0, &node)])
        .unwrap();
    drop(w);
    let r = reader(&dir);
    let ports = |q: Query| -> Vec<u64> {
        r.stays(&q)
            .unwrap()
            .iter()
            .map(|s| s.listener.inode)
            .collect()
    };
    let port = Query {
        ports: Some((9000, 9000)),
        ..all()
    };
    assert_eq!(ports(port.clone()), vec![1, 2, 3]);
    let at = |a: &str| Query {
        addresses: Some(vec![a.parse().unwrap()]),
        ..port.clone()
    };
    assert_eq!(
        ports(at("127.0.0.1")),
        vec![1, 2],
        "0.0.0.0 serves 127.0.0.1"
    );
    assert_eq!(ports(at("::1")), vec![3]);
    assert_eq!(
        ports(Query {
            since: Some(250.0),
            ..port.clone()
        }),
        vec![2, 3],
        "a stay that ended before since is left out"
    );
    assert_eq!(
        ports(Query {
            until: Some(150.0),
            ..port.clone()
        }),
        vec![1]
    );
    assert_eq!(
        ports(Query {
            limit: 2,
            ..port.clone()
        }),
        vec![2, 3],
        "the newest are kept"
    );
    assert_eq!(r.count_stays(&port).unwrap(), 3);
    assert_eq!(
        ports(Query {
            process: Some("node".into()),
            ..all()
        }),
        vec![4],
        "argv[0]'s file name matches"
    );
    assert_eq!(
        ports(Query {
            process: Some("MainThread".into()),
            ..all()
        }),
        vec![4],
        "comm matches"
    );
    assert_eq!(
        ports(Query {
            pid: Some(11),
            ..all()
        }),
        vec![2]
    );
    let ev = r
        .events(&Query {
            since: Some(150.0),
            limit: 2,
            ..all()
        })
        .unwrap();
    assert_eq!(
        ev.iter()
            .map(|e| e.event.listener.inode)
            .collect::<Vec<_>>(),
        vec![3, 4]
    );
    assert_eq!(
        r.count_events(&Query {
            since: Some(150.0),
            ..all()
        })
        .unwrap(),
        4
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serving_addresses_match_receives_for() {
    use crate::knowledge::addr_class::receives_for;
    let bound: Vec<IpAddr> = [
        "0.0.0.0",
        "127.0.0.1",
        "10.0.0.1",
        "::",
        "::1",
        "::ffff:127.0.0.1",
        "fe80::1",
    ]
    .iter()
    .map(|a| a.parse().unwrap())
    .collect();
    for wanted in ["127.0.0.1", "::1", "10.0.0.1", "::ffff:127.0.0.1"] {
        let w: IpAddr = wanted.parse().unwrap();
        let set = serving_addresses(&[w]);
        for b in &bound {
            assert_eq!(
                set.contains(b),
                receives_for(*b, w),
                "bound {b}, wanted {w}"
            );
        }
    }
}

#[test]
fn a_second_writer_is_refused_with_the_pid() {
    let dir = temp_dir("lock");
    let (w, _) = Writer::open(&dir, KEEP_ALL).unwrap();
    let err = Writer::open(&dir, KEEP_ALL).unwrap_err().to_string();
    let expected = format!(
        "another recorder (pid {}) is recording into {}",
        std::process::id(),
        dir.join(FILE).display()
    );
    assert!(err.contains(&expected), "{err}");
    assert_eq!(
        reader(&dir).recorder(),
        Recorder::Running {
            pid: Some(std::process::id())
        }
    );
    drop(w);
    assert!(Writer::open(&dir, KEEP_ALL).is_ok());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn corrupt_and_foreign_files_are_refused_and_left_alone() {
    let dir = temp_dir("corrupt");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(FILE);
    let junk: Vec<u8> = (0..8192u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&path, &junk).unwrap();
    let err = Writer::open(&dir, KEEP_ALL).unwrap_err();
    assert!(matches!(err, crate::error::Error::BadInput { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("untouched"), "{text}");
    assert_eq!(std::fs::read(&path).unwrap(), junk, "byte-identical");
    let err = Reader::open(&path).unwrap_err().to_string();
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), junk);

    // Another program's SQLite database.
    std::fs::remove_file(&path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('mine');")
        .unwrap();
    drop(conn);
    let before = std::fs::read(&path).unwrap();
    let err = Writer::open(&dir, KEEP_ALL).unwrap_err().to_string();
    assert!(err.contains("not a portscope history store"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = temp_dir("newer");
    drop(Writer::open(&dir, KEEP_ALL).unwrap());
    let path = dir.join(FILE);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
        [],
    )
    .unwrap();
    drop(conn);
    let err = Writer::open(&dir, KEEP_ALL).unwrap_err().to_string();
    assert!(err.contains("schema version 99"), "{err}");
    assert!(err.contains(&path.display().to_string()), "{err}");
    let err = Reader::open(&path).unwrap_err().to_string();
    assert!(err.contains("schema version 99"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn retention_keeps_open_listeners_and_says_what_it_forgot() {
    let dir = temp_dir("keep");
    let keep = Retention {
        keep_s: 100.0,
        max_bytes: 1 << 30,
    };
    let (mut w, _) = Writer::open(&dir, keep).unwrap();
    let old_open = listener(7000, 1, 1);
    let gone = listener(7001, 2, 2);
    let spans = listener(7002, 3, 3);
    w.record(&[]).unwrap();
    w.record(&[
        opened(ts(10.0), &old_open),
        opened(ts(10.0), &gone),
        opened(ts(10.0), &spans),
    ])
    .unwrap();
    w.record(&[closed(ts(20.0), ts(10.0), &gone, Ending::ProcessExited)])
        .unwrap();
    w.record(&[closed(ts(150.0), ts(10.0), &spans, Ending::SocketClosed)])
        .unwrap();
    let deleted = w.prune(ts(200.0)).unwrap();
    assert_eq!(deleted, 3, "gone's open and close, spans' open");
    drop(w);
    let r = reader(&dir);
    let stays = r.stays(&all()).unwrap();
    let ports: Vec<u16> = stays.iter().map(|s| s.listener.port).collect();
    assert_eq!(
        ports,
        vec![7000, 7002],
        "the open one stays; a close row is a whole stay"
    );
    assert_eq!(stays[1].opened_at, ts(10.0));
    drop(r);
    assert!(
        (pruned_before(&dir) - ts(100.0)).abs() < 1e-6,
        "coverage starts where retention cut"
    );
    let (_, resumed) = Writer::open(&dir, keep).unwrap();
    assert_eq!(resumed.open.len(), 1);
    assert_eq!(resumed.open[0].listener.port, 7000);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_size_cap_forgets_the_oldest_first() {
    let dir = temp_dir("size");
    let cap = Retention {
        keep_s: 1e9,
        max_bytes: 1 << 20,
    };
    let (mut w, _) = Writer::open(&dir, cap).unwrap();
    let keeper = listener(1, 1, 1);
    w.record(&[opened(ts(0.5), &keeper)]).unwrap();
    let mut t = ts(1.0);
    for batch in 0..40u64 {
        let events: Vec<Event> = (0..250u64)
            .flat_map(|i| {
                let n = batch * 250 + i;
                let l = listener(2000 + (n % 500) as u16, 100 + n, 5000 + n as u32);
                t += 1.0;
                [opened(t, &l), closed(t + 0.5, t, &l, Ending::ProcessExited)]
            })
            .collect();
        w.record(&events).unwrap();
    }
    let path = dir.join(FILE);
    let deleted = w.prune(t).unwrap();
    assert!(deleted > 0);
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size <= 1 << 20, "file is {size} bytes after pruning");
    drop(w);
    let r = reader(&dir);
    let ev = r.events(&all()).unwrap();
    assert!(ev.len() < 20_000);
    assert!(
        ev.iter().any(|e| e.event.time >= t - 1.0),
        "the newest are kept"
    );
    assert_eq!(
        ev[0].event.listener.port, 1,
        "the open listener's row is kept"
    );
    let (from, _) = r.coverage().unwrap().unwrap();
    assert!(
        from > ts(1.0) && from < t,
        "coverage moves past what was forgotten: {from}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_store_reads_as_none_and_an_empty_file_as_empty() {
    let dir = temp_dir("missing");
    assert!(Reader::open(&dir.join(FILE)).unwrap().is_none());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(FILE), b"").unwrap();
    let r = reader(&dir);
    assert!(r.stays(&all()).unwrap().is_empty());
    assert_eq!(r.coverage().unwrap(), None);
    drop(r);
    // A recorder may then create its store in that empty file.
    let (_, resumed) = Writer::open(&dir, KEEP_ALL).unwrap();
    assert_eq!(resumed.last_alive, None);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_closed_store_reads_as_immutable_without_its_shm() {
    assert_eq!(
        reader::immutable_uri(std::path::Path::new("/tmp/a b?#%.db")),
        std::ffi::OsString::from("file:/tmp/a%20b%3F%23%25.db?immutable=1")
    );
    let dir = temp_dir("immutable dir?");
    let (mut w, _) = Writer::open(&dir, KEEP_ALL).unwrap();
    w.record(&[opened(ts(1.0), &listener(6000, 1, 1))]).unwrap();
    w.stopped(ts(2.0)).unwrap();
    drop(w);
    let path = dir.join(FILE);
    assert!(
        !dir.join("history.db-wal").exists(),
        "the last writer folded the WAL in"
    );
    let ro = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI;
    let uri = reader::immutable_uri(&path);
    let (conn, _) = reader::open_with(&path, uri.as_ref(), ro).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
    drop(conn);
    assert!(!dir.join("history.db-shm").exists(), "no -shm was needed");
    let _ = std::fs::remove_dir_all(&dir);
}
