//! `check-config` and `env`: a project's `ports.toml` against reservations and what listens.

use serde::Serialize;

use crate::cli::ProjectArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;

/// What `check-config` found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {}

/// The `NAME_PORT=…` lines of `env`.
#[derive(Debug, Clone, Serialize)]
pub struct EnvReport {}

/// Run `check-config`.
pub fn check(_args: &ProjectArgs) -> Result<(CheckReport, Exit)> {
    Err(Error::Unsupported {
        what: "check-config".into(),
        why: "not built yet".into(),
    })
}

/// Run `env`.
pub fn env(_args: &ProjectArgs) -> Result<(EnvReport, Exit)> {
    Err(Error::Unsupported {
        what: "env".into(),
        why: "not built yet".into(),
    })
}
