//! One verb per file. A command asks `sys`/`snapshot` for data and returns a report value;
//! it never prints (that is `render`'s job).

pub mod doctor;
pub mod explain;
pub mod ls;
pub mod probe;
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
        }
    }
}

/// Run the command (`ls` when none was given) and say which exit code its answer means.
/// `progress(done, total)` hears about long-running work (the probe of many ports).
pub fn run(
    command: Option<&Command>,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<(Report, Exit)> {
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
    }
}

/// Parse a `--pid` value: a whole number from 1 to 4194304 (Linux's pid_max limit).
pub fn parse_pid(text: &str) -> Result<u32> {
    let t = text.trim().strip_prefix("pid:").unwrap_or(text.trim());
    match t.parse::<u32>() {
        Ok(p) if (1..=4_194_304).contains(&p) => Ok(p),
        _ => Err(crate::error::Error::bad_input(
            format!(
                "'{}' is not a process id",
                crate::render::sanitize::terminal(text)
            ),
            "expected a whole number from 1 to 4194304, e.g. --pid 1234",
        )),
    }
}
