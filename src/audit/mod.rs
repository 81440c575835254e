//! Audit rules over the snapshot and probe results: what listens where it should not, what
//! answers without a password, what grants code execution. One file per rule family; each
//! finding carries a stable code, a severity, evidence, a fix, and the subject it is about
//! (for the allowlist and for Prometheus labels).

use serde::Serialize;

use crate::error::Result;
use crate::model::{Finding, Hidden, Severity};

/// What to audit with.
#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    /// Probe listeners to confirm what they are and whether they ask for authentication.
    pub probe: bool,
    /// The allowlist file; `None` = the default places, when present.
    pub allowlist: Option<std::path::PathBuf>,
}

/// What a finding is about (the allowlist matches on it; the exporter labels with it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Subject {
    /// The port, for socket findings.
    pub port: Option<u16>,
    /// `tcp` / `udp` / `unix`.
    pub proto: Option<String>,
    /// The local address (or unix socket path).
    pub address: Option<String>,
    /// The owning process's pid.
    pub pid: Option<u32>,
    /// The owning process's name.
    pub process: Option<String>,
}

/// One audit finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditFinding {
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
    /// What it is about.
    pub subject: Subject,
}

/// A finding the allowlist silenced, and why it was accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Allowed {
    /// The finding.
    #[serde(flatten)]
    pub finding: AuditFinding,
    /// The allowlist entry's reason.
    pub reason: String,
}

/// Everything the audit found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditReport {
    /// Findings, most severe first.
    pub findings: Vec<AuditFinding>,
    /// Findings the allowlist silenced.
    pub allowed: Vec<Allowed>,
    /// How many listening sockets were examined.
    pub listeners: usize,
    /// The allowlist file used, if any.
    pub allowlist: Option<std::path::PathBuf>,
    /// Sockets whose owner could not be seen (their findings may lack a process).
    pub hidden: Hidden,
}

impl AuditReport {
    /// The most severe finding's severity (`None` when clean).
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.finding.severity).max()
    }
}

/// Run every audit rule.
pub fn audit(_opts: &AuditOptions) -> Result<AuditReport> {
    Ok(AuditReport::default())
}
