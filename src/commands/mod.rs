//! One verb per file. A command asks `sys`/`snapshot` for data and returns a report value;
//! it never prints (that is `render`'s job).

pub mod audit;
pub mod bench;
pub mod check;
pub mod doctor;
pub mod explain;
pub mod exporter;
pub mod forward;
pub mod generate;
pub mod history;
pub mod kill;
pub mod ls;
pub mod pick;
pub mod probe;
pub mod project;
pub mod reserve;
pub mod run;
pub mod serve;
pub mod tap;
pub mod ui;
pub mod watch;
pub mod who;

use serde::Serialize;

use crate::cli::{Command, LsArgs};
use crate::error::Result;
use crate::exit::Exit;

/// What a command produced, ready for any renderer.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Report {
    /// `ls`
    Ls(Box<ls::LsReport>),
    /// `who`
    Who(Box<who::WhoReport>),
    /// `explain`
    Explain(Box<explain::ExplainReport>),
    /// `probe`
    Probe(Box<probe::ProbeReport>),
    /// `doctor`
    Doctor(Box<crate::doctor::DoctorReport>),
    /// `kill`
    Kill(Box<kill::KillReport>),
    /// `pick`
    Pick(Box<pick::PickReport>),
    /// `reserve`, `reserve --list`, `reserve --prune`, `release`
    Reserve(Box<reserve::ReserveReport>),
    /// `run` (after the child exited)
    Run(Box<run::RunReport>),
    /// `check-config`
    CheckConfig(Box<project::CheckReport>),
    /// `env`
    Env(Box<project::EnvReport>),
    /// `audit`
    Audit(Box<audit::AuditCommandReport>),
    /// `check …`
    Check(Box<check::CheckReport>),
    /// `exporter` (when it stops, or after `--textfile`)
    Exporter(Box<exporter::ExporterReport>),
    /// `watch` and `daemon` (when they stop)
    Watch(Box<watch::WatchReport>),
    /// `history`
    History(Box<history::HistoryReport>),
    /// `ui` (when it stops)
    Ui(Box<ui::UiReport>),
    /// `serve` (when it stops)
    Serve(Box<serve::ServeReport>),
    /// `forward` (when it stops)
    Forward(Box<forward::ForwardReport>),
    /// `tap` (when it stops)
    Tap(Box<tap::TapReport>),
    /// `bench`
    Bench(Box<bench::BenchReport>),
    /// `man`, `completions`
    Generated(Box<generate::GeneratedReport>),
}

/// What a command may need from the person running it while it works. `render` implements
/// it for a terminal; commands only call it, so they never print.
pub trait Ui: Sync {
    /// `done` of `total` items are finished (long-running work such as probing many ports).
    fn progress(&self, done: usize, total: usize);
    /// Whether there is a person to ask (standard input and error are a terminal).
    fn can_ask(&self) -> bool;
    /// Show what `kill` is about to do and ask; `false` means do not.
    fn confirm_kill(&self, plan: &kill::KillPlan) -> bool;
    /// Something happened while `run` supervises its child (it listens, it ignores $PORT…).
    fn run_notice(&self, notice: &run::RunNotice);
    /// Whether the live terminal view can run (standard input and output are a terminal).
    fn can_view(&self) -> bool;
    /// `watch --events`/`daemon --events` has taken its first look: say so (one JSON line).
    fn watch_started(&self, started: &watch::Started);
    /// A listener opened or closed (one JSON line, printed at once).
    fn watch_event(&self, event: &crate::watch::Event);
    /// Run the live terminal view over `feed` until the person quits.
    fn live_view(&self, feed: &mut dyn watch::LiveFeed) -> Result<()>;
    /// A traffic tool (`serve`, `forward`, `tap`, `bench`) reports something as it runs.
    fn traffic(&self, line: &crate::traffic::Line);
}

