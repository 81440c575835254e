//! `run`: the notices given while the child runs, and the closing summary.

use crate::commands::run::{RunNotice, RunReport};

use super::style::Palette;

/// One notice (one or more lines, each ending in a newline).
pub fn notice(_n: &RunNotice, _pal: &Palette) -> String {
    String::new()
}

/// The summary after the child exited.
pub fn render(_r: &RunReport, _pal: &Palette) -> String {
    String::new()
}
