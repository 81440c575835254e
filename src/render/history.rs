//! `history` as text: a target's timeline, or the recent events.
//!
//! STUB: being written.

use crate::commands::history::HistoryReport;

use super::style::Palette;

/// Render `history`.
pub fn render(r: &HistoryReport, pal: &Palette) -> String {
    let _ = pal;
    format!("{} stays, {} events\n", r.stays.len(), r.events.len())
}
