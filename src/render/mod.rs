//! The only place that turns reports into text. Commands hand over plain data; this module
//! picks JSON or a human layout, sanitises names from other processes, and colours only
//! when `Config` says so.

pub mod events;
pub mod fit;
pub mod interact;
pub mod json;
pub mod nagios;
pub mod progress;
pub mod prometheus;
pub mod style;
pub mod table;
pub mod traffic;
pub mod tui;
pub mod ui;

mod audit;
mod bench;
mod doctor;
mod explain;
mod forward;
mod history;
mod kill;
mod kill_owners;
mod lifecycle;
mod ls;
mod probe;
mod project;
mod run;
mod serve;
mod tap;
mod wait;
mod who;

use std::io::{self, Write};

use crate::commands::Report;
use crate::config::Config;
use crate::error::Error;
use crate::model::{Hidden, Socket};
use style::Palette;

/// Write what [`report`] says to `out`: a big `ls` listing a run of lines at a time, JSON as
/// it is serialised, rather than the whole text held at once (at 100k sockets that is the
/// difference between ~60 MB and ~80 MB at the peak).
pub fn write_report(report: &Report, cfg: &Config, out: &mut dyn Write) -> io::Result<()> {
    match report {
        // Standard output was the protocol's: nothing follows the session, JSON or not.
        Report::Mcp(_) => Ok(()),
        // `Report` serialises as the report it holds (untagged): one envelope for every verb.
        _ if cfg.json => {
            let mut out = io::BufWriter::with_capacity(64 * 1024, out);
            match json::to_writer(&mut out, report.command(), report, cfg.pretty) {
                Ok(()) => out.write_all(b"\n")?,
                // An I/O error comes back as one; serialising plain structs cannot fail
                // otherwise, but if it ever does, say so in JSON.
                Err(e) if e.is_io() => return Err(e.into()),
                Err(e) => out.write_all(format!("{{\"error\": \"{e}\"}}\n").as_bytes())?,
            }
            out.flush()
        }
        Report::Ls(r) => ls::write(r, &Palette::new(cfg.color), cfg.width, out),
        _ => out.write_all(self::report(report, cfg).as_bytes()),
    }
}

/// Text written by `write` (to memory, which cannot fail; every renderer writes text).
fn to_text(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> String {
    let mut out = Vec::new();
    let _ = write(&mut out);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The full text to print on standard output for a report.
pub fn report(report: &Report, cfg: &Config) -> String {
    if cfg.json || matches!(report, Report::Mcp(_)) {
        return to_text(|out| write_report(report, cfg, out));
    }
    let pal = Palette::new(cfg.color);
    match report {
        Report::Ls(r) => ls::render(r, &pal, cfg.width),
        Report::Who(r) => who::render(r, &pal, cfg.width),
        Report::Explain(r) => explain::render(r, &pal),
        Report::Probe(r) => probe::render(r, &pal),
        Report::Doctor(r) => doctor::render(r, &pal),
        Report::Kill(r) => kill::render(r, &pal),
        Report::Pick(r) => lifecycle::pick(r),
        Report::Reserve(r) => lifecycle::reserve(r, &pal, cfg.pretty),
        Report::Run(r) => run::render(r, &pal),
        Report::CheckConfig(r) => project::check(r, &pal, cfg.width),
        Report::Env(r) => project::env(r),
        Report::Audit(r) => audit::render(r, &pal, cfg.width),
        Report::Check(r) => nagios::render(r),
        Report::Exporter(r) => prometheus::render_report(r),
        Report::Watch(r) => events::summary(r),
        Report::History(r) => history::render(r, &pal),
        Report::Ui(r) => ui::render_report(r),
        Report::Serve(r) => serve::render(r, &pal),
        Report::Forward(r) => forward::render(r, &pal),
        Report::Tap(r) => tap::render(r, &pal),
        Report::Bench(r) => bench::render(r, &pal),
        Report::Wait(r) => wait::render(r, &pal),
        Report::Generated(r) if r.files.is_empty() => r.text.clone(),
        Report::Generated(r) => r.files.iter().map(|f| format!("{f}\n")).collect(),
        Report::Mcp(_) => String::new(),
    }
}

/// One line for standard error.
pub fn error(err: &Error) -> String {
    let text = err.to_string().replace(['\n', '\r'], " ");
    format!("portscope: error: {}\n", crate::text::terminal(&text))
}

/// The PID column: `1234`, `1234,1240`, `1234,1240,+3`; `?` when hidden; `-` when none.
fn pid_cell(s: &Socket) -> String {
    if s.owner_hidden {
        return "?".into();
    }
    if s.pids.is_empty() {
        return "-".into();
    }
    let mut shown: Vec<String> = s.pids.iter().take(2).map(u32::to_string).collect();
    if s.pids.len() > 2 {
        shown.push(format!("+{}", s.pids.len() - 2));
    }
    shown.join(",")
}

/// The footer about hidden owners and sockets no process holds, if any: one line each, on a
/// terminal (`width`) wrapped to it, each line coloured on its own.
fn hidden_line(h: &Hidden, pal: &Palette, width: Option<usize>) -> Option<String> {
    let paint = |text: &str, colour: &dyn Fn(&str) -> String| wrapped(text, width, colour);
    let hidden = (h.sockets > 0).then(|| {
        let text = format!(
            "{} socket(s) with a hidden owner: {}; {}.",
            h.sockets, h.reason, h.hint
        );
        paint(&text, &|l| pal.warn(l))
    });
    let ownerless =
        (h.ownerless > 0).then(|| paint(&ownerless_sentence(h.ownerless), &|l| pal.dim(l)));
    match (hidden, ownerless) {
        (Some(a), Some(b)) => Some(format!("{a}\n{b}")),
        (a, b) => a.or(b),
    }
}

/// `text` in `colour`, wrapped to a terminal's `width` (continuation lines indented by 2),
/// each line coloured on its own.
fn wrapped(text: &str, width: Option<usize>, colour: &dyn Fn(&str) -> String) -> String {
    match width {
        None => colour(text),
        Some(w) => fit::wrap(text, w, 2)
            .lines()
            .map(colour)
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// A note under a report (`note: …`), dimmed, wrapped to a terminal's `width`.
pub(crate) fn note_line(note: &str, pal: &Palette, width: Option<usize>) -> String {
    let text = format!("note: {}", crate::text::terminal(note));
    wrapped(&text, width, &|l| pal.dim(l))
}

/// What a socket no process holds is, and that no permission would show more.
pub(crate) fn ownerless_sentence(n: usize) -> String {
    format!(
        "{n} socket(s) held by no process right now: {NO_PROCESS_WHY}; no permission would show more."
    )
}

/// Why a socket with a file can have no process holding it.
pub(crate) const NO_PROCESS_WHY: &str =
    "its process is exiting, or its descriptor is in flight over a unix socket (SCM_RIGHTS)";

/// The PROCESS cell of a socket no process holds.
const NO_PROCESS: &str = "(no process)";

/// A byte count for people: `78 B`, `1.5 KiB`, `3.2 MiB`, `1.0 GiB` (binary units).
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    #[allow(clippy::cast_precision_loss)]
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS.get(unit).unwrap_or(&"TiB"))
}
