//! Arguments of the commands that look at ports now: `ls`, `who`, `explain`, `probe` and
//! `doctor`.

use clap::Args;

use super::examples::help;

use super::StoreArgs;

/// Flags of `ls`.
#[derive(Debug, Clone, Default, Args)]
#[command(after_help = help("", &[
        ("portscope ls", "Every listening TCP and UDP socket: address, exposure, process, user."),
        ("portscope ls --state established --process node", "The connections node processes have open."),
        ("portscope ls --tcp -4 --json | jq '.sockets[].local.port'", "The ports of IPv4 TCP listeners, for a script."),
        ("portscope ls --unix --user postgres", "Also unix sockets, only those of postgres's processes."),
]))]
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
#[command(after_help = help("", &[
        ("portscope who 3000", "Who holds port 3000: every socket on it, each process in full."),
        ("portscope who 127.0.0.1:62893", "That address only, with the process at the other end of its loopback connections."),
        ("portscope who pid:1234", "Every socket process 1234 holds."),
        ("portscope who 8080 --json | jq '.sockets[].pids'", "The pids holding port 8080, for a script."),
]))]
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
#[command(after_help = help("", &[
        ("portscope explain 127.0.0.1:62893", "What that address means here: range, IANA entry, who holds it, who held it."),
        ("portscope explain 5432", "What port 5432 usually is, and what is on it now."),
        ("portscope explain http://localhost:5173/ --probe", "Also ask what speaks there (read-only probes)."),
]))]
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
#[command(after_help = help("", &[
        ("portscope probe", "Identify what speaks on every listening TCP port."),
        ("portscope probe 6379 localhost:5432", "Just those two: protocol, product, version, whether it wants a password."),
        ("portscope probe 53/udp", "Ask the DNS server on port 53 one question."),
        ("portscope probe https://localhost:8443 --json", "TLS facts (certificate, names, expiry) as JSON."),
]))]
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
#[command(after_help = help("", &[
        ("portscope doctor localhost:5173", "Why connecting fails: dials 127.0.0.1 and ::1 as clients do, says which clients reach the server, names the cause and the fix."),
        ("portscope doctor 3000", "Probes what the port speaks and asks GET / when it is HTTP: exit 0 works, 1 a problem, 3 undecided (an unknown protocol)."),
        ("portscope doctor --bind localhost:8080", "Why a server cannot listen there: a test bind at every address localhost resolves to."),
        ("portscope doctor https://localhost:8443/api --env-from 4242", "Send the URL's own request (over TLS, the certificate verified as curl does) with the proxy settings of the failing client, pid 4242."),
]))]
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
    /// Read the client's proxy variables (http_proxy, no_proxy, …) from this process's
    /// environment instead of portscope's own: for a failing client that is a running
    /// program.
    #[arg(long, value_name = "PID")]
    pub env_from: Option<String>,
    /// The client runs in this container (name or id, asked of Docker or Podman): look at
    /// the port from inside its network namespace, where localhost is the container's own.
    #[arg(long, value_name = "CONTAINER", conflicts_with = "bind")]
    pub from_container: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub store: StoreArgs,
}
