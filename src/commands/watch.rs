//! `portscope watch` and `portscope daemon`: follow listeners as they open and close.
//!
//! One loop serves both: look (see [`crate::watch::observe`]), record the events when asked
//! (the history store commits before anything is printed, so a line a script saw is a line
//! the store kept), then hand them to the [`Ui`]: as JSON lines (`--events`, `daemon
//! --events`, or standard output not a terminal), or to the live terminal view, which pulls
//! frames from a [`LiveFeed`].

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::kill::KillReport;
use super::{Report, Ui};
use crate::error::Result;
use crate::exit::Exit;
use crate::model::Hidden;
use crate::store::history::{Retention, Writer};
use crate::store::registry;
use crate::sys::stop::StopSignals;
use crate::watch::observe::{Kinds, Observer, StateCounts, state_counts};
use crate::watch::{Event, Listener, Tracked};

/// How often the recorder notes that it is alive (what bounds "closed while not recording").
const HEARTBEAT: Duration = Duration::from_secs(30);
/// How often the JSON-lines loop checks, while idle, that its output still has a reader.
const OUTPUT_CHECK: Duration = Duration::from_millis(250);
/// How often the recorder applies retention.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// What `watch` or `daemon` did, once it stopped.
#[derive(Debug, Clone, Serialize)]
pub struct WatchReport {
    /// `view` (the terminal view), `events` (JSON lines) or `daemon`.
    pub mode: &'static str,
    /// Events seen.
    pub events: usize,
    /// Seconds it ran.
    pub seconds: f64,
    /// The history store the events went into, when recording.
    pub recorded_to: Option<PathBuf>,
    /// What stopped it: `signal`, `duration`, `quit`, `output-closed` (the reader of the
    /// JSON lines went away).
    pub stopped_by: &'static str,
    /// Events went out as JSON lines, so the summary is one too.
    #[serde(skip)]
    pub lines: bool,
}

/// The first line of `--events` output: the watcher has its baseline, so anything that
/// opens from now on is reported.
#[derive(Debug, Clone, Serialize)]
pub struct Started {
    /// When (Unix seconds).
    pub unix: f64,
    /// Listeners open now (not reported one by one).
    pub listeners: usize,
    /// Seconds between looks.
    pub interval_s: f64,
    /// The history store, when recording.
    pub recording: Option<PathBuf>,
    /// Events the store's previous recorder missed and this one recorded on start
    /// (listeners that closed or opened while nothing was recording).
    pub caught_up: usize,
}

/// One refresh of the live view.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    /// When (Unix seconds).
    pub time: f64,
    /// Every listener open now, sorted by protocol, address and port, with when it was
    /// first seen (the watcher's start for those open before it).
    pub listeners: Vec<Tracked>,
    /// What opened and closed since the previous frame.
    pub events: Vec<Event>,
    /// Every TCP/UDP socket by protocol and state (for the header).
    pub states: StateCounts,
    /// Listeners whose owner could not be seen, and why.
    pub hidden: Hidden,
    /// The history store the events go into, when recording.
    pub recording: Option<PathBuf>,
    /// When the watcher started (Unix seconds): listeners first seen then were already open.
    pub started_at: f64,
}

/// What the live view asks of the command: frames, and freeing a port.
pub trait LiveFeed {
    /// Look again (and record, when recording).
    fn refresh(&mut self) -> Result<Frame>;
    /// True once `--duration` has passed: the view should end as if the person quit.
    fn finished(&self) -> bool;
    /// How long between refreshes.
    fn interval(&self) -> Duration;
    /// What freeing this listener's port would do (a dry run: nothing is sent).
    fn plan_kill(&mut self, listener: &Listener) -> Result<KillReport>;
    /// Free this listener's port (the person already confirmed): SIGTERM, SIGKILL after 5 s,
    /// and a check that the port is free.
    fn kill(&mut self, listener: &Listener) -> Result<KillReport>;
}

