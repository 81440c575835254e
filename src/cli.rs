//! The command line, declared once with clap derive: it feeds `--help`, and tests call
//! `Cli::command().debug_assert()`. Nothing here runs; `config` and `commands` act on it.

use clap::{Args, Parser, Subcommand, ValueEnum};

mod bench;
mod forward;
mod serve;
mod tap;

pub use bench::BenchArgs;
pub use forward::ForwardArgs;
pub use serve::{ServeArgs, ServeKind};
pub use tap::TapArgs;

/// portscope — the truth about local ports: what is on them, who started it, what an address means.
#[derive(Debug, Parser)]
#[command(name = "portscope", version, about, long_about = None, max_term_width = 100)]
#[command(after_help = "With no command, portscope runs `ls`.\n\
Exit codes: 0 ok (who: the port is held), 1 nothing found or not done (who: nothing holds it; kill: still held), 2 bad input, 3 could not read the system; run: the command's own status; check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.")]
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
    CheckConfig(ProjectArgs),
    /// Print NAME_PORT=… lines for the services in ports.toml (for .env files).
    Env(ProjectArgs),
    /// Audit what listens: exposed debuggers and unauthenticated datastores, root on high
    /// ports, world-writable sockets; each finding with evidence and a fix.
    Audit(AuditArgs),
    /// A Nagios/Icinga/Zabbix plugin: one status line with perfdata, exit 0/1/2/3.
    #[command(subcommand)]
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
}

/// Which listeners to follow.
#[derive(Debug, Clone, Default, Args)]
pub struct ListenerKinds {
    /// Only TCP listeners.
    #[arg(long, short = 't')]
    pub tcp: bool,
    /// Only bound UDP sockets.
    #[arg(long, short = 'u')]
    pub udp: bool,
}

/// How long the history store keeps events.
#[derive(Debug, Clone, Args)]
pub struct RetentionArgs {
    /// Forget events older than this: 30d, 12h, 90m (checked at start and hourly).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "30d",
        allow_hyphen_values = true
    )]
    pub keep: String,
    /// Keep the store under this size, forgetting the oldest events first: 256MiB, 1GiB, 500MB.
    #[arg(
        long,
        value_name = "SIZE",
        default_value = "256MiB",
        allow_hyphen_values = true
    )]
    pub max_size: String,
}

impl Default for RetentionArgs {
    fn default() -> Self {
        RetentionArgs {
            keep: "30d".into(),
            max_size: "256MiB".into(),
        }
    }
}

/// What `watch` and `daemon` share: how often and how long to look, at what, and the store.
#[derive(Debug, Clone, Default, Args)]
pub struct FollowArgs {
    /// How often to look: 1s, 500ms, 2 (seconds).
    #[arg(
        short,
        long,
        value_name = "DURATION",
        default_value = "1s",
        allow_hyphen_values = true
    )]
    pub interval: String,
    /// Stop after this long (default: until q or Ctrl+C in the view, SIGINT, SIGTERM or SIGHUP).
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub duration: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub kinds: ListenerKinds,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub retention: RetentionArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub store: StoreArgs,
}

/// Arguments of `watch`.
#[derive(Debug, Clone, Default, Args)]
pub struct WatchArgs {
    /// One JSON line per event on standard output instead of the terminal view (the default
    /// when standard output is not a terminal).
    #[arg(long)]
    pub events: bool,
    /// Also record the events into the history store, as `daemon` does.
    #[arg(long)]
    pub record: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub follow: FollowArgs,
}

/// Arguments of `daemon`.
#[derive(Debug, Clone, Default, Args)]
pub struct DaemonArgs {
    /// Also print one JSON line per event on standard output, once it is recorded.
    #[arg(long)]
    pub events: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub follow: FollowArgs,
}

