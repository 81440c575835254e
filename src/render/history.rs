//! `history` as text: a target's timeline (one row per listener's stay, its command line and
//! how it ended below), or the recent events; always with what the store covers, so that
//! "nothing recorded" is never read as "nothing listened".

use jiff::tz::TimeZone;

use super::style::Palette;
use super::table::Table;
use crate::commands::history::{Coverage, HistoryReport, StayRow};
use crate::store::history::{Recorder, Stored};
use crate::text;
use crate::watch::{Ending, EventKind, Listener};

/// Command lines longer than this are cut (the JSON has them whole).
const CMDLINE_MAX: usize = 100;
/// Gaps named one by one in the footer; more are counted.
const GAPS_SHOWN: usize = 3;

/// Render `history`.
pub fn render(r: &HistoryReport, pal: &Palette) -> String {
    let Some(store) = &r.store else {
        return no_store(r);
    };
    let mut out = String::new();
    let clock = Clock::new(r.now.unix, &r.tz);
    let rows = if r.mode == "stays" {
        r.stays.len()
    } else {
        r.events.len()
    };
    if rows == 0 {
        out.push_str(&nothing(r, &clock));
    } else {
        out.push_str(&title(r, &clock));
        out.push_str("\n\n");
        if r.mode == "stays" {
            out.push_str(&stays(r, &clock, pal));
        } else {
            out.push_str(&events(&r.events, &clock, pal));
        }
        out.push('\n');
        if r.left_out > 0 {
            out.push_str(&format!(
                "{} older {} left out (--limit {}).\n",
                r.left_out,
                if r.mode == "stays" { "stays" } else { "events" },
                r.query.limit
            ));
        }
    }
    out.push_str(&covered(store, r.coverage.as_ref(), &clock, pal));
    out.push_str(&pal.dim(
        "Listeners are seen at each look of the recorder (its --interval): one that opened and closed between two looks is not in the store.",
    ));
    out.push('\n');
    out
}

/// Local time of day, with the date when it is not today (in the report's zone).
struct Clock<'a> {
    tz: &'a TimeZone,
    now: f64,
}

