//! `portscope history [TARGET]`: who listened on a port, from when to when, and how it ended;
//! with no target, the recent events.
//!
//! The answer is only as good as the store's coverage, so the report always carries it: the
//! time range some recorder was running, the gaps between runs inside the asked window, and
//! whether a recorder runs now. "Nothing recorded" is never said as "nothing listened".

use std::path::PathBuf;

use jiff::tz::TimeZone;
use serde::Serialize;

use super::{Report, Ui};
use crate::error::Result;
use crate::exit::Exit;
use crate::store::history::{self, Query, Reader, Recorder, Session, Stay, Stored, When};
use crate::target::Target;

/// Without a target, events of this long ago and since.
pub const DEFAULT_WINDOW_S: f64 = 3600.0;
/// Gaps between recorder runs shorter than this are not reported: a restart takes a moment,
/// and what changed meanwhile is caught by the next run's first look (only a listener that
/// opened and closed inside it is missed, as between two looks).
const MIN_GAP_S: f64 = 1.0;
/// The most rows `--limit` may ask for.
pub const MAX_LIMIT: usize = 1_000_000;

/// What `history` is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The port, address or range (a `pid:N` or a process name too); `None`: the recent
    /// events.
    pub target: Option<Target>,
    /// From this moment (Unix seconds); `None`: everything for a target, the last hour
    /// without one.
    pub since: Option<f64>,
    /// Up to this moment (Unix seconds); `None`: now.
    pub until: Option<f64>,
    /// Only listeners of processes with this name.
    pub process: Option<String>,
    /// At most this many rows, newest kept (1 to [`MAX_LIMIT`]).
    pub limit: usize,
    /// The state directory to look in first (`None`: the user's default).
    pub state_dir: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            target: None,
            since: None,
            until: None,
            process: None,
            limit: 200,
            state_dir: None,
        }
    }
}

/// The answer to `history`.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryReport {
    /// The store read (`None`: no history recorded yet).
    pub store: Option<PathBuf>,
    /// Where the store was looked for, in order.
    pub looked_in: Vec<PathBuf>,
    /// `stays` (a target's timeline) or `events` (no target: the recent events).
    pub mode: &'static str,
    /// What was asked, as understood.
    pub query: QueryShown,
    /// The time the store covers (`None` when there is no store or it is empty).
    pub coverage: Option<Coverage>,
    /// A target's listeners, oldest first (empty in `events` mode).
    pub stays: Vec<StayRow>,
    /// Without a target: the recent events, oldest first (empty in `stays` mode).
    pub events: Vec<Stored>,
    /// How many rows matched in all.
    pub matched: usize,
    /// Rows left out by `--limit` (the oldest).
    pub left_out: usize,
    /// When the question was asked.
    pub now: When,
    /// The time zone human output uses.
    #[serde(skip)]
    pub tz: TimeZone,
}

/// What `history` was asked.
#[derive(Debug, Clone, Serialize)]
pub struct QueryShown {
    /// The target, parsed (`None`: no target).
    pub target: Option<Target>,
    /// From (`None`: from the beginning of the store).
    pub since: Option<When>,
    /// Up to (`None`: up to now).
    pub until: Option<When>,
    /// Only processes of this name.
    pub process: Option<String>,
    /// At most this many rows.
    pub limit: usize,
}

/// What the store covers.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    /// The first moment recorded (a recorder's first start, or the time before which
    /// retention forgot events).
    pub from: When,
    /// The last moment a recorder was known alive.
    pub to: When,
    /// Whether a recorder holds the store now (its pid, when known).
    pub recorder: Recorder,
    /// Times inside the asked window when no recorder was running (between two runs, or
    /// after the last one when none runs now), at least a second long, oldest first.
    pub gaps: Vec<Gap>,
}

/// A time when nothing was recording.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Gap {
    /// From (the previous recorder's last moment known alive).
    pub from: When,
    /// To (the next recorder's start; now, when none runs).
    pub to: When,
}

/// One listener's stay on the port, with how long it lasted.
#[derive(Debug, Clone, Serialize)]
pub struct StayRow {
    /// The stay (the listener and owner flattened; see `docs/json.md`).
    #[serde(flatten)]
    pub stay: Stay,
    /// Seconds from its open to its close (to now while a recorder runs, to the last look
    /// otherwise).
    pub duration_s: f64,
}

/// Run `history`.
pub fn run(opts: &Options, _ui: &dyn Ui) -> Result<(Report, Exit)> {
    query(opts).map(|(r, code)| (Report::History(Box::new(r)), code))
}

