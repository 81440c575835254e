//! Arguments of the port-lifecycle commands: `kill`, `wait`, `pick`, `reserve`, `release`,
//! `run`, `check-config` and `env`.

use clap::Args;

use super::examples::help;

use super::StoreArgs;

/// Arguments of `kill`.
#[derive(Debug, Clone, Args)]
#[command(after_help = help("", &[
        ("portscope kill 3000", "Show who holds port 3000, ask, stop them (TERM, then KILL), check it is free."),
        ("portscope kill 3000 --dry-run", "What would be stopped and with which signals; changes nothing."),
        ("portscope kill 3000,5173 8000-8010 --yes", "In a script: free them without asking; a port nothing holds is no error."),
        ("portscope kill 9229 --signal INT --timeout 2s", "Ctrl+C-like first, SIGKILL after 2 s."),
]))]
pub struct KillArgs {
    /// The port(s) to free.
    #[arg(
        value_name = "TARGET",
        required = true,
        help = "The port(s) to free: 8080, 8080/tcp, udp/53, 127.0.0.1:8080, [::1]:9229, 3000-3010; several: 3000,5173 or 3000 5173"
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
    /// Signal the holders of a container's port, docker-proxy included, instead of stopping
    /// the container through its engine.
    #[arg(long)]
    pub force: bool,
    /// After freeing a port, how long to watch it for a watcher starting its holder again
    /// (only when the holder's parent could): 2s, 500ms, 0 to not watch.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "2s",
        allow_hyphen_values = true
    )]
    pub respawn_wait: String,
}

/// Arguments of `wait`.
#[derive(Debug, Clone, Args)]
#[command(after_help = help(
    "Exit codes: 0 the condition was met, 1 the timeout came first, 2 bad input (a name that \
does not resolve), 3 could not read the system.",
    &[
        ("portscope wait 5173 && open http://localhost:5173/", "Until the dev server accepts connections (127.0.0.1 or ::1)."),
        ("portscope wait http://localhost:3000/health --timeout 2m", "Until GET /health answers with a status below 400."),
        ("portscope wait 8080 --free", "Until nothing listens on 8080 (after a kill, before a restart)."),
    ],
))]
pub struct WaitArgs {
    /// What to wait for: 3000, 127.0.0.1:3000, localhost:3000, db:5432, or a URL
    /// (http://localhost:3000/health implies --http with its path).
    #[arg(value_name = "TARGET", allow_hyphen_values = true)]
    pub target: Option<String>,
    /// Wait until it answers HTTP (GET PATH, default /) with a status below 400.
    #[arg(long, value_name = "PATH", num_args = 0..=1, default_missing_value = "/", conflicts_with = "free")]
    pub http: Option<String>,
    /// Wait until nothing listens on (or is bound to) the port for any of its addresses.
    #[arg(long)]
    pub free: bool,
    /// Give up after this long (exit 1): 30s, 500ms, 2m.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "30s",
        allow_hyphen_values = true
    )]
    pub timeout: String,
    /// How long between looks.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "200ms",
        allow_hyphen_values = true
    )]
    pub interval: String,
}

/// Arguments of `pick`.
#[derive(Debug, Clone, Args)]
#[command(after_help = help("", &[
        ("portscope pick", "A free port outside the ephemeral range, held for you for 60 s."),
        ("portscope pick --count 3 --udp", "Three ports free on both TCP and UDP."),
        ("portscope pick --range 8000-8999 --host 127.0.0.1", "A port in 8000-8999 free on 127.0.0.1."),
        ("python3 -m http.server \"$(portscope pick)\"", "Start a server on it."),
]))]
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
#[command(after_help = help("", &[
        ("portscope reserve myapp", "The port reserved for myapp: the same one every time."),
        ("portscope reserve api.web --port 8081", "Reserve exactly 8081 for api.web."),
        ("portscope reserve --list", "Every reservation, with its owner directory."),
        ("portscope reserve --prune", "Forget reservations whose directory is gone."),
]))]
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
#[command(after_help = help("", &[
        ("portscope release myapp", "Forget myapp's reservation: its port may be handed out again."),
        ("portscope release shop/worker-metrics", "Forget a service reservation made by `portscope env`."),
]))]
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
    after_help = help(
        "Without --name or --port, a free port is picked (and held for the command \
until it listens). A port another process listens on is refused: nothing is started, exit 1.\n\
Ctrl+C in the terminal reaches the command directly; a signal sent to portscope (kill -TERM) \
is passed on. When the command ends, what it left running is stopped (SIGTERM, then SIGKILL) \
and the port is checked free.\n\
Exit status: the command's own; 128+N when signal N ended it; 1 when the port was held; \
2 bad input (no such program, a bad port or name); 3 could not read the system.",
        &[
        ("portscope run -- python3 -m http.server '$PORT'", "A free port in $PORT; says when it listens, frees the port at exit."),
        ("portscope run --name myapp -- npm run dev", "Runs with PORT set to myapp's reserved port."),
        ("portscope run --port 5173 --probe -- npx vite --port '$PORT'", "A fixed port, and the URL's scheme from a probe."),
        ]
    )
)]
pub struct RunArgs {
    /// Use this name's reservation, made now if it has none (owner directory: the current
    /// one).
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    pub name: Option<String>,
    /// Use this port (with --name: a new reservation gets it; an existing one must have it).
    #[arg(short, long, value_name = "PORT", allow_hyphen_values = true)]
    pub port: Option<String>,
    /// The HOST exported to the command (and put in its arguments for $HOST): an address
    /// of this machine (0.0.0.0 or :: for every interface), localhost, or a name that
    /// resolves to an address of this machine.
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
