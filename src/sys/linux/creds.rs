//! The user ids a process runs under, from `/proc/<pid>/status`.
//!
//! `/proc/<pid>/status` stays world-readable when the process's fd table is not (another
//! user's process, a non-dumpable one, a pid 1 guarded by a security module), and it gives all
//! four uids (real, effective, saved, filesystem). The owner of `/proc/<pid>` alone is not
//! enough: for a non-dumpable process it is root whatever the process runs as. The snapshot
//! uses these ids to judge which sockets an unreadable process could be holding.

/// The distinct uids in the `Uid:` line of a status text (real, effective, saved, fs).
pub fn parse_uids(status: &str) -> Vec<u32> {
    let Some(line) = status.lines().find_map(|l| l.strip_prefix("Uid:")) else {
        return Vec::new();
    };
    let mut uids: Vec<u32> = line
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    uids.sort_unstable();
    uids.dedup();
    uids
}

/// The uids process `pid` runs under. An error of kind `NotFound` means it is gone; any other
/// (a `/proc` mounted with `hidepid`) means they could not be learnt.
pub fn uids(pid: u32) -> std::io::Result<Vec<u32>> {
    std::fs::read_to_string(format!("/proc/{pid}/status")).map(|text| parse_uids(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_four_uids_deduplicated() {
        let text = "Name:\tnginx\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t33\t33\t0\t33\nGid:\t33\t33\t33\t33\n";
        assert_eq!(parse_uids(text), vec![0, 33]);
    }

    #[test]
    fn no_uid_line_is_no_uids() {
        assert!(parse_uids("Name:\tx\n").is_empty());
        assert!(parse_uids("").is_empty());
    }

    #[test]
    fn this_process_has_its_euid() {
        let euid = rustix::process::geteuid().as_raw();
        assert!(uids(std::process::id()).is_ok_and(|u| u.contains(&euid)));
    }
}
