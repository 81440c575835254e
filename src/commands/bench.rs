//! `bench`: see [`crate::traffic::bench`].

use serde::Serialize;

use crate::cli::BenchArgs;
use crate::commands::Ui;
use crate::error::{Error, Result};
use crate::exit::Exit;

/// What `bench` did (printed when it stops).
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {}

/// Run `bench`.
pub fn run(_args: &BenchArgs, _ui: &dyn Ui) -> Result<(BenchReport, Exit)> {
    Err(Error::bad_input("bench is not built yet", "another command"))
}
