//! SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format) for the audit, so code
//! scanning dashboards (GitHub, GitLab, DefectDojo…) can take its findings. Plain structs
//! with the spec's field names; [`Log::from_report`] builds one run: the tool with every rule
//! (id, short description, help), and one result per finding — allowed findings included, as
//! suppressed results with the allowlist's reason as justification.
//!
//! A listening socket is not a file, so each result's location is a logical location named
//! like `tcp/0.0.0.0:6379` (kind `resource`), and its subject is in `properties`.

use serde::Serialize;

use super::catalog::{self, RuleInfo};
use super::{AuditFinding, AuditReport, Subject};
use crate::model::Severity;

/// The schema SARIF consumers validate against.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// A SARIF log (`sarifLog`).
#[derive(Debug, Clone, Serialize)]
pub struct Log {
    /// The JSON schema URI.
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    /// `2.1.0`.
    pub version: &'static str,
    /// One run.
    pub runs: Vec<Run>,
}

/// One run of one tool.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// The tool.
    pub tool: Tool,
    /// The invocation (did it complete, and what could not be seen).
    pub invocations: Vec<Invocation>,
    /// One result per finding.
    pub results: Vec<SarifResult>,
}

/// The tool.
#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    /// portscope.
    pub driver: Driver,
}

/// The tool component that ran.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Driver {
    /// `portscope`.
    pub name: &'static str,
    /// Its version.
    pub version: &'static str,
    /// The same, as semantic version.
    pub semantic_version: &'static str,
    /// Every rule, whether or not it found anything.
    pub rules: Vec<ReportingDescriptor>,
}

/// A rule (`reportingDescriptor`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportingDescriptor {
    /// The stable code.
    pub id: &'static str,
    /// The code in UpperCamelCase, as SARIF viewers show rule names.
    pub name: String,
    /// What it finds.
    pub short_description: Message,
    /// What it finds, and how serious it is at most.
    pub full_description: Message,
    /// Why it matters and how to fix it.
    pub help: Message,
    /// The level of its findings unless a result says otherwise.
    pub default_configuration: Configuration,
    /// `tags` and GitHub's `security-severity`.
    pub properties: RuleProperties,
}

/// A rule's default configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Configuration {
    /// `error`, `warning` or `note`.
    pub level: &'static str,
}

/// Properties of a rule.
#[derive(Debug, Clone, Serialize)]
pub struct RuleProperties {
    /// `security`, `network`.
    pub tags: Vec<&'static str>,
    /// A CVSS-like score GitHub code scanning uses to rank security alerts.
    #[serde(rename = "security-severity")]
    pub security_severity: &'static str,
}

/// A text message.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    /// The text.
    pub text: String,
}

/// How the run went.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invocation {
    /// Always true: a failed audit produces no SARIF, but an error.
    pub execution_successful: bool,
    /// Notes, such as sockets with a hidden owner.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_execution_notifications: Vec<Notification>,
}

/// A note about the run.
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    /// The text.
    pub message: Message,
    /// `warning` or `note`.
    pub level: &'static str,
}

/// One finding (`result`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifResult {
    /// The rule's code.
    pub rule_id: &'static str,
    /// Its index in `tool.driver.rules`.
    pub rule_index: usize,
    /// `error` (critical), `warning`, `note` (info).
    pub level: &'static str,
    /// The finding's title.
    pub message: Message,
    /// Where: a logical location naming the socket.
    pub locations: Vec<Location>,
    /// A stable identity of the finding across runs (rule and subject, no pid).
    pub partial_fingerprints: Fingerprints,
    /// Set when the allowlist accepted the finding.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suppressions: Vec<Suppression>,
    /// Severity, evidence, fix, subject.
    pub properties: ResultProperties,
}

/// A location.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    /// The socket as a logical location.
    pub logical_locations: Vec<LogicalLocation>,
}

/// A logical location (`tcp/0.0.0.0:6379`, `unix:/run/x.sock`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogicalLocation {
    /// The name.
    pub name: String,
    /// The same, fully qualified.
    pub fully_qualified_name: String,
    /// `resource`.
    pub kind: &'static str,
}

/// Fingerprints of a result.
#[derive(Debug, Clone, Serialize)]
pub struct Fingerprints {
    /// `CODE:proto:address:port:process`.
    #[serde(rename = "portscopeFinding/v1")]
    pub finding: String,
}

/// A suppression by the allowlist.
#[derive(Debug, Clone, Serialize)]
pub struct Suppression {
    /// `external`: decided in a file outside the scanned "source".
    pub kind: &'static str,
    /// `accepted`.
    pub status: &'static str,
    /// The allowlist entry's reason.
    pub justification: String,
}

/// The rest of a finding.
#[derive(Debug, Clone, Serialize)]
pub struct ResultProperties {
    /// `critical`, `warning`, `info`.
    pub severity: Severity,
    /// Facts seen.
    pub evidence: Vec<String>,
    /// What to do.
    pub fix: Vec<String>,
    /// What it is about.
    pub subject: Subject,
}

/// The SARIF level of a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.0",
        Severity::Warning => "5.5",
        Severity::Info => "2.0",
    }
}