impl<'a> Clock<'a> {
    fn new(now: f64, tz: &'a TimeZone) -> Clock<'a> {
        Clock { tz, now }
    }

    fn at(&self, secs: f64) -> String {
        crate::time::local_in(secs, self.now, self.tz)
    }
}

/// `0.4s`, `42s`, `5m 3s`, `2h 5m`, `3d 4h`.
pub(crate) fn span(secs: f64) -> String {
    let s = secs.max(0.0);
    if s < 10.0 {
        return format!("{s:.1}s");
    }
    let whole = s.round() as u64;
    match whole {
        0..60 => format!("{whole}s"),
        60..3600 => format!("{}m {}s", whole / 60, whole % 60),
        3600..86_400 => format!("{}h {}m", whole / 3600, whole % 3600 / 60),
        _ => format!("{}d {}h", whole / 86_400, whole % 86_400 / 3600),
    }
}

fn subject(r: &HistoryReport) -> String {
    match &r.query.target {
        Some(crate::target::Target::Pid(pid)) => format!("pid {pid}"),
        Some(crate::target::Target::Process(name)) => {
            format!("process {}", text::terminal(name))
        }
        Some(crate::target::Target::Range { .. }) => format!("ports {}", target_text(r)),
        Some(crate::target::Target::Port { .. }) => format!("port {}", target_text(r)),
        Some(_) => target_text(r),
        None => String::new(),
    }
}

fn target_text(r: &HistoryReport) -> String {
    r.query
        .target
        .as_ref()
        .map(|t| text::terminal(&t.to_string()).into_owned())
        .unwrap_or_default()
}

/// The window asked, in words: ` since 12:40:00`, ` until …`, ` from … to …`.
fn window(r: &HistoryReport, clock: &Clock<'_>) -> String {
    let mut w = String::new();
    if let Some(p) = &r.query.process
        && !matches!(r.query.target, Some(crate::target::Target::Process(_)))
    {
        w.push_str(&format!(" by process {}", text::terminal(p)));
    }
    match (r.query.since, r.query.until) {
        (Some(s), Some(u)) => w.push_str(&format!(
            " between {} and {}",
            clock.at(s.unix),
            clock.at(u.unix)
        )),
        (Some(s), None) => w.push_str(&format!(" since {}", clock.at(s.unix))),
        (None, Some(u)) => w.push_str(&format!(" until {}", clock.at(u.unix))),
        (None, None) => {}
    }
    w
}

fn title(r: &HistoryReport, clock: &Clock<'_>) -> String {
    if r.mode == "stays" {
        let n = r.matched;
        format!(
            "{}: {n} listener{} recorded{}, oldest first",
            subject(r),
            if n == 1 { "" } else { "s" },
            window(r, clock)
        )
    } else {
        format!(
            "{} event{}{}, newest last",
            r.matched,
            if r.matched == 1 { "" } else { "s" },
            window(r, clock)
        )
    }
}

fn nothing(r: &HistoryReport, clock: &Clock<'_>) -> String {
    let what = if r.mode == "stays" {
        format!("No listener recorded on {}{}", subject(r), window(r, clock))
    } else {
        format!("No event recorded{}", window(r, clock))
    };
    // A window that ends before the store begins says nothing about that time.
    match (&r.coverage, r.query.until) {
        (Some(c), Some(u)) if u.unix < c.from.unix => format!(
            "{what}: the store begins at {}, so nothing is known about that time.\n",
            clock.at(c.from.unix)
        ),
        _ => format!("{what}.\n"),
    }
}

fn no_store(r: &HistoryReport) -> String {
    let places: Vec<String> = r
        .looked_in
        .iter()
        .map(|p| text::terminal(&p.display().to_string()).into_owned())
        .collect();
    format!(
        "No history recorded: no store at {}.\n\
         Start recording with `portscope daemon` (or `portscope watch --record`); for the whole \
         system, install the unit contrib/portscope-daemon.service (it records into {}).\n",
        places.join(" or "),
        crate::store::history::SYSTEM_DIR
    )
}

fn covered(
    store: &std::path::Path,
    c: Option<&Coverage>,
    clock: &Clock<'_>,
    pal: &Palette,
) -> String {
    let store = text::terminal(&store.display().to_string()).into_owned();
    let Some(c) = c else {
        return format!("The store {store} holds no recording yet.\n");
    };
    let (to, who) = match c.recorder {
        Recorder::Running { pid: Some(pid) } => {
            ("now".to_string(), format!("recorder running, pid {pid}"))
        }
        Recorder::Running { pid: None } => ("now".to_string(), "recorder running".to_string()),
        Recorder::NotRunning => (clock.at(c.to.unix), "no recorder running now".to_string()),
        Recorder::Unknown => (clock.at(c.to.unix), "recorder state unknown".to_string()),
    };
    let mut line = format!(
        "The store {store} covers {} – {to} ({who})",
        clock.at(c.from.unix)
    );
    let between: Vec<&crate::commands::history::Gap> = c
        .gaps
        .iter()
        .filter(|g| g.to.unix < clock.now - 0.001 || !matches!(c.recorder, Recorder::NotRunning))
        .collect();
    if !between.is_empty() {
        let named: Vec<String> = between
            .iter()
            .take(GAPS_SHOWN)
            .map(|g| format!("{} – {}", clock.at(g.from.unix), clock.at(g.to.unix)))
            .collect();
        let more = between.len().saturating_sub(GAPS_SHOWN);
        line.push_str(&format!(
            "; nothing recorded {}{}",
            named.join(", "),
            if more > 0 {
                format!(" and {more} more time(s)")
            } else {
                String::new()
            }
        ));
    }
    line.push_str(".\n");
    if between.is_empty() {
        line
    } else {
        pal.warn(line.trim_end()) + "\n"
    }
}

fn cmdline(args: &[String]) -> String {
    let full = text::command_line(args);
    if full.chars().count() <= CMDLINE_MAX {
        return full;
    }
    let cut: String = full.chars().take(CMDLINE_MAX - 1).collect();
    cut + "…"
}

fn address(l: &Listener) -> String {
    std::net::SocketAddr::new(l.address, l.port).to_string()
}

fn pid_cell(l: &Listener) -> String {
    match &l.owner {
        Some(o) if o.others.is_empty() => o.pid.to_string(),
        Some(o) => format!("{},+{}", o.pid, o.others.len()),
        None if l.owner_hidden => "?".into(),
        None => "-".into(),
    }
}

fn process_cell(l: &Listener) -> String {
    match &l.owner {
        Some(o) => text::terminal(&o.process).into_owned(),
        None if l.owner_hidden => "(hidden)".into(),
        None => "-".into(),
    }
}

fn user_cell(l: &Listener) -> String {
    match l.owner.as_ref().and_then(|o| o.user.as_deref()) {
        Some(u) => text::terminal(u).into_owned(),
        None => l.owner.as_ref().map_or(l.uid, |o| o.uid).to_string(),
    }
}

/// The owner's details under a row: command line, directory, container, unit.
fn owner_detail(l: &Listener) -> String {
    let mut parts = Vec::new();
    if let Some(o) = &l.owner {
        if !o.cmdline.is_empty() {
            parts.push(cmdline(&o.cmdline));
        }
        if let Some(cwd) = &o.cwd {
            parts.push(format!("cwd {}", text::terminal(cwd)));
        }
        if let Some(id) = &o.container {
            parts.push(format!(
                "container {}",
                text::terminal(id.get(..12).unwrap_or(id))
            ));
        }
        if let Some(unit) = &o.unit {
            parts.push(format!("unit {}", text::terminal(unit)));
        }
        if !o.others.is_empty() {
            let pids: Vec<String> = o.others.iter().map(u32::to_string).collect();
            parts.push(format!("shared with {}", pids.join(",")));
        }
    }
    if l.owner_hidden {
        parts.push("owner hidden: its process could not be inspected".into());
    }
    parts.join("  ")
}

fn ending_text(e: Option<Ending>) -> &'static str {
    match e {
        Some(Ending::ProcessExited) => "process exited",
        Some(Ending::SocketClosed) => "socket closed",
        Some(Ending::WhileNotRecording) => "closed unseen",
        Some(Ending::Unknown) => "ended (owner unknown)",
        None => "still open",
    }
}

