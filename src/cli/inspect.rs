//! Arguments of the commands that look at ports now: `ls`, `who`, `explain`, `probe` and
//! `doctor`.

use clap::Args;

use super::StoreArgs;

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