/// What `watch` and `daemon` share: how often and how long to look, at what, and the store.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowOptions {
    /// How often to look (100 ms to 1 h).
    pub interval: Duration,
    /// Stop after this long (`None`: until quit or a signal).
    pub duration: Option<Duration>,
    /// Which listeners to follow.
    pub kinds: Kinds,
    /// How long and how much the history store keeps (used when recording).
    pub retention: Retention,
    /// The state directory the history store is in (`None`: the user's default).
    pub state_dir: Option<PathBuf>,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            interval: Duration::from_secs(1),
            duration: None,
            kinds: Kinds::default(),
            retention: Retention {
                keep_s: 30.0 * 86_400.0,
                max_bytes: 256 << 20,
            },
            state_dir: None,
        }
    }
}

/// What `watch` is asked to do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    /// One JSON line per event instead of the terminal view.
    pub events: bool,
    /// Also record the events into the history store.
    pub record: bool,
    /// What to look at, how often, and where the store is.
    pub follow: FollowOptions,
}

/// What `daemon` is asked to do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DaemonOptions {
    /// Also print one JSON line per event, once it is recorded.
    pub events: bool,
    /// What to look at, how often, and where the store is.
    pub follow: FollowOptions,
}

/// Run `watch`.
pub fn run(opts: &Options, ui: &dyn Ui) -> Result<(Report, Exit)> {
    watch(opts, ui).map(|(r, code)| (Report::Watch(Box::new(r)), code))
}

/// Run `daemon`: record until stopped.
pub fn daemon(opts: &DaemonOptions, ui: &dyn Ui) -> Result<(Report, Exit)> {
    record(opts, ui).map(|(r, code)| (Report::Watch(Box::new(r)), code))
}

fn watch(opts: &Options, ui: &dyn Ui) -> Result<(WatchReport, Exit)> {
    let (mut loop_, until) = Follow::from_options(&opts.follow, opts.record)?;
    let view = !opts.events && ui.can_view();
    if !view {
        ui.watch_started(&loop_.started());
        let report = loop_.run("events", until, &|e| ui.watch_event(e), &|| {
            ui.output_closed()
        })?;
        return Ok((report, Exit::Success));
    }
    let t0 = Instant::now();
    let mut feed = ViewFeed {
        follow: &mut loop_,
        until,
        first: true,
    };
    let shown = ui.live_view(&mut feed);
    if let Some(w) = loop_.writer.as_mut() {
        w.stopped(crate::time::now())?;
    }
    shown?;
    Ok((
        WatchReport {
            mode: "view",
            events: loop_.seen,
            seconds: t0.elapsed().as_secs_f64(),
            recorded_to: loop_.writer.as_ref().map(|w| w.path().to_path_buf()),
            stopped_by: "quit",
            lines: false,
        },
        Exit::Success,
    ))
}

fn record(opts: &DaemonOptions, ui: &dyn Ui) -> Result<(WatchReport, Exit)> {
    let (mut loop_, until) = Follow::from_options(&opts.follow, true)?;
    if opts.events {
        ui.watch_started(&loop_.started());
    }
    // Without --events nothing goes to standard output until the end: a recorder runs on
    // whether or not anyone reads it.
    let mut report = loop_.run(
        "daemon",
        until,
        &|e| {
            if opts.events {
                ui.watch_event(e);
            }
        },
        &|| opts.events && ui.output_closed(),
    )?;
    report.lines = opts.events;
    Ok((report, Exit::Success))
}

/// The observer, the store, and the timers of one watcher.
struct Follow {
    observer: Observer,
    writer: Option<Writer>,
    interval: Duration,
    /// Caught from before the store is opened, so a stop during the start is a clean one.
    stop: StopSignals,
    started_at: f64,
    /// Events recorded on start (closes and opens missed while nothing recorded).
    caught_up: Vec<Event>,
    seen: usize,
    last_heartbeat: Instant,
    last_prune: Instant,
}