fn stays(r: &HistoryReport, clock: &Clock<'_>, pal: &Palette) -> String {
    let running = r
        .coverage
        .as_ref()
        .is_some_and(|c| matches!(c.recorder, Recorder::Running { .. }));
    let mut t = Table::new(&[
        "FROM", "TO", "FOR", "PROTO", "ADDRESS", "PID", "PROCESS", "USER", "ENDED",
    ]);
    let mut details: Vec<Vec<String>> = Vec::new();
    for row in &r.stays {
        let s = &row.stay;
        let o = &s.listener;
        let from = if s.found_open {
            format!("≤{}", clock.at(s.opened_at))
        } else {
            clock.at(s.opened_at)
        };
        let (to, ended) = match (s.closed_at, running) {
            (Some(c), _) => (clock.at(c), ending_text(s.ending).to_string()),
            (None, true) => ("now".into(), "still open".into()),
            (None, false) => ("?".into(), "open at the last look".into()),
        };
        t.push(vec![
            from,
            to,
            format!("{}{}", bound(row, running), span(row.duration_s)),
            o.proto.as_str().into(),
            address(o),
            pid_cell(o),
            process_cell(o),
            user_cell(o),
            ended,
        ]);
        details.push(stay_notes(s, clock));
    }
    interleave(&t, &details, pal)
}

/// How sure the stay's length is: `≥` when it opened before it was first seen (found open
/// by a recorder) or is open past the last look, `≤` when it closed unseen before it was
/// seen gone, `~` when both.
fn bound(row: &StayRow, running: bool) -> &'static str {
    let s = &row.stay;
    let longer = s.found_open || (s.closed_at.is_none() && !running);
    let shorter = s.ending == Some(Ending::WhileNotRecording);
    match (longer, shorter) {
        (true, true) => "~",
        (true, false) => "≥",
        (false, true) => "≤",
        (false, false) => "",
    }
}

