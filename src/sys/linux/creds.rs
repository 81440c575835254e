//! The user ids a process runs under, and whether it is exiting, from `/proc/<pid>/status`.
//!
//! `/proc/<pid>/status` stays world-readable when the process's fd table is not (another
//! user's process, a non-dumpable one, a pid 1 guarded by a security module, and a process
//! of one's own that is exiting: without its memory map its `/proc` entries fall to root). It
//! gives all four uids (real, effective, saved, filesystem); the owner of `/proc/<pid>` alone
//! is not enough, as it is root for a non-dumpable process whatever it runs as. The snapshot
//! uses these facts to judge which sockets an unreadable process could be holding.

/// What a process's status says about the sockets it may hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creds {
    /// The distinct uids of the `Uid:` line (real, effective, saved, fs), ascending.
    pub uids: Vec<u32>,
    /// A zombie, or a process past releasing its memory on the way out: its descriptors are
    /// gone or about to be, so whatever it held, nobody will hold through it.
    pub exiting: bool,
}

/// Parse a status text.
pub fn parse_status(status: &str) -> Creds {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .map(str::trim)
    };
    let mut uids: Vec<u32> = field("Uid")
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    uids.sort_unstable();
    uids.dedup();
    let state = field("State").and_then(|s| s.chars().next());
    // Kernel threads have no memory map either; they are not exiting. Older kernels have no
    // `Kthread:` line: a parent of 0 or 2 (kthreadd) says it.
    let kthread = match field("Kthread") {
        Some(k) => k == "1",
        None => matches!(field("PPid"), Some("0" | "2")),
    };
    let no_mm = field("VmSize").is_none();
    Creds {
        uids,
        exiting: matches!(state, Some('Z' | 'X' | 'x')) || (no_mm && !kthread),
    }
}

/// What the status of process `pid` says. An error of kind `NotFound` means it is gone; any
/// other (a `/proc` mounted with `hidepid`) means it could not be learnt.
pub fn read(pid: u32) -> std::io::Result<Creds> {
    std::fs::read_to_string(format!("/proc/{pid}/status")).map(|text| parse_status(&text))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const NGINX_WORKER: &str = "Name:\tnginx\nUmask:\t0022\nState:\tS (sleeping)\nPPid:\t812\n\
        Uid:\t33\t33\t0\t33\nGid:\t33\t33\t33\t33\nVmSize:\t   55000 kB\nKthread:\t0\n";

    #[test]
    fn all_four_uids_deduplicated() {
        let c = parse_status(NGINX_WORKER);
        assert_eq!(c.uids, vec![0, 33]);
        assert!(!c.exiting);
    }

    #[test]
    fn zombies_and_processes_without_memory_are_exiting_kernel_threads_are_not() {
        let zombie = NGINX_WORKER.replace("S (sleeping)", "Z (zombie)");
        assert!(parse_status(&zombie).exiting);
        let unmapped = NGINX_WORKER.replace("VmSize:\t   55000 kB\n", "");
        assert!(parse_status(&unmapped).exiting);
        let kthread = "Name:\tkworker/0:1\nState:\tI (idle)\nPPid:\t2\nUid:\t0\t0\t0\t0\n";
        assert!(!parse_status(kthread).exiting);
        let flagged =
            "Name:\tkthreadd\nState:\tS (sleeping)\nPPid:\t0\nUid:\t0\t0\t0\t0\nKthread:\t1\n";
        assert!(!parse_status(flagged).exiting);
    }

    #[test]
    fn no_uid_line_is_no_uids() {
        assert!(parse_status("Name:\tx\n").uids.is_empty());
        assert!(parse_status("").uids.is_empty());
    }

    #[test]
    fn this_process_has_its_euid_and_is_not_exiting() {
        let euid = rustix::process::geteuid().as_raw();
        let me = read(std::process::id()).unwrap();
        assert!(me.uids.contains(&euid));
        assert!(!me.exiting);
    }
}
