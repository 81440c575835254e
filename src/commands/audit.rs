//! `audit`: run the audit rules and decide the exit code from `--fail-on`.

use serde::Serialize;

use crate::cli::{AuditArgs, FailOn};
use crate::commands::Ui;
use crate::error::Result;
use crate::exit::Exit;
use crate::model::Severity;

/// The report of `audit` (the audit itself plus how it was asked for).
#[derive(Debug, Clone, Serialize)]
pub struct AuditCommandReport {
    /// The findings.
    #[serde(flatten)]
    pub audit: crate::audit::AuditReport,
    /// `--fail-on`: `info`, `warning`, `critical` or `never`.
    pub fail_on: &'static str,
    /// Whether a finding reached `--fail-on` (exit code 1).
    pub failed: bool,
    /// `--sarif`: print SARIF 2.1.0 instead of the table.
    #[serde(skip)]
    pub sarif: bool,
    /// `--show-allowed`: list the findings the allowlist silenced too.
    #[serde(skip)]
    pub show_allowed: bool,
}

/// The least severity that fails the audit (`None`: nothing does).
pub fn threshold(fail_on: FailOn) -> Option<Severity> {
    match fail_on {
        FailOn::Info => Some(Severity::Info),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Critical => Some(Severity::Critical),
        FailOn::Never => None,
    }
}

fn fail_on_name(fail_on: FailOn) -> &'static str {
    match fail_on {
        FailOn::Info => "info",
        FailOn::Warning => "warning",
        FailOn::Critical => "critical",
        FailOn::Never => "never",
    }
}

/// Run `audit`: exit 1 when a finding (not allowed) is at least as severe as `--fail-on`.
pub fn run(args: &AuditArgs, _ui: &dyn Ui) -> Result<(AuditCommandReport, Exit)> {
    let opts = crate::audit::AuditOptions {
        probe: !args.no_probe,
        allowlist: args.allowlist.clone(),
    };
    let audit = crate::audit::audit_ports(&opts, &args.ports)?;
    let failed = threshold(args.fail_on)
        .zip(audit.worst())
        .is_some_and(|(limit, worst)| worst >= limit);
    let code = if failed { Exit::Nothing } else { Exit::Success };
    Ok((
        AuditCommandReport {
            audit,
            fail_on: fail_on_name(args.fail_on),
            failed,
            sarif: args.sarif,
            show_allowed: args.show_allowed,
        },
        code,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_follow_severity() {
        assert_eq!(threshold(FailOn::Info), Some(Severity::Info));
        assert_eq!(threshold(FailOn::Never), None);
        assert!(Severity::Critical >= threshold(FailOn::Warning).unwrap_or(Severity::Critical));
    }
}
