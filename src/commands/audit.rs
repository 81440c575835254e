//! `audit`: run the audit rules and decide the exit code from `--fail-on`.

use serde::Serialize;

use crate::cli::AuditArgs;
use crate::commands::Ui;
use crate::error::Result;
use crate::exit::Exit;

/// The report of `audit` (the audit itself plus how it was asked for).
#[derive(Debug, Clone, Serialize)]
pub struct AuditCommandReport {
    /// The findings.
    #[serde(flatten)]
    pub audit: crate::audit::AuditReport,
}

/// Run `audit`.
pub fn run(args: &AuditArgs, _ui: &dyn Ui) -> Result<(AuditCommandReport, Exit)> {
    let audit = crate::audit::audit(&crate::audit::AuditOptions {
        probe: !args.no_probe,
        allowlist: args.allowlist.clone(),
    })?;
    Ok((AuditCommandReport { audit }, Exit::Success))
}
