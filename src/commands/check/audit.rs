//! `check audit`: the audit's findings as a plugin — OK when there are none (or only
//! informational ones), WARNING or CRITICAL after the worst; the status line names the top
//! findings, the long output lists every one, perfdata counts them by severity.

use std::path::PathBuf;

use serde::Serialize;

use super::{CheckReport, Perf, State, hidden_detail, safe};
use crate::audit::{AuditFinding, AuditOptions};
use crate::error::Result;
use crate::model::{Hidden, Severity};

/// The status line's first word.
pub const SERVICE: &str = "AUDIT";
/// How many findings the status line names before `+N more`.
const NAMED: usize = 3;

/// How `check audit` audits. The default is `portscope check audit`: listeners probed, the
/// allowlist from its default places.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The allowlist of accepted findings (`None`: the default places, when present).
    pub allowlist: Option<PathBuf>,
    /// Probe listeners.
    pub probe: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            allowlist: None,
            probe: true,
        }
    }
}

/// What `check audit` saw (JSON).
#[derive(Debug, Clone, Serialize)]
pub struct AuditFacts {
    /// Critical findings.
    pub critical: usize,
    /// Warnings.
    pub warning: usize,
    /// Informational findings.
    pub info: usize,
    /// Findings the allowlist silenced.
    pub allowed: usize,
    /// Listening sockets examined.
    pub listeners: usize,
    /// The findings, most severe first (as `audit --json` has them).
    pub findings: Vec<AuditFinding>,
    /// Sockets whose owner could not be seen.
    pub hidden: Hidden,
}

/// Run the plugin.
pub fn run(opts: &Options) -> Result<CheckReport> {
    let report = crate::audit::audit(&AuditOptions {
        probe: opts.probe,
        allowlist: opts.allowlist.clone(),
    })?;
    let mut findings = report.findings;
    // Most severe first, whatever order the audit used (stable: its order breaks ties).
    findings.sort_by_key(|f| std::cmp::Reverse(f.finding.severity));
    let count = |s: Severity| findings.iter().filter(|f| f.finding.severity == s).count();
    let facts = AuditFacts {
        critical: count(Severity::Critical),
        warning: count(Severity::Warning),
        info: count(Severity::Info),
        allowed: report.allowed.len(),
        listeners: report.listeners,
        findings,
        hidden: report.hidden,
    };
    Ok(verdict(facts))
}

fn verdict(facts: AuditFacts) -> CheckReport {
    let state = match facts.findings.iter().map(|f| f.finding.severity).max() {
        Some(Severity::Critical) => State::Critical,
        Some(Severity::Warning) => State::Warning,
        Some(Severity::Info) | None => State::Ok,
    };
    let mut summary = if state == State::Ok {
        let what = match facts.info {
            0 => "no findings".to_string(),
            n => format!("{n} informational finding(s)"),
        };
        format!("{what} on {} listening socket(s)", facts.listeners)
    } else {
        let mut counts = Vec::new();
        if facts.critical > 0 {
            counts.push(format!("{} critical", facts.critical));
        }
        if facts.warning > 0 {
            counts.push(format!("{} warning", facts.warning));
        }
        let serious: Vec<&AuditFinding> = facts
            .findings
            .iter()
            .filter(|f| f.finding.severity > Severity::Info)
            .collect();
        let named: Vec<String> = serious.iter().take(NAMED).map(|f| short(f)).collect();
        let more = match serious.len().saturating_sub(NAMED) {
            0 => String::new(),
            n => format!(" (+{n} more)"),
        };
        format!("{}: {}{more}", counts.join(", "), named.join(", "))
    };
    if facts.allowed > 0 {
        summary.push_str(&format!("; {} allowed", facts.allowed));
    }
    if facts.hidden.sockets > 0 {
        summary.push_str(&format!(
            "; {} socket(s) with a hidden owner",
            facts.hidden.sockets
        ));
    }
    let mut report = CheckReport::new("audit", SERVICE, state, summary);
    report.perfdata = vec![
        Perf::count("critical", facts.critical),
        Perf::count("warning", facts.warning),
        Perf::count("info", facts.info),
    ];
    report.details = facts.findings.iter().map(line).collect();
    report.details.extend(hidden_detail(&facts.hidden));
    report.audit = Some(facts);
    report
}

