//! The Nagios plugins `check listen|connect|audit`: status line, perfdata, long output and
//! the facts in JSON, for OK, WARNING, CRITICAL and UNKNOWN.
//!
//! The plugins decide their status line in private functions, so these fixtures carry the
//! summary and long-output lines the plugin writes for the facts given (as docs/monitoring.md
//! shows them); what is pinned is how a report of that shape reads.

mod audit;
mod connect;
mod listen;

use portscope::commands::Report;
use portscope::commands::check::{CheckReport, Perf, State};
use portscope::model::Hidden;

use crate::golden::pin;

fn check(
    plugin: &'static str,
    service: &'static str,
    state: State,
    summary: &str,
    perfdata: Vec<Perf>,
    details: &[&str],
) -> CheckReport {
    CheckReport {
        plugin,
        service,
        state,
        exit_code: state.code(),
        summary: summary.into(),
        perfdata,
        details: details.iter().map(|d| d.to_string()).collect(),
        listen: None,
        connect: None,
        audit: None,
    }
}

fn pin_check(name: &str, report: CheckReport) {
    pin(name, &Report::Check(Box::new(report)));
}

/// The long-output line a plugin writes for sockets whose owner it could not see.
fn hidden_line(hidden: &Hidden) -> String {
    format!(
        "{} socket(s) with a hidden owner: {}; {}",
        hidden.sockets, hidden.reason, hidden.hint
    )
}
