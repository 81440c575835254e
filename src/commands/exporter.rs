//! `exporter`: Prometheus metrics about this machine's ports, served on loopback or written
//! once to a textfile.

use serde::Serialize;

use crate::cli::ExporterArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;

/// What the exporter did.
#[derive(Debug, Clone, Serialize)]
pub struct ExporterReport {}

/// Run `exporter`.
pub fn run(_args: &ExporterArgs) -> Result<(ExporterReport, Exit)> {
    Err(Error::Unsupported {
        what: "exporter".into(),
        why: "not built yet".into(),
    })
}