/// Arguments of `history`.
#[derive(Debug, Clone, Default, Args)]
pub struct HistoryArgs {
    /// A port (8080), an address (127.0.0.1:8080), 8080/tcp, a range (3000-3010); none = the
    /// recent events.
    #[arg(value_name = "TARGET", allow_hyphen_values = true)]
    pub target: Option<String>,
    /// From this long ago (1h, 30m, 2d) or this time (2026-11-22T13:40, 2026-11-22 13:40:00,
    /// RFC 3339). Default: everything for a target, the last hour without one.
    #[arg(long, value_name = "WHEN", allow_hyphen_values = true)]
    pub since: Option<String>,
    /// Up to this long ago or this time (same forms as --since). Default: now.
    #[arg(long, value_name = "WHEN", allow_hyphen_values = true)]
    pub until: Option<String>,
    /// Only listeners of processes with this name (comm, or the program's file name).
    #[arg(short, long, value_name = "NAME")]
    pub process: Option<String>,
    /// At most this many rows, newest kept.
    #[arg(
        short = 'n',
        long,
        value_name = "N",
        default_value = "200",
        allow_hyphen_values = true
    )]
    pub limit: String,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub store: StoreArgs,
}

/// Arguments of `audit`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Rules (finding codes): AUD-EXPOSED-DEBUGGER, AUD-EXPOSED-DATASTORE, \
AUD-EXPOSED-CONTROL, AUD-EXPOSED-NO-AUTH, AUD-EXPOSED-AUTHENTICATED, AUD-EXPOSED-DEV-SERVER, \
AUD-EXPOSED-WEB, AUD-EXPOSED-SERVICE, AUD-DEBUGGER-LOOPBACK, AUD-LOOPBACK-NO-AUTH, \
AUD-UNIX-WORLD-WRITABLE, AUD-ROOT-HIGH-PORT, AUD-CONTAINER-PUBLISHED, \
AUD-CONTAINER-HOST-NETWORK (README: portscope audit).\n\
Allowlist: [[allow]] entries with reason = \"WHY\" and any of rule = \"AUD-CODE\" (or a \
prefix ending in *), port = N, process = \"NAME\", address = \"ADDR\" \
(examples/portscope-audit.toml).\n\
Exit status: 0 no finding at or above --fail-on, 1 some, 2 bad input (a bad allowlist), 3 \
the system could not be read."
)]
pub struct AuditArgs {
    /// Exit 1 when a finding (not allowlisted) is at least this severe.
    #[arg(long, value_enum, default_value_t = FailOn::Warning, value_name = "SEVERITY")]
    pub fail_on: FailOn,
    /// The allowlist of accepted findings (default: ./portscope-audit.toml, then
    /// $XDG_CONFIG_HOME/portscope/audit.toml, when present).
    #[arg(long, value_name = "FILE")]
    pub allowlist: Option<std::path::PathBuf>,
    /// Do not probe listeners (faster; findings that need a probe's answer are then
    /// made from the port and the owning process only).
    #[arg(long)]
    pub no_probe: bool,
    /// Print SARIF 2.1.0 (for code-scanning dashboards) instead of a table; allowlisted
    /// findings are included as suppressed results.
    #[arg(long, conflicts_with = "json")]
    pub sarif: bool,
    /// Also list the findings the allowlist silenced.
    #[arg(long)]
    pub show_allowed: bool,
    /// Audit only the listeners on these ports (repeat, or separate with commas); nothing
    /// else is probed, and unix sockets are left out.
    #[arg(
        long = "port",
        value_name = "PORT",
        value_delimiter = ',',
        value_parser = clap::value_parser!(u16).range(1..)
    )]
    pub ports: Vec<u16>,
}

/// `--fail-on` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any finding, informational included.
    Info,
    /// Warnings and critical findings.
    Warning,
    /// Critical findings only.
    Critical,
    /// Never (report only).
    Never,
}

/// `check` plugins.
#[derive(Debug, Clone, Subcommand)]
pub enum CheckCommand {
    /// Is something listening on PORT?
    Listen(CheckListenArgs),
    /// Can HOST:PORT be connected to, how fast, and does its banner match?
    Connect(CheckConnectArgs),
    /// OK / WARNING / CRITICAL from the audit's findings.
    Audit(CheckAuditArgs),
}

/// Arguments of `check listen`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "OK when something listens on PORT (and --bind / --process hold); \
CRITICAL when nothing does, when a listener is on all interfaces with --bind loopback, when all \
are on loopback with --bind any, or when another process holds it with --process; WARNING for a \
listener on one non-loopback address with --bind loopback; UNKNOWN when the owner cannot be \
seen with --process (run as root). Perfdata: listeners=N.\n\
Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also for a bad argument value; an \
unknown flag or a missing argument is a usage error: exit 2)."
)]
pub struct CheckListenArgs {
    /// The port (8080, 8080/tcp, 5353/udp).
    #[arg(value_name = "PORT", allow_hyphen_values = true)]
    pub port: String,
    /// Where it must listen: `loopback` (every listener on a loopback address) or `any`
    /// (reachable from other hosts: a wildcard or non-loopback address).
    #[arg(long, value_name = "WHERE")]
    pub bind: Option<String>,
    /// The listener must belong to a process with this name (comm, or the file name of its
    /// first argument).
    #[arg(long, value_name = "NAME")]
    pub process: Option<String>,
}

