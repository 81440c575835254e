//! `forward`'s live lines and its summary.

use crate::commands::forward::ForwardReport;
use crate::traffic::forward::ForwardLine;

use super::style::Palette;

/// One live line (ends with a newline).
pub fn line(l: &ForwardLine, _pal: &Palette) -> String {
    format!("{}\n", l.event)
}

/// The summary when `forward` stops.
pub fn render(_r: &ForwardReport, _pal: &Palette) -> String {
    String::new()
}
