//! Typed errors, each carrying what went wrong and, where one exists, how to fix it.
//!
//! Bad user input is a [`Error::BadInput`] (exit code 2, one line: what was wrong and what is
//! accepted). Everything the OS refuses or fails at is another variant, with a hint.

use std::io;
use std::path::Path;

/// Every error portscope reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The user typed something portscope does not accept.
    #[error("{problem}; {accepted}")]
    BadInput {
        /// What was wrong, naming the input (`port 65536 is out of range`).
        problem: String,
        /// What is accepted instead (`expected a port 1-65535, e.g. 8080`).
        accepted: String,
    },
    /// The OS refused access; `hint` says how to get it.
    #[error("{what}: permission denied ({hint})")]
    PermissionDenied {
        /// What could not be read or done.
        what: String,
        /// How to get permission (`run as root`, `setcap cap_sys_ptrace,cap_dac_read_search+ep`…).
        hint: String,
    },
    /// The feature does not exist on this OS or kernel.
    #[error("{what} is not supported here: {why}")]
    Unsupported {
        /// The feature.
        what: String,
        /// Why not, and what to do instead.
        why: String,
    },
    /// An I/O error with what portscope was doing when it happened.
    #[error("{context}: {source}")]
    Io {
        /// What portscope was doing.
        context: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The kernel's netlink answer could not be used.
    #[error("netlink sock_diag: {0}")]
    Netlink(String),
}

impl Error {
    /// A bad-input error: `problem` names the input, `accepted` says what would work.
    pub fn bad_input(problem: impl Into<String>, accepted: impl Into<String>) -> Error {
        Error::BadInput {
            problem: problem.into(),
            accepted: accepted.into(),
        }
    }

    /// A file portscope could not use as `what` (`the project file`), as bad input naming it
    /// and why: what it is instead of a regular file, its size and the bound (the refusals of
    /// [`crate::sys::bounded::read_regular_bounded`]), or the OS's reason; then `accepted`.
    pub fn unreadable_file(
        what: &str,
        path: &Path,
        e: &io::Error,
        accepted: impl Into<String>,
    ) -> Error {
        let shown = crate::text::echo(&path.to_string_lossy()).into_owned();
        let problem = match crate::sys::bounded::refusal(e) {
            Some(refused) => format!("{what} {shown} is {refused}"),
            None => format!("cannot read {what} {shown}: {e}"),
        };
        Error::bad_input(problem, accepted)
    }

    /// Wrap an I/O error with context; EACCES/EPERM become [`Error::PermissionDenied`].
    pub fn io(context: impl Into<String>, source: io::Error) -> Error {
        let context = context.into();
        if source.kind() == io::ErrorKind::PermissionDenied {
            return Error::PermissionDenied {
                what: context,
                hint:
                    "run as root (sudo portscope …) or grant CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH"
                        .into(),
            };
        }
        Error::Io { context, source }
    }

    /// The process exit code this error maps to.
    pub fn exit_code(&self) -> crate::exit::Exit {
        match self {
            Error::BadInput { .. } => crate::exit::Exit::BadInput,
            _ => crate::exit::Exit::Failure,
        }
    }
}

/// Result with portscope's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
