//! `bench`'s live lines and its summary.

use crate::commands::bench::BenchReport;
use crate::traffic::bench::BenchLine;

use super::style::Palette;

/// One live line (ends with a newline).
pub fn line(l: &BenchLine, _pal: &Palette) -> String {
    format!("{}\n", l.event)
}

/// The summary when `bench` stops.
pub fn render(_r: &BenchReport, _pal: &Palette) -> String {
    String::new()
}
