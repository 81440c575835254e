//! The `bench` engine: timed connects, request round trips and bulk throughput against a
//! loopback echo/discard server (TCP or a unix socket), on plain std sockets and threads so
//! one connection is measured with `Instant` and nothing in between.

mod measure;
mod stats;
mod unix;

pub use measure::{
    CONNECT_TIMEOUT, Endpoint, IO_TIMEOUT, Stop, THROUGHPUT_CHUNK, measure_connects,
    measure_discard, measure_echo_throughput, measure_round_trips,
};
pub use stats::{Stats, Throughput, percentile, round};
pub use unix::UnixServers;

use serde::Serialize;

/// A line `bench` prints while it runs (`event` names what happened).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum BenchLine {
    /// A server was started for this run.
    ServerStarted {
        /// `echo` or `discard`.
        kind: &'static str,
        /// `tcp` or `unix`.
        transport: &'static str,
        /// Where it listens (IP:PORT or a socket path).
        address: String,
    },
    /// A measurement starts.
    PhaseStarted {
        /// `tcp` or `unix`.
        transport: &'static str,
        /// `round_trip`, `connect` or `throughput`.
        phase: &'static str,
        /// What it measures against (IP:PORT or a socket path).
        target: String,
        /// How many connects or requests (absent for throughput).
        #[serde(skip_serializing_if = "Option::is_none")]
        count: Option<u64>,
        /// Bytes per request (round trips only).
        #[serde(skip_serializing_if = "Option::is_none")]
        size_bytes: Option<u64>,
        /// How long it writes (throughput only).
        #[serde(skip_serializing_if = "Option::is_none")]
        duration_s: Option<f64>,
        /// Throughput only: `discard` (write only) or `echo` (write and read back at once).
        #[serde(skip_serializing_if = "Option::is_none")]
        mode: Option<&'static str>,
    },
}
