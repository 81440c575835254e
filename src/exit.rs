//! Exit codes, one enum, documented in docs/exit-codes.md and in `portscope --help`.

/// What portscope's exit status means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: the command did what was asked (for `who`: something holds the port).
    Success,
    /// 1: the question's answer is "nothing" (for `who`: nothing holds the port), or the goal
    /// was not reached: `doctor` found a problem, `kill` left the port held (refused, denied,
    /// hidden owner, or the answer was no), `check-config` found a collision, `release` knew
    /// no such name.
    Nothing,
    /// 2: bad input (an unparseable target, an unknown flag value).
    BadInput,
    /// 3: portscope could not do its job (the OS refused or failed).
    Failure,
    /// A status with a meaning of its own: `run` passes the child's through (128+N when
    /// signal N ended it); `check` exits 2 for a plugin's CRITICAL, which `BadInput` would
    /// misname.
    Child(u8),
}

impl Exit {
    /// The number the process exits with.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Nothing => 1,
            Exit::BadInput => 2,
            Exit::Failure => 3,
            Exit::Child(status) => status,
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e.code())
    }
}
