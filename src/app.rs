//! The application: maps a parsed command line to its verb. `main.rs` parses, asks [`run`]
//! for a report and an exit code, renders the report and exits; nothing below this module
//! knows the command line exists.

use std::sync::Arc;

use crate::cli::Command;
use crate::commands::{self, Report, Ui};
use crate::error::Result;
use crate::exit::Exit;
use crate::web::mcp::{Job, Refused, ToolSpec, Tools};

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
        Some(Command::Kill(a)) => commands::kill::run(&a.options()?, ui),
        Some(Command::Wait(a)) => commands::wait::run(&a.options()?, ui),
        Some(Command::Pick(a)) => commands::pick::run(&a.options()?, ui),
        Some(Command::Reserve(a)) => commands::reserve::run(&a.options()?, ui),
        Some(Command::Release(a)) => commands::reserve::release(&a.options()?, ui),
        Some(Command::Run(a)) => commands::run::run(&a.options()?, ui),
        Some(Command::CheckConfig(a)) => commands::project::check(&a.options()?, ui),
        Some(Command::Env(a)) => commands::project::env(&a.options()?, ui),
        Some(Command::Audit(a)) => commands::audit::run(&a.options()?, ui),
        // A plugin's bad argument is its UNKNOWN line (exit 3), not a bad-input error.
        Some(Command::Check(a)) => match a.options() {
            Ok(opts) => commands::check::run(&opts, ui),
            Err(e) => Ok(commands::check::bad_arguments(a.plugin(), &e)),
        },
        Some(Command::Exporter(a)) => crate::web::exporter::run(&a.options()?, ui),
        Some(Command::Watch(a)) => commands::watch::run(&a.options()?, ui),
        Some(Command::Daemon(a)) => commands::watch::daemon(&a.options()?, ui),
        Some(Command::History(a)) => commands::history::run(&a.options()?, ui),
        Some(Command::Ui(a)) => crate::web::ui::run(&a.options()?, ui),
        Some(Command::Serve(a)) => commands::serve::run(&a.options()?, ui),
        Some(Command::Forward(a)) => commands::forward::run(&a.options()?, ui),
        Some(Command::Tap(a)) => commands::tap::run(&a.options()?, ui),
        Some(Command::Bench(a)) => commands::bench::run(&a.options()?, ui),
        Some(Command::Mcp(a)) => crate::web::mcp::run(&a.options()?, Arc::new(Verbs), ui),
        Some(Command::Man(a)) => crate::cli::generate::run_man(a),
        Some(Command::Completions(a)) => crate::cli::generate::run_completions(a),
    }
}

/// The MCP server's tools: the verbs, their schemas and arguments read from the command-line
/// definition, a call run by [`run`] as the command line would run it.
struct Verbs;

impl Tools for Verbs {
    fn list(&self) -> Vec<ToolSpec> {
        crate::cli::mcp::tools()
    }

    fn prepare(&self, tool: &str, arguments: &serde_json::Value) -> Result<Job, Refused> {
        let command = crate::cli::mcp::command_for(tool, arguments)?;
        Ok(Box::new(move |ui: &dyn Ui| run(Some(&command), ui)))
    }
}
