//! `tap`: see [`crate::traffic::tap`].

use serde::Serialize;

use crate::cli::TapArgs;
use crate::commands::Ui;
use crate::error::{Error, Result};
use crate::exit::Exit;

/// What `tap` did (printed when it stops).
#[derive(Debug, Clone, Serialize)]
pub struct TapReport {}

/// Run `tap`.
pub fn run(_args: &TapArgs, _ui: &dyn Ui) -> Result<(TapReport, Exit)> {
    Err(Error::bad_input("tap is not built yet", "another command"))
}