impl Follow {
    /// Start (recording when `record`); with the `--duration` deadline.
    fn from_options(opts: &FollowOptions, record: bool) -> Result<(Follow, Option<Instant>)> {
        let until = opts.duration.map(|d| Instant::now() + d);
        let retention = record.then_some(opts.retention);
        let follow = Follow::start(
            opts.kinds,
            opts.interval,
            retention,
            opts.state_dir.as_deref(),
        )?;
        Ok((follow, until))
    }

    /// Open the store (when recording), resume from it, and take the first look.
    fn start(
        kinds: Kinds,
        interval: Duration,
        retention: Option<Retention>,
        state_dir: Option<&std::path::Path>,
    ) -> Result<Follow> {
        let stop = StopSignals::install()?;
        let mut observer = Observer::new(kinds);
        let mut writer = None;
        if let Some(retention) = retention {
            let dir = registry::state_dir(state_dir)?;
            let (mut w, resumed) = Writer::open(&dir, retention)?;
            w.prune(crate::time::now())?;
            observer.resume(resumed.open);
            writer = Some(w);
        }
        let first = observer.tick()?;
        let mut follow = Follow {
            observer,
            writer,
            interval,
            stop,
            started_at: first.time,
            caught_up: Vec::new(),
            seen: 0,
            last_heartbeat: Instant::now(),
            last_prune: Instant::now(),
        };
        if let Some(w) = follow.writer.as_mut() {
            w.record(&first.events)?;
            w.heartbeat(first.time)?;
            follow.caught_up = first.events;
        }
        Ok(follow)
    }

    fn started(&self) -> Started {
        Started {
            unix: (self.started_at * 1000.0).round() / 1000.0,
            listeners: self.observer.open().len(),
            interval_s: self.interval.as_secs_f64(),
            recording: self.writer.as_ref().map(|w| w.path().to_path_buf()),
            caught_up: self.caught_up.len(),
        }
    }

    /// One look: events, recorded (when recording) before they are returned.
    fn step(&mut self) -> Result<Vec<Event>> {
        let tick = self.observer.tick()?;
        if let Some(w) = self.writer.as_mut() {
            if !tick.events.is_empty() {
                w.record(&tick.events)?;
            }
            if self.last_heartbeat.elapsed() >= HEARTBEAT {
                w.heartbeat(tick.time)?;
                self.last_heartbeat = Instant::now();
            }
            if self.last_prune.elapsed() >= PRUNE_EVERY {
                w.prune(tick.time)?;
                self.last_prune = Instant::now();
            }
        }
        self.seen += tick.events.len();
        Ok(tick.events)
    }

    /// The JSON-lines loop (watch --events, daemon): until a stop signal, `until`, or
    /// `closed` says the output's reader went away (checked every [`OUTPUT_CHECK`], idle or
    /// not).
    fn run(
        &mut self,
        mode: &'static str,
        until: Option<Instant>,
        emit: &dyn Fn(&Event),
        closed: &dyn Fn() -> bool,
    ) -> Result<WatchReport> {
        let t0 = Instant::now();
        for e in std::mem::take(&mut self.caught_up) {
            emit(&e);
        }
        let mut next = Instant::now() + self.interval;
        let stopped_by = loop {
            if closed() {
                break "output-closed";
            }
            let now = Instant::now();
            let wake = until.map_or(next, |u| u.min(next)).min(now + OUTPUT_CHECK);
            if self.stop.wait(wake.saturating_duration_since(now)) {
                break "signal";
            }
            if until.is_some_and(|u| Instant::now() >= u) {
                break "duration";
            }
            if Instant::now() < next {
                continue;
            }
            for e in self.step()? {
                emit(&e);
            }
            // Keep to the interval's grid, but never try to catch up missed looks.
            next += self.interval;
            if next < Instant::now() {
                next = Instant::now() + self.interval;
            }
        };
        let recorded_to = match self.writer.as_mut() {
            Some(w) => {
                w.stopped(crate::time::now())?;
                Some(w.path().to_path_buf())
            }
            None => None,
        };
        Ok(WatchReport {
            mode,
            events: self.seen,
            seconds: t0.elapsed().as_secs_f64(),
            recorded_to,
            stopped_by,
            lines: true,
        })
    }
}

