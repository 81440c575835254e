//! Arguments of `forward`.

use clap::Args;

use super::examples::help;

/// Arguments of `forward`.
#[derive(Debug, Clone, Default, Args)]
#[command(after_help = help("", &[
        ("portscope forward 8080 127.0.0.1:3000", "Relay 127.0.0.1:8080 to port 3000, a line per connection."),
        ("portscope forward '[::1]:5173' 127.0.0.1:5173", "Make an IPv4-only dev server reachable on ::1."),
        ("portscope forward 5353 127.0.0.1:53 --udp", "Relay UDP (DNS) too."),
]))]
pub struct ForwardArgs {
    /// Where to accept connections.
    #[arg(
        value_name = "LISTEN",
        allow_hyphen_values = true,
        help = "Where to accept connections: PORT (on 127.0.0.1), IP:PORT or [IPv6]:PORT"
    )]
    pub listen: String,
    /// Where to relay them.
    #[arg(
        value_name = "TARGET",
        allow_hyphen_values = true,
        help = "Where to relay them: PORT (on 127.0.0.1), IP:PORT or [IPv6]:PORT"
    )]
    pub target: String,
    /// Relay UDP datagrams instead of TCP connections.
    #[arg(long)]
    pub udp: bool,
    /// Accept clients only from these networks (repeatable; default: loopback only).
    #[arg(long, value_name = "CIDR")]
    pub allow: Vec<String>,
    /// At most this many connections at once; more are refused.
    #[arg(long, value_name = "N", default_value = "1024")]
    pub max_conns: String,
    /// Close a connection after this long with no traffic either way.
    #[arg(long, value_name = "DURATION", default_value = "10m")]
    pub idle_timeout: String,
    /// No line per connection.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}
