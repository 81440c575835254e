//! `portscope history [TARGET]`: who listened on a port, from when to when, and how it ended.
//!
//! STUB: being written.

use std::path::PathBuf;

use serde::Serialize;

use crate::cli::HistoryArgs;
use crate::error::Result;
use crate::exit::Exit;
use crate::store::history::{Stay, Stored};

/// The answer to `history`.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryReport {
    /// The store read (`None`: no history recorded yet).
    pub store: Option<PathBuf>,
    /// A target's listeners, oldest first.
    pub stays: Vec<Stay>,
    /// Without a target: the recent events, oldest first.
    pub events: Vec<Stored>,
}

/// Run `history`.
pub fn run(args: &HistoryArgs) -> Result<(HistoryReport, Exit)> {
    let store = super::watch::store_path(&args.store);
    Ok((
        HistoryReport {
            store,
            stays: Vec::new(),
            events: Vec::new(),
        },
        Exit::Nothing,
    ))
}
