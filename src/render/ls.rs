//! Human layout of `ls`: one aligned row per socket and a summary line.

use super::style::Palette;
use super::table::Table;
use super::{addr_cell, hidden_line, pid_cell};
use crate::commands::ls::{LsReport, LsRow};
use crate::knowledge::addr_class::Exposure;
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
    // A CONTAINER column only when a row has a container.
    let containers = r.sockets.iter().any(|row| row.container.is_some());
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
    for row in &r.sockets {
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
    let mut out = if r.sockets.is_empty() {
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