/// Arguments of `check connect` (the semantics of check_tcp).
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Like check_tcp -H HOST -p PORT: the response time is measured from \
the start to the connection (with --expect: to the end of reading the banner). Refused: \
CRITICAL (-r); no connection or no data within --timeout: CRITICAL; a banner without the \
expected string: WARNING (-M). Perfdata: time=Ns;WARN;CRIT;0;TIMEOUT.\n\
Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also for a bad argument value; an \
unknown flag or a missing argument is a usage error: exit 2)."
)]
pub struct CheckConnectArgs {
    /// HOST:PORT to connect to.
    #[arg(
        value_name = "HOST:PORT",
        allow_hyphen_values = true,
        help = "HOST:PORT to connect to (127.0.0.1:8080, [::1]:8080, db.example:5432)"
    )]
    pub target: String,
    /// Warning threshold on the response time, in seconds: a Nagios range (0.5 = above half
    /// a second; also 10:, ~:10, @10:20).
    #[arg(short, long, value_name = "RANGE", allow_hyphen_values = true)]
    pub warning: Option<String>,
    /// Critical threshold on the response time, in seconds (a Nagios range).
    #[arg(short, long, value_name = "RANGE", allow_hyphen_values = true)]
    pub critical: Option<String>,
    /// A string the banner (what the server sends first) must contain; may be repeated (any
    /// one suffices, unless --all).
    #[arg(short = 'e', long, value_name = "STRING")]
    pub expect: Vec<String>,
    /// Every --expect string must be in the banner.
    #[arg(short = 'A', long)]
    pub all: bool,
    /// The state when the banner lacks the expected string: ok, warn or crit.
    #[arg(
        short = 'M',
        long,
        value_name = "STATE",
        default_value = "warn",
        allow_hyphen_values = true
    )]
    pub mismatch: String,
    /// The state when the connection is refused: ok, warn or crit.
    #[arg(
        short = 'r',
        long,
        value_name = "STATE",
        default_value = "crit",
        allow_hyphen_values = true
    )]
    pub refuse: String,
    /// Seconds before the attempt counts as failed (CRITICAL); decimals allowed.
    #[arg(
        short,
        long,
        value_name = "SECONDS",
        default_value = "10",
        allow_hyphen_values = true
    )]
    pub timeout: String,
}

/// Arguments of `check audit`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "OK when the audit finds nothing (or only informational findings), \
WARNING when the worst finding is a warning, CRITICAL when one is critical. The status line \
names the top findings; one long-output line per finding follows. Perfdata: critical=N \
warning=N info=N.\n\
Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also for a bad argument value; an \
unknown flag or a missing argument is a usage error: exit 2)."
)]
pub struct CheckAuditArgs {
    /// The allowlist of accepted findings (as for `audit`).
    #[arg(long, value_name = "FILE")]
    pub allowlist: Option<std::path::PathBuf>,
    /// Do not probe listeners.
    #[arg(long)]
    pub no_probe: bool,
}

/// Arguments of `exporter`.
#[derive(Debug, Clone, Args)]
pub struct ExporterArgs {
    /// Where to serve /metrics (an IP address and a port; loopback unless you say otherwise).
    #[arg(
        long,
        value_name = "ADDR:PORT",
        default_value = "127.0.0.1:9797",
        allow_hyphen_values = true,
        conflicts_with = "textfile",
        help = "Where to serve /metrics: IP:PORT or [IPv6]:PORT (port 0 = any free port, printed at startup). Loopback unless you say otherwise; any other address gets a warning, since whoever reaches it can read which processes listen where"
    )]
    pub listen: String,
    /// Write the metrics once to this file for node_exporter's textfile collector (a *.prom
    /// file in its --collector.textfile.directory), replacing it atomically, and exit.
    #[arg(long, value_name = "PATH")]
    pub textfile: Option<std::path::PathBuf>,
    /// Probe listeners for the audit metrics (slower scrapes; default: no probes).
    #[arg(long)]
    pub probe: bool,
    /// The allowlist for the audit metrics (as for `audit`).
    #[arg(long, value_name = "FILE")]
    pub allowlist: Option<std::path::PathBuf>,
}

