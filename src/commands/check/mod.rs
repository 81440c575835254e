//! `check …`: monitoring plugins in the Nagios plugin convention (one status line with
//! perfdata; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
//!
//! Each plugin turns its question into a [`CheckReport`]: a state, the text of the status
//! line, perfdata and long-output lines, plus the facts behind them for `--json`. A plugin
//! never fails the way other commands do: bad arguments and errors reading the system become
//! an UNKNOWN report (exit 3, one `PORTSCOPE UNKNOWN - …` line on standard output), because a
//! monitoring system reads exit 2 as CRITICAL: a bad argument value found while the command
//! line is converted is answered by [`bad_arguments`], and a usage error clap finds before
//! `check` runs (an unknown flag, a missing argument, no plugin named) by [`usage_error`].

pub mod audit;
pub mod connect;
pub mod dial;
pub mod listen;
pub mod threshold;

use serde::Serialize;

use crate::commands::{Report, Ui};
use crate::error::{Error, Result};
use crate::exit::Exit;

/// Which plugin runs, with its own options.
#[derive(Debug, Clone, PartialEq)]
pub enum Options {
    /// `check listen`.
    Listen(listen::Options),
    /// `check connect`.
    Connect(connect::Options),
    /// `check audit`.
    Audit(audit::Options),
}

/// The plugins, named as on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plugin {
    /// `check listen`.
    Listen,
    /// `check connect`.
    Connect,
    /// `check audit`.
    Audit,
}

impl Plugin {
    /// The plugin's name (`listen`, `connect`, `audit`), as in the report.
    pub fn name(self) -> &'static str {
        match self {
            Plugin::Listen => "listen",
            Plugin::Connect => "connect",
            Plugin::Audit => "audit",
        }
    }

    /// The plugin named `name` on the command line, if there is one.
    pub fn from_name(name: &str) -> Option<Plugin> {
        [Plugin::Listen, Plugin::Connect, Plugin::Audit]
            .into_iter()
            .find(|p| p.name() == name)
    }

    /// The first word of its status line.
    fn service(self) -> &'static str {
        match self {
            Plugin::Listen => listen::SERVICE,
            Plugin::Connect => connect::SERVICE,
            Plugin::Audit => audit::SERVICE,
        }
    }
}

impl Options {
    /// Which plugin these options are for.
    pub fn plugin(&self) -> Plugin {
        match self {
            Options::Listen(_) => Plugin::Listen,
            Options::Connect(_) => Plugin::Connect,
            Options::Audit(_) => Plugin::Audit,
        }
    }
}

/// The first word of the status line about bad arguments: they are portscope's problem,
/// not the service's.
const ARGUMENTS: &str = "PORTSCOPE";

/// A plugin state, in the order a monitoring system ranks them for aggregation (OK, UNKNOWN,
/// WARNING, CRITICAL: the Monitoring Plugins' `max_state_alt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// 0: all is well.
    Ok,
    /// 3: the plugin could not tell (bad arguments, the system could not be read, an owner
    /// that cannot be seen).
    Unknown,
    /// 1: above a warning threshold, or a problem that is not an outage.
    Warning,
    /// 2: down, or above a critical threshold.
    Critical,
}

impl State {
    /// The plugin exit status: 0, 1, 2 or 3.
    pub fn code(self) -> u8 {
        match self {
            State::Ok => 0,
            State::Warning => 1,
            State::Critical => 2,
            State::Unknown => 3,
        }
    }

    /// The word on the status line: `OK`, `WARNING`, `CRITICAL`, `UNKNOWN`.
    pub fn word(self) -> &'static str {
        match self {
            State::Ok => "OK",
            State::Warning => "WARNING",
            State::Critical => "CRITICAL",
            State::Unknown => "UNKNOWN",
        }
    }

    /// portscope's exit code for this state (the same numbers as [`State::code`]).
    pub fn exit(self) -> Exit {
        match self {
            State::Ok => Exit::Success,
            State::Warning => Exit::Nothing,
            // Exit::BadInput is also 2, but means something else; the plugin's own number.
            State::Critical => Exit::Child(2),
            State::Unknown => Exit::Failure,
        }
    }
}

/// One performance-data item: `'label'=value[UOM];[warn];[crit];[min];[max]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Perf {
    /// The label (`time`, `listeners`, `critical`).
    pub label: String,
    /// The value.
    pub value: f64,
    /// Unit of measurement: `s`, `%`, `B`, `c` (a counter), or empty.
    pub uom: &'static str,
    /// The warning range, as given.
    pub warn: Option<String>,
    /// The critical range, as given.
    pub crit: Option<String>,
    /// The smallest possible value.
    pub min: Option<f64>,
    /// The largest possible value.
    pub max: Option<f64>,
    /// Digits after the decimal point when printed (`None`: as a whole number).
    #[serde(skip)]
    pub decimals: Option<usize>,
}

impl Perf {
    /// A count: `label=N;;;0`.
    pub fn count(label: &str, n: usize) -> Perf {
        Perf {
            label: label.to_string(),
            value: n as f64,
            uom: "",
            warn: None,
            crit: None,
            min: Some(0.0),
            max: None,
            decimals: None,
        }
    }
}

