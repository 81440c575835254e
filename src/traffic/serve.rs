//! The `serve` engine.

use serde::Serialize;

/// A line `serve` prints while it runs.
#[derive(Debug, Clone, Serialize)]
pub struct ServeLine {
    /// What happened.
    pub event: String,
}
