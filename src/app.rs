//! The application: maps a parsed command line to its verb. `main.rs` parses, asks [`run`]
//! for a report and an exit code, renders the report and exits; nothing below this module
//! knows the command line exists.

use crate::cli::{Command, LsArgs};
use crate::commands::{self, Report, Ui};
use crate::error::Result;
use crate::exit::Exit;

/// Run the command (`ls` when none was given) and say which exit code its answer means.
/// `ui` hears about long-running work and answers the questions some commands ask.
pub fn run(command: Option<&Command>, ui: &dyn Ui) -> Result<(Report, Exit)> {
    let progress = &|done, total| ui.progress(done, total);
    match command {
        None => {
            commands::ls::run(&LsArgs::default()).map(|r| (Report::Ls(Box::new(r)), Exit::Success))
        }
        Some(Command::Ls(args)) => {
            commands::ls::run(args).map(|r| (Report::Ls(Box::new(r)), Exit::Success))
        }
        Some(Command::Who(args)) => commands::who::run(args).map(|r| {
            let code = match (r.held, r.hidden.processes) {
                (true, _) => Exit::Success,
                // Nothing seen, but some processes could not be inspected: unknown, not "free".
                (false, 0) => Exit::Nothing,
                (false, _) if r.target.port_range().is_none() => Exit::Failure,
                (false, _) => Exit::Nothing,
            };
            (Report::Who(Box::new(r)), code)
        }),
        Some(Command::Doctor(args)) => commands::doctor::run(args).map(|r| {
            let code = if r.works {
                Exit::Success
            } else {
                Exit::Nothing
            };
            (Report::Doctor(Box::new(r)), code)
        }),
        Some(Command::Probe(args)) => commands::probe::run(args, progress)
            .map(|r| (Report::Probe(Box::new(r)), Exit::Success)),
        Some(Command::Explain(args)) => {
            commands::explain::run(args).map(|r| (Report::Explain(Box::new(r)), Exit::Success))
        }
        Some(Command::Kill(args)) => {
            commands::kill::run(args, ui).map(|(r, code)| (Report::Kill(Box::new(r)), code))
        }
        Some(Command::Pick(args)) => {
            commands::pick::run(args).map(|(r, code)| (Report::Pick(Box::new(r)), code))
        }
        Some(Command::Reserve(args)) => {
            commands::reserve::run(args).map(|(r, code)| (Report::Reserve(Box::new(r)), code))
        }
        Some(Command::Release(args)) => {
            commands::reserve::release(args).map(|(r, code)| (Report::Reserve(Box::new(r)), code))
        }
        Some(Command::Run(args)) => {
            commands::run::run(args, ui).map(|(r, code)| (Report::Run(Box::new(r)), code))
        }
        Some(Command::CheckConfig(args)) => {
            commands::project::check(args).map(|(r, code)| (Report::CheckConfig(Box::new(r)), code))
        }
        Some(Command::Env(args)) => {
            commands::project::env(args).map(|(r, code)| (Report::Env(Box::new(r)), code))
        }
        Some(Command::Audit(args)) => {
            commands::audit::run(args, ui).map(|(r, code)| (Report::Audit(Box::new(r)), code))
        }
        Some(Command::Check(args)) => {
            commands::check::run(args, ui).map(|(r, code)| (Report::Check(Box::new(r)), code))
        }
        Some(Command::Exporter(args)) => {
            commands::exporter::run(args).map(|(r, code)| (Report::Exporter(Box::new(r)), code))
        }
        Some(Command::Watch(a)) => commands::watch::run(&a.options()?, ui),
        Some(Command::Daemon(a)) => commands::watch::daemon(&a.options()?, ui),
        Some(Command::History(a)) => commands::history::run(&a.options()?, ui),
        Some(Command::Ui(a)) => commands::ui::run(&a.options()?, ui),
        Some(Command::Serve(a)) => commands::serve::run(&a.options()?, ui),
        Some(Command::Forward(a)) => commands::forward::run(&a.options()?, ui),
        Some(Command::Tap(a)) => commands::tap::run(&a.options()?, ui),
        Some(Command::Bench(a)) => commands::bench::run(&a.options()?, ui),
        Some(Command::Man(a)) => crate::cli::generate::run_man(a),
        Some(Command::Completions(a)) => crate::cli::generate::run_completions(a),
    }
}
