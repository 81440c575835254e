//! `serve`'s live lines and its summary.

use crate::commands::serve::ServeReport;
use crate::traffic::serve::ServeLine;

use super::style::Palette;

/// One live line (ends with a newline).
pub fn line(l: &ServeLine, _pal: &Palette) -> String {
    format!("{}\n", l.event)
}

/// The summary when `serve` stops.
pub fn render(_r: &ServeReport, _pal: &Palette) -> String {
    String::new()
}
