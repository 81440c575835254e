//! `audit`: run the audit rules and decide the exit code from `--fail-on`.

use std::path::PathBuf;

use serde::Serialize;

use crate::error::Result;
use crate::exit::Exit;
use crate::model::Severity;

use super::{Report, Ui};

/// The least severe finding that fails the audit (exit 1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FailOn {
    /// Any finding, informational included.
    Info,
    /// Warnings and critical findings.
    #[default]
    Warning,
    /// Critical findings only.
    Critical,
    /// Never (report only).
    Never,
}

/// What `audit` examines and how it answers. The default is `portscope audit`: every
/// listener, probed, the allowlist from its default places, failing on warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Exit 1 when a finding (not allowlisted) is at least this severe.
    pub fail_on: FailOn,
    /// The allowlist of accepted findings (`None`: the default places, when present).
    pub allowlist: Option<PathBuf>,
    /// Probe listeners (else findings are made from the port and the owner only).
    pub probe: bool,
    /// Print SARIF 2.1.0 instead of a table.
    pub sarif: bool,
    /// Also list the findings the allowlist silenced.
    pub show_allowed: bool,
    /// Audit only the listeners on these ports (none: every listener).
    pub ports: Vec<u16>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            fail_on: FailOn::default(),
            allowlist: None,
            probe: true,
            sarif: false,
            show_allowed: false,
            ports: Vec::new(),
        }
    }
}

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
pub fn run(opts: &Options, ui: &dyn Ui) -> Result<(Report, Exit)> {
    let audit_opts = crate::audit::AuditOptions {
        probe: opts.probe,
        allowlist: opts.allowlist.clone(),
    };
    let watch = crate::probe::engine::Watch {
        progress: &|done, total| ui.progress(done, total),
        stop: &|| ui.cancelled(),
    };
    let audit = crate::audit::audit_ports_with(&audit_opts, &opts.ports, watch)?;
    let failed = threshold(opts.fail_on)
        .zip(audit.worst())
        .is_some_and(|(limit, worst)| worst >= limit);
    let code = if failed { Exit::Nothing } else { Exit::Success };
    let report = AuditCommandReport {
        audit,
        fail_on: fail_on_name(opts.fail_on),
        failed,
        sarif: opts.sarif,
        show_allowed: opts.show_allowed,
    };
    Ok((Report::Audit(Box::new(report)), code))
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
