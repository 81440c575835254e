//! One verb per file. A command asks `sys`/`snapshot` for data and returns a report value;
//! it never prints (that is `render`'s job).

#[cfg(feature = "cli")]
pub mod audit;
#[cfg(feature = "cli")]
pub mod bench;
#[cfg(feature = "cli")]
pub mod check;
pub mod doctor;
pub mod explain;
#[cfg(feature = "cli")]
pub mod exporter;
#[cfg(feature = "cli")]
pub mod forward;
#[cfg(feature = "cli")]
pub mod generate;
#[cfg(feature = "cli")]
pub mod history;
#[cfg(feature = "cli")]
pub mod kill;
pub mod ls;
#[cfg(feature = "cli")]
pub mod mcp;
#[cfg(feature = "cli")]
pub mod pick;
#[cfg(feature = "cli")]
pub mod probe;
#[cfg(feature = "cli")]
pub mod project;
#[cfg(feature = "cli")]
pub mod reserve;
#[cfg(feature = "cli")]
pub mod run;
#[cfg(feature = "cli")]
pub mod serve;
#[cfg(feature = "cli")]
pub mod tap;
#[cfg(feature = "cli")]
pub mod ui;
#[cfg(feature = "cli")]
pub mod wait;
#[cfg(feature = "cli")]
pub mod watch;
pub mod who;

#[cfg(feature = "cli")]
use serde::Serialize;

#[cfg(feature = "cli")]
use crate::error::Result;

/// What a command produced, ready for any renderer.
#[cfg(feature = "cli")]
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
    /// `wait`
    Wait(Box<wait::WaitReport>),
    /// `man`, `completions`
    Generated(Box<generate::GeneratedReport>),
    /// `mcp` (when the client has gone)
    Mcp(Box<mcp::McpReport>),
}

#[cfg(feature = "cli")]
/// What a command may need from the person running it while it works. `render` implements
/// it for a terminal; commands only call it, so they never print.
pub trait Ui: Sync {
    /// `done` of `total` items are finished (long-running work such as probing many ports).
    fn progress(&self, done: usize, total: usize);
    /// Step `done` of `total` of one slow task has begun, doing `what` (`doctor`: "reading
    /// the firewall"); shown like [`Ui::progress`], with the step's name.
    fn step(&self, what: &'static str, done: usize, total: usize) {
        let _ = what;
        self.progress(done, total);
    }
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
    /// A long-running server (the dashboard, the exporter) has a line for its log: the URL
    /// it serves, a warning, why it stopped. `line` is complete, newline included.
    fn notice(&self, line: &str);
    /// Whether the reader of the command's output went away (a `| head -1` that has its
    /// line): a stream of events then ends. Checked while idle, so an idle stream ends too.
    fn output_closed(&self) -> bool {
        false
    }
    /// Whether whoever asked for the work no longer wants it (an MCP client cancelled the
    /// call): long loops (`probe`'s addresses, `wait`'s looks, `audit`'s probes) start
    /// nothing new and return what they have.
    fn cancelled(&self) -> bool {
        false
    }
    /// `wait` has looked `looks` times, `elapsed` into its `timeout`, and goes on.
    fn waiting(&self, looks: u32, elapsed: std::time::Duration, timeout: std::time::Duration) {
        let _ = (looks, elapsed, timeout);
    }
}

#[cfg(feature = "cli")]
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
            Report::Wait(_) => "wait",
            Report::Generated(r) => r.command,
            Report::Mcp(_) => "mcp",
        }
    }
}
