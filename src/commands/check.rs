//! `check …`: monitoring plugins in the Nagios plugin convention (one status line with
//! perfdata; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).

use serde::Serialize;

use crate::cli::CheckCommand;
use crate::commands::Ui;
use crate::error::{Error, Result};
use crate::exit::Exit;

/// A plugin's result.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {}

/// Run a `check` plugin.
pub fn run(_cmd: &CheckCommand, _ui: &dyn Ui) -> Result<(CheckReport, Exit)> {
    Err(Error::Unsupported {
        what: "check".into(),
        why: "not built yet".into(),
    })
}
