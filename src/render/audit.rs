//! `audit`: findings as a table of verdicts with evidence and fixes (and SARIF).

use crate::commands::audit::AuditCommandReport;

use super::style::Palette;

/// The human report.
pub fn render(_r: &AuditCommandReport, _pal: &Palette) -> String {
    String::new()
}
