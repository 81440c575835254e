//! The Prometheus text exposition format (version 0.0.4), written by hand: `# HELP` and
//! `# TYPE` once per family, label values escaped (`\\`, `\"`, `\n`), one sample per line.
//! (The `prometheus-client` crate writes OpenMetrics instead — `info` types, `# EOF` — which
//! the 0.0.4 content type does not promise.)
//!
//! Also here: the exporter's few lines for standard error (startup, warnings, collector
//! failures, shutdown), because a long-running server cannot hand them back to `main`.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;

use crate::commands::exporter::ExporterReport;
use crate::commands::exporter::collect::{Collector, Holder, Metrics};
use crate::knowledge::addr_class::Exposure;
use crate::model::Severity;

/// The `Content-Type` of `/metrics`.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What `exporter` prints on standard output when it ends: nothing. Its output is the
/// metrics (served, or in the textfile); a cron job or timer stays quiet on success, and
/// problems go to standard error as they happen. `--json` prints the report.
pub fn render_report(_r: &ExporterReport) -> String {
    String::new()
}

/// The metrics as exposition text.
pub fn metrics(m: &Metrics) -> String {
    let mut out = Out::with_capacity(256 + m.listeners.len() * 128);
    out.family(
        "portscope_build_info",
        "gauge",
        "portscope's version (info series: the value is always 1).",
    );
    out.sample(
        "portscope_build_info",
        &[("version", env!("CARGO_PKG_VERSION"))],
        1,
    );
    scrape(&mut out, m);
    listeners(&mut out, m);
    sockets(&mut out, m);
    audit(&mut out, m);
    out.text
}

/// How many samples (non-comment lines) an exposition text holds.
pub fn sample_count(text: &str) -> usize {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count()
}

fn scrape(out: &mut Out, m: &Metrics) {
    out.family(
        "portscope_scrape_duration_seconds",
        "gauge",
        "How long collecting these metrics took.",
    );
    out.sample("portscope_scrape_duration_seconds", &[], m.seconds);
    out.family(
        "portscope_scrape_collector_duration_seconds",
        "gauge",
        "How long each collector took.",
    );
    for c in &m.collectors {
        out.sample(
            "portscope_scrape_collector_duration_seconds",
            &[("collector", c.collector.name())],
            c.seconds,
        );
    }
    out.family(
        "portscope_scrape_collector_success",
        "gauge",
        "1 if the collector worked in this scrape, 0 if it failed (its series are then missing).",
    );
    for c in &m.collectors {
        out.sample(
            "portscope_scrape_collector_success",
            &[("collector", c.collector.name())],
            u8::from(c.error.is_none()),
        );
    }
    if let Some(errors) = &m.errors_total {
        out.family(
            "portscope_scrape_errors_total",
            "counter",
            "Collections in which the collector failed, since the exporter started.",
        );
        for c in Collector::ALL {
            out.sample(
                "portscope_scrape_errors_total",
                &[("collector", c.name())],
                errors[c.index()],
            );
        }
    }
}

fn listeners(out: &mut Out, m: &Metrics) {
    out.family(
        "portscope_listener_info",
        "gauge",
        "A listening TCP socket or bound UDP socket (info series: the value is always 1; one \
         series per distinct port, proto, address, exposure and process; process is the owner's \
         name, \"(hidden)\" when it may not be inspected, \"(none)\" when no process holds it).",
    );
    for l in &m.listeners {
        let port = l.port.to_string();
        let process = match &l.process {
            Holder::Process(name) => name.as_str(),
            Holder::Hidden => "(hidden)",
            Holder::Nobody => "(none)",
        };
        let mut labels = vec![
            ("port", port.as_str()),
            ("proto", l.proto.as_str()),
            ("address", &l.address),
            ("exposure", exposure_label(l.exposure)),
            ("process", process),
        ];
        if let Some((name, image)) = &l.container {
            labels.push(("container", name));
            labels.push(("image", image));
        }
        out.sample("portscope_listener_info", &labels, 1);
    }
    out.family(
        "portscope_hidden_sockets",
        "gauge",
        "Listening sockets whose owning process could not be inspected (grant CAP_SYS_PTRACE \
         and CAP_DAC_READ_SEARCH, or run as root, to see them).",
    );
    if let Some(n) = m.hidden_sockets {
        out.sample("portscope_hidden_sockets", &[], n);
    }
    out.family(
        "portscope_ownerless_sockets",
        "gauge",
        "Listening sockets no process holds right now: the process is exiting, or the descriptor \
         is in flight over a unix socket (SCM_RIGHTS). Not hidden: no permission would show more, \
         so they are not in portscope_hidden_sockets.",
    );
    if let Some(n) = m.ownerless_sockets {
        out.sample("portscope_ownerless_sockets", &[], n);
    }
    out.family(
        "portscope_hidden_processes",
        "gauge",
        "Processes whose file descriptors could not be read.",
    );
    if let Some(n) = m.hidden_processes {
        out.sample("portscope_hidden_processes", &[], n);
    }
}

