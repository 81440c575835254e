//! The `forward` engine.

use serde::Serialize;

/// A line `forward` prints while it runs.
#[derive(Debug, Clone, Serialize)]
pub struct ForwardLine {
    /// What happened.
    pub event: String,
}