/// Arguments of `ui`.
#[derive(Debug, Clone, Default, Args)]
pub struct UiArgs {
    /// Where to serve the dashboard (default: 127.0.0.1:62893 when free, else a free
    /// loopback port).
    #[arg(
        long,
        value_name = "ADDR:PORT",
        allow_hyphen_values = true,
        help = "Where to serve the dashboard: IP:PORT or [IPv6]:PORT (port 0 = any free port). Default: 127.0.0.1:62893 when free, else any free loopback port. A non-loopback address needs --token"
    )]
    pub listen: Option<String>,
    /// The access token (default: 32 random bytes, new each run); required with a
    /// non-loopback --listen.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "PORTSCOPE_UI_TOKEN",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    pub token: Option<String>,
    /// Open the dashboard in the browser (xdg-open).
    #[arg(long)]
    pub open: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub store: StoreArgs,
}

/// Where the reservation registry lives.
#[derive(Debug, Clone, Default, Args)]
pub struct StoreArgs {
    /// Directory of portscope's state (the registry of reservations and picks, the history
    /// store). Default: $XDG_STATE_HOME/portscope, else ~/.local/state/portscope.
    #[arg(long, value_name = "DIR", env = "PORTSCOPE_STATE_DIR")]
    pub state_dir: Option<std::path::PathBuf>,
}

/// Arguments of `kill`.
#[derive(Debug, Clone, Args)]
pub struct KillArgs {
    /// The port(s) to free.
    #[arg(
        value_name = "TARGET",
        required = true,
        help = "The port(s) to free: 8080, 8080/tcp, udp/53, 127.0.0.1:8080, [::1]:9229, 3000-3010"
    )]
    pub targets: Vec<String>,
    /// Also stop the processes holding connections on the port (accepted connections,
    /// clients bound to it), not only listeners.
    #[arg(long)]
    pub connections: bool,
    /// Do not ask: stop them.
    #[arg(short, long)]
    pub yes: bool,
    /// Show what would be stopped and the signals that would be sent; change nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// The first signal: TERM, INT, HUP, QUIT, KILL, USR1, USR2 (with or without SIG, or a number).
    #[arg(
        short,
        long,
        value_name = "SIGNAL",
        default_value = "TERM",
        allow_hyphen_values = true
    )]
    pub signal: String,
    /// How long to wait after the first signal before SIGKILL: 5s, 500ms, 2 (seconds).
    #[arg(
        short,
        long,
        value_name = "DURATION",
        default_value = "5s",
        allow_hyphen_values = true
    )]
    pub timeout: String,
    /// Never send SIGKILL: report what is still running instead.
    #[arg(long)]
    pub no_escalate: bool,
    /// Also stop the holders' descendants and the other members of their process groups
    /// (never portscope's own group).
    #[arg(long)]
    pub tree: bool,
    /// Stop a docker-proxy too (normally refused: stop the container instead).
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `pick`.
#[derive(Debug, Clone, Args)]
pub struct PickArgs {
    /// Pick from this range (default: 1024-65535 without the ephemeral range, IANA-assigned
    /// ports and common dev-server ports).
    #[arg(long, value_name = "LOW-HIGH", allow_hyphen_values = true)]
    pub range: Option<String>,
    /// How many ports.
    #[arg(
        short = 'c',
        long,
        value_name = "N",
        default_value = "1",
        allow_hyphen_values = true
    )]
    pub count: String,
    /// The port(s) must be free on UDP too.
    #[arg(short, long)]
    pub udp: bool,
    /// Free for this address (default: every address, IPv4 and IPv6).
    #[arg(long, value_name = "ADDR", allow_hyphen_values = true)]
    pub host: Option<String>,
    /// Also consider ports in the kernel's ephemeral range (an outgoing connection may take
    /// them at any moment).
    #[arg(long)]
    pub allow_ephemeral: bool,
    /// How long the pick is held for you in the registry (ends early once something listens).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "60s",
        allow_hyphen_values = true
    )]
    pub lease: String,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub store: StoreArgs,
}

