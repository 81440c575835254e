//! `portscope doctor TARGET`: hand the typed question over to [`crate::doctor`] and say
//! whether it works.

use std::path::PathBuf;
use std::time::Duration;

use crate::doctor;
use crate::error::Result;
use crate::exit::Exit;
use crate::target::Target;

use super::{Report, Ui};

/// What `doctor` diagnoses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// What does not work (a port, an address, a URL).
    pub target: Target,
    /// How long each connect attempt may take.
    pub timeout: Duration,
    /// Ask instead why a program cannot listen on the target (a test bind).
    pub bind: bool,
    /// The state directory holding the history store (`None`: the default places).
    pub state_dir: Option<PathBuf>,
}

/// Run `doctor`: exit 0 when the connection (or the bind) works, 1 when it does not.
pub fn run(opts: &Options, _ui: &dyn Ui) -> Result<(Report, Exit)> {
    let target = opts.target.clone();
    let report = if opts.bind {
        doctor::bind(target)?
    } else {
        doctor::connect(target, opts.timeout, opts.state_dir.as_deref())?
    };
    let code = if report.works {
        Exit::Success
    } else {
        Exit::Nothing
    };
    Ok((Report::Doctor(Box::new(report)), code))
}
