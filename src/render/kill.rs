//! `kill`: the plan shown before asking, and what was done.

use crate::commands::kill::{KillPlan, KillReport};

use super::style::Palette;

/// The plan, as shown before the question.
pub fn plan(_plan: &KillPlan, _pal: &Palette) -> String {
    String::new()
}

/// The question itself (no newline: the answer follows on the same line).
pub fn question(_plan: &KillPlan, _pal: &Palette) -> String {
    "Stop them? [y/N] ".into()
}

/// What was done.
pub fn render(_r: &KillReport, _pal: &Palette) -> String {
    String::new()
}
