//! Human layout of `probe`: one row per address, then the details and TLS facts that matter.

use super::style::Palette;
use super::table::Table;
use crate::commands::probe::{ProbeReport, ProbeResult};
use crate::probe::engine::PortState;
use crate::probe::{Auth, Confidence};
use crate::text;

fn auth_cell(r: &ProbeResult, pal: &Palette) -> String {
    match r.probe.identification.as_ref().and_then(|i| i.auth) {
        Some(Auth::NotRequired) => "none required".into(),
        Some(Auth::Required) => pal.ok("required"),
        None => String::new(),
    }
}

fn state_cell(r: &ProbeResult) -> &'static str {
    match r.probe.state {
        PortState::Open => "open",
        PortState::Refused => "refused",
        PortState::Timeout => "timeout",
        PortState::Error => "error",
    }
}

fn row(r: &ProbeResult, pal: &Palette) -> Vec<String> {
    let id = r.probe.identification.as_ref();
    let text = |s: Option<&String>| {
        s.map(|v| text::terminal(v).into_owned())
            .unwrap_or_default()
    };
    let confidence = match id.and_then(|i| i.confidence) {
        Some(Confidence::Certain) => "certain",
        Some(Confidence::Likely) => "likely",
        Some(Confidence::Compatible) => "compatible",
        _ if r.probe.state == PortState::Open => "unknown",
        _ => "",
    };
    let udp = if r.proto == crate::model::Proto::Udp {
        "/udp"
    } else {
        ""
    };
    vec![
        format!("{}{udp}", std::net::SocketAddr::new(r.addr, r.port)),
        state_cell(r).to_string(),
        id.map(|i| text::terminal(&i.protocol).into_owned())
            .unwrap_or_else(|| "?".into()),
        text(id.and_then(|i| i.product.as_ref())),
        text(id.and_then(|i| i.version.as_ref())),
        auth_cell(r, pal),
        confidence.to_string(),
        r.owner
            .as_ref()
            .map(|o| format!("{}[{}]", text::terminal(&o.comm), o.pid))
            .unwrap_or_default(),
    ]
}

/// Lines under the table for one result: details, TLS, evidence for the unidentified.
fn notes(r: &ProbeResult) -> Vec<String> {
    let mut lines = Vec::new();
    let addr = std::net::SocketAddr::new(r.addr, r.port);
    if let Some(id) = &r.probe.identification {
        let details: Vec<String> = id
            .details
            .iter()
            .map(|(k, v)| format!("{k}={}", text::terminal(v)))
            .collect();
        if !details.is_empty() {
            lines.push(format!("{addr}  {}", details.join("; ")));
        }
    }
    if let Some(t) = &r.probe.tls {
        let mut parts = Vec::new();
        parts.extend(t.version.clone());
        parts.extend(t.alpn.as_ref().map(|a| format!("ALPN {a}")));
        parts.extend(t.subject.as_ref().map(|s| format!("subject {s}")));
        if !t.san.is_empty() {
            parts.push(format!("SAN {}", t.san.join(",")));
        }
        parts.extend(t.issuer.as_ref().map(|s| format!("issuer {s}")));
        parts.extend(t.not_after.as_ref().map(|s| format!("expires {s}")));
        if t.expired == Some(true) {
            parts.push("EXPIRED".into());
        }
        if t.self_signed == Some(true) {
            parts.push("self-signed".into());
        }
        lines.push(format!(
            "{addr}  tls: {}",
            text::terminal(&parts.join("; "))
        ));
    }
    if r.probe.identification.is_none() && r.probe.state == PortState::Open {
        let seen = if r.probe.evidence.is_empty() {
            "no reply".to_string()
        } else {
            format!("first bytes: {}", r.probe.evidence)
        };
        let note = r.probe.note.as_deref().unwrap_or("no probe matched");
        lines.push(format!("{addr}  unidentified: {note}; {seen}"));
    }
    lines
}

/// Render `probe`.
pub fn render(report: &ProbeReport, pal: &Palette) -> String {
    let mut t = Table::new(&[
        "ADDRESS",
        "STATE",
        "PROTOCOL",
        "PRODUCT",
        "VERSION",
        "AUTH",
        "CONFIDENCE",
        "PROCESS",
    ]);
    for r in &report.results {
        t.push(row(r, pal));
    }
    let mut out = t.render(|h| pal.header(h));
    let notes: Vec<String> = report.results.iter().flat_map(notes).collect();
    if !notes.is_empty() {
        out.push('\n');
        for n in notes {
            out.push_str(&n);
            out.push('\n');
        }
    }
    for n in &report.clients {
        if crate::knowledge::clients::part_ways(&n.clients) {
            out.push_str(&format!(
                "\n{}\n",
                pal.header(&format!(
                    "which clients reach {}",
                    text::terminal(&n.target)
                ))
            ));
            for c in &n.clients {
                out.push_str(&format!("  {}\n", c.sentence(n.port, "no connection")));
            }
            out.push('\n');
        }
    }
    let identified = report
        .results
        .iter()
        .filter(|r| r.probe.identification.is_some())
        .count();
    out.push_str(&pal.dim(&format!(
        "{} address(es) probed, {identified} identified (read-only probes, at most {} ms each)\n",
        report.results.len(),
        report.deadline_ms
    )));
    out
}

/// One line per probed address, for `who --probe`.
pub fn summary_lines(results: &[ProbeResult]) -> String {
    let mut out = String::new();
    for r in results {
        let addr = std::net::SocketAddr::new(r.addr, r.port);
        let what = match &r.probe.identification {
            Some(id) => {
                let mut parts = vec![text::terminal(&id.protocol).into_owned()];
                parts.extend(
                    id.product
                        .as_deref()
                        .map(|p| text::terminal(p).into_owned()),
                );
                parts.extend(
                    id.version
                        .as_deref()
                        .map(|v| text::terminal(v).into_owned()),
                );
                match id.auth {
                    Some(Auth::NotRequired) => parts.push("(no authentication required)".into()),
                    Some(Auth::Required) => parts.push("(authentication required)".into()),
                    None => {}
                }
                parts.join(" ")
            }
            None => "not identified".into(),
        };
        out.push_str(&format!("probe {addr}: {what}\n"));
        for line in notes(r) {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out
}
