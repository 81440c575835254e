//! Human layout of `explain`: each fact on its own line, tagged with where it comes from.

use super::style::Palette;
use crate::commands::explain::{ExplainReport, Origin};

/// Render `explain`.
pub fn render(r: &ExplainReport, pal: &Palette) -> String {
    let mut out = format!("{}\n", pal.header(&r.target.to_string()));
    for f in &r.facts {
        let tag = match f.origin {
            Origin::Machine { .. } => pal.ok("[here]   "),
            Origin::General { .. } => pal.dim("[general]"),
        };
        out.push_str(&format!("  {tag} {}\n", crate::text::terminal(&f.text)));
    }
    out.push_str(&pal.dim(
        "\n[here] = read from this machine just now; [general] = general knowledge, true anywhere.\n",
    ));
    if r.now.as_ref().is_some_and(|w| w.held) {
        out.push_str(&pal.dim(&format!(
            "Details of the holders: portscope who {}\n",
            r.target
        )));
    }
    out
}
