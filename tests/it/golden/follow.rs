//! Golden tests of the follow verbs (see `golden/mod.rs`): the reports `watch`, `daemon`, `ui`
//! and the traffic tools (`serve`, `forward`, `tap`, `bench`) print when they stop, `history`'s
//! answers, and the live lines printed while they run.
//!
//! Times are fixed Unix seconds; `history` renders local times in the report's own zone, which
//! the fixtures set to UTC, so nothing here depends on the machine's time zone (`pin` masks the
//! tables' date-times anyway; times of day stay). The `watch-stopped` line carries the moment
//! it was printed, so [`pin_masked`] masks it.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use jiff::tz::TimeZone;
use portscope::commands::Report;
use portscope::commands::bench::{BenchReport, Ratios, TransportReport};
use portscope::commands::forward::ForwardReport;
use portscope::commands::history::{Coverage, HistoryReport, QueryShown, StayRow, gaps};
use portscope::commands::serve::ServeReport;
use portscope::commands::tap::TapReport;
use portscope::commands::ui::{self as ui_cmd, UiReport};
use portscope::commands::watch::{Started, WatchReport};
use portscope::config::Config;
use portscope::model::Proto;
use portscope::render;
use portscope::render::events::{EventLine, StartedLine};
use portscope::render::style::Palette;
use portscope::store::history::{Recorder, Session, Stay, Stored, When};
use portscope::target::Target;
use portscope::traffic::Line;
use portscope::traffic::bench::{BenchLine, Stats, Throughput, round};
use portscope::traffic::forward::{Cidr, End, ForwardLine, Totals};
use portscope::traffic::serve::{Chosen, ServeLine};
use portscope::traffic::tap::{self, TapLine};
use portscope::watch::{Ending, Event, EventKind, Listener, Owner};

use super::pin;

// ---------------------------------------------------------------------------------------------
// Helpers

/// Pin `NAME.txt`/`NAME.json` as [`pin`] does, with `extra` filters on top of its masks: for
/// reports whose text carries the moment it was printed (`watch-stopped` lines).
fn pin_masked(name: &str, report: &Report, extra: &[(&str, &str)]) {
    let config = |json| Config {
        json,
        color: false,
        pretty: true,
        progress: false,
    };
    let text = render::report(report, &config(false));
    let json = render::report(report, &config(true));
    let mut filters = vec![
        (r"\b\d+(\.\d+)?(s|m|h|d|ms) ago\b", "[AGO] ago"),
        (
            r#""portscope_version": "[^"]+""#,
            r#""portscope_version": "[VERSION]""#,
        ),
    ];
    filters.extend_from_slice(extra);
    insta::with_settings!({
        snapshot_path => "snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
        filters => filters,
    }, {
        insta::assert_snapshot!(format!("{name}.txt"), text);
        insta::assert_snapshot!(format!("{name}.json"), json);
    });
}

/// Pin live lines: `NAME.txt` as a person sees them, `NAME.json` as `--json` prints them.
fn pin_lines(name: &str, lines: &[Line]) {
    let pal = Palette::new(false);
    let text: String = lines
        .iter()
        .map(|l| render::traffic::text(l, false, &pal))
        .collect();
    let json: String = lines
        .iter()
        .map(|l| render::traffic::text(l, true, &pal))
        .collect();
    pin_text(&format!("{name}.txt"), &text);
    pin_text(&format!("{name}.json"), &json);
}

/// Pin one text under `snapshots/` with the golden settings.
fn pin_text(name: &str, text: &str) {
    insta::with_settings!({
        snapshot_path => "snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name.to_string(), text);
    });
}

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("socket address")
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("ip address")
}

fn args(words: &[&str]) -> Vec<String> {
    words.iter().map(ToString::to_string).collect()
}

/// An owner as the recorder first saw it (user root, no container or unit, no workers).
fn owner(pid: u32, process: &str, cmdline: &[&str], cwd: &str, start_time: u64) -> Owner {
    Owner {
        pid,
        process: process.into(),
        cmdline: args(cmdline),
        user: Some("root".into()),
        uid: 0,
        cwd: Some(cwd.into()),
        container: None,
        unit: None,
        start_time: Some(start_time),
        others: Vec::new(),
    }
}

