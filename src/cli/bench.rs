//! Arguments of `bench`.

use clap::Args;

use super::examples::help;

/// Arguments of `bench`.
#[derive(Debug, Clone, Default, Args)]
#[command(after_help = help("", &[
        ("portscope bench", "Loopback connect and round-trip percentiles and throughput, against servers it starts."),
        ("portscope bench --unix", "The same, with a unix-socket baseline to compare."),
        ("portscope bench 127.0.0.1:7000 --requests 10000", "Round trips against your echo server on port 7000."),
]))]
pub struct BenchArgs {
    /// An echo-capable loopback target (default: servers started for the run).
    #[arg(
        value_name = "TARGET",
        allow_hyphen_values = true,
        help = "An echo-capable loopback target: PORT, IP:PORT or [IPv6]:PORT (default: a `serve echo` and a `serve discard` started for the run)"
    )]
    pub target: Option<String>,
    /// Fresh TCP connections to time (1-10000; default 200).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub connects: Option<String>,
    /// Request round trips to time on one connection (1-1000000; default 1000).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub requests: Option<String>,
    /// Bytes per request (1 to 1MiB; default 64): 64, 4KiB, 1MiB.
    #[arg(long, value_name = "BYTES", allow_hyphen_values = true)]
    pub size: Option<String>,
    /// How long to measure throughput (up to 60s; default 2s): 500ms, 2s, 10s.
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub duration: Option<String>,
    /// A loopback discard target for throughput (default: the discard server started for the
    /// run; with an explicit TARGET and no --discard, throughput is measured through the echo).
    #[arg(long, value_name = "TARGET", allow_hyphen_values = true)]
    pub discard: Option<String>,
    /// Also measure against unix-socket echo/discard servers started for the run, and compare
    /// TCP with them side by side.
    #[arg(long)]
    pub unix: bool,
}
