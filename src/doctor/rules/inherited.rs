//! Rule: the port is held by a process that inherited the listening socket from the program
//! the user started, which has since exited — its job leader is gone, the child lives on.

use crate::doctor::Context;
use crate::model::{Finding, Severity};

/// DOC-INHERITED-SOCKET: a listener's owner whose process group leader no longer exists.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    for s in ctx.listeners() {
        for p in s.pids.iter().filter_map(|pid| ctx.snapshot.process(*pid)) {
            let Some(leader) = p.pgid.filter(|g| *g != p.pid && *g > 1) else {
                continue;
            };
            if crate::sys::procfs::pid_alive(leader) || s.pids.contains(&leader) {
                continue;
            }
            let severity = if ctx.binds.is_empty() {
                Severity::Warning
            } else {
                Severity::Critical
            };
            findings.push(Finding {
                code: "DOC-INHERITED-SOCKET",
                severity,
                title: format!(
                    "{} on {} is held by {}[{}], left behind by the program you started (pid {leader}), which has exited: the child inherited the listening socket",
                    s.local, s.local, p.comm, p.pid
                ),
                evidence: vec![
                    format!("socket inode {} ({}) is open in pid {} only", s.inode, s.local, p.pid),
                    format!("pid {} belongs to process group {leader}, whose leader no longer exists", p.pid),
                    format!("pid {}: {}", p.pid, p.cmdline.join(" ")),
                    format!("its parent is now pid {} (reparented when its own parent exited)", p.ppid),
                ],
                fix: vec![
                    format!("kill {}   # or the whole job: kill -- -{leader}", p.pid),
                    "stop such programs with Ctrl+C (the whole job) rather than killing only the parent; servers should mark listening sockets close-on-exec".into(),
                ],
            });
        }
    }
    findings
}