impl Report {
    /// The verb's name, as in the JSON envelope's `command` field.
    pub fn command(&self) -> &'static str {
        match self {
            Report::Ls(_) => "ls",
            Report::Who(_) => "who",
            Report::Explain(_) => "explain",
            Report::Probe(_) => "probe",
            Report::Doctor(_) => "doctor",
            Report::Kill(_) => "kill",
            Report::Pick(_) => "pick",
            Report::Reserve(r) => r.command(),
            Report::Run(_) => "run",
            Report::CheckConfig(_) => "check-config",
            Report::Env(_) => "env",
            Report::Audit(_) => "audit",
            Report::Check(_) => "check",
            Report::Exporter(_) => "exporter",
            Report::Watch(r) if r.mode == "daemon" => "daemon",
            Report::Watch(_) => "watch",
            Report::History(_) => "history",
            Report::Ui(_) => "ui",
            Report::Serve(_) => "serve",
            Report::Forward(_) => "forward",
            Report::Tap(_) => "tap",
            Report::Bench(_) => "bench",
            Report::Generated(r) => r.command,
        }
    }
}

/// Run the command (`ls` when none was given) and say which exit code its answer means.
/// `ui` hears about long-running work and answers the questions some commands ask.
pub fn run(command: Option<&Command>, ui: &dyn Ui) -> Result<(Report, Exit)> {
    let progress = &|done, total| ui.progress(done, total);
    match command {
        None => ls::run(&LsArgs::default()).map(|r| (Report::Ls(Box::new(r)), Exit::Success)),
        Some(Command::Ls(args)) => ls::run(args).map(|r| (Report::Ls(Box::new(r)), Exit::Success)),
        Some(Command::Who(args)) => who::run(args).map(|r| {
            let code = match (r.held, r.hidden.processes) {
                (true, _) => Exit::Success,
                // Nothing seen, but some processes could not be inspected: unknown, not "free".
                (false, 0) => Exit::Nothing,
                (false, _) if r.target.port_range().is_none() => Exit::Failure,
                (false, _) => Exit::Nothing,
            };
            (Report::Who(Box::new(r)), code)
        }),
        Some(Command::Doctor(args)) => doctor::run(args).map(|r| {
            let code = if r.works {
                Exit::Success
            } else {
                Exit::Nothing
            };
            (Report::Doctor(Box::new(r)), code)
        }),
        Some(Command::Probe(args)) => {
            probe::run(args, progress).map(|r| (Report::Probe(Box::new(r)), Exit::Success))
        }
        Some(Command::Explain(args)) => {
            explain::run(args).map(|r| (Report::Explain(Box::new(r)), Exit::Success))
        }
        Some(Command::Kill(args)) => {
            kill::run(args, ui).map(|(r, code)| (Report::Kill(Box::new(r)), code))
        }
        Some(Command::Pick(args)) => {
            pick::run(args).map(|(r, code)| (Report::Pick(Box::new(r)), code))
        }
        Some(Command::Reserve(args)) => {
            reserve::run(args).map(|(r, code)| (Report::Reserve(Box::new(r)), code))
        }
        Some(Command::Release(args)) => {
            reserve::release(args).map(|(r, code)| (Report::Reserve(Box::new(r)), code))
        }
        Some(Command::Run(args)) => {
            run::run(args, ui).map(|(r, code)| (Report::Run(Box::new(r)), code))
        }
        Some(Command::CheckConfig(args)) => {
            project::check(args).map(|(r, code)| (Report::CheckConfig(Box::new(r)), code))
        }
        Some(Command::Env(args)) => {
            project::env(args).map(|(r, code)| (Report::Env(Box::new(r)), code))
        }
        Some(Command::Audit(args)) => {
            audit::run(args, ui).map(|(r, code)| (Report::Audit(Box::new(r)), code))
        }
        Some(Command::Check(args)) => {
            check::run(args, ui).map(|(r, code)| (Report::Check(Box::new(r)), code))
        }
        Some(Command::Exporter(args)) => {
            exporter::run(args).map(|(r, code)| (Report::Exporter(Box::new(r)), code))
        }
        Some(Command::Watch(args)) => {
            watch::run(args, ui).map(|(r, code)| (Report::Watch(Box::new(r)), code))
        }
        Some(Command::Daemon(args)) => {
            watch::daemon(args, ui).map(|(r, code)| (Report::Watch(Box::new(r)), code))
        }
        Some(Command::History(args)) => {
            history::run(args).map(|(r, code)| (Report::History(Box::new(r)), code))
        }
        Some(Command::Ui(args)) => ui::run(args).map(|(r, code)| (Report::Ui(Box::new(r)), code)),
        Some(Command::Serve(args)) => {
            serve::run(args, ui).map(|(r, code)| (Report::Serve(Box::new(r)), code))
        }
        Some(Command::Forward(args)) => {
            forward::run(args, ui).map(|(r, code)| (Report::Forward(Box::new(r)), code))
        }
        Some(Command::Tap(args)) => {
            tap::run(args, ui).map(|(r, code)| (Report::Tap(Box::new(r)), code))
        }
        Some(Command::Bench(args)) => {
            bench::run(args, ui).map(|(r, code)| (Report::Bench(Box::new(r)), code))
        }
        Some(Command::Man(args)) => {
            generate::man(args).map(|r| (Report::Generated(Box::new(r)), Exit::Success))
        }
        Some(Command::Completions(args)) => Ok((
            Report::Generated(Box::new(generate::completions(args))),
            Exit::Success,
        )),
    }
}

