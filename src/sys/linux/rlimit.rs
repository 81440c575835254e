//! Resource limits of this process (open files).

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// The open-file limits after [`raise_nofile`]: the soft limit now in force and the hard one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoFile {
    /// The soft limit in force (what `open`/`socket`/`accept` are held to).
    pub soft: u64,
    /// The hard limit (the most an unprivileged process may raise the soft one to).
    pub hard: u64,
}

/// Raise the soft RLIMIT_NOFILE to the hard limit (best effort) and report both. `None` in
/// a limit means unlimited, reported as `u64::MAX`.
pub fn raise_nofile() -> NoFile {
    let now = getrlimit(Resource::Nofile);
    let hard = now.maximum;
    if now.current != hard {
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: hard,
                maximum: hard,
            },
        );
    }
    let after = getrlimit(Resource::Nofile);
    NoFile {
        soft: after.current.unwrap_or(u64::MAX),
        hard: after.maximum.unwrap_or(u64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raising_reaches_the_hard_limit() {
        let n = raise_nofile();
        assert!(n.soft <= n.hard);
        assert_eq!(n.soft, n.hard);
    }
}
