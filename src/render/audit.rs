//! `audit`: findings grouped by severity, each with its code, title, evidence and fix (the
//! doctor's layout), then one summary line — or the SARIF 2.1.0 log with `--sarif`.

use super::style::Palette;
use crate::audit::sarif::Log;
use crate::audit::{AuditFinding, AuditReport};
use crate::commands::audit::AuditCommandReport;
use crate::model::Severity;
use crate::text;

/// The human report (or SARIF).
/// `width`: the terminal's, to wrap the hidden-owner note (`None` when piped).
pub fn render(r: &AuditCommandReport, pal: &Palette, width: Option<usize>) -> String {
    if r.sarif {
        return sarif(&r.audit);
    }
    let a = &r.audit;
    let mut out = String::new();
    for (severity, name) in [
        (Severity::Critical, "CRITICAL"),
        (Severity::Warning, "WARNING"),
        (Severity::Info, "INFO"),
    ] {
        let group: Vec<&AuditFinding> = a
            .findings
            .iter()
            .filter(|f| f.finding.severity == severity)
            .collect();
        if group.is_empty() {
            continue;
        }
        let header = format!("{name} ({})", group.len());
        let header = match severity {
            Severity::Info => pal.header(&header),
            _ => pal.warn(&header),
        };
        out.push_str(&format!("{header}\n"));
        for f in group {
            finding(&mut out, f, pal);
        }
        out.push('\n');
    }
    if r.show_allowed && !a.allowed.is_empty() {
        let from = a
            .allowlist
            .as_ref()
            .map(|p| format!(" by {}", text::terminal(&p.display().to_string())))
            .unwrap_or_default();
        out.push_str(&format!(
            "{}\n",
            pal.dim(&format!("ALLOWED ({}){from}", a.allowed.len()))
        ));
        for allowed in &a.allowed {
            finding(&mut out, &allowed.finding, pal);
            out.push_str(&format!("  allowed: {}\n", text::terminal(&allowed.reason)));
        }
        out.push('\n');
    }
    out.push_str(&summary(a, r.show_allowed));
    out.push('\n');
    if !a.probed {
        out.push_str(
            "not probed (--no-probe): findings that need a probe's answer rest on the port and the process\n",
        );
    }
    if let Some(line) = super::hidden_line(&a.hidden, pal, width) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// One finding: code and title, then `seen:` and `fix:` lines.
fn finding(out: &mut String, f: &AuditFinding, pal: &Palette) {
    out.push_str(&format!(
        "\n{}  {}\n",
        pal.header(f.finding.code),
        text::terminal(&f.finding.title)
    ));
    for e in &f.finding.evidence {
        out.push_str(&format!("  seen: {}\n", text::terminal(e)));
    }
    for x in &f.finding.fix {
        out.push_str(&format!("  fix:  {}\n", text::terminal(x)));
    }
}

/// `N findings: a critical, b warning, c info (M listeners examined, K allowed)`.
fn summary(a: &AuditReport, show_allowed: bool) -> String {
    let n = a.findings.len();
    let allowed = match a.allowed.len() {
        0 => "0 allowed".to_string(),
        k if show_allowed => format!("{k} allowed"),
        k => format!("{k} allowed: --show-allowed lists them"),
    };
    format!(
        "{n} finding{}: {} critical, {} warning, {} info ({} listener{} examined, {allowed})",
        if n == 1 { "" } else { "s" },
        a.count(Severity::Critical),
        a.count(Severity::Warning),
        a.count(Severity::Info),
        a.listeners,
        if a.listeners == 1 { "" } else { "s" },
    )
}

/// The SARIF log, indented.
fn sarif(a: &AuditReport) -> String {
    let log = Log::from_report(a);
    // Serialising plain structs cannot fail; if it ever does, say so in JSON.
    let text =
        serde_json::to_string_pretty(&log).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text + "\n"
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::audit::{Allowed, Subject};
    use crate::model::Finding;

    fn f(code: &'static str, severity: Severity, port: u16) -> AuditFinding {
        AuditFinding {
            finding: Finding {
                code,
                severity,
                title: format!("title of {code}\x1b[31m"),
                evidence: vec!["seen this".into()],
                fix: vec!["do that".into()],
            },
            subject: Subject {
                port: Some(port),
                ..Subject::default()
            },
        }
    }

    fn report(show_allowed: bool, sarif: bool) -> AuditCommandReport {
        AuditCommandReport {
            audit: AuditReport {
                findings: vec![
                    f("AUD-EXPOSED-DATASTORE", Severity::Critical, 6379),
                    f("AUD-ROOT-HIGH-PORT", Severity::Warning, 6379),
                    f("AUD-EXPOSED-SERVICE", Severity::Info, 2024),
                ],
                allowed: vec![Allowed {
                    finding: f("AUD-EXPOSED-AUTHENTICATED", Severity::Warning, 22),
                    reason: "keys only".into(),
                }],
                listeners: 7,
                probed: true,
                ..AuditReport::default()
            },
            fail_on: "warning",
            failed: true,
            sarif,
            show_allowed,
        }
    }

    #[test]
    fn findings_are_grouped_and_summed_up() {
        let text = render(&report(false, false), &Palette::new(false), None);
        let crit = text.find("CRITICAL (1)").unwrap();
        let warn = text.find("WARNING (1)").unwrap();
        let info = text.find("INFO (1)").unwrap();
        assert!(crit < warn && warn < info, "{text}");
        assert!(text.contains("\nAUD-EXPOSED-DATASTORE  title of AUD-EXPOSED-DATASTORE\\x1b[31m\n  seen: seen this\n  fix:  do that\n"), "{text}");
        assert!(!text.contains("keys only"), "{text}");
        assert!(
            text.contains("3 findings: 1 critical, 1 warning, 1 info (7 listeners examined, 1 allowed: --show-allowed lists them)\n"),
            "{text}"
        );
        let shown = render(&report(true, false), &Palette::new(false), None);
        assert!(
            shown.contains("ALLOWED (1)") && shown.contains("  allowed: keys only\n"),
            "{shown}"
        );
        assert!(
            shown.contains("(7 listeners examined, 1 allowed)\n"),
            "{shown}"
        );
    }

    #[test]
    fn sarif_is_json() {
        let text = render(&report(false, true), &Palette::new(true), None);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["version"], "2.1.0");
        assert_eq!(v["runs"][0]["results"].as_array().unwrap().len(), 4);
    }
}
