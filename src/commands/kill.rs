//! `kill`: free a port — find every process holding it, show them, ask, signal, escalate,
//! and check the port is free afterwards.

use serde::Serialize;

use crate::cli::KillArgs;
use crate::commands::Ui;
use crate::error::{Error, Result};
use crate::exit::Exit;

/// What `kill` is about to do (shown before asking).
#[derive(Debug, Clone, Serialize)]
pub struct KillPlan {}

/// What `kill` did.
#[derive(Debug, Clone, Serialize)]
pub struct KillReport {}

/// Run `kill`.
pub fn run(_args: &KillArgs, _ui: &dyn Ui) -> Result<(KillReport, Exit)> {
    Err(Error::Unsupported {
        what: "kill".into(),
        why: "not built yet".into(),
    })
}