/// `AUD-EXPOSED-DATASTORE` → `ExposedDatastore`.
fn camel(code: &str) -> String {
    code.trim_start_matches("AUD-")
        .split('-')
        .map(|w| {
            let lower = w.to_ascii_lowercase();
            let mut c = lower.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn descriptor(r: &RuleInfo) -> ReportingDescriptor {
    ReportingDescriptor {
        id: r.code,
        name: camel(r.code),
        short_description: Message {
            text: r.summary.to_string(),
        },
        full_description: Message {
            text: format!(
                "{} Severity: up to {}.",
                r.summary,
                match r.severity {
                    Severity::Critical => "critical",
                    Severity::Warning => "warning",
                    Severity::Info => "info",
                }
            ),
        },
        help: Message {
            text: r.help.to_string(),
        },
        default_configuration: Configuration {
            level: level(r.severity),
        },
        properties: RuleProperties {
            tags: vec!["security", "network"],
            security_severity: security_severity(r.severity),
        },
    }
}

fn result(f: &AuditFinding, reason: Option<&str>) -> SarifResult {
    let s = &f.subject;
    let location = s.location();
    SarifResult {
        rule_id: f.finding.code,
        rule_index: catalog::RULES
            .iter()
            .position(|r| r.code == f.finding.code)
            .unwrap_or(0),
        level: level(f.finding.severity),
        message: Message {
            text: f.finding.title.clone(),
        },
        locations: vec![Location {
            logical_locations: vec![LogicalLocation {
                name: location.clone(),
                fully_qualified_name: location.clone(),
                kind: "resource",
            }],
        }],
        partial_fingerprints: Fingerprints {
            finding: format!(
                "{}:{}:{}",
                f.finding.code,
                location,
                s.process.as_deref().unwrap_or("")
            ),
        },
        suppressions: reason
            .map(|r| Suppression {
                kind: "external",
                status: "accepted",
                justification: r.to_string(),
            })
            .into_iter()
            .collect(),
        properties: ResultProperties {
            severity: f.finding.severity,
            evidence: f.finding.evidence.clone(),
            fix: f.finding.fix.clone(),
            subject: s.clone(),
        },
    }
}

impl Log {
    /// The SARIF log of an audit.
    pub fn from_report(r: &AuditReport) -> Log {
        let mut notes = Vec::new();
        if r.hidden.sockets > 0 {
            notes.push(Notification {
                message: Message {
                    text: format!(
                        "{} socket(s) with a hidden owner: {}; {}",
                        r.hidden.sockets, r.hidden.reason, r.hidden.hint
                    ),
                },
                level: "warning",
            });
        }
        if !r.probed {
            notes.push(Notification {
                message: Message {
                    text: "listeners were not probed (--no-probe): findings that need a probe's answer rest on the port and the process".into(),
                },
                level: "note",
            });
        }
        let results = r
            .findings
            .iter()
            .map(|f| result(f, None))
            .chain(
                r.allowed
                    .iter()
                    .map(|a| result(&a.finding, Some(&a.reason))),
            )
            .collect();
        Log {
            schema: SCHEMA,
            version: "2.1.0",
            runs: vec![Run {
                tool: Tool {
                    driver: Driver {
                        name: "portscope",
                        version: env!("CARGO_PKG_VERSION"),
                        semantic_version: env!("CARGO_PKG_VERSION"),
                        rules: catalog::RULES.iter().map(descriptor).collect(),
                    },
                },
                invocations: vec![Invocation {
                    execution_successful: true,
                    tool_execution_notifications: notes,
                }],
                results,
            }],
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::audit::{Allowed, finding};

    fn report() -> AuditReport {
        let subject = |port: u16, process: &str| Subject {
            port: Some(port),
            proto: Some("tcp".into()),
            address: Some("0.0.0.0".into()),
            pid: Some(42),
            process: Some(process.into()),
        };
        AuditReport {
            findings: vec![finding(
                "AUD-EXPOSED-DATASTORE",
                Severity::Critical,
                "Redis answers without a password".into(),
                vec!["seen".into()],
                vec!["redis-server --bind 127.0.0.1".into()],
                subject(6379, "redis-server"),
            )],
            allowed: vec![Allowed {
                finding: finding(
                    "AUD-EXPOSED-WEB",
                    Severity::Info,
                    "a web server".into(),
                    vec![],
                    vec![],
                    subject(443, "nginx"),
                ),
                reason: "public".into(),
            }],
            listeners: 2,
            probed: true,
            ..AuditReport::default()
        }
    }

    #[test]
    fn the_log_has_the_required_shape() {
        let v = serde_json::to_value(Log::from_report(&report())).unwrap();
        assert_eq!(v["version"], "2.1.0");
        assert!(v["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
        let run = &v["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), catalog::RULES.len());
        for r in rules {
            assert!(r["id"].as_str().unwrap().starts_with("AUD-"));
            assert!(!r["shortDescription"]["text"].as_str().unwrap().is_empty());
            assert!(!r["help"]["text"].as_str().unwrap().is_empty());
        }
        assert_eq!(run["tool"]["driver"]["name"], "portscope");
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 2);
        let first = &results[0];
        assert_eq!(first["ruleId"], "AUD-EXPOSED-DATASTORE");
        assert_eq!(first["level"], "error");
        let index = first["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], "AUD-EXPOSED-DATASTORE");
        assert_eq!(
            first["locations"][0]["logicalLocations"][0]["name"],
            "tcp/0.0.0.0:6379"
        );
        assert!(first.get("suppressions").is_none());
        assert_eq!(results[1]["level"], "note");
        assert_eq!(results[1]["suppressions"][0]["justification"], "public");
        assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    }

    #[test]
    fn names_are_upper_camel_case() {
        assert_eq!(camel("AUD-EXPOSED-DATASTORE"), "ExposedDatastore");
        assert_eq!(camel("AUD-ROOT-HIGH-PORT"), "RootHighPort");
    }
}