/// `AUD-REDIS-NOAUTH on 6379/tcp`.
fn short(f: &AuditFinding) -> String {
    let mut text = f.finding.code.to_string();
    if let Some(port) = f.subject.port {
        text.push_str(&format!(" on {port}"));
        if let Some(proto) = &f.subject.proto {
            text.push_str(&format!("/{}", safe(proto)));
        }
    } else if let Some(addr) = &f.subject.address {
        text.push_str(&format!(" on {}", safe(addr)));
    }
    text
}

/// `[critical] AUD-REDIS-NOAUTH on 6379/tcp 0.0.0.0 redis-server[812]: title`.
fn line(f: &AuditFinding) -> String {
    let sev = match f.finding.severity {
        Severity::Critical => "critical",
        Severity::Warning => "warning",
        Severity::Info => "info",
    };
    let mut text = format!("[{sev}] {}", short(f));
    if f.subject.port.is_some()
        && let Some(addr) = &f.subject.address
    {
        text.push_str(&format!(" {}", safe(addr)));
    }
    match (&f.subject.process, f.subject.pid) {
        (Some(name), Some(pid)) => text.push_str(&format!(" {}", super::proc_label(name, pid))),
        (Some(name), None) => text.push_str(&format!(" {}", safe(name))),
        (None, Some(pid)) => text.push_str(&format!(" pid {pid}")),
        (None, None) => {}
    }
    text.push_str(&format!(": {}", safe(&f.finding.title)));
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::audit::Subject;
    use crate::model::Finding;

    fn finding(code: &'static str, severity: Severity, port: u16) -> AuditFinding {
        AuditFinding {
            finding: Finding {
                code,
                severity,
                title: format!("{code} title\nwith | bar"),
                evidence: vec![],
                fix: vec![],
            },
            subject: Subject {
                port: Some(port),
                proto: Some("tcp".into()),
                address: Some("0.0.0.0".into()),
                pid: Some(42),
                process: Some("redis-server".into()),
            },
        }
    }

    fn facts(findings: Vec<AuditFinding>) -> AuditFacts {
        let count = |s| {
            findings
                .iter()
                .filter(|f: &&AuditFinding| f.finding.severity == s)
                .count()
        };
        AuditFacts {
            critical: count(Severity::Critical),
            warning: count(Severity::Warning),
            info: count(Severity::Info),
            allowed: 0,
            listeners: 7,
            findings,
            hidden: Hidden::default(),
        }
    }

    #[test]
    fn clean_and_informational_are_ok() {
        let r = verdict(facts(vec![]));
        assert_eq!(
            (r.state, r.summary.as_str()),
            (State::Ok, "no findings on 7 listening socket(s)")
        );
        let r = verdict(facts(vec![finding("AUD-INFO", Severity::Info, 1)]));
        assert_eq!(r.state, State::Ok);
        assert!(
            r.summary.starts_with("1 informational finding(s)"),
            "{}",
            r.summary
        );
        let perf: Vec<(&str, f64, Option<f64>)> = r
            .perfdata
            .iter()
            .map(|p| (p.label.as_str(), p.value, p.min))
            .collect();
        assert_eq!(
            perf,
            [
                ("critical", 0.0, Some(0.0)),
                ("warning", 0.0, Some(0.0)),
                ("info", 1.0, Some(0.0))
            ]
        );
    }

    #[test]
    fn the_worst_decides_and_the_top_are_named() {
        let r = verdict(facts(vec![
            finding("AUD-A", Severity::Critical, 6379),
            finding("AUD-B", Severity::Critical, 2375),
            finding("AUD-C", Severity::Warning, 9229),
            finding("AUD-D", Severity::Warning, 5005),
            finding("AUD-E", Severity::Info, 22),
        ]));
        assert_eq!(r.state, State::Critical);
        assert_eq!(
            r.summary,
            "2 critical, 2 warning: AUD-A on 6379/tcp, AUD-B on 2375/tcp, AUD-C on 9229/tcp (+1 more)"
        );
        assert_eq!(r.details.len(), 5);
        assert_eq!(
            r.details[0],
            "[critical] AUD-A on 6379/tcp 0.0.0.0 redis-server[42]: AUD-A title\\x0awith \\x7c bar"
        );
        let r = verdict(facts(vec![finding("AUD-C", Severity::Warning, 9229)]));
        assert_eq!(
            (r.state, r.summary.as_str()),
            (State::Warning, "1 warning: AUD-C on 9229/tcp")
        );
    }
}