fn sockets(out: &mut Out, m: &Metrics) {
    out.family(
        "portscope_sockets",
        "gauge",
        "TCP and UDP sockets by protocol and kernel state (UDP close = unconnected).",
    );
    for c in &m.sockets {
        out.sample(
            "portscope_sockets",
            &[("proto", c.proto.as_str()), ("state", c.state.name())],
            c.count,
        );
    }
}

fn audit(out: &mut Out, m: &Metrics) {
    out.family(
        "portscope_audit_findings",
        "gauge",
        "Audit findings by rule and severity (allowlisted findings excluded).",
    );
    for f in &m.findings {
        out.sample(
            "portscope_audit_findings",
            &[("rule", f.rule), ("severity", severity_label(f.severity))],
            f.count,
        );
    }
    out.family(
        "portscope_audit_finding_info",
        "gauge",
        "One audit finding and what it is about (info series: the value is always 1).",
    );
    for f in &m.finding_series {
        let port = f.port.map(|p| p.to_string());
        let mut labels = vec![("rule", f.rule), ("severity", severity_label(f.severity))];
        let optional = [
            ("port", port.as_deref()),
            ("proto", f.proto.as_deref()),
            ("address", f.address.as_deref()),
            ("process", f.process.as_deref()),
        ];
        labels.extend(optional.iter().filter_map(|(k, v)| v.map(|v| (*k, v))));
        out.sample("portscope_audit_finding_info", &labels, 1);
    }
    out.family(
        "portscope_audit_allowed_findings",
        "gauge",
        "Audit findings the allowlist accepted, by rule and severity.",
    );
    for f in &m.allowed {
        out.sample(
            "portscope_audit_allowed_findings",
            &[("rule", f.rule), ("severity", severity_label(f.severity))],
            f.count,
        );
    }
}

/// The `exposure` label value (as in JSON).
fn exposure_label(e: Exposure) -> &'static str {
    match e {
        Exposure::Loopback => "loopback",
        Exposure::AllInterfaces => "all_interfaces",
        Exposure::Specific => "specific",
    }
}

/// The `severity` label value (as in JSON).
fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Critical => "critical",
    }
}

/// An exposition text being written.
struct Out {
    text: String,
}

impl Out {
    fn with_capacity(n: usize) -> Out {
        Out {
            text: String::with_capacity(n),
        }
    }

    /// `# HELP` and `# TYPE` of a family.
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.text, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }

    /// One sample line.
    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.text.push(',');
                }
                self.text.push_str(k);
                self.text.push_str("=\"");
                escape_label_value(&mut self.text, v);
                self.text.push('"');
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {value}");
    }
}

