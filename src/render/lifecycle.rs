//! `pick`, `reserve`, `release`: short answers a script can read (`PORT=$(portscope pick)`).

use crate::commands::pick::PickReport;
use crate::commands::reserve::{Action, ReserveReport};
use crate::time::utc;

use super::style::Palette;
use super::table::Table;
use crate::text::terminal;

/// The picked ports, one per line: nothing else on standard output.
pub fn pick(r: &PickReport) -> String {
    r.ports.iter().map(|p| format!("{p}\n")).collect()
}

/// `reserve NAME` prints the port alone when piped (`PORT=$(portscope reserve app)`), and
/// on a terminal what is worth knowing about it too; the list and prune print a table.
pub fn reserve(r: &ReserveReport, pal: &Palette, terminal_out: bool) -> String {
    let mut out = String::new();
    match r.action {
        Action::Reserved | Action::Existing => {
            for row in &r.reservations {
                out.push_str(&format!("{}\n", row.reservation.port));
            }
            if terminal_out {
                let name = terminal(r.name.as_deref().unwrap_or_default()).into_owned();
                let how = if r.action == Action::Reserved {
                    "newly reserved"
                } else {
                    "reserved earlier"
                };
                out.push_str(&pal.dim(&format!("{name}: {how} ({})", r.registry.display())));
                out.push('\n');
                for note in &r.notes {
                    out.push_str(&pal.warn(&format!("note: {note}")));
                    out.push('\n');
                }
            }
        }
        Action::List | Action::Pruned => {
            if r.reservations.is_empty() {
                let what = if r.action == Action::List {
                    "no reservations"
                } else {
                    "nothing to prune: every owner directory exists"
                };
                out.push_str(&format!("{what} ({})\n", r.registry.display()));
                return out;
            }
            let mut t = Table::new(&["NAME", "PORT", "LISTENING", "SINCE", "DIR"]);
            for row in &r.reservations {
                let res = &row.reservation;
                let dir = match (&res.dir, row.dir_exists) {
                    (Some(d), Some(false)) => format!("{} (gone)", d.display()),
                    (Some(d), _) => d.display().to_string(),
                    (None, _) => "-".into(),
                };
                t.push(vec![
                    terminal(&res.name).into_owned(),
                    res.port.to_string(),
                    if row.listening { "yes" } else { "no" }.into(),
                    utc(res.created),
                    terminal(&dir).into_owned(),
                ]);
            }
            out.push_str(&t.render(|h| pal.header(h)));
            if r.action == Action::Pruned {
                out.push_str(&format!(
                    "forgot {} reservation(s) whose directory is gone\n",
                    r.reservations.len()
                ));
            }
        }
        Action::Released => {
            for row in &r.reservations {
                out.push_str(&format!(
                    "released {} (port {})\n",
                    terminal(&row.reservation.name),
                    row.reservation.port
                ));
            }
        }
        Action::NotFound => out.push_str(&format!(
            "no reservation named {} ({})\n",
            terminal(r.name.as_deref().unwrap_or_default()),
            r.registry.display()
        )),
    }
    out
}
