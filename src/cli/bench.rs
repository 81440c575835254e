//! Arguments of `bench`.

use clap::Args;

/// Arguments of `bench`.
#[derive(Debug, Clone, Default, Args)]
pub struct BenchArgs {
    /// An echo-capable target: PORT, IP:PORT or [IPv6]:PORT (default: a `serve echo`
    /// started for the run).
    #[arg(value_name = "TARGET", allow_hyphen_values = true)]
    pub target: Option<String>,
}
