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
        Some(Command::Kill(a)) => commands::kill::run(&a.options()?, ui),
        Some(Command::Pick(a)) => commands::pick::run(&a.options()?, ui),
        Some(Command::Reserve(a)) => commands::reserve::run(&a.options()?, ui),
        Some(Command::Release(a)) => commands::reserve::release(&a.options()?, ui),
        Some(Command::Run(a)) => commands::run::run(&a.options()?, ui),
        Some(Command::CheckConfig(a)) => commands::project::check(&a.options()?, ui),
        Some(Command::Env(a)) => commands::project::env(&a.options()?, ui),
        Some(Command::Audit(args)) => {
            commands::audit::run(args, ui).map(|(r, code)| (Report::Audit(Box::new(r)), code))
        }
        Some(Command::Check(args)) => {
            commands::check::run(args, ui).map(|(r, code)| (Report::Check(Box::new(r)), code))
        }
        Some(Command::Exporter(args)) => {
            commands::exporter::run(args).map(|(r, code)| (Report::Exporter(Box::new(r)), code))
        }
        Some(Command::Watch(args)) => {
            commands::watch::run(args, ui).map(|(r, code)| (Report::Watch(Box::new(r)), code))
        }
        Some(Command::Daemon(args)) => {
            commands::watch::daemon(args, ui).map(|(r, code)| (Report::Watch(Box::new(r)), code))
        }
        Some(Command::History(args)) => {
            commands::history::run(args).map(|(r, code)| (Report::History(Box::new(r)), code))
        }
        Some(Command::Ui(args)) => {
            commands::ui::run(args).map(|(r, code)| (Report::Ui(Box::new(r)), code))
        }
        Some(Command::Serve(args)) => {
            commands::serve::run(args, ui).map(|(r, code)| (Report::Serve(Box::new(r)), code))
        }
        Some(Command::Forward(args)) => {
            commands::forward::run(args, ui).map(|(r, code)| (Report::Forward(Box::new(r)), code))
        }
        Some(Command::Tap(args)) => {
            commands::tap::run(args, ui).map(|(r, code)| (Report::Tap(Box::new(r)), code))
        }
        Some(Command::Bench(args)) => {
            commands::bench::run(args, ui).map(|(r, code)| (Report::Bench(Box::new(r)), code))
        }
        Some(Command::Man(args)) => {
            commands::generate::man(args).map(|r| (Report::Generated(Box::new(r)), Exit::Success))
        }
        Some(Command::Completions(args)) => Ok((
            Report::Generated(Box::new(commands::generate::completions(args))),
            Exit::Success,
        )),
    }
}