/// Answer `history` with its own report type.
fn query(opts: &Options) -> Result<(HistoryReport, Exit)> {
    let now = crate::time::now();
    let tz = TimeZone::system();
    let limit = opts.limit;
    let target = opts.target.clone();
    let mut q = Query {
        process: opts.process.clone(),
        limit,
        ..Query::default()
    };
    match &target {
        None => {}
        Some(Target::Pid(pid)) => q.pid = Some(*pid),
        Some(Target::Process(name)) => q.process = Some(name.clone()),
        Some(t) => {
            q.ports = t.port_range();
            q.proto = t.proto();
            q.addresses = crate::snapshot::target_addrs(t);
        }
    }
    let default_since = target.is_none().then_some(now - DEFAULT_WINDOW_S);
    q.since = opts.since.or(default_since);
    q.until = opts.until;
    let mut report = HistoryReport {
        store: None,
        looked_in: history::search_path(opts.state_dir.as_deref()),
        mode: if target.is_some() { "stays" } else { "events" },
        query: QueryShown {
            target,
            since: q.since.map(When::at),
            until: q.until.map(When::at),
            process: q.process.clone(),
            limit,
        },
        coverage: None,
        stays: Vec::new(),
        events: Vec::new(),
        matched: 0,
        left_out: 0,
        now: When::at(now),
        tz,
    };
    let Some(reader) = crate::store::history::find(opts.state_dir.as_deref())
        .map(|p| Reader::open(&p))
        .transpose()?
        .flatten()
    else {
        return Ok((report, Exit::Nothing));
    };
    report.store = Some(reader.path().to_path_buf());
    let recorder = reader.recorder();
    let running = matches!(recorder, Recorder::Running { .. });
    report.coverage = reader.coverage()?.map(|(from, to)| Coverage {
        from: When::at(from),
        to: When::at(to),
        recorder,
        gaps: Vec::new(),
    });
    if let Some(c) = report.coverage.as_mut() {
        let window = (q.since.unwrap_or(f64::MIN), q.until.unwrap_or(now));
        c.gaps = gaps(&reader.sessions()?, running, now, window);
    }
    let last_look = report.coverage.as_ref().map_or(now, |c| c.to.unix);
    let open_until = if running { now } else { last_look };
    if report.mode == "stays" {
        report.matched = reader.count_stays(&q)?;
        report.stays = reader
            .stays(&q)?
            .iter()
            .map(|s| stay_row(s, open_until))
            .collect();
        report.left_out = report.matched.saturating_sub(report.stays.len());
    } else {
        report.matched = reader.count_events(&q)?;
        report.events = reader.events(&q)?;
        report.left_out = report.matched.saturating_sub(report.events.len());
    }
    let code = if report.matched > 0 {
        Exit::Success
    } else {
        Exit::Nothing
    };
    Ok((report, code))
}

fn stay_row(s: &Stay, open_until: f64) -> StayRow {
    let end = s.closed_at.unwrap_or(open_until.max(s.opened_at));
    StayRow {
        stay: s.clone(),
        duration_s: ((end - s.opened_at) * 1000.0).round() / 1000.0,
    }
}

/// The times inside `window` when no recorder ran: between one run's last moment alive and
/// the next one's start, and after the last run when none runs now.
pub fn gaps(sessions: &[Session], running: bool, now: f64, window: (f64, f64)) -> Vec<Gap> {
    let mut out = Vec::new();
    let mut end: Option<f64> = None;
    for s in sessions {
        if let Some(e) = end
            && s.started_at > e
        {
            out.push((e, s.started_at));
        }
        let this_end = s.stopped_at.unwrap_or(s.last_alive).max(s.last_alive);
        end = Some(end.map_or(this_end, |e: f64| e.max(this_end)));
    }
    if let Some(e) = end
        && !running
        && now > e
    {
        out.push((e, now));
    }
    out.into_iter()
        .filter_map(|(a, b)| {
            let (a, b) = (a.max(window.0), b.min(window.1));
            (b - a >= MIN_GAP_S).then(|| Gap {
                from: When::at(a),
                to: When::at(b),
            })
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn session(start: f64, alive: f64, stopped: Option<f64>) -> Session {
        Session {
            pid: 1,
            started_at: start,
            last_alive: alive,
            stopped_at: stopped,
        }
    }

    #[test]
    fn gaps_between_runs_and_after_the_last() {
        let s = [
            session(100.0, 150.0, Some(150.0)),
            session(200.0, 260.0, None),
            session(300.0, 400.0, None),
        ];
        let g: Vec<(f64, f64)> = gaps(&s, true, 500.0, (f64::MIN, 500.0))
            .iter()
            .map(|g| (g.from.unix, g.to.unix))
            .collect();
        assert_eq!(g, vec![(150.0, 200.0), (260.0, 300.0)]);
        let g: Vec<(f64, f64)> = gaps(&s, false, 500.0, (170.0, 450.0))
            .iter()
            .map(|g| (g.from.unix, g.to.unix))
            .collect();
        assert_eq!(g, vec![(170.0, 200.0), (260.0, 300.0), (400.0, 450.0)]);
    }
}
