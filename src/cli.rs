//! The command line, declared once with clap derive: it feeds `--help`, and tests call
//! `Cli::command().debug_assert()`. Nothing here runs; `config` and `commands` act on it.

use clap::{Parser, Subcommand, ValueEnum};

use examples::help;

mod argv;
mod bench;
mod examples;
mod follow;
mod forward;
pub mod generate;
mod inspect;
mod lifecycle;
pub mod mcp;
mod monitoring;
mod options;
mod serve;
mod tap;
mod usage;

pub use argv::with_lone_target;
pub use bench::BenchArgs;
pub use follow::{
    DaemonArgs, FollowArgs, HistoryArgs, ListenerKinds, RetentionArgs, StoreArgs, UiArgs, WatchArgs,
};
pub use forward::ForwardArgs;
pub use generate::{CompletionsArgs, ManArgs};
pub use inspect::{DoctorArgs, ExplainArgs, LsArgs, ProbeArgs, WhoArgs};
pub use lifecycle::{KillArgs, PickArgs, ProjectArgs, ReleaseArgs, ReserveArgs, RunArgs, WaitArgs};
pub use mcp::McpArgs;
pub use monitoring::{
    AuditArgs, CheckAuditArgs, CheckCommand, CheckConnectArgs, CheckListenArgs, ExporterArgs,
    FailOn,
};
pub use serve::{ServeArgs, ServeKindArg};
pub use tap::TapArgs;
pub use usage::{UsageError, usage_error};

/// portscope — the truth about local ports: what is on them, who started it, what an address means.
#[derive(Debug, Parser)]
#[command(name = "portscope", version, about, long_about = None, max_term_width = 100)]
#[command(after_help = help(
    "With no command, portscope runs `ls`; with a lone port, address or URL, `who` (`portscope 3000` is `portscope who 3000`).\n\
Exit codes: 0 ok (who: the port is held), 1 nothing found or not done (who: nothing holds it; kill: still held), 2 bad input, 3 could not read the system; run: the command's own status; check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
    &[
        ("portscope", "What listens on this machine, how exposed, owned by whom."),
        ("portscope who 3000", "Who holds port 3000, each process in full."),
        ("portscope doctor localhost:5173", "Why connecting to it fails, and the fix."),
        ("portscope kill 3000", "Free port 3000: show the holders, ask, stop them, check."),
    ],
))]
pub struct Cli {
    /// Print JSON (a documented, versioned schema: docs/json.md) instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    /// When to colour output: auto = only on a terminal and never with NO_COLOR.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true, value_name = "WHEN")]
    pub color: ColorChoice,
    /// What to do (default: ls).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal unless NO_COLOR is set or TERM=dumb.
    Auto,
    /// Always colour (not JSON).
    Always,
    /// Never colour.
    Never,
}