/// A TCP listener held by `owner` (`None`: hidden from this user).
fn listener(address: &str, port: u16, inode: u64, owner: Option<Owner>) -> Listener {
    Listener {
        proto: Proto::Tcp,
        address: ip(address),
        port,
        inode,
        uid: 0,
        owner_hidden: owner.is_none(),
        owner,
    }
}

fn python_http(pid: u32, bind: Option<&str>) -> Owner {
    let mut cmd = vec![
        "/root/.pyenv/versions/3.11.7/bin/python3",
        "-m",
        "http.server",
        "8000",
    ];
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

fn opened(time: f64, l: Listener) -> Event {
    Event {
        kind: EventKind::Opened,
        time,
        listener: l,
        opened_at: None,
        ending: None,
    }
}

fn closed(time: f64, l: Listener, opened_at: f64, ending: Ending) -> Event {
    Event {
        kind: EventKind::Closed,
        time,
        listener: l,
        opened_at: Some(opened_at),
        ending: Some(ending),
    }
}

fn stats(count: u64, us: [f64; 6]) -> Stats {
    let [min_us, p50_us, p90_us, p99_us, max_us, mean_us] = us;
    Stats {
        count,
        min_us,
        p50_us,
        p90_us,
        p99_us,
        max_us,
        mean_us,
    }
}

fn ratios(tcp: &TransportReport, unix: &TransportReport) -> Ratios {
    let r = |a: f64, b: f64| round(a / b, 3);
    Ratios {
        connect_p50: r(tcp.connect.p50_us, unix.connect.p50_us),
        round_trip_p50: r(tcp.round_trip.p50_us, unix.round_trip.p50_us),
        round_trip_p99: r(tcp.round_trip.p99_us, unix.round_trip.p99_us),
        throughput: r(
            tcp.throughput.bits_per_second,
            unix.throughput.bits_per_second,
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// watch, daemon

/// The `watch-stopped` line carries the moment it was printed: masked.
const STOPPED_AT: (&str, &str) = (
    r#""time":"[^"]+","unix":[0-9.]+"#,
    r#""time":"[TIME]","unix":[UNIX]"#,
);

/// `daemon` stopped by Ctrl-C: one sentence (docs/history.md).
#[test]
fn daemon_stopped() {
    let report = WatchReport {
        mode: "daemon",
        events: 2,
        seconds: 6.214,
        recorded_to: Some("/tmp/demo/st/history.db".into()),
        stopped_by: "signal",
        lines: false,
    };
    pin("follow-daemon-stopped", &Report::Watch(Box::new(report)));
}

/// `daemon --events --duration 10m`: the summary is a `watch-stopped` JSON line.
#[test]
fn daemon_events_stopped() {
    let report = WatchReport {
        mode: "daemon",
        events: 14,
        seconds: 600.002,
        recorded_to: Some("/var/lib/portscope/history.db".into()),
        stopped_by: "duration",
        lines: true,
    };
    pin_masked(
        "follow-daemon-events-stopped",
        &Report::Watch(Box::new(report)),
        &[STOPPED_AT],
    );
}

/// `watch --events` stopped by a signal, not recording (docs/history.md).
#[test]
fn watch_events_stopped() {
    let report = WatchReport {
        mode: "events",
        events: 2,
        seconds: 4.998_746_918,
        recorded_to: None,
        stopped_by: "signal",
        lines: true,
    };
    pin_masked(
        "follow-watch-events-stopped",
        &Report::Watch(Box::new(report)),
        &[STOPPED_AT],
    );
}

/// The terminal view prints nothing when it ends; `--json` still gets the report.
#[test]
fn watch_view_quit() {
    let report = WatchReport {
        mode: "view",
        events: 3,
        seconds: 42.5,
        recorded_to: Some("/home/dev/.local/state/portscope/history.db".into()),
        stopped_by: "quit",
        lines: false,
    };
    pin("follow-watch-view-quit", &Report::Watch(Box::new(report)));
}

/// `watch --events` lines: the start, an open, its close, and a hidden owner's close.
#[test]
fn watch_event_lines() {
    let started = Started {
        unix: 1_795_323_942.535,
        listeners: 1,
        interval_s: 1.0,
        recording: None,
        caught_up: 0,
    };
    let server = owner(
        15841,
        "python3",
        &[
            "/root/.pyenv/versions/3.11.7/bin/python3",
            "-m",
            "http.server",
            "0",
            "--bind",
            "127.0.0.1",
        ],
        "/tmp/demo/app",
        1_795_323_944,
    );
    let l = listener("127.0.0.1", 33095, 5_017_968, Some(server));
    let mut workers = owner(
        4242,
        "gunicorn",
        &[
            "/usr/bin/python3",
            "/usr/bin/gunicorn",
            "-w",
            "2",
            "app:app",
        ],
        "/srv/app",
        1_795_320_000,
    );
    workers.others = vec![4243, 4244];
    workers.unit = Some("app.service".into());
    workers.user = Some("www-data".into());
    workers.uid = 33;
    let mut hidden = listener("0.0.0.0", 2024, 4_100_221, None);
    hidden.uid = 1000;
    let mut udp = listener("::", 5353, 5_018_002, Some(workers));
    udp.proto = Proto::Udp;
    let events = [
        opened(1_795_323_944.544, l.clone()),
        closed(
            1_795_323_946.544,
            l,
            1_795_323_944.544,
            Ending::ProcessExited,
        ),
        opened(1_795_323_946.9, udp),
        closed(1_795_323_947.1, hidden, 1_795_323_900.0, Ending::Unknown),
    ];
    let mut out = serde_json::to_string(&StartedLine::new(&started)).expect("json") + "\n";
    for e in &events {
        out += &(serde_json::to_string(&EventLine::new(e)).expect("json") + "\n");
    }
    pin_text("follow-watch-event-lines.json", &out);
}

// ---------------------------------------------------------------------------------------------
// history

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
            "/root/.pyenv/versions/3.11.7/bin/python3",
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
    let mut gunicorn = owner(
        4242,
        "gunicorn",
        &[
            "/usr/bin/python3",
            "/usr/bin/gunicorn",
            "-w",
            "2",
            "app:app",
        ],
        "/srv/app",
        1_795_299_990,
    );
    gunicorn.others = vec![4243, 4244];
    gunicorn.unit = Some("app.service".into());
    gunicorn.user = Some("www-data".into());
    gunicorn.uid = 33;
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

// ---------------------------------------------------------------------------------------------
// ui

/// The dashboard on its usual port, stopped by Ctrl-C (docs/dashboard.md).
#[test]
fn ui_stopped() {
    let report = UiReport {
        listen: addr("127.0.0.1:62893"),
        chosen: ui_cmd::Chosen::Default,
        requests: 1,
        events: 0,
        stopped_by: "SIGINT".into(),
    };
    pin("follow-ui-stopped", &Report::Ui(Box::new(report)));
}

/// The usual port was taken: a free loopback port, stopped by SIGTERM.
#[test]
fn ui_default_taken() {
    let report = UiReport {
        listen: addr("127.0.0.1:39107"),
        chosen: ui_cmd::Chosen::DefaultTaken,
        requests: 57,
        events: 4,
        stopped_by: "SIGTERM".into(),
    };
    pin("follow-ui-default-taken", &Report::Ui(Box::new(report)));
}

/// `ui`'s lines on standard error while it runs.
#[test]
fn ui_lines() {
    use portscope::render::ui as text;
    let token = "52a8b1b8a59ae229db176aef06a7303fb696951b10530d1b6601de24ae475672";
    let mut out = text::default_taken_line(ui_cmd::DEFAULT_PORT);
    out += &text::startup_line(&format!("http://127.0.0.1:39107/?token={token}"));
    out += &text::exposure_warning(addr("0.0.0.0:8090")).unwrap_or_default();
    out += &text::exposure_warning(addr("127.0.0.1:8090")).unwrap_or_default();
    out += &text::open_failed_line("xdg-open: no method available\nfor opening URLs");
    pin_text("follow-ui-lines.txt", &out);
}

// ---------------------------------------------------------------------------------------------
// serve

fn serve_report(kind: &'static str, address: &str, chosen: Chosen) -> ServeReport {
    let scheme = if matches!(kind, "echo" | "discard") {
        "tcp"
    } else {
        "http"
    };
    let slash = if scheme == "http" { "/" } else { "" };
    ServeReport {
        kind,
        address: addr(address),
        url: format!("{scheme}://{address}{slash}"),
        chosen,
        dir: None,
        requests: 0,
        connections: 0,
        bytes_in: 0,
        bytes_out: 0,
        stopped_by: "SIGTERM".into(),
    }
}

/// `serve` (http) stopped by Ctrl-C after two requests (docs/traffic.md).
#[test]
fn serve_http() {
    let mut r = serve_report("http", "127.0.0.1:62893", Chosen::Default);
    r.requests = 2;
    r.connections = 2;
    r.bytes_in = 279;
    r.bytes_out = 1229;
    r.stopped_by = "SIGINT".into();
    pin("follow-serve-http", &Report::Serve(Box::new(r)));
}

/// `serve echo` on a port the kernel chose: no request count.
#[test]
fn serve_echo() {
    let mut r = serve_report("echo", "127.0.0.1:42005", Chosen::DefaultTaken);
    r.connections = 1;
    r.bytes_in = 12;
    r.bytes_out = 12;
    pin("follow-serve-echo", &Report::Serve(Box::new(r)));
}

/// `serve static site --port 8123`: the directory is in the JSON.
#[test]
fn serve_static() {
    let mut r = serve_report("static", "127.0.0.1:8123", Chosen::Port);
    r.dir = Some("site".into());
    r.requests = 4;
    r.connections = 4;
    r.bytes_in = 348;
    r.bytes_out = 1126;
    pin("follow-serve-static", &Report::Serve(Box::new(r)));
}

/// `serve`'s live lines: started (three ways), a warning, requests, a closed connection.
#[test]
fn serve_lines() {
    let lines = [
        ServeLine::Serving {
            kind: "http",
            address: addr("127.0.0.1:62893"),
            url: "http://127.0.0.1:62893/".into(),
            chosen: Chosen::Default,
            dir: None,
        },
        ServeLine::Serving {
            kind: "echo",
            address: addr("127.0.0.1:42005"),
            url: "tcp://127.0.0.1:42005".into(),
            chosen: Chosen::DefaultTaken,
            dir: None,
        },
        ServeLine::Serving {
            kind: "static",
            address: addr("0.0.0.0:8123"),
            url: "http://0.0.0.0:8123/".into(),
            chosen: Chosen::Port,
            dir: Some("site".into()),
        },
        ServeLine::Warning {
            message: "0.0.0.0:8123 is not loopback: anyone who can reach this host can use \
                      this test server and read the directory's files"
                .into(),
        },
        ServeLine::Request {
            client: addr("127.0.0.1:56756"),
            method: "GET".into(),
            path: "/api/users?id=7".into(),
            status: 200,
            bytes: Some(196),
        },
        ServeLine::Request {
            client: addr("127.0.0.1:45324"),
            method: "GET".into(),
            path: "/%2e%2e/etc/passwd\x1b[2J".into(),
            status: 404,
            bytes: None,
        },
        ServeLine::Connection {
            client: addr("127.0.0.1:43304"),
            bytes_in: 12,
            bytes_out: 12,
            seconds: 0.002_171_094,
        },
    ];
    let lines: Vec<Line> = lines.into_iter().map(Line::Serve).collect();
    pin_lines("follow-serve-lines", &lines);
}

// ---------------------------------------------------------------------------------------------
// forward

/// `forward` over TCP stopped by Ctrl-C, one client denied (docs/traffic.md).
#[test]
fn forward_tcp() {
    let report = ForwardReport {
        proto: "tcp",
        listen: addr("127.0.0.1:8080"),
        target: addr("127.0.0.1:3000"),
        totals: Totals {
            connections: 2,
            denied: 1,
            refused: 0,
            target_failed: 1,
            bytes_to_target: 1_048_582,
            bytes_to_client: 1_048_582,
        },
        stopped_by: "SIGINT".into(),
    };
    pin("follow-forward-tcp", &Report::Forward(Box::new(report)));
}

/// `forward --udp`: sessions, not connections.
#[test]
fn forward_udp() {
    let report = ForwardReport {
        proto: "udp",
        listen: addr("127.0.0.1:5353"),
        target: addr("127.0.0.1:5300"),
        totals: Totals {
            connections: 1,
            denied: 0,
            refused: 2,
            target_failed: 0,
            bytes_to_target: 5,
            bytes_to_client: 5,
        },
        stopped_by: "SIGTERM".into(),
    };
    pin("follow-forward-udp", &Report::Forward(Box::new(report)));
}

/// `forward`'s live lines: start with a warning, open, closes, denied, refused, target failed.
#[test]
fn forward_lines() {
    let cidr = |t| Cidr::parse(t).expect("cidr");
    let lines = [
        ForwardLine::Start {
            proto: "tcp",
            listen: addr("0.0.0.0:8080"),
            target: addr("127.0.0.1:3000"),
            allow: vec![cidr("127.0.0.0/8"), cidr("::1/128")],
            max_conns: 1024,
            idle_timeout_s: 600.0,
            warnings: vec![
                "0.0.0.0 is reachable from the network but only loopback clients are allowed: \
                 remote clients will be refused (allow them with --allow CIDR, e.g. --allow \
                 192.168.1.0/24)"
                    .into(),
            ],
        },
        ForwardLine::Open {
            id: 1,
            client: addr("127.0.0.1:54708"),
            target: addr("127.0.0.1:3000"),
        },
        ForwardLine::Close {
            id: 1,
            client: addr("127.0.0.1:54708"),
            bytes_to_target: 1_048_576,
            bytes_to_client: 1_048_576,
            duration_s: 0.012,
            end: End::BothClosed,
            error: None,
        },
        ForwardLine::Close {
            id: 2,
            client: addr("127.0.0.1:54714"),
            bytes_to_target: 6,
            bytes_to_client: 0,
            duration_s: 1.5,
            end: End::Reset,
            error: Some("Connection reset by peer (os error 104)".into()),
        },
        ForwardLine::Denied {
            client: addr("127.0.0.2:57841"),
        },
        ForwardLine::Refused {
            client: addr("127.0.0.1:55124"),
            max_conns: 1,
        },
        ForwardLine::TargetFailed {
            id: 3,
            client: addr("127.0.0.1:54740"),
            target: addr("127.0.0.1:3001"),
            reason: "Connection refused (os error 111)".into(),
        },
        ForwardLine::Start {
            proto: "udp",
            listen: addr("127.0.0.1:5353"),
            target: addr("127.0.0.1:5300"),
            allow: vec![cidr("127.0.0.0/8")],
            max_conns: 16,
            idle_timeout_s: 2.0,
            warnings: Vec::new(),
        },
        ForwardLine::Close {
            id: 1,
            client: addr("127.0.0.1:51872"),
            bytes_to_target: 5,
            bytes_to_client: 5,
            duration_s: 2.01,
            end: End::Idle,
            error: None,
        },
    ];
    let lines: Vec<Line> = lines.into_iter().map(Line::Forward).collect();
    pin_lines("follow-forward-lines", &lines);
}

// ---------------------------------------------------------------------------------------------
// tap

fn tap_report() -> TapReport {
    TapReport {
        port: 33161,
        interface: "lo".into(),
        packets: 0,
        bytes: 0,
        connections: 0,
        open_at_stop: 0,
        flows_evicted: 0,
        missed_bytes: 0,
        pcap: None,
        pcap_packets: 0,
        duration_s: 0.0,
        stopped_by: "signal",
    }
}

/// `tap -w` stopped by Ctrl-C (docs/traffic.md).
#[test]
fn tap_pcap() {
    let mut r = tap_report();
    r.packets = 25;
    r.bytes = 17_002;
    r.connections = 2;
    r.pcap = Some("/tmp/demo.pcap".into());
    r.pcap_packets = 25;
    r.duration_s = 2.512;
    pin("follow-tap-pcap", &Report::Tap(Box::new(r)));
}

/// A capture that fell behind, with the flow table full and one connection still open.
#[test]
fn tap_missed() {
    let mut r = tap_report();
    r.port = 36967;
    r.packets = 234;
    r.bytes = 8_400_012;
    r.connections = 1;
    r.open_at_stop = 1;
    r.flows_evicted = 12;
    r.missed_bytes = 25_270_681;
    r.duration_s = 30.0;
    r.stopped_by = "duration";
    pin("follow-tap-missed", &Report::Tap(Box::new(r)));
}

/// `tap`'s live lines: started, open, ends (fin with first lines, rst, UDP open at the stop
/// with escaped payload, missed bytes).
#[test]
fn tap_lines() {
    let conn = |client: &str, server: &str| tap::Conn {
        proto: "tcp",
        client: client.into(),
        server: server.into(),
        ended: "fin",
        start: 1_795_332_848.252_127,
        duration_s: 0.009_564,
        request_bytes: 79,
        response_bytes: 14_631,
        request_packets: 6,
        response_packets: 5,
        request_first_line: Some("GET / HTTP/1.1".into()),
        response_first_line: Some("HTTP/1.0 200 OK".into()),
        request_missed_bytes: 0,
        response_missed_bytes: 0,
    };
    let mut reset = conn("127.0.0.2:55030", "127.0.0.1:33161");
    reset.ended = "rst";
    reset.start = 1_795_332_850.1;
    reset.duration_s = 0.000_412;
    reset.request_packets = 2;
    reset.response_packets = 1;
    reset.request_bytes = 0;
    reset.response_bytes = 0;
    reset.request_first_line = None;
    reset.response_first_line = None;
    let mut udp = conn("[::1]:42818", "[::1]:36102");
    udp.proto = "udp";
    udp.ended = "open";
    udp.start = 1_795_332_851.0;
    udp.duration_s = 0.000_181;
    udp.request_bytes = 9;
    udp.response_bytes = 4;
    udp.request_packets = 1;
    udp.response_packets = 1;
    udp.request_first_line = Some("ping\\x01\\x1b[2J".into());
    udp.response_first_line = Some("pong".into());
    let mut missed = conn("127.0.0.1:46450", "127.0.0.1:36967");
    missed.start = 1_795_332_860.5;
    missed.duration_s = 0.703_118;
    missed.request_packets = 176;
    missed.response_packets = 58;
    missed.request_bytes = 8_283_750;
    missed.response_bytes = 0;
    missed.request_first_line = Some("xxxxxxxx".into());
    missed.response_first_line = None;
    missed.request_missed_bytes = 25_270_681;
    let lines = [
        TapLine::Started(tap::Started {
            port: 33161,
            interface: "lo".into(),
            pcap: Some("/tmp/demo.pcap".into()),
        }),
        TapLine::Open(tap::Open {
            proto: "tcp",
            client: "127.0.0.1:55028".into(),
            server: "127.0.0.1:33161".into(),
            time: 1_795_332_848.252_127,
        }),
        TapLine::End(conn("127.0.0.1:55028", "127.0.0.1:33161")),
        TapLine::End(reset),
        TapLine::End(udp),
        TapLine::End(missed),
    ];
    let lines: Vec<Line> = lines.into_iter().map(Line::Tap).collect();
    pin_lines("follow-tap-lines", &lines);
}

// ---------------------------------------------------------------------------------------------
// bench

fn tcp_figures(echo: &str, discard: &str) -> TransportReport {
    TransportReport {
        transport: "tcp",
        echo: echo.into(),
        connect: stats(200, [16.8, 18.034, 20.3, 93.6, 4_090.0, 40.6]),
        round_trip: stats(1000, [20.6, 21.4, 22.4, 41.6, 102.4, 22.3]),
        throughput: Throughput::new("discard", discard.into(), 2_410_676_224, 1.000_2),
    }
}

/// `bench` against the servers it started, TCP only.
#[test]
fn bench_tcp() {
    let report = BenchReport {
        target: "127.0.0.1:37483".into(),
        target_started: true,
        size_bytes: 64,
        tcp_nodelay: true,
        tcp: TransportReport {
            transport: "tcp",
            echo: "127.0.0.1:37483".into(),
            connect: stats(200, [16.6, 17.7, 23.9, 67.8, 3_240.0, 47.9]),
            round_trip: stats(1000, [19.8, 22.4, 36.5, 70.4, 149.3, 26.4]),
            throughput: Throughput::new(
                "discard",
                "127.0.0.1:42095".into(),
                2_047_868_928,
                2.000_4,
            ),
        },
        unix: None,
        tcp_over_unix: None,
    };
    pin("follow-bench-tcp", &Report::Bench(Box::new(report)));
}

/// `bench 9007 --size 4KiB`: an echo target of the user's, throughput through the echo.
#[test]
fn bench_echo_target() {
    let report = BenchReport {
        target: "127.0.0.1:9007".into(),
        target_started: false,
        size_bytes: 4096,
        tcp_nodelay: true,
        tcp: TransportReport {
            transport: "tcp",
            echo: "127.0.0.1:9007".into(),
            connect: stats(200, [18.7, 22.4, 25.3, 59.6, 4_110.0, 43.6]),
            round_trip: stats(500, [24.1, 30.9, 35.5, 118.9, 4_300.0, 42.5]),
            throughput: Throughput::new("echo", "127.0.0.1:9007".into(), 889_192_448, 1.0),
        },
        unix: None,
        tcp_over_unix: None,
    };
    pin("follow-bench-echo-target", &Report::Bench(Box::new(report)));
}

/// `bench --unix`: TCP and unix side by side, with the TCP ÷ unix ratios.
#[test]
fn bench_unix() {
    let dir = "/tmp/portscope-bench-3997-330510203";
    let tcp = tcp_figures("127.0.0.1:40639", "127.0.0.1:46425");
    let unix = TransportReport {
        transport: "unix",
        echo: format!("{dir}/echo.sock"),
        connect: stats(200, [4.4, 4.968, 6.9, 68.6, 193.2, 8.8]),
        round_trip: stats(1000, [9.3, 10.0, 14.7, 18.8, 189.5, 11.7]),
        throughput: Throughput::new(
            "discard",
            format!("{dir}/discard.sock"),
            3_030_384_640,
            1.000_1,
        ),
    };
    let report = BenchReport {
        target: "127.0.0.1:40639".into(),
        target_started: true,
        size_bytes: 64,
        tcp_nodelay: true,
        tcp_over_unix: Some(ratios(&tcp, &unix)),
        tcp,
        unix: Some(unix),
    };
    pin("follow-bench-unix", &Report::Bench(Box::new(report)));
}

/// `bench`'s progress lines (standard error, text; the JSON form is the `--json` schema).
#[test]
fn bench_lines() {
    let dir = "/tmp/portscope-bench-3997-330510203";
    let lines = [
        BenchLine::ServerStarted {
            kind: "echo",
            transport: "tcp",
            address: "127.0.0.1:40639".into(),
        },
        BenchLine::PhaseStarted {
            transport: "tcp",
            phase: "round_trip",
            target: "127.0.0.1:40639".into(),
            count: Some(1000),
            size_bytes: Some(64),
            duration_s: None,
            mode: None,
        },
        BenchLine::PhaseStarted {
            transport: "tcp",
            phase: "connect",
            target: "127.0.0.1:40639".into(),
            count: Some(200),
            size_bytes: None,
            duration_s: None,
            mode: None,
        },
        BenchLine::PhaseStarted {
            transport: "tcp",
            phase: "throughput",
            target: "127.0.0.1:46425".into(),
            count: None,
            size_bytes: Some(65_536),
            duration_s: Some(1.0),
            mode: Some("discard"),
        },
        BenchLine::ServerStarted {
            kind: "discard",
            transport: "unix",
            address: format!("{dir}/discard.sock"),
        },
        BenchLine::PhaseStarted {
            transport: "unix",
            phase: "round_trip",
            target: format!("{dir}/echo.sock"),
            count: Some(1000),
            size_bytes: Some(64),
            duration_s: None,
            mode: None,
        },
        BenchLine::PhaseStarted {
            transport: "unix",
            phase: "throughput",
            target: format!("{dir}/echo.sock"),
            count: None,
            size_bytes: Some(65_536),
            duration_s: Some(0.5),
            mode: Some("echo"),
        },
    ];
    let lines: Vec<Line> = lines.into_iter().map(Line::Bench).collect();
    pin_lines("follow-bench-lines", &lines);
}
