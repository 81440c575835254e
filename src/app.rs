//! The application: maps a parsed command line to its verb. `main.rs` parses, asks [`run`]
//! for a report and an exit code, renders the report and exits; nothing below this module
//! knows the command line exists.

use crate::cli::Command;
use crate::commands::{self, Report, Ui};
use crate::error::Result;
use crate::exit::Exit;

/// Run the command (`ls` when none was given) and say which exit code its answer means.
/// `ui` hears about long-running work and answers the questions some commands ask.
pub fn run(command: Option<&Command>, ui: &dyn Ui) -> Result<(Report, Exit)> {
    match command {
        None => commands::ls::run(&commands::ls::Options::default(), ui),
        Some(Command::Ls(a)) => commands::ls::run(&a.options()?, ui),
        Some(Command::Who(a)) => commands::who::run(&a.options()?, ui),
        Some(Command::Doctor(a)) => commands::doctor::run(&a.options()?, ui),
        Some(Command::Probe(a)) => commands::probe::run(&a.options()?, ui),
        Some(Command::Explain(a)) => commands::explain::run(&a.options()?, ui),
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
        Some(Command::Audit(a)) => commands::audit::run(&a.options()?, ui),
        // A plugin's bad argument is its UNKNOWN line (exit 3), not a bad-input error.
        Some(Command::Check(a)) => match a.options() {
            Ok(opts) => commands::check::run(&opts, ui),
            Err(e) => Ok(commands::check::bad_arguments(a.plugin(), &e)),
        },
        Some(Command::Exporter(a)) => commands::exporter::run(&a.options()?, ui),
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