/// Arguments of `reserve`.
#[derive(Debug, Clone, Args)]
pub struct ReserveArgs {
    /// The name to reserve a port for: letters, digits and . _ - / : @ + (e.g. myapp, api.web).
    #[arg(value_name = "NAME", required_unless_present_any = ["list", "prune"], allow_hyphen_values = true)]
    pub name: Option<String>,
    /// This port (refused when another name holds it).
    #[arg(short, long, value_name = "PORT", allow_hyphen_values = true)]
    pub port: Option<String>,
    /// Choose from this range (default: as for pick).
    #[arg(long, value_name = "LOW-HIGH", allow_hyphen_values = true)]
    pub range: Option<String>,
    /// The owner directory recorded with the name (default: the current directory);
    /// `--prune` forgets names whose directory is gone.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<std::path::PathBuf>,
    /// List the reservations.
    #[arg(long, conflicts_with_all = ["name", "prune", "port", "range"])]
    pub list: bool,
    /// Forget reservations whose owner directory no longer exists.
    #[arg(long, conflicts_with_all = ["name", "port", "range"])]
    pub prune: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub store: StoreArgs,
}

/// Arguments of `release`.
#[derive(Debug, Clone, Args)]
pub struct ReleaseArgs {
    /// The reserved name to forget.
    #[arg(value_name = "NAME", allow_hyphen_values = true)]
    pub name: String,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub store: StoreArgs,
}

/// Arguments of `run`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Without --name or --port, a free port is picked (and held for the command \
until it listens). A port another process listens on is refused: nothing is started, exit 1.\n\
Ctrl+C in the terminal reaches the command directly; a signal sent to portscope (kill -TERM) \
is passed on. When the command ends, what it left running is stopped (SIGTERM, then SIGKILL) \
and the port is checked free.\n\
Exit status: the command's own; 128+N when signal N ended it; 1 when the port was held; \
2 bad input (no such program, a bad port or name); 3 could not read the system."
)]
pub struct RunArgs {
    /// Use this name's reservation, made now if it has none (owner directory: the current
    /// one).
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    pub name: Option<String>,
    /// Use this port (with --name: a new reservation gets it; an existing one must have it).
    #[arg(short, long, value_name = "PORT", allow_hyphen_values = true)]
    pub port: Option<String>,
    /// The HOST exported to the command (and put in its arguments for $HOST): an IP
    /// address or a host name.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1",
        allow_hyphen_values = true
    )]
    pub host: String,
    /// Once it listens, ask the server what it speaks (portscope's read-only probes: a few
    /// requests, which show in the server's log) to choose http or https for the URL.
    /// Without it the URL says https only when the command has a TLS flag (--https,
    /// --ssl…, --tls…, --cert…).
    #[arg(long)]
    pub probe: bool,
    /// The command to run, after `--`. `$PORT`, `${PORT}`, `$HOST` and `${HOST}` in its
    /// arguments are replaced by portscope (quote them so the shell leaves them):
    /// portscope run -- python3 -m http.server '$PORT'
    #[arg(value_name = "CMD", last = true, required = true)]
    pub command: Vec<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub store: StoreArgs,
}

/// Arguments of `check-config` and `env`.
#[derive(Debug, Clone, Args)]
pub struct ProjectArgs {
    /// The project file (default: ports.toml in the current directory or the nearest
    /// parent; a directory means the ports.toml in it).
    ///
    /// ports.toml: an optional `[project]` table with `name = "shop"` (default: the
    /// directory's name), then one `[services.NAME]` table per service (NAME: letters,
    /// digits, `-` and `_`, starting with a letter) with optional `port = 3000`,
    /// `proto = "tcp"` or `"udp"`, and `host = "127.0.0.1"`. A service without a port gets
    /// one reserved in the registry as `PROJECT/NAME` by `portscope env`, the same one on
    /// every run.
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub store: StoreArgs,
}