/// The verbs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List listening sockets (and with --all, every socket) with their processes.
    Ls(LsArgs),
    /// Who holds a port: every socket on it, the processes in full, and the other end of
    /// loopback connections.
    Who(WhoArgs),
    /// Everything knowable about an address or port without connecting to it.
    Explain(ExplainArgs),
    /// Identify what speaks on ports (read-only, bounded probes); no target = every
    /// listening TCP port.
    Probe(ProbeArgs),
    /// Why can't I connect to this port? The cause, the evidence, and the fix.
    Doctor(DoctorArgs),
    /// Free a port: show who holds it, ask, stop them (SIGTERM, then SIGKILL), check it is free.
    Kill(KillArgs),
    /// Wait until a port accepts connections, answers HTTP below 400 (--http), or is free
    /// (--free); exit 1 at the timeout.
    Wait(WaitArgs),
    /// Print free port(s): outside the ephemeral range, free on IPv4 and IPv6, never handed
    /// to two callers at once.
    Pick(PickArgs),
    /// A stable port for a name (project, service, worktree): the same name always gets the
    /// same port.
    Reserve(ReserveArgs),
    /// Forget a name's reservation.
    Release(ReleaseArgs),
    /// Run a dev server with PORT (its reserved or a freshly picked port) and HOST=127.0.0.1;
    /// say when it listens, warn when it ignores $PORT, free the port when it exits.
    Run(RunArgs),
    /// Check the project's ports.toml against reservations and what listens now.
    #[command(after_help = help("", &[
        ("portscope check-config", "Check ./ports.toml (or the nearest parent's) against reservations and listeners."),
        ("portscope check-config --config services/ports.toml --json", "Another file, as JSON."),
    ]))]
    CheckConfig(ProjectArgs),
    /// Print NAME_PORT=… lines for the services in ports.toml (for .env files).
    #[command(after_help = help("", &[
        ("portscope env > .env", "NAME_PORT=… for every service, port-less ones reserved once."),
        ("portscope env --config ../shop", "The ports.toml in ../shop."),
    ]))]
    Env(ProjectArgs),
    /// Audit what listens: exposed debuggers and unauthenticated datastores, root on high
    /// ports, world-writable sockets; each finding with evidence and a fix.
    Audit(AuditArgs),
    /// A Nagios/Icinga/Zabbix plugin: one status line with perfdata, exit 0/1/2/3.
    #[command(subcommand)]
    #[command(after_help = help("", &[
        ("portscope check listen 5432 --bind loopback", "CRITICAL unless PostgreSQL listens, on loopback only."),
        ("portscope check connect db1:22 -w 0.5 -c 1 -e SSH-2.0", "Like check_tcp: time and banner."),
        ("portscope check audit --no-probe", "OK, WARNING or CRITICAL from the audit."),
    ]))]
    Check(CheckCommand),
    /// Serve Prometheus metrics about this machine's ports (or write them once with --textfile).
    Exporter(ExporterArgs),
    /// Watch listeners open and close, live: a terminal view, or one JSON line per event
    /// (--events, or when standard output is not a terminal).
    Watch(WatchArgs),
    /// Record listener open/close events, with their processes, into the history store until
    /// stopped (SIGINT/SIGTERM).
    Daemon(DaemonArgs),
    /// Who listened on a port, from when to when, and how it ended (from the history store);
    /// no target = the recent events.
    History(HistoryArgs),
    /// A local web dashboard of this machine's ports, live (loopback only unless --listen; a
    /// per-run token).
    Ui(UiArgs),
    /// Start a test server on loopback: http (echoes the request), echo, discard, static DIR.
    Serve(ServeArgs),
    /// Relay TCP (or UDP) from LISTEN to TARGET; loopback clients only unless --allow.
    Forward(ForwardArgs),
    /// Capture traffic to and from a port on loopback: a line per connection, and a pcap file.
    Tap(TapArgs),
    /// Loopback latency and throughput: connect and round-trip percentiles, bytes per second.
    Bench(BenchArgs),
    /// Serve the port tools to a coding agent over the Model Context Protocol (stdio):
    /// ls, who, explain, doctor, probe, pick, reserve, release, wait, history, audit,
    /// check_config and kill (a dry run unless the call says confirm).
    #[command(after_help = help("", &[
        ("portscope mcp", "Serve on standard input and output; an agent's mcpServers entry runs this."),
        ("portscope mcp --read-only", "Without kill, reserve and release: nothing stopped, no reservation changed."),
    ]))]
    Mcp(McpArgs),
    /// Print the man page of portscope or of one command (roff, for `man -l -`), or write
    /// them all with --dir.
    Man(ManArgs),
    /// Print the shell completion script for bash, zsh, fish, elvish or PowerShell.
    Completions(CompletionsArgs),
}

impl Cli {
    /// The output settings: colour from `--color`, the terminal, `NO_COLOR` and `TERM=dumb`.
    pub fn config(&self) -> crate::config::Config {
        use std::io::IsTerminal;
        let env_allows = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::env::var("TERM").map_or(true, |t| t != "dumb");
        let color = !self.json
            && match self.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => env_allows && std::io::stdout().is_terminal(),
            };
        crate::config::Config {
            json: self.json,
            color,
            pretty: std::io::stdout().is_terminal(),
            progress: !self.json && std::io::stderr().is_terminal(),
            width: (!self.json && std::io::stdout().is_terminal())
                .then(terminal_width)
                .flatten(),
        }
    }
}

/// The width to fit on a terminal: `COLUMNS` when it holds a positive number (a person
/// asking for another width), else what the terminal says.
fn terminal_width() -> Option<usize> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0)
        .or_else(|| crate::sys::terminal::columns(std::io::stdout()))
}
