//! `forward`: see [`crate::traffic::forward`].

use serde::Serialize;

use crate::cli::ForwardArgs;
use crate::commands::Ui;
use crate::error::{Error, Result};
use crate::exit::Exit;

/// What `forward` did (printed when it stops).
#[derive(Debug, Clone, Serialize)]
pub struct ForwardReport {}

/// Run `forward`.
pub fn run(_args: &ForwardArgs, _ui: &dyn Ui) -> Result<(ForwardReport, Exit)> {
    Err(Error::bad_input("forward is not built yet", "another command"))
}