/// Flags of `ls`.
#[derive(Debug, Clone, Default, Args)]
pub struct LsArgs {
    /// Every state, not only listeners: established, time-wait, …
    #[arg(short, long)]
    pub all: bool,
    /// Only TCP.
    #[arg(short, long)]
    pub tcp: bool,
    /// Only UDP.
    #[arg(short, long)]
    pub udp: bool,
    /// Include unix-domain sockets.
    #[arg(short = 'x', long)]
    pub unix: bool,
    /// Only IPv4.
    #[arg(short = '4', long = "ipv4")]
    pub ipv4: bool,
    /// Only IPv6.
    #[arg(short = '6', long = "ipv6")]
    pub ipv6: bool,
    /// Only sockets in these states (comma-separated or repeated): listen, established,
    /// time_wait, close_wait, syn_sent, syn_recv, fin_wait1, fin_wait2, last_ack, closing,
    /// close (UDP: unconn). Implies --all.
    #[arg(short, long, value_name = "STATE", value_delimiter = ',')]
    pub state: Vec<String>,
    /// Only sockets held by processes of this user (name or uid).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Only sockets held by this process id.
    #[arg(short, long, value_name = "PID", allow_hyphen_values = true)]
    pub pid: Option<String>,
    /// Only sockets held by processes with this name (comm, or the file name of its first argument).
    #[arg(long, value_name = "NAME")]
    pub process: Option<String>,
    /// Do not look up owning processes (faster; the kernel's view only).
    #[arg(long)]
    pub no_owners: bool,
}

/// Arguments of `who`.
#[derive(Debug, Clone, Args)]
pub struct WhoArgs {
    /// What to look at (the help text lists the accepted forms).
    #[arg(
        value_name = "TARGET",
        required_unless_present = "pid",
        allow_hyphen_values = true,
        help = "What to look at: 8080, :8080, 8080/tcp, udp/53, 127.0.0.1:8080, [::1]:8080, \
                http://localhost:3000/, 3000-3010, pid:1234, or a process name"
    )]
    pub target: Option<String>,
    /// Look at this process's sockets instead (same as pid:N).
    #[arg(
        short,
        long,
        value_name = "PID",
        conflicts_with = "target",
        allow_hyphen_values = true
    )]
    pub pid: Option<String>,
    /// Also identify what speaks on the listening sockets found (read-only probes).
    #[arg(long)]
    pub probe: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub store: StoreArgs,
}

/// Arguments of `explain`.
#[derive(Debug, Clone, Args)]
pub struct ExplainArgs {
    /// The address or port to explain.
    #[arg(
        value_name = "TARGET",
        allow_hyphen_values = true,
        help = "The address or port: 127.0.0.1:62893, [::1]:9229, localhost:3000, 62893, http://…"
    )]
    pub target: String,
    /// Also identify what speaks there now (read-only probes).
    #[arg(long)]
    pub probe: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub store: StoreArgs,
}

/// Arguments of `probe`.
#[derive(Debug, Clone, Args)]
pub struct ProbeArgs {
    /// What to probe (none = every listening TCP port of this machine).
    #[arg(
        value_name = "TARGET",
        help = "What to probe: 8080, 127.0.0.1:8080, [::1]:9229, localhost:3000, https://localhost:8443, 3000-3010, pid:1234, a process name, 53/udp (DNS); none = every listening TCP port"
    )]
    pub targets: Vec<String>,
    /// Total time allowed per address, in milliseconds (connect, banner wait and every probe).
    #[arg(long = "deadline", value_name = "MS", default_value_t = 1200)]
    pub deadline_ms: u64,
    /// How many addresses to probe at once.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub concurrency: usize,
}

/// Arguments of `doctor`.
#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    /// What does not work (a port, an address, a URL).
    #[arg(
        value_name = "TARGET",
        allow_hyphen_values = true,
        help = "What does not work: 3000, 127.0.0.1:3000, localhost:3000, [::1]:9229, http://localhost:5173/"
    )]
    pub target: String,
    /// How long each connect attempt may take, in milliseconds.
    #[arg(long = "timeout", value_name = "MS", default_value_t = 500)]
    pub timeout_ms: u64,
    /// Ask instead why a program cannot listen on TARGET (a test bind; a bare port means
    /// 0.0.0.0:PORT).
    #[arg(long)]
    pub bind: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub store: StoreArgs,
}

/// Clap's usage error as one line: what was wrong, and where to see what is accepted.
pub fn one_line_error(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    // The first paragraph is the problem; clap may continue it on indented lines.
    let first: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .collect();
    let text = first.join(" ");
    let text = text.trim_start_matches("error: ");
    let text = if text.is_empty() {
        "invalid arguments"
    } else {
        text
    };
    format!("portscope: error: {text}; see 'portscope --help' for what is accepted\n")
}
