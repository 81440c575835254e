//! `portscope mcp`: the verbs as tools of the Model Context Protocol, served over standard
//! input and output — the transport coding agents launch — on the official Rust SDK (rmcp).
//!
//! This layer moves messages only. Which tools exist, their input schemas and how a call's
//! arguments become a verb's `Options` come from the one command-line definition, through
//! [`Tools`] (the application implements it); results are the verbs' reports as `--json`
//! gives them, plus the text the command line prints, cut short, for the model. A verb runs
//! on a blocking thread with a `Ui` of its own (`ui.rs`) that turns its progress into progress
//! notifications and the client's cancellation into [`Ui::cancelled`].

mod server;
mod ui;

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::commands::mcp::{McpReport, Options};
use crate::commands::{Report, Ui};
use crate::error::{Error, Result};
use crate::exit::Exit;

/// One tool as the server lists it.
#[derive(Debug, Clone)]
pub struct ToolSpec {
    /// The tool's name (`check_config`).
    pub name: &'static str,
    /// What it does.
    pub description: String,
    /// A JSON Schema object of its arguments.
    pub input_schema: Map<String, Value>,
    /// What a call may change.
    pub effect: Effect,
}

/// What a tool may change, as its annotations tell the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Nothing: it reads the system (`readOnlyHint`).
    ReadOnly,
    /// A short lease in portscope's own store, so that no other caller is handed the same
    /// port for a while (`pick`): not read-only, and nothing is lost (not destructive).
    Lease,
    /// portscope's own reservation store (`destructiveHint`: a reservation can be dropped).
    Store,
    /// Other processes: it signals them (`destructiveHint`).
    Processes,
}

/// Why a call was not started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// No such tool (a protocol error: the client asked for something never listed).
    UnknownTool(String),
    /// The arguments are not what the tool takes: the command line's one-line message,
    /// returned as a tool error the model can read and correct.
    BadArguments(String),
}

/// A verb ready to run, its arguments parsed.
pub type Job = Box<dyn FnOnce(&dyn Ui) -> Result<(Report, Exit)> + Send>;

/// The tools the server offers: the application knows the verbs and their arguments.
pub trait Tools: Send + Sync + 'static {
    /// Every tool, in the order to list them.
    fn list(&self) -> Vec<ToolSpec>;
    /// The verb a call asks for, ready to run; or why not.
    fn prepare(&self, tool: &str, arguments: &Value) -> std::result::Result<Job, Refused>;
}

/// Run `mcp`: serve the tools on standard input and output until the client closes its end.
/// Nothing is printed on standard output but the protocol; a failure to start is the one
/// thing said on standard error.
pub fn run(opts: &Options, tools: Arc<dyn Tools>, _ui: &dyn Ui) -> Result<(Report, Exit)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the MCP server's runtime", e))?;
    let report = runtime.block_on(server::serve(opts.read_only, tools))?;
    // A verb still running for a cancelled call is not waited for: its work is bounded and
    // it starts nothing new once cancelled.
    runtime.shutdown_background();
    Ok((Report::Mcp(Box::new(report)), Exit::Success))
}

/// The report of a session that ended.
fn report(stats: &server::Stats) -> McpReport {
    use std::sync::atomic::Ordering::Relaxed;
    McpReport {
        calls: stats.calls.load(Relaxed),
        cancelled: stats.cancelled.load(Relaxed),
        client: stats.client.lock().ok().and_then(|c| c.clone()),
    }
}
