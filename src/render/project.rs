//! `check-config` (a table of the declared services, then the findings) and `env` (nothing
//! but `NAME_PORT=…` lines, so `portscope env > .env` works).

use crate::commands::project::{CheckReport, EnvReport, PortFrom, ServiceRow, Status};
use crate::model::Severity;

use super::style::Palette;
use super::table::Table;
use crate::text::terminal;

/// The `check-config` table of declared services and what collides with them.
/// `width`: the terminal's, to wrap the hidden-owner note (`None` when piped).
pub fn check(r: &CheckReport, pal: &Palette, width: Option<usize>) -> String {
    let mut out = format!(
        "{} {} ({})\n",
        pal.header("project"),
        terminal(&r.project.name),
        terminal(&r.project.file.display().to_string())
    );
    if r.services.is_empty() {
        out.push_str("no services declared: add [services.NAME] tables\n");
        return out;
    }
    let mut t = Table::new(&["NAME", "PORT", "PROTO", "STATUS"]);
    for row in &r.services {
        let port = match (row.port, row.host) {
            (Some(p), Some(h)) if h.is_ipv6() => format!("[{h}]:{p}"),
            (Some(p), Some(h)) => format!("{h}:{p}"),
            (Some(p), None) => p.to_string(),
            (None, _) => "-".into(),
        };
        t.push(vec![
            row.name.clone(),
            port,
            row.proto.as_str().into(),
            status_cell(row, &r.services, pal),
        ]);
    }
    out.push_str(&t.render(|h| pal.header(h)));
    for f in &r.findings {
        let sev = match f.severity {
            Severity::Critical => pal.warn("critical"),
            Severity::Warning => pal.warn("warning"),
            Severity::Info => "info".to_string(),
        };
        out.push_str(&format!(
            "\n{} [{sev}] {}\n",
            pal.header(f.code),
            terminal(&f.title)
        ));
        for e in &f.evidence {
            out.push_str(&format!("  seen: {}\n", terminal(e)));
        }
        for x in &f.fix {
            out.push_str(&format!("  fix:  {}\n", terminal(x)));
        }
    }
    out.push('\n');
    out.push_str(&summary(r, pal));
    if let Some(line) = super::hidden_line(&r.hidden, pal, width) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The STATUS cell: who listens (or "free"), then each other thing found about the service.
fn status_cell(row: &ServiceRow, all: &[ServiceRow], pal: &Palette) -> String {
    let holders = |from_project: bool| {
        row.holders
            .iter()
            .filter(|h| h.from_project == from_project)
            .map(|h| format!("{}[{}]", terminal(&h.comm), h.pid))
            .collect::<Vec<_>>()
    };
    let mut parts = Vec::new();
    match row.status {
        Status::Unassigned => {
            return "not reserved yet — `portscope env` reserves it".into();
        }
        Status::InUse => {
            let mut who = holders(false);
            if row.ownerless {
                who.push("no process right now (exiting, or a descriptor in flight)".into());
            } else if row.owner_hidden {
                who.push("a process portscope cannot see".into());
            }
            parts.push(pal.warn(&format!("in use by {}", who.join(", "))));
        }
        _ if !row.holders.is_empty() => {
            parts.push(format!(
                "running (from this project): {}",
                holders(true).join(", ")
            ));
        }
        Status::Free => parts.push(pal.ok("free")),
        _ => parts.push("free".into()),
    }
    for code in &row.codes {
        let part = match *code {
            "CFG-DUPLICATE-PORT" => {
                let others: Vec<&str> = all
                    .iter()
                    .filter(|o| {
                        o.name != row.name
                            && o.port == row.port
                            && o.proto == row.proto
                            && o.codes.contains(code)
                    })
                    .map(|o| o.name.as_str())
                    .collect();
                pal.warn(&format!("same port as {}", others.join(", ")))
            }
            "CFG-RESERVED-ELSEWHERE" => pal.warn(&format!(
                "reserved for '{}'",
                terminal(row.reserved_for.as_deref().unwrap_or("?"))
            )),
            "CFG-SHARED-RESERVATION" => pal.warn("reservation shared with another checkout"),
            "CFG-EPHEMERAL" => pal.warn("in the ephemeral range"),
            "CFG-PRIVILEGED" => pal.warn("privileged port"),
            "CFG-STALE-RESERVATION" => format!("{} is reserved on another port", row.reservation),
            _ => continue,
        };
        parts.push(part);
    }
    if row.port_from == PortFrom::Reserved {
        parts.push(pal.dim(&format!("reserved as {}", row.reservation)));
    }
    parts.join("; ")
}

/// The last line: how many problems, or that there are none.
fn summary(r: &CheckReport, pal: &Palette) -> String {
    let count = |s: Severity| r.findings.iter().filter(|f| f.severity == s).count();
    let (critical, warning, info) = (
        count(Severity::Critical),
        count(Severity::Warning),
        count(Severity::Info),
    );
    let notes = if info > 0 {
        format!(", {info} note(s)")
    } else {
        String::new()
    };
    if critical + warning == 0 {
        return format!(
            "{}: {} service(s) checked{notes}\n",
            pal.ok("no collisions"),
            r.services.len()
        );
    }
    pal.warn(&format!(
        "{} problem(s): {critical} critical, {warning} warning(s){notes}",
        critical + warning
    )) + "\n"
}

/// `NAME_PORT=…` lines.
pub fn env(r: &EnvReport) -> String {
    r.vars
        .0
        .iter()
        .map(|(name, port)| format!("{name}={port}\n"))
        .collect()
}