/// Parse a `--pid` value: a whole number from 1 to 4194304 (Linux's pid_max limit).
pub fn parse_pid(text: &str) -> Result<u32> {
    let t = text.trim().strip_prefix("pid:").unwrap_or(text.trim());
    match t.parse::<u32>() {
        Ok(p) if (1..=4_194_304).contains(&p) => Ok(p),
        _ => Err(crate::error::Error::bad_input(
            format!("'{}' is not a process id", crate::text::terminal(text)),
            "expected a whole number from 1 to 4194304, e.g. --pid 1234",
        )),
    }
}

/// Parse a duration flag: `5` (seconds), `5s`, `500ms`, `1.5s`, `2m`; from 0 to one day.
pub fn parse_duration(text: &str, flag: &str) -> Result<std::time::Duration> {
    parse_duration_upto(text, flag, 86_400.0).map_err(|_| {
        crate::error::Error::bad_input(
            format!(
                "{flag} {} is not a duration",
                crate::text::terminal(text)
            ),
            format!(
                "expected a number with an optional unit ms, s, m or h, up to a day, e.g. {flag} 5s or {flag} 500ms"
            ),
        )
    })
}

/// Parse a long span (`--keep`, `--since`): as [`parse_duration`], plus days (`d`) and weeks
/// (`w`), up to ten years.
pub fn parse_span(text: &str, flag: &str) -> Result<std::time::Duration> {
    parse_duration_upto(text, flag, 3650.0 * 86_400.0).map_err(|_| {
        crate::error::Error::bad_input(
            format!(
                "{flag} {} is not a duration",
                crate::text::terminal(text)
            ),
            format!(
                "expected a number with a unit ms, s, m, h, d or w, up to ten years, e.g. {flag} 30d or {flag} 12h"
            ),
        )
    })
}

/// A byte count with an optional unit: `64`, `1000B`, `4KiB`, `500MB`, `1GiB` (k/m/g are
/// decimal, KiB/MiB/GiB binary, case-insensitive). `None` when it is not one or overflows.
pub fn parse_bytes(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

fn parse_duration_upto(text: &str, flag: &str, max_secs: f64) -> Result<std::time::Duration> {
    let t = text.trim();
    let (number, unit) = match t.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let scale = match unit.trim() {
        "ms" => 0.001,
        "s" | "sec" | "secs" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" if max_secs > 86_400.0 => 86_400.0,
        "w" if max_secs > 86_400.0 => 7.0 * 86_400.0,
        _ => f64::NAN,
    };
    match number.parse::<f64>().map(|n| n * scale) {
        Ok(secs) if secs.is_finite() && (0.0..=max_secs).contains(&secs) => {
            Ok(std::time::Duration::from_secs_f64(secs))
        }
        _ => Err(crate::error::Error::bad_input(flag, "")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5", "-t").unwrap(), Duration::from_secs(5));
        assert_eq!(
            parse_duration("500ms", "-t").unwrap(),
            Duration::from_millis(500)
        );
        assert_eq!(
            parse_duration("1.5s", "-t").unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(
            parse_duration("2m", "-t").unwrap(),
            Duration::from_secs(120)
        );
        for bad in ["", "-1", "5x", "abc", "2d", "1e9", "nan", "100000"] {
            assert!(parse_duration(bad, "-t").is_err(), "{bad}");
        }
    }
}
