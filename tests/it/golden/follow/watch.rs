//! `watch` and `daemon`: the reports they print when they stop (a sentence, a `watch-stopped`
//! line, nothing for the terminal view) and `watch --events`' JSON lines.

use portscope::commands::Report;
use portscope::commands::watch::{Started, WatchReport};
use portscope::model::Proto;
use portscope::render::events::{EventLine, StartedLine};
use portscope::watch::Ending;

use super::{PYTHON, closed, gunicorn, listener, opened, owner};
use crate::golden::{pin_text, pin_with};

/// The `watch-stopped` line carries the moment it was printed: masked.
const STOPPED_AT: (&str, &str) = (
    r#""time":"[^"]+","unix":[0-9.]+"#,
    r#""time":"[TIME]","unix":[UNIX]"#,
);

/// Pin what `watch` or `daemon` prints when it stops, with [`STOPPED_AT`] masked.
fn pin_stopped(name: &str, report: WatchReport) {
    pin_with(name, &Report::Watch(Box::new(report)), &[STOPPED_AT]);
}

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
    pin_stopped("follow-daemon-stopped", report);
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
    pin_stopped("follow-daemon-events-stopped", report);
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
    pin_stopped("follow-watch-events-stopped", report);
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
    pin_stopped("follow-watch-view-quit", report);
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
        &[PYTHON, "-m", "http.server", "0", "--bind", "127.0.0.1"],
        "/tmp/demo/app",
        1_795_323_944,
    );
    let l = listener("127.0.0.1", 33095, 5_017_968, Some(server));
    let mut hidden = listener("0.0.0.0", 2024, 4_100_221, None);
    hidden.uid = 1000;
    let mut udp = listener("::", 5353, 5_018_002, Some(gunicorn(1_795_320_000)));
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
    pin_text("follow-watch-event-lines.json", &out, &[]);
}
