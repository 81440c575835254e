//! Made-up listeners, frames and kill plans for the view's unit tests.

use crate::commands::kill::{KillPlan, KillReport, Planned};
use crate::commands::watch::Frame;
use crate::model::Process;
use crate::sys::signal::Sig;
use crate::watch::{Ending, Event, EventKind, Listener, Tracked};

/// A TCP listener on 127.0.0.1:`port` held by `name` (pid `pid`, user ada).
pub fn listener(port: u16, pid: u32, name: &str) -> Listener {
    let mut l = crate::watch::fixture_listener(port, u64::from(port) * 10, pid);
    if let Some(o) = l.owner.as_mut() {
        o.process = name.into();
        o.cmdline = vec![name.into(), "--serve".into()];
        o.user = Some("ada".into());
    }
    l
}

/// `l`, first seen at `opened_at`.
pub fn tracked(l: &Listener, opened_at: f64) -> Tracked {
    Tracked {
        listener: l.clone(),
        opened_at,
    }
}

/// An event about `l` (closes: opened at 100, the process exited).
pub fn event(kind: EventKind, l: &Listener, time: f64) -> Event {
    Event {
        kind,
        time,
        listener: l.clone(),
        opened_at: (kind == EventKind::Closed).then_some(100.0),
        ending: (kind == EventKind::Closed).then_some(Ending::ProcessExited),
    }
}

/// A frame at `time` of the watcher started at 100.
pub fn frame(time: f64, open: &[(&Listener, f64)], events: Vec<Event>) -> Frame {
    Frame {
        time,
        listeners: open.iter().map(|(l, t)| tracked(l, *t)).collect(),
        events,
        started_at: 100.0,
        ..Frame::default()
    }
}

/// A dry run that would stop python3[50], or nothing.
pub fn plan(stop_nothing: bool) -> KillReport {
    let mut r = KillReport {
        plan: KillPlan {
            targets: vec![],
            signal: Sig::Term,
            timeout_ms: 5000,
            escalate: true,
            tree: false,
            connections: false,
            euid: 0,
            found: vec![],
            stop: vec![],
            stop_containers: vec![],
            refused: vec![],
            docker: vec![],
            notes: vec![],
            supervisors: vec![],
        },
        dry_run: true,
        declined: false,
        outcomes: vec![],
        signals_sent: vec![],
        containers: vec![],
        unit_stops: vec![],
        respawned: vec![],
        respawn_watch_ms: 0,
        watchers: vec![],
        ports: vec![],
        all_free: false,
    };
    if !stop_nothing {
        let p = Process::fixture(50, "python3");
        r.plan.stop.push(Planned {
            process: p,
            ports: vec![8000],
            why: vec![],
            start_ticks: None,
        });
    }
    r
}
