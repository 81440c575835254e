//! Arguments of the monitoring commands: `audit`, the `check` plugins and `exporter`.

use clap::{Args, Subcommand, ValueEnum};

use super::examples::help;

/// Arguments of `audit`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = help(
        "Rules (finding codes): AUD-EXPOSED-DEBUGGER, AUD-EXPOSED-DATASTORE, \
AUD-EXPOSED-CONTROL, AUD-EXPOSED-NO-AUTH, AUD-EXPOSED-AUTHENTICATED, AUD-EXPOSED-DEV-SERVER, \
AUD-EXPOSED-WEB, AUD-EXPOSED-SERVICE, AUD-DEBUGGER-LOOPBACK, AUD-LOOPBACK-NO-AUTH, \
AUD-UNIX-WORLD-WRITABLE, AUD-ROOT-HIGH-PORT, AUD-CONTAINER-PUBLISHED, \
AUD-CONTAINER-HOST-NETWORK (docs/monitoring.md: portscope audit).\n\
Allowlist: [[allow]] entries with reason = \"WHY\" and any of rule = \"AUD-CODE\" (or a \
prefix ending in *), port = N, process = \"NAME\", address = \"ADDR\" \
(examples/portscope-audit.toml).\n\
Exit status: 0 no finding at or above --fail-on, 1 some, 2 bad input (a bad allowlist), 3 \
the system could not be read.",
        &[
        ("portscope audit", "Exposed debuggers and datastores, root on high ports, world-writable sockets."),
        ("portscope audit --fail-on critical --no-probe", "A quick gate for scripts: exit 1 only on critical findings."),
        ("portscope audit --sarif > portscope.sarif", "SARIF 2.1.0 for code-scanning dashboards."),
        ("portscope audit --allowlist portscope-audit.toml --show-allowed", "With accepted findings, and show what they silence."),
        ]
    )
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
    after_help = help(
        "OK when something listens on PORT (and --bind / --process hold); \
CRITICAL when nothing does, when a listener is on all interfaces with --bind loopback, when all \
are on loopback with --bind any, or when another process holds it with --process; WARNING for a \
listener on one non-loopback address with --bind loopback; UNKNOWN when the owner cannot be \
seen with --process (run as root). Perfdata: listeners=N.\n\
Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also for a bad argument value; an \
unknown flag or a missing argument is a usage error: exit 2).",
        &[
        ("portscope check listen 6379 --bind loopback --process redis-server", "Redis listens, on loopback only, and it is redis-server."),
        ("portscope check listen 53/udp", "Something is bound to UDP port 53."),
        ]
    )
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
    after_help = help(
        "Like check_tcp -H HOST -p PORT: the response time is measured from \
the start to the connection (with --expect: to the end of reading the banner). Refused: \
CRITICAL (-r); no connection or no data within --timeout: CRITICAL; a banner without the \
expected string: WARNING (-M). Perfdata: time=Ns;WARN;CRIT;0;TIMEOUT.\n\
Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also for a bad argument value; an \
unknown flag or a missing argument is a usage error: exit 2).",
        &[
        ("portscope check connect 127.0.0.1:8080 -w 0.5 -c 1", "WARNING above 0.5 s to connect, CRITICAL above 1 s."),
        ("portscope check connect '[::1]:22' -e SSH-2.0 -t 2", "The banner must contain SSH-2.0, within 2 s."),
        ]
    )
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
    after_help = help(
        "OK when the audit finds nothing (or only informational findings), \
WARNING when the worst finding is a warning, CRITICAL when one is critical. The status line \
names the top findings; one long-output line per finding follows. Perfdata: critical=N \
warning=N info=N.\n\
Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also for a bad argument value; an \
unknown flag or a missing argument is a usage error: exit 2).",
        &[
        ("portscope check audit", "OK, WARNING or CRITICAL from the audit's worst finding."),
        ("portscope check audit --no-probe --allowlist /etc/portscope/audit.toml", "Faster, with the accepted findings left out."),
        ]
    )
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
#[command(after_help = help("", &[
        ("portscope exporter", "Serve /metrics on 127.0.0.1:9797 for Prometheus."),
        ("portscope exporter --listen 127.0.0.1:0 --probe", "Any free port (printed at start), with probe-based audit metrics."),
        ("portscope exporter --textfile /var/lib/prometheus/node-exporter/portscope.prom", "Write once for node_exporter's textfile collector (from a timer)."),
]))]
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

impl From<FailOn> for crate::commands::audit::FailOn {
    fn from(fail_on: FailOn) -> Self {
        use crate::commands::audit::FailOn as Verb;
        match fail_on {
            FailOn::Info => Verb::Info,
            FailOn::Warning => Verb::Warning,
            FailOn::Critical => Verb::Critical,
            FailOn::Never => Verb::Never,
        }
    }
}
