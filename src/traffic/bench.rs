//! The `bench` engine.

use serde::Serialize;

/// A line `bench` prints while it runs.
#[derive(Debug, Clone, Serialize)]
pub struct BenchLine {
    /// What happened.
    pub event: String,
}
