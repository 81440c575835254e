//! `history`: a port's stays, the last hour's events, a pid's stays the day before, and the
//! answers with nothing in them (before the store, an empty store, no store).

use std::path::PathBuf;

use jiff::tz::TimeZone;
use portscope::commands::Report;
use portscope::commands::history::{Coverage, HistoryReport, QueryShown, StayRow, gaps};
use portscope::model::Proto;
use portscope::store::history::{Recorder, Session, Stay, Stored, When};
use portscope::target::Target;
use portscope::traffic::bench::round;
use portscope::watch::{Ending, Event, Owner};

use super::{PYTHON, closed, gunicorn, listener, opened, owner};
use crate::golden::pin;

fn python_http(pid: u32, bind: Option<&str>) -> Owner {
    let mut cmd = vec![PYTHON, "-m", "http.server", "8000"];
    if let Some(b) = bind {
        cmd.extend(["--bind", b]);
    }
    owner(pid, "python3", &cmd, "/tmp/demo", 1_795_325_208)
}

fn node(pid: u32) -> Owner {
    owner(
        pid,
        "node",
        &["node", "server.js"],
        "/tmp/demo",
        1_795_325_214,
    )
}

fn stay_row(stay: Stay, end: f64) -> StayRow {
    let until = stay.closed_at.unwrap_or(end);
    StayRow {
        duration_s: round(until - stay.opened_at, 3),
        stay,
    }
}

fn query(target: Option<Target>, since: Option<f64>, until: Option<f64>) -> QueryShown {
    QueryShown {
        target,
        since: since.map(When::at),
        until: until.map(When::at),
        process: None,
        limit: 200,
    }
}

/// A `history` answer read from `/tmp/demo/state/history.db`, in UTC, nothing matched yet.
fn history(mode: &'static str, query: QueryShown, now: f64) -> HistoryReport {
    let store = PathBuf::from("/tmp/demo/state/history.db");
    HistoryReport {
        store: Some(store.clone()),
        looked_in: vec![store, PathBuf::from("/var/lib/portscope/history.db")],
        mode,
        query,
        coverage: None,
        stays: Vec::new(),
        events: Vec::new(),
        matched: 0,
        left_out: 0,
        now: When::at(now),
        tz: TimeZone::UTC,
    }
}

/// The demo store of docs/history.md: recording from 05:26:47, a five-second gap at 05:27:03
/// while the recorder restarted, a recorder running now (pid 20428).
const T0: f64 = 1_795_325_207.638; // 2026-11-22T05:26:47.638Z
const GAP: (f64, f64) = (1_795_325_223.162, 1_795_325_228.198);
const DEMO_NOW: f64 = 1_795_325_231.2;

fn demo_coverage() -> Coverage {
    Coverage {
        from: When::at(T0),
        to: When::at(1_795_325_231.0),
        recorder: Recorder::Running { pid: Some(20428) },
        gaps: vec![portscope::commands::history::Gap {
            from: When::at(GAP.0),
            to: When::at(GAP.1),
        }],
    }
}

fn stored(id: i64, event: Event) -> Stored {
    Stored {
        id,
        event,
        found_open: false,
        opened_after: None,
        closed_after: None,
        open_id: None,
    }
}

/// A port's timeline: exited, closed unseen across a recorder restart, found open and still
/// open (docs/history.md).
#[test]
fn history_port_stays() {
    let mut r = history(
        "stays",
        query(
            Some(Target::Port {
                port: 8000,
                proto: None,
            }),
            None,
            None,
        ),
        DEMO_NOW,
    );
    r.coverage = Some(demo_coverage());
    r.stays = vec![
        stay_row(
            Stay {
                listener: listener(
                    "127.0.0.1",
                    8000,
                    5_171_200,
                    Some(python_http(19736, Some("127.0.0.1"))),
                ),
                opened_at: 1_795_325_209.641,
                found_open: false,
                opened_after: None,
                closed_at: Some(1_795_325_213.645),
                closed_after: None,
                ending: Some(Ending::ProcessExited),
            },
            DEMO_NOW,
        ),
        stay_row(
            Stay {
                listener: listener("127.0.0.1", 8000, 5_171_634, Some(node(19996))),
                opened_at: 1_795_325_215.652,
                found_open: false,
                opened_after: None,
                closed_at: Some(1_795_325_228.2),
                closed_after: Some(GAP.0),
                ending: Some(Ending::WhileNotRecording),
            },
            DEMO_NOW,
        ),
        stay_row(
            Stay {
                listener: listener("0.0.0.0", 8000, 5_172_090, Some(python_http(20255, None))),
                opened_at: GAP.1,
                found_open: true,
                opened_after: Some(GAP.0),
                closed_at: None,
                closed_after: None,
                ending: None,
            },
            DEMO_NOW,
        ),
    ];
    r.matched = 3;
    pin("follow-history-port-stays", &Report::History(Box::new(r)));
}