/// A plugin's result: the status line's parts, the long output, and the facts behind them.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// Which plugin ran: `listen`, `connect`, `audit`; empty (and left out of the JSON) for a
    /// usage error that named none (`check --bogus`).
    #[serde(skip_serializing_if = "str::is_empty")]
    pub plugin: &'static str,
    /// The word that opens the status line: `LISTEN`, `TCP`, `AUDIT`, or `PORTSCOPE` for
    /// bad arguments.
    pub service: &'static str,
    /// The state.
    pub state: State,
    /// The exit status (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
    pub exit_code: u8,
    /// The status line's text after `SERVICE STATE - ` (text from other processes already
    /// made safe: no control characters, no `|`).
    pub summary: String,
    /// Performance data, in order.
    pub perfdata: Vec<Perf>,
    /// Long-output lines, printed after the status line.
    pub details: Vec<String>,
    /// `check listen`: what listens on the port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<listen::ListenFacts>,
    /// `check connect`: what the connection did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect: Option<connect::ConnectFacts>,
    /// `check audit`: the findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<audit::AuditFacts>,
}

impl CheckReport {
    /// A report with no perfdata, details or facts yet.
    fn new(plugin: &'static str, service: &'static str, state: State, summary: String) -> Self {
        CheckReport {
            plugin,
            service,
            state,
            exit_code: state.code(),
            summary,
            perfdata: Vec::new(),
            details: Vec::new(),
            listen: None,
            connect: None,
            audit: None,
        }
    }

    /// UNKNOWN from an error: bad arguments name portscope (`PORTSCOPE UNKNOWN - …`), a
    /// failure to read the system names the plugin's service.
    fn from_error(plugin: &'static str, service: &'static str, err: &Error) -> Self {
        let service = match err {
            Error::BadInput { .. } => ARGUMENTS,
            _ => service,
        };
        CheckReport::new(plugin, service, State::Unknown, safe(&err.to_string()))
    }
}

/// Run a `check` plugin. Never an `Err`: every failure is an UNKNOWN report (exit 3).
pub fn run(opts: &Options, _ui: &dyn Ui) -> Result<(Report, Exit)> {
    let report = match opts {
        Options::Listen(o) => listen::run(o),
        Options::Connect(o) => connect::run(o),
        Options::Audit(o) => audit::run(o),
    };
    let plugin = opts.plugin();
    Ok(answer(report.unwrap_or_else(|e| {
        CheckReport::from_error(plugin.name(), plugin.service(), &e)
    })))
}

/// The answer when `plugin`'s arguments could not be converted: the same UNKNOWN report
/// (exit 3) that an error while it runs gives, never an `Err`.
pub fn bad_arguments(plugin: Plugin, err: &Error) -> (Report, Exit) {
    answer(CheckReport::from_error(
        plugin.name(),
        plugin.service(),
        err,
    ))
}

/// The answer to a usage error clap found before a plugin could run (`problem`, one line):
/// the same `PORTSCOPE UNKNOWN - …` report (exit 3) as a bad argument value. `plugin` is the
/// one named, if any.
pub fn usage_error(plugin: Option<Plugin>, problem: &str) -> (Report, Exit) {
    let name = plugin.map_or("", Plugin::name);
    answer(CheckReport::new(
        name,
        ARGUMENTS,
        State::Unknown,
        safe(problem),
    ))
}

/// The report with the exit status its state stands for.
fn answer(report: CheckReport) -> (Report, Exit) {
    let exit = report.state.exit();
    (Report::Check(Box::new(report)), exit)
}

/// Text made safe for a status or long-output line: control characters (newlines included)
/// escaped as `\xNN`, and `|` — which starts perfdata — written `\x7c`. Idempotent: cleaning
/// clean text changes nothing.
pub fn safe(text: &str) -> String {
    crate::text::terminal(text).replace('|', "\\x7c")
}

/// `name[pid]` for a process, its name made safe.
fn proc_label(name: &str, pid: u32) -> String {
    format!("{}[{pid}]", safe(name))
}

/// The detail line about sockets whose owner could not be read (how many, why, what to do),
/// when there are any.
fn hidden_detail(hidden: &crate::model::Hidden) -> Option<String> {
    (hidden.sockets > 0).then(|| {
        format!(
            "{} socket(s) with a hidden owner: {}; {}",
            hidden.sockets, hidden.reason, hidden.hint
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn states_rank_and_map_like_plugins() {
        assert!(State::Critical > State::Warning);
        assert!(State::Warning > State::Unknown);
        assert!(State::Unknown > State::Ok);
        let codes: Vec<(u8, u8)> = [State::Ok, State::Warning, State::Critical, State::Unknown]
            .iter()
            .map(|s| (s.code(), s.exit().code()))
            .collect();
        assert_eq!(codes, [(0, 0), (1, 1), (2, 2), (3, 3)]);
    }

    #[test]
    fn bad_input_is_portscope_unknown() {
        let e = Error::bad_input("-w 'x': not a number", "expected a range");
        let r = CheckReport::from_error("connect", "TCP", &e);
        assert_eq!(
            (r.service, r.state, r.exit_code),
            ("PORTSCOPE", State::Unknown, 3)
        );
        let e = Error::Netlink("refused\nby | kernel".into());
        let r = CheckReport::from_error("listen", "LISTEN", &e);
        assert_eq!(r.service, "LISTEN");
        assert!(
            !r.summary.contains('\n') && !r.summary.contains('|'),
            "{}",
            r.summary
        );
    }
}