/// Append a label value with `\`, `"` and newline escaped.
fn escape_label_value(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A HELP text with `\` and newline escaped.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Write one of the exporter's lines to standard error (the server runs for days; these
/// are its log).
pub fn notice(line: &str) {
    use std::io::Write as _;
    // A closed standard error must not bring the server down.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// `portscope exporter: serving http://127.0.0.1:9797/metrics`.
pub fn startup_line(addr: SocketAddr) -> String {
    format!("portscope exporter: serving http://{addr}/metrics\n")
}

/// The warning for a non-loopback `--listen`, if it is one.
pub fn exposure_warning(addr: SocketAddr) -> Option<String> {
    (!addr.ip().is_loopback()).then(|| {
        format!(
            "portscope exporter: warning: {addr} is not loopback: whoever can reach it can read \
             which processes listen on which ports here; firewall it, or use --listen 127.0.0.1:{}\n",
            addr.port()
        )
    })
}

/// A collector failed (`Some(error)`) or works again (`None`).
pub fn collector_line(c: Collector, error: Option<&str>) -> String {
    let name = c.name();
    match error {
        Some(e) => {
            let e = crate::text::terminal(&e.replace(['\n', '\r'], " ")).into_owned();
            format!("portscope exporter: the {name} collector failed: {e}\n")
        }
        None => format!("portscope exporter: the {name} collector works again\n"),
    }
}

/// The last line of a server run.
pub fn stopped_line(signal: &str, collections: u64) -> String {
    format!("portscope exporter: stopped by {signal} after {collections} collection(s)\n")
}

/// `--textfile` names a file node_exporter will not read.
pub fn textfile_name_warning(path: &Path) -> String {
    format!(
        "portscope exporter: warning: node_exporter's textfile collector reads only *.prom \
         files; {} will be ignored by it\n",
        crate::text::echo(&path.to_string_lossy())
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::commands::exporter::collect::{
        CollectorRun, FindingCount, FindingSeries, ListenerSeries, StateCount,
    };
    use crate::model::{Proto, SockState};

    fn sample() -> Metrics {
        Metrics {
            listeners: vec![ListenerSeries {
                port: 8080,
                proto: Proto::Tcp,
                address: "127.0.0.1".into(),
                exposure: Exposure::Loopback,
                process: Holder::Process("we\"ird\\na\nme".into()),
                container: None,
            }],
            sockets: vec![StateCount {
                proto: Proto::Tcp,
                state: SockState::Listen,
                count: 3,
            }],
            hidden_sockets: Some(0),
            ownerless_sockets: Some(2),
            hidden_processes: None,
            findings: vec![FindingCount {
                rule: "AUD-X",
                severity: Severity::Critical,
                count: 2,
            }],
            finding_series: vec![FindingSeries {
                rule: "AUD-X",
                severity: Severity::Critical,
                port: Some(9229),
                proto: None,
                address: None,
                process: Some("node".into()),
            }],
            allowed: vec![],
            collectors: vec![
                CollectorRun {
                    collector: Collector::Listeners,
                    seconds: 0.25,
                    error: None,
                },
                CollectorRun {
                    collector: Collector::Audit,
                    seconds: 0.5,
                    error: Some("boom".into()),
                },
            ],
            errors_total: Some([0, 0, 7]),
            seconds: 0.75,
        }
    }

    #[test]
    fn exposition_text() {
        let t = metrics(&sample());
        let version = env!("CARGO_PKG_VERSION");
        assert!(t.contains(&format!(
            "# TYPE portscope_build_info gauge\nportscope_build_info{{version=\"{version}\"}} 1\n"
        )));
        assert!(t.contains(
            "portscope_listener_info{port=\"8080\",proto=\"tcp\",address=\"127.0.0.1\",\
             exposure=\"loopback\",process=\"we\\\"ird\\\\na\\nme\"} 1\n"
        ));
        assert!(t.contains("portscope_sockets{proto=\"tcp\",state=\"listen\"} 3\n"));
        assert!(t.contains("portscope_hidden_sockets 0\n"));
        assert!(t.contains("portscope_ownerless_sockets 2\n"));
        assert!(!t.contains("\nportscope_hidden_processes "));
        assert!(t.contains("# TYPE portscope_hidden_processes gauge\n"));
        assert!(t.contains("portscope_scrape_duration_seconds 0.75\n"));
        assert!(t.contains("portscope_scrape_collector_success{collector=\"audit\"} 0\n"));
        assert!(t.contains("portscope_scrape_collector_success{collector=\"listeners\"} 1\n"));
        assert!(t.contains("# TYPE portscope_scrape_errors_total counter\n"));
        assert!(t.contains("portscope_scrape_errors_total{collector=\"audit\"} 7\n"));
        assert!(t.contains("portscope_audit_findings{rule=\"AUD-X\",severity=\"critical\"} 2\n"));
        assert!(t.contains(
            "portscope_audit_finding_info{rule=\"AUD-X\",severity=\"critical\",port=\"9229\",\
             process=\"node\"} 1\n"
        ));
        // every family has exactly one HELP and one TYPE, HELP first
        let helps: Vec<&str> = t.lines().filter(|l| l.starts_with("# HELP ")).collect();
        let types: Vec<&str> = t.lines().filter(|l| l.starts_with("# TYPE ")).collect();
        assert_eq!(helps.len(), types.len());
        assert_eq!(sample_count(&t), 15);
        assert!(t.ends_with('\n'));
    }

    #[test]
    fn no_errors_counter_in_a_textfile() {
        let mut m = sample();
        m.errors_total = None;
        assert!(!metrics(&m).contains("portscope_scrape_errors_total"));
    }

    #[test]
    fn notices() {
        let v4: SocketAddr = "127.0.0.1:9797".parse().unwrap();
        let v6: SocketAddr = "[::]:9797".parse().unwrap();
        assert_eq!(
            startup_line(v4),
            "portscope exporter: serving http://127.0.0.1:9797/metrics\n"
        );
        assert_eq!(
            startup_line(v6),
            "portscope exporter: serving http://[::]:9797/metrics\n"
        );
        assert!(exposure_warning(v4).is_none());
        let w = exposure_warning(v6).unwrap();
        assert!(w.contains("warning: [::]:9797 is not loopback") && w.ends_with('\n'));
        assert_eq!(w.lines().count(), 1);
        let line = collector_line(Collector::Audit, Some("bad\nfile\x1b[31m"));
        assert_eq!(line.lines().count(), 1);
        assert!(!line.contains('\x1b'));
    }
}
