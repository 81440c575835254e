//! Human layout of `ls`: one aligned row per socket and a summary line.

use super::style::Palette;
use super::table::Table;
use super::{addr_cell, hidden_line, pid_cell};
use crate::commands::ls::{LsReport, LsRow};
use crate::containers::NatPublished;
use crate::knowledge::addr_class::{Exposure, exposure};
use crate::text;

fn exposure_cell(row: &LsRow) -> String {
    row.exposure
        .filter(|_| row.socket.is_listening())
        .map_or("", Exposure::label)
        .to_string()
}

fn process_cell(row: &LsRow) -> String {
    if row.socket.owner_hidden {
        return "(hidden)".into();
    }
    if row.socket.ownerless {
        return super::NO_PROCESS.into();
    }
    row.process
        .as_deref()
        .map(|p| text::terminal(p).into_owned())
        .unwrap_or_default()
}

/// The columns a terminal too narrow for the table shortens: names first (the widest first),
/// then addresses, then the exposure; the port, protocol, state and pids stay whole.
const SHORTEN: [&[&str]; 3] = [
    &["PROCESS", "CONTAINER", "SERVICE", "USER"],
    &["ADDRESS", "LOCAL", "REMOTE"],
    &["EXPOSURE"],
];

/// Render `ls`; on a terminal (`width`) the table and the notes fit its width.
pub fn render(r: &LsReport, pal: &Palette, width: Option<usize>) -> String {
    // A CONTAINER column only when a row has a container (or is a published port).
    let containers = r.sockets.iter().any(|row| row.container.is_some()) || !r.published.is_empty();
    let mut header = if r.all_states {
        vec!["PROTO", "STATE", "LOCAL", "REMOTE", "PID", "PROCESS"]
    } else {
        vec!["PORT", "PROTO", "ADDRESS", "EXPOSURE", "PID", "PROCESS"]
    };
    if containers {
        header.push("CONTAINER");
    }
    header.extend(["USER", "SERVICE"]);
    let mut t = Table::new(&header);
    // Ports published through NAT come in among the sockets, by port.
    let mut nat = r.published.iter().peekable();
    for row in &r.sockets {
        while let Some(p) = nat.next_if(|p| Some(p.port) < row.socket.port()) {
            t.push(nat_cells(p, r.all_states));
        }
        let s = &row.socket;
        let mut owner = vec![pid_cell(s), process_cell(row)];
        if containers {
            owner.push(
                row.container
                    .as_ref()
                    .map(|c| text::terminal(&c.name).into_owned())
                    .unwrap_or_default(),
            );
        }
        owner.extend([
            row.user.as_deref().unwrap_or("").to_string(),
            row.service.as_deref().unwrap_or("").to_string(),
        ]);
        let mut cells = if r.all_states {
            vec![
                s.proto.as_str().to_string(),
                s.state.ss_name(s.proto).to_string(),
                text::terminal(&s.local.to_string()).into_owned(),
                s.remote.as_ref().map_or("-".into(), ToString::to_string),
            ]
        } else {
            vec![
                s.port().map_or("-".into(), |p| p.to_string()),
                s.proto.as_str().to_string(),
                addr_cell(s),
                exposure_cell(row),
            ]
        };
        cells.extend(owner);
        t.push(cells);
    }
    for p in nat {
        t.push(nat_cells(p, r.all_states));
    }
    let mut out = if r.sockets.is_empty() && r.published.is_empty() {
        String::new()
    } else {
        t.fit(width, &SHORTEN);
        t.render(|h| pal.header(h))
    };
    let what = if r.all_states {
        "socket"
    } else {
        "listening socket"
    };
    let mut summary = format!(
        "{} {what}{}",
        r.sockets.len(),
        if r.sockets.len() == 1 { "" } else { "s" }
    );
    if r.owners_looked_up {
        summary.push_str(&format!(", {} process(es)", r.processes.len()));
    } else {
        summary.push_str(", owners not looked up (--no-owners)");
    }
    if !r.published.is_empty() {
        summary.push_str(&format!(
            ", {} port(s) published through NAT with no socket here",
            r.published.len()
        ));
    }
    out.push_str(&pal.dim(&summary));
    out.push('\n');
    if let Some(line) = hidden_line(&r.hidden, pal, width) {
        out.push_str(&line);
        out.push('\n');
    }
    if let Some(note) = &r.container_note {
        out.push_str(&super::note_line(note, pal, width));
        out.push('\n');
    }
    out
}

/// The row of a port published through NAT: no pid; the engine (or `NAT rule`) as the
/// process; the container, or where the rule sends it.
fn nat_cells(p: &NatPublished, all_states: bool) -> Vec<String> {
    let addr = p.host_ip.to_string();
    let mut cells = if all_states {
        vec![
            p.proto.as_str().to_string(),
            "published (NAT)".into(),
            std::net::SocketAddr::new(p.host_ip, p.port).to_string(),
            "-".into(),
        ]
    } else {
        vec![
            p.port.to_string(),
            p.proto.as_str().to_string(),
            addr,
            exposure(p.host_ip).label().to_string(),
        ]
    };
    let container = match (&p.container, p.to) {
        (Some(c), _) => text::terminal(&c.name).into_owned(),
        (None, Some(to)) => format!("? (→ {to})"),
        (None, None) => "?".into(),
    };
    cells.extend([
        "-".into(),
        p.holder(),
        container,
        String::new(),
        String::new(),
    ]);
    cells
}