/// The lines under a stay: the owner in full, and what the store could not see.
fn stay_notes(s: &crate::store::history::Stay, clock: &Clock<'_>) -> Vec<String> {
    let mut notes = Vec::new();
    let owner = owner_detail(&s.listener);
    if !owner.is_empty() {
        notes.push(owner);
    }
    if s.found_open {
        notes.push(match s.opened_after {
            Some(a) => format!(
                "opened while nothing was recording, between {} and {}",
                clock.at(a),
                clock.at(s.opened_at)
            ),
            None => "already open when recording began".into(),
        });
    }
    if s.ending == Some(Ending::WhileNotRecording)
        && let Some(c) = s.closed_at
    {
        notes.push(match s.closed_after {
            Some(a) => format!(
                "closed while nothing was recording, between {} and {}",
                clock.at(a),
                clock.at(c)
            ),
            None => format!("closed while nothing was recording, before {}", clock.at(c)),
        });
    }
    notes
}

/// The table's lines with each row's detail lines under it (indented, dimmed).
fn interleave(t: &Table, details: &[Vec<String>], pal: &Palette) -> String {
    let text = t.render(|h| pal.header(h));
    let mut out = String::with_capacity(text.len() * 2);
    for (i, line) in text.lines().enumerate() {
        out.push_str(line);
        out.push('\n');
        if i == 0 {
            continue;
        }
        for d in details.get(i - 1).into_iter().flatten() {
            out.push_str("    ");
            out.push_str(&pal.dim(d));
            out.push('\n');
        }
    }
    out
}

fn events(rows: &[Stored], clock: &Clock<'_>, pal: &Palette) -> String {
    let mut t = Table::new(&[
        "TIME", "EVENT", "PROTO", "ADDRESS", "PID", "PROCESS", "USER", "DETAIL",
    ]);
    for row in rows {
        let e = &row.event;
        let o = &e.listener;
        let detail = match e.kind {
            EventKind::Opened => {
                let mut d = o
                    .owner
                    .as_ref()
                    .map(|o| cmdline(&o.cmdline))
                    .unwrap_or_default();
                if row.found_open {
                    d.push_str(if d.is_empty() { "" } else { "  " });
                    d.push_str("(already open when the recorder started)");
                }
                d
            }
            EventKind::Closed => {
                let mut d = match (e.ending, row.closed_after) {
                    (Some(Ending::WhileNotRecording), Some(after)) => format!(
                        "closed while nothing was recording, after {}",
                        clock.at(after)
                    ),
                    (Some(Ending::WhileNotRecording), None) => {
                        "closed while nothing was recording".into()
                    }
                    (ended, _) => ending_text(ended).to_string(),
                };
                if let Some(opened) = e.opened_at {
                    d.push_str(&format!("; open since {}", clock.at(opened)));
                }
                d
            }
        };
        t.push(vec![
            clock.at(e.time),
            match e.kind {
                EventKind::Opened => "opened".into(),
                EventKind::Closed => "closed".into(),
            },
            o.proto.as_str().into(),
            address(o),
            pid_cell(o),
            process_cell(o),
            user_cell(o),
            detail,
        ]);
    }
    t.render(|h| pal.header(h))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_well() {
        assert_eq!(span(0.42), "0.4s");
        assert_eq!(span(42.0), "42s");
        assert_eq!(span(303.0), "5m 3s");
        assert_eq!(span(7_500.0), "2h 5m");
        assert_eq!(span(273_600.0), "3d 4h");
    }

    #[test]
    fn clock_shows_the_date_only_when_not_today() {
        let tz = TimeZone::UTC;
        let now = 1_795_305_612.0; // 2026-11-22T00:00:12Z
        let c = Clock::new(now, &tz);
        assert_eq!(c.at(now), "00:00:12");
        assert_eq!(c.at(now - 60.0), "2026-11-21 23:59:12");
    }
}
