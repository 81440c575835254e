//! Rule: the listener's process has used up its open-files limit, so `accept()` fails with
//! EMFILE: connections complete in the kernel and are never served.

use crate::doctor::Context;
use crate::model::{Finding, Severity};

/// DOC-FD-LIMIT when an owner of a listener on the port is at (or within 2 of) its limit.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    for s in ctx.listeners() {
        for &pid in &s.pids {
            let (Some(open), Some(limit)) = (
                crate::sys::procfs::fd_count(pid),
                crate::sys::procfs::nofile_soft_limit(pid),
            ) else {
                continue;
            };
            if limit == 0 || open + 2 < limit {
                continue;
            }
            findings.push(Finding {
                code: "DOC-FD-LIMIT",
                severity: Severity::Critical,
                title: format!(
                    "{} listens on {} but has {open} of its {limit} file descriptors open: accept() fails with \"Too many open files\"",
                    ctx.owner_label(s),
                    s.local
                ),
                evidence: vec![
                    format!("/proc/{pid}/fd: {open} entries"),
                    format!("/proc/{pid}/limits: Max open files (soft) {limit}"),
                ],
                fix: vec![
                    "find the leak: ls -l /proc/PID/fd | sort -k11 | uniq -c -f10 | sort -n | tail".replace("PID", &pid.to_string()),
                    format!("raise the limit for a running process: prlimit --pid {pid} --nofile=65536:65536"),
                    "or start it with a higher limit: ulimit -n 65536 (systemd: LimitNOFILE=)".into(),
                ],
            });
        }
    }
    findings
}
