//! The Nagios plugin output: `SERVICE STATUS - text | perfdata`.

use crate::commands::check::CheckReport;

/// One status line (and optional long text) with perfdata.
pub fn render(_r: &CheckReport) -> String {
    String::new()
}
