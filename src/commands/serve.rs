//! `serve`: see [`crate::traffic::serve`].

use serde::Serialize;

use crate::cli::ServeArgs;
use crate::commands::Ui;
use crate::error::{Error, Result};
use crate::exit::Exit;

/// What `serve` did (printed when it stops).
#[derive(Debug, Clone, Serialize)]
pub struct ServeReport {}

/// Run `serve`.
pub fn run(_args: &ServeArgs, _ui: &dyn Ui) -> Result<(ServeReport, Exit)> {
    Err(Error::bad_input("serve is not built yet", "another command"))
}
