//! The MCP server proper: `initialize`, `tools/list` and `tools/call` on rmcp's stdio
//! transport. A call's arguments are parsed before anything runs (a bad one is a tool error
//! carrying the command line's one-line message, an unknown tool a protocol error); the verb
//! then runs on tokio's blocking pool while this task forwards its progress and watches for
//! the client's cancellation, which the verb sees at its next check.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, MetaObject, PaginatedRequestParams, ProgressNotificationParam,
    ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::{RequestContext, ServerInitializeError};
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Map, Value, json};

use super::ui::{McpUi, Tick};
use super::{Effect, Refused, ToolSpec, Tools};
use crate::commands::Report;
use crate::commands::mcp::McpReport;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::exit::Exit;

/// The most lines of the command line's text a result carries for the model; the whole
/// report is the structured content either way.
const SUMMARY_LINES: usize = 40;

/// What the model is told about the server as a whole.
const INSTRUCTIONS: &str = "portscope answers questions about this machine's ports: what \
listens (ls), who holds a port and how it was started (who), what an address means (explain), \
why a connection fails (doctor), what speaks on a port (probe), a free port (pick) or a stable \
one per name (reserve/release), waiting for a port (wait), what was there before (history), \
what is exposed (audit), a project's port collisions (check_config), and freeing a port \
(kill: without confirm=true it only shows what it would stop). Targets are ports (3000), \
addresses (127.0.0.1:3000, [::1]:3000), names with ports (localhost:5173) or URLs.";

/// What the session did, for its report.
#[derive(Debug, Default)]
pub(super) struct Stats {
    pub(super) calls: AtomicU64,
    pub(super) cancelled: AtomicU64,
    pub(super) client: Mutex<Option<String>>,
}

#[derive(Clone)]
struct Server {
    tools: Arc<dyn Tools>,
    /// The tools offered, read from the command-line definition at the first list or call
    /// (not at start: `initialize` is answered before anything is read).
    offered: Arc<OnceLock<Vec<ToolSpec>>>,
    read_only: bool,
    stats: Arc<Stats>,
}

/// Serve on standard input and output until the client closes its end.
pub(super) async fn serve(read_only: bool, tools: Arc<dyn Tools>) -> Result<McpReport> {
    let stats = Arc::new(Stats::default());
    let server = Server {
        tools,
        offered: Arc::default(),
        read_only,
        stats: Arc::clone(&stats),
    };
    match server.serve(rmcp::transport::stdio()).await {
        Ok(running) => {
            if let (Some(info), Ok(mut client)) = (running.peer().peer_info(), stats.client.lock())
            {
                let c = &info.client_info;
                *client = Some(format!("{} {}", c.name, c.version));
            }
            // Ends when standard input does (the client went away) or the session fails.
            let _ = running.waiting().await;
        }
        // A client that connects and leaves before `initialize` (a health check, a probe for
        // the newer stateless protocol) ends the session; it is not a failure.
        Err(ServerInitializeError::ConnectionClosed(_)) => {}
        Err(e) => {
            return Err(Error::bad_input(
                format!("the MCP session could not start: {e}"),
                "an MCP client over standard input and output (see docs/mcp.md)",
            ));
        }
    }
    Ok(super::report(&stats))
}