/// The live view's side of the loop.
struct ViewFeed<'a> {
    follow: &'a mut Follow,
    until: Option<Instant>,
    first: bool,
}

impl LiveFeed for ViewFeed<'_> {
    fn finished(&self) -> bool {
        self.until.is_some_and(|u| Instant::now() >= u)
    }

    fn refresh(&mut self) -> Result<Frame> {
        // The first frame is the first look: what it shows as events is what a recorder
        // caught up with on start.
        let events = if std::mem::replace(&mut self.first, false) {
            std::mem::take(&mut self.follow.caught_up)
        } else {
            self.follow.step()?
        };
        Ok(Frame {
            time: crate::time::now(),
            listeners: self.follow.observer.open().into_iter().cloned().collect(),
            events,
            states: state_counts()?,
            hidden: self.follow.observer.hidden().clone(),
            recording: self.follow.writer.as_ref().map(|w| w.path().to_path_buf()),
            started_at: self.follow.started_at,
        })
    }

    fn interval(&self) -> Duration {
        self.follow.interval
    }

    fn plan_kill(&mut self, listener: &Listener) -> Result<KillReport> {
        let mut args = kill_args(listener);
        args.dry_run = true;
        super::kill::free_ports(&args, &NoAsk).map(|(r, _)| r)
    }

    fn kill(&mut self, listener: &Listener) -> Result<KillReport> {
        super::kill::free_ports(&kill_args(listener), &NoAsk).map(|(r, _)| r)
    }
}

/// `kill`'s options for freeing one listener's port (its address when specific).
fn kill_args(l: &Listener) -> super::kill::Options {
    let proto = Some(l.proto);
    let target = if l.address.is_unspecified() {
        crate::target::Target::Port {
            port: l.port,
            proto,
        }
    } else {
        crate::target::Target::Addr {
            host: crate::target::Host::Ip(l.address),
            port: l.port,
            proto,
            scheme: None,
            path: None,
        }
    };
    super::kill::Options {
        yes: true,
        ..super::kill::Options::new(vec![target])
    }
}

/// A `Ui` that never asks and shows nothing: for callers that already asked (the terminal
/// view, the web dashboard) before they run `kill`.
pub(crate) struct NoAsk;

impl Ui for NoAsk {
    fn progress(&self, _: usize, _: usize) {}
    fn can_ask(&self) -> bool {
        false
    }
    fn confirm_kill(&self, _: &super::kill::KillPlan) -> bool {
        false
    }
    fn run_notice(&self, _: &super::run::RunNotice) {}
    fn can_view(&self) -> bool {
        false
    }
    fn watch_started(&self, _: &Started) {}
    fn watch_event(&self, _: &Event) {}
    fn live_view(&self, _: &mut dyn LiveFeed) -> Result<()> {
        Ok(())
    }
    fn traffic(&self, _: &crate::traffic::Line) {}
    fn notice(&self, _line: &str) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Proto;

    #[test]
    fn kill_targets_name_the_address_when_specific() {
        let mut l = Listener {
            proto: Proto::Tcp,
            address: "127.0.0.1"
                .parse()
                .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0])),
            port: 8000,
            inode: 1,
            uid: 0,
            owner: None,
            owner_hidden: false,
        };
        assert_eq!(kill_args(&l).targets[0].to_string(), "127.0.0.1:8000/tcp");
        l.address = std::net::IpAddr::from([0, 0, 0, 0]);
        assert_eq!(kill_args(&l).targets[0].to_string(), "8000/tcp");
        l.address = "::1".parse().unwrap_or(l.address);
        l.proto = Proto::Udp;
        assert_eq!(kill_args(&l).targets[0].to_string(), "[::1]:8000/udp");
    }
}
