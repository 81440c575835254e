//! Arguments of `tap`.

use std::path::PathBuf;

use clap::Args;

use super::examples::help;

/// Arguments of `tap`.
#[derive(Debug, Clone, Default, Args)]
#[command(after_help = help("", &[
        ("portscope tap 3000", "A line per connection to or from port 3000 (needs CAP_NET_RAW or root)."),
        ("portscope tap 5432 -w pg.pcap --duration 30s", "Also write a pcap file for Wireshark; stop after 30 s."),
]))]
pub struct TapArgs {
    /// The port to watch on loopback (TCP and UDP, either end).
    #[arg(value_name = "PORT")]
    pub port: String,
    /// Also write every captured packet to this pcap file (Wireshark, tshark, tcpdump -r);
    /// created mode 0600, since it holds the payloads.
    #[arg(long = "write", short = 'w', value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// Stop after this long (default: until Ctrl-C).
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
    /// Stop after capturing this many packets.
    #[arg(long, short = 'c', value_name = "N")]
    pub count: Option<u64>,
}
