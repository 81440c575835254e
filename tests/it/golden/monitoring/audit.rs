//! `audit`: findings of every severity with evidence and fixes, `--show-allowed`, a clean
//! machine, `--no-probe`, and the `--sarif` log.

use portscope::audit::AuditReport;
use portscope::audit::sarif;
use portscope::commands::Report;
use portscope::commands::audit::AuditCommandReport;
use portscope::model::Severity;

use super::{REDIS_BIND, REDIS_WHY, WILDCARD, audit_report, finding, tcp};
use crate::golden::{pin, pin_text};

fn audit_command(audit: AuditReport, show_allowed: bool, sarif: bool) -> Report {
    let failed = audit.worst().is_some_and(|w| w >= Severity::Warning);
    Report::Audit(Box::new(AuditCommandReport {
        audit,
        fail_on: "warning",
        failed,
        sarif,
        show_allowed,
    }))
}

/// Critical, warning and info findings with evidence and fixes; the allowed one only counted.
#[test]
fn audit_findings() {
    pin(
        "monitoring-audit-findings",
        &audit_command(audit_report(), false, false),
    );
}

/// `--show-allowed`: the allowlisted finding listed with its reason and the allowlist's path.
#[test]
fn audit_show_allowed() {
    pin(
        "monitoring-audit-show-allowed",
        &audit_command(audit_report(), true, false),
    );
}

/// A clean machine: no findings, nothing allowed, nothing hidden.
#[test]
fn audit_clean() {
    let audit = AuditReport {
        listeners: 4,
        probed: true,
        ..AuditReport::default()
    };
    pin(
        "monitoring-audit-clean",
        &audit_command(audit, false, false),
    );
}

/// `--no-probe`: a Redis that could not be asked is a warning, and the table says why.
#[test]
fn audit_no_probe() {
    let redis = finding(
        "AUD-EXPOSED-DATASTORE",
        Severity::Warning,
        "Redis (redis-server[4242]) listens on all interfaces (0.0.0.0:6379); whether it asks for \
         a password is unknown (not probed)",
        &[
            "tcp 0.0.0.0:6379 LISTEN, held by redis-server[4242] (user redis)",
            WILDCARD,
            REDIS_WHY,
        ],
        &[REDIS_BIND],
        tcp(6379, "0.0.0.0", Some(("redis-server", 4242))),
    );
    let audit = AuditReport {
        findings: vec![redis],
        listeners: 1,
        probed: false,
        ..AuditReport::default()
    };
    pin(
        "monitoring-audit-no-probe",
        &audit_command(audit, false, false),
    );
}

/// `--sarif`: the SARIF 2.1.0 log in place of the table (every rule, one result per finding,
/// the allowed one suppressed, the hidden owner as a notification). With `--json` the envelope
/// is printed instead, the same as `monitoring-audit-findings.json`.
#[test]
fn audit_sarif() {
    let report = audit_command(audit_report(), false, true);
    let text = portscope::render::report(
        &report,
        &portscope::config::Config {
            json: false,
            color: false,
            pretty: true,
            progress: false,
            width: None,
        },
    );
    let log: serde_json::Value = serde_json::from_str(&text).expect("SARIF is JSON");
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(log["$schema"], sarif::SCHEMA);
    pin_text("monitoring-audit-sarif.txt", &text, &[]);
}
