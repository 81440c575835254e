//! The `tap` engine.

use serde::Serialize;

/// A line `tap` prints while it runs.
#[derive(Debug, Clone, Serialize)]
pub struct TapLine {
    /// What happened.
    pub event: String,
}