/// No target: the last hour's events, newest last, two older ones left out by `--limit`.
#[test]
fn history_recent_events() {
    let mut r = history(
        "events",
        query(None, Some(DEMO_NOW - 3600.0), None),
        DEMO_NOW,
    );
    r.query.limit = 8;
    r.coverage = Some(demo_coverage());
    let py = |pid, bind| python_http(pid, bind);
    let script = owner(
        20022,
        "python3",
        &[
            PYTHON,
            "-c",
            "\nimport socket,time\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 8001)); s.listen(); time.sleep(3); s.close(); time.sleep(60)\n",
        ],
        "/tmp/demo",
        1_795_325_218,
    );
    let first = listener(
        "127.0.0.1",
        8000,
        5_171_200,
        Some(py(19736, Some("127.0.0.1"))),
    );
    let node_l = listener("127.0.0.1", 8000, 5_171_634, Some(node(19996)));
    let script_l = listener("0.0.0.0", 8001, 5_171_800, Some(script));
    let last = listener("0.0.0.0", 8000, 5_172_090, Some(py(20255, None)));
    let mut hidden = stored(1, opened(T0, listener("0.0.0.0", 2024, 4_100_221, None)));
    hidden.found_open = true;
    let mut exited = stored(
        3,
        closed(
            1_795_325_213.645,
            first.clone(),
            1_795_325_209.641,
            Ending::ProcessExited,
        ),
    );
    exited.open_id = Some(2);
    let mut socket_closed = stored(
        6,
        closed(
            1_795_325_221.7,
            script_l.clone(),
            1_795_325_218.7,
            Ending::SocketClosed,
        ),
    );
    socket_closed.open_id = Some(5);
    let mut unseen = stored(
        7,
        closed(
            1_795_325_228.2,
            node_l.clone(),
            1_795_325_215.652,
            Ending::WhileNotRecording,
        ),
    );
    unseen.closed_after = Some(GAP.0);
    unseen.open_id = Some(4);
    let mut found = stored(8, opened(GAP.1, last));
    found.found_open = true;
    found.opened_after = Some(GAP.0);
    r.events = vec![
        hidden,
        stored(2, opened(1_795_325_209.641, first)),
        exited,
        stored(4, opened(1_795_325_215.652, node_l)),
        stored(5, opened(1_795_325_218.7, script_l)),
        socket_closed,
        unseen,
        found,
    ];
    r.matched = 10;
    r.left_out = 2;
    pin(
        "follow-history-recent-events",
        &Report::History(Box::new(r)),
    );
}

/// A pid's stays the day before (dates shown), one open at the last look of a recorder that
/// no longer runs; the gaps come from the store's sessions.
#[test]
fn history_pid_yesterday() {
    let now = 1_795_305_612.0; // 2026-11-22T00:00:12Z
    let mut r = history("stays", query(Some(Target::Pid(4242)), None, None), now);
    let sessions = [
        Session {
            pid: 900,
            started_at: 1_795_219_200.0,
            last_alive: 1_795_262_400.0,
            stopped_at: Some(1_795_262_400.0),
        },
        Session {
            pid: 1210,
            started_at: 1_795_270_000.0,
            last_alive: 1_795_305_600.0,
            stopped_at: Some(1_795_305_600.0),
        },
    ];
    r.coverage = Some(Coverage {
        from: When::at(1_795_219_200.0),
        to: When::at(1_795_305_600.0),
        recorder: Recorder::NotRunning,
        gaps: gaps(&sessions, false, now, (f64::MIN, now)),
    });
    let gunicorn = gunicorn(1_795_299_990);
    let mut metrics = listener("::1", 9102, 6_000_410, Some(gunicorn.clone()));
    metrics.proto = Proto::Udp;
    r.stays = vec![
        stay_row(
            Stay {
                listener: listener("0.0.0.0", 3000, 6_000_400, Some(gunicorn)),
                opened_at: 1_795_300_000.0,
                found_open: false,
                opened_after: None,
                closed_at: Some(1_795_303_600.0),
                closed_after: None,
                ending: Some(Ending::SocketClosed),
            },
            1_795_305_600.0,
        ),
        stay_row(
            Stay {
                listener: metrics,
                opened_at: 1_795_303_700.0,
                found_open: false,
                opened_after: None,
                closed_at: None,
                closed_after: None,
                ending: None,
            },
            1_795_305_600.0,
        ),
    ];
    r.matched = 2;
    pin(
        "follow-history-pid-yesterday",
        &Report::History(Box::new(r)),
    );
}

/// Nothing recorded in a window that ends before the store begins: said as unknown, not quiet.
#[test]
fn history_nothing_before_the_store() {
    let now = 1_795_325_300.0;
    let mut r = history(
        "stays",
        query(
            Some(Target::Port {
                port: 8000,
                proto: Some(Proto::Tcp),
            }),
            Some(1_795_323_600.0), // 05:00
            Some(1_795_323_660.0), // 05:01
        ),
        now,
    );
    r.coverage = Some(Coverage {
        from: When::at(T0),
        to: When::at(1_795_325_237.2),
        recorder: Recorder::NotRunning,
        gaps: Vec::new(),
    });
    pin(
        "follow-history-nothing-before-the-store",
        &Report::History(Box::new(r)),
    );
}

/// A store that exists but holds no recording yet; a process-name target.
#[test]
fn history_empty_store() {
    let mut r = history(
        "stays",
        query(Some(Target::Process("node".into())), None, None),
        DEMO_NOW,
    );
    r.query.process = Some("node".into());
    pin("follow-history-empty-store", &Report::History(Box::new(r)));
}

/// No store anywhere: where it looked, and how to start recording.
#[test]
fn history_no_store() {
    let mut r = history(
        "events",
        query(None, Some(DEMO_NOW - 3600.0), None),
        DEMO_NOW,
    );
    r.store = None;
    r.looked_in = vec![
        "/home/dev/.local/state/portscope/history.db".into(),
        "/var/lib/portscope/history.db".into(),
    ];
    pin("follow-history-no-store", &Report::History(Box::new(r)));
}
