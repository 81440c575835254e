//! `run`: start a dev server on its reserved (or a freshly picked) port with `PORT` and
//! `HOST` set, watch it listen, and free the port when it exits.

use serde::Serialize;

use crate::cli::RunArgs;
use crate::commands::Ui;
use crate::error::{Error, Result};
use crate::exit::Exit;

/// Something that happened while the child runs.
#[derive(Debug, Clone, Serialize)]
pub enum RunNotice {}

/// How the run ended.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {}

/// Run `run`.
pub fn run(_args: &RunArgs, _ui: &dyn Ui) -> Result<(RunReport, Exit)> {
    Err(Error::Unsupported {
        what: "run".into(),
        why: "not built yet".into(),
    })
}
