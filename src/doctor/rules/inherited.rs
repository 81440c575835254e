//! Rule: the port is held by a process that inherited the listening socket from the program
//! the user started, which has since exited — its job leader is gone, the child lives on.
//! A leader that is gone alone proves nothing (`(server &)` from a script leaves the same
//! trace), so a connect diagnosis names it only when nothing answers on the socket either.

use crate::doctor::Context;
use crate::model::{Finding, Severity};

/// DOC-INHERITED-SOCKET: a listener's owner whose process group leader no longer exists.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    if ctx.binds.is_empty() && !ctx.unserved() {
        return findings;
    }
    for s in ctx.listeners() {
        for p in s.pids.iter().filter_map(|pid| ctx.snapshot.process(*pid)) {
            let Some(leader) = p.pgid.filter(|g| *g != p.pid && *g > 1) else {
                continue;
            };
            if crate::sys::procfs::pid_alive(leader) || s.pids.contains(&leader) {
                continue;
            }
            // Whether the socket was inherited cannot be read from the kernel: say what is
            // known, and leave the conclusion to whoever knows what pid `leader` was.
            let title = format!(
                "{} is held by {}[{}], whose job leader (pid {leader}) has exited: if that was the server you started, this child inherited its listening socket",
                s.local, p.comm, p.pid
            );
            let mut evidence = vec![
                format!(
                    "socket inode {} ({}) is open in pid {} only",
                    s.inode, s.local, p.pid
                ),
                format!(
                    "pid {} belongs to process group {leader}, whose leader no longer exists",
                    p.pid
                ),
                format!("pid {}: {}", p.pid, p.cmdline.join(" ")),
                format!(
                    "its parent is now pid {} (reparented when its own parent exited)",
                    p.ppid
                ),
            ];
            if ctx.binds.is_empty() {
                evidence.push(format!(
                    "nothing answered on it; {} connection(s) wait in its accept queue",
                    s.recv_q
                ));
            }
            findings.push(Finding {
                code: "DOC-INHERITED-SOCKET",
                severity: if ctx.binds.is_empty() {
                    Severity::Warning
                } else {
                    Severity::Critical
                },
                title,
                evidence,
                fix: vec![
                    format!("kill {}   # or the whole job: kill -- -{leader}", p.pid),
                    "stop such programs with Ctrl+C (the whole job) rather than killing only the parent; servers should mark listening sockets close-on-exec".into(),
                ],
            });
        }
    }
    findings
}
