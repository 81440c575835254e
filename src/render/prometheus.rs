//! The Prometheus text exposition format (version 0.0.4).

use crate::commands::exporter::ExporterReport;

/// What `exporter` prints when it ends (after `--textfile`, or on shutdown).
pub fn render_report(_r: &ExporterReport) -> String {
    String::new()
}
