//! `portscope doctor TARGET`: hand the typed question over to [`crate::doctor`] and say
//! whether it works.

#[cfg(feature = "history")]
use std::path::PathBuf;
use std::time::Duration;

use crate::doctor;
use crate::error::Result;
#[cfg(feature = "cli")]
use crate::exit::Exit;
use crate::target::Target;

#[cfg(feature = "cli")]
use super::{Report, Ui};

/// What `doctor` diagnoses. Build it with [`Options::new`] and set what differs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// What does not work (a port, an address, a URL).
    pub target: Target,
    /// How long each connect attempt may take.
    pub timeout: Duration,
    /// Ask instead why a program cannot listen on the target (a test bind).
    pub bind: bool,
    /// Judge proxies with this process's environment (`None`: portscope's own).
    pub env_from: Option<u32>,
    /// The client runs in this container (name or id): look at the port from inside its
    /// network namespace (`localhost` there is the container's own).
    pub from_container: Option<String>,
    /// The state directory holding the history store (`None`: the default places).
    #[cfg(feature = "history")]
    pub state_dir: Option<PathBuf>,
}

impl Options {
    /// Why connecting to `target` fails (or that it works): 500 ms per connect attempt, as
    /// the command line's default.
    pub fn new(target: Target) -> Options {
        Options {
            target,
            timeout: Duration::from_millis(500),
            bind: false,
            env_from: None,
            from_container: None,
            #[cfg(feature = "history")]
            state_dir: None,
        }
    }
}

/// The diagnosis: the attempts a client would make, the cause, the evidence and the fix.
pub fn diagnose(opts: &Options) -> Result<doctor::DoctorReport> {
    diagnose_with(opts, &|_, _, _| {})
}

/// [`diagnose`], telling `step` as each step of the diagnosis begins.
pub fn diagnose_with(opts: &Options, step: doctor::Step) -> Result<doctor::DoctorReport> {
    let target = opts.target.clone();
    if opts.bind {
        return doctor::bind(target);
    }
    #[cfg(feature = "history")]
    let state_dir = opts.state_dir.as_deref();
    #[cfg(not(feature = "history"))]
    let state_dir = None;
    let client = doctor::Client {
        env_from: opts.env_from,
        from_container: opts.from_container.as_deref(),
    };
    doctor::connect(target, opts.timeout, client, state_dir, step)
}

/// Run `doctor`: exit 0 when the client's request (or the bind) works, 1 when it does not,
/// 3 when the port accepts connections but speaks a protocol portscope cannot try.
#[cfg(feature = "cli")]
pub fn run(opts: &Options, ui: &dyn Ui) -> Result<(Report, Exit)> {
    let report = diagnose_with(opts, &|what, done, total| ui.step(what, done, total))?;
    let code = if report.works {
        Exit::Success
    } else if report.undecided() {
        Exit::Failure
    } else {
        Exit::Nothing
    };
    Ok((Report::Doctor(Box::new(report)), code))
}
