//! `tap`'s live lines and its summary.

use crate::commands::tap::TapReport;
use crate::traffic::tap::TapLine;

use super::style::Palette;

/// One live line (ends with a newline).
pub fn line(l: &TapLine, _pal: &Palette) -> String {
    format!("{}\n", l.event)
}

/// The summary when `tap` stops.
pub fn render(_r: &TapReport, _pal: &Palette) -> String {
    String::new()
}
