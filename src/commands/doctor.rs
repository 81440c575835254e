//! `portscope doctor TARGET`: parse, bound the timeout, and hand over to [`crate::doctor`].

use std::time::Duration;

use crate::cli::DoctorArgs;
use crate::doctor::{self, DoctorReport};
use crate::error::{Error, Result};
use crate::target;

/// Run `doctor`.
pub fn run(args: &DoctorArgs) -> Result<DoctorReport> {
    if !(10..=30_000).contains(&args.timeout_ms) {
        return Err(Error::bad_input(
            format!("--timeout {} is out of range", args.timeout_ms),
            "expected milliseconds from 10 to 30000 (default 500)",
        ));
    }
    let target = target::parse(&args.target)?;
    if args.bind {
        doctor::bind(target)
    } else {
        doctor::connect(
            target,
            Duration::from_millis(args.timeout_ms),
            args.store.state_dir.as_deref(),
        )
    }
}
