//! Arguments of the commands that follow listeners over time and keep state: `watch`,
//! `daemon`, `history`, `ui`, and the `--state-dir` every stateful command shares.

use clap::Args;

use super::examples::help;

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
    /// Stop after this long, 100ms to 24h (default: until q or Ctrl+C in the view, SIGINT,
    /// SIGTERM or SIGHUP).
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
#[command(after_help = help("", &[
        ("portscope watch", "A live terminal view of listeners opening and closing."),
        ("portscope watch --events | jq -c 'select(.event == \"listen-opened\")'", "One JSON line per event, for scripts."),
        ("portscope watch --record --interval 500ms", "Watch and keep the events in the history store."),
]))]
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
#[command(after_help = help("", &[
        ("portscope daemon", "Record listener events into the history store until stopped."),
        ("portscope daemon --keep 7d --max-size 64MiB", "Keep a week of events, at most 64 MiB."),
        ("portscope daemon --events --state-dir /var/lib/portscope", "Record into a system-wide store and print each event."),
]))]
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
#[command(after_help = help("", &[
        ("portscope history 3000", "Who listened on port 3000, from when to when, and how it ended."),
        ("portscope history --since 1h", "Every event of the last hour."),
        ("portscope history 8080 --since '2026-11-22 13:40' --process node", "Node's listeners on 8080 since that time."),
]))]
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

/// Arguments of `ui`.
#[derive(Debug, Clone, Default, Args)]
#[command(after_help = help("", &[
        ("portscope ui", "The dashboard on 127.0.0.1:62893 (or a free port); prints its URL with a token."),
        ("portscope ui --open", "The same, opened in the browser."),
        ("PORTSCOPE_UI_TOKEN=\"$(openssl rand -hex 16)\" portscope ui --listen 0.0.0.0:8099", "Reachable from other hosts, with a token you choose."),
        ("portscope ui --listen 0.0.0.0:8099 --token-file ~/.config/portscope/ui-token", "The same, the token read from a file only you may read."),
]))]
pub struct UiArgs {
    /// Where to serve the dashboard (default: 127.0.0.1:62893 when free, else a free
    /// loopback port).
    #[arg(
        long,
        value_name = "ADDR:PORT",
        allow_hyphen_values = true,
        help = "Where to serve the dashboard: IP:PORT or [IPv6]:PORT (port 0 = any free port). Default: 127.0.0.1:62893 when free, else any free loopback port. A non-loopback address needs a token (--token-file, $PORTSCOPE_UI_TOKEN or --token)"
    )]
    pub listen: Option<String>,
    /// The access token (default: $PORTSCOPE_UI_TOKEN, else 32 random bytes, new each run);
    /// required with a non-loopback --listen. Every local user can read a command line:
    /// prefer --token-file or $PORTSCOPE_UI_TOKEN (a warning says so).
    #[arg(long, value_name = "TOKEN", allow_hyphen_values = true)]
    pub token: Option<String>,
    /// Read the access token from this file: its text, without the trailing newline
    /// (16-256 characters from A-Z a-z 0-9 - . _ ~). A warning says when the file's group
    /// or others may read it (chmod 600 it).
    #[arg(long, value_name = "PATH", conflicts_with = "token")]
    pub token_file: Option<std::path::PathBuf>,
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