impl Server {
    /// The tools this server offers: every one, or with `--read-only` those that neither
    /// stop processes nor change reservations.
    fn offered(&self) -> &[ToolSpec] {
        self.offered.get_or_init(|| {
            let mut tools = self.tools.list();
            if self.read_only {
                tools.retain(|t| matches!(t.effect, Effect::ReadOnly | Effect::Lease));
            }
            tools
        })
    }
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("portscope", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> std::result::Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(
            self.offered().iter().cloned().map(tool).collect(),
        ))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> std::result::Result<CallToolResponse, ErrorData> {
        let name = request.name.as_ref();
        if !self.offered().iter().any(|t| t.name == name) {
            let offered: Vec<&str> = self.offered().iter().map(|t| t.name).collect();
            let why = match self.tools.list().iter().any(|t| t.name == name) {
                true => " (this server is read-only: portscope mcp --read-only)",
                false => "",
            };
            return Err(ErrorData::invalid_params(
                format!("unknown tool '{name}'{why}; tools: {}", offered.join(", ")),
                None,
            ));
        }
        let arguments = Value::Object(request.arguments.clone().unwrap_or_default());
        let job = match self.tools.prepare(name, &arguments) {
            Ok(job) => job,
            Err(Refused::UnknownTool(why)) => return Err(ErrorData::invalid_params(why, None)),
            Err(Refused::BadArguments(why)) => {
                self.stats.calls.fetch_add(1, Ordering::Relaxed);
                let line = format!("portscope: error: {why}");
                return Ok(failed(line, Exit::BadInput).into());
            }
        };
        let (ticks, mut heard) = tokio::sync::mpsc::unbounded_channel::<Tick>();
        let cancelled = Arc::new(AtomicBool::new(false));
        let ui = McpUi::new(ticks, Arc::clone(&cancelled));
        let mut running = tokio::task::spawn_blocking(move || job(&ui));
        let token = context.meta.get_progress_token();
        let mut last = f64::NEG_INFINITY;
        let outcome = loop {
            tokio::select! {
                // Progress already queued goes out before the result does.
                biased;
                () = context.ct.cancelled() => {
                    // The verb stops at its next check; the SDK drops this call's response.
                    cancelled.store(true, Ordering::Relaxed);
                    self.stats.cancelled.fetch_add(1, Ordering::Relaxed);
                    return Err(ErrorData::internal_error("cancelled by the client", None));
                }
                Some(tick) = heard.recv() => {
                    // Progress must increase from one notification to the next.
                    if let Some(token) = &token && tick.progress > last {
                        last = tick.progress;
                        let mut note = ProgressNotificationParam::new(token.clone(), tick.progress)
                            .with_message(tick.message);
                        if let Some(total) = tick.total {
                            note = note.with_total(total);
                        }
                        let _ = context.peer.notify_progress(note).await;
                    }
                }
                done = &mut running => break done,
            }
        };
        self.stats.calls.fetch_add(1, Ordering::Relaxed);
        Ok(match outcome {
            Ok(Ok((report, exit))) => answer(&report, exit),
            Ok(Err(e)) => failed(crate::render::error(&e), e.exit_code()),
            Err(e) => failed(
                format!("portscope: error: the tool stopped: {e}"),
                Exit::Failure,
            ),
        }
        .into())
    }
}

/// A tool as listed: its schema and what its annotations promise.
fn tool(spec: ToolSpec) -> Tool {
    let annotations = match spec.effect {
        Effect::ReadOnly => ToolAnnotations::new().read_only(true),
        Effect::Lease => ToolAnnotations::new()
            .read_only(false)
            .destructive(false)
            .idempotent(false),
        Effect::Store => ToolAnnotations::new()
            .read_only(false)
            .destructive(true)
            .idempotent(true),
        Effect::Processes => ToolAnnotations::new()
            .read_only(false)
            .destructive(true)
            .idempotent(false),
    };
    Tool::new(spec.name, spec.description, Arc::new(spec.input_schema))
        .with_annotations(annotations)
}

/// A verb's answer: its report as `--json` prints it (the structured content, and as text
/// for clients that read only text), after the command line's text, cut short, for the model.
fn answer(report: &Report, exit: Exit) -> CallToolResult {
    let cfg = |json| Config {
        json,
        color: false,
        pretty: false,
        progress: false,
        width: None,
    };
    let json = crate::render::report(report, &cfg(true));
    let structured = serde_json::from_str(&json)
        .unwrap_or_else(|e| json!({"error": format!("the report did not serialise: {e}")}));
    let mut result = CallToolResult::structured(structured);
    let text = crate::render::report(report, &cfg(false));
    result.content.insert(0, ContentBlock::text(summary(&text)));
    result.meta = Some(exit_meta(exit));
    result
}

/// A tool error: the command line's one line, and its exit code.
fn failed(line: String, exit: Exit) -> CallToolResult {
    let mut result = CallToolResult::error(vec![ContentBlock::text(line.trim_end().to_string())]);
    result.meta = Some(exit_meta(exit));
    result
}

/// `_meta.exit_code`: what the command line would have exited with (for `who`, 1 means
/// nothing holds the port — an answer, not an error).
fn exit_meta(exit: Exit) -> MetaObject {
    let mut meta = Map::new();
    meta.insert("exit_code".into(), json!(exit.code()));
    MetaObject(meta)
}

/// The command line's text, at most [`SUMMARY_LINES`] lines.
fn summary(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= SUMMARY_LINES {
        return text.trim_end().to_string();
    }
    let mut out = lines[..SUMMARY_LINES].join("\n");
    out.push_str(&format!(
        "\n… {} more lines: the whole report is the structured content",
        lines.len() - SUMMARY_LINES
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_text_is_cut_and_says_where_the_rest_is() {
        let text: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let s = summary(&text);
        assert_eq!(s.lines().count(), SUMMARY_LINES + 1);
        assert!(s.ends_with("60 more lines: the whole report is the structured content"));
        assert_eq!(summary("a\nb\n"), "a\nb");
    }
}
