//! `check audit`: CRITICAL naming the top findings, WARNING, OK with only an informational
//! finding, and OK with none.

use portscope::audit::AuditFinding;
use portscope::commands::check::audit::AuditFacts;
use portscope::commands::check::{Perf, State};
use portscope::model::{Hidden, Severity};

use super::{check, hidden_line, pin_check};
use crate::golden::monitoring::{audit_report, hidden_service, jdwp_loopback};

/// The long-output lines of `jdwp_loopback()` and `hidden_service()`.
const JDWP_LINE: &str = "[warning] AUD-DEBUGGER-LOOPBACK on 5005/tcp 127.0.0.1 java[4250]: JDWP \
                         debug agent (java[4250]) listens on 127.0.0.1:5005: any local user or \
                         process can attach and run code as user dev";
const SERVICE_LINE: &str = "[info] AUD-EXPOSED-SERVICE on 2024/tcp 0.0.0.0: an unidentified \
                            service (owner hidden) listens on all interfaces (0.0.0.0:2024)";

fn audit_facts(findings: Vec<AuditFinding>, allowed: usize, hidden: Hidden) -> AuditFacts {
    let count = |s: Severity| findings.iter().filter(|f| f.finding.severity == s).count();
    AuditFacts {
        critical: count(Severity::Critical),
        warning: count(Severity::Warning),
        info: count(Severity::Info),
        allowed,
        listeners: 9,
        findings,
        hidden,
    }
}

fn severity_perf(critical: usize, warning: usize, info: usize) -> Vec<Perf> {
    vec![
        Perf::count("critical", critical),
        Perf::count("warning", warning),
        Perf::count("info", info),
    ]
}

/// `check audit`: CRITICAL naming the top three, `+1 more`, the allowed and hidden counts; one
/// long-output line per finding, then the hidden-owner line.
#[test]
fn check_audit_critical() {
    let report = audit_report();
    let hidden = report.hidden.clone();
    let hidden_detail = hidden_line(&hidden);
    let mut r = check(
        "audit",
        "AUDIT",
        State::Critical,
        "2 critical, 2 warning: AUD-EXPOSED-DATASTORE on 6379/tcp, AUD-EXPOSED-DEBUGGER on \
         9229/tcp, AUD-DEBUGGER-LOOPBACK on 5005/tcp (+1 more); 1 allowed; 1 socket(s) with a \
         hidden owner",
        severity_perf(2, 2, 1),
        &[
            "[critical] AUD-EXPOSED-DATASTORE on 6379/tcp 0.0.0.0 redis-server[4242]: Redis \
             (redis-server[4242]) answers without a password on all interfaces (0.0.0.0:6379): \
             anyone who can reach this machine can read and change its data",
            "[critical] AUD-EXPOSED-DEBUGGER on 9229/tcp 0.0.0.0 node[4243]: Node.js inspector \
             (node[4243]) listens on all interfaces (0.0.0.0:9229): anyone who can reach this \
             machine can run code as user dev",
            JDWP_LINE,
            "[warning] AUD-UNIX-WORLD-WRITABLE on /run/acme/agent.sock acme-agent[812]: \
             /run/acme/agent.sock: a unix socket of a root process (acme-agent[812] (user root)) \
             is writable by every user",
            SERVICE_LINE,
            &hidden_detail,
        ],
    );
    r.audit = Some(audit_facts(report.findings, report.allowed.len(), hidden));
    pin_check("monitoring-check-audit-critical", r);
}

/// `check audit`: WARNING when the worst finding is a warning.
#[test]
fn check_audit_warning() {
    let mut r = check(
        "audit",
        "AUDIT",
        State::Warning,
        "1 warning: AUD-DEBUGGER-LOOPBACK on 5005/tcp",
        severity_perf(0, 1, 0),
        &[JDWP_LINE],
    );
    r.audit = Some(audit_facts(vec![jdwp_loopback()], 0, Hidden::default()));
    pin_check("monitoring-check-audit-warning", r);
}

/// `check audit`: OK with only an informational finding (counted in the text).
#[test]
fn check_audit_ok_info() {
    let mut r = check(
        "audit",
        "AUDIT",
        State::Ok,
        "1 informational finding(s) on 9 listening socket(s)",
        severity_perf(0, 0, 1),
        &[SERVICE_LINE],
    );
    r.audit = Some(audit_facts(vec![hidden_service()], 0, Hidden::default()));
    pin_check("monitoring-check-audit-ok-info", r);
}

/// `check audit`: OK, no findings.
#[test]
fn check_audit_clean() {
    let mut r = check(
        "audit",
        "AUDIT",
        State::Ok,
        "no findings on 9 listening socket(s)",
        severity_perf(0, 0, 0),
        &[],
    );
    r.audit = Some(audit_facts(vec![], 0, Hidden::default()));
    pin_check("monitoring-check-audit-clean", r);
}
