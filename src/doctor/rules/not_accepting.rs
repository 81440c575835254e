//! Rule: the kernel completes the handshake, but nothing calls `accept()` on the listening
//! socket: no byte ever comes back and the connections pile up in its accept queue. The
//! usual holder is a process that inherited the socket from a server that died (it does no
//! networking at all), or a server stuck before its accept loop.

use crate::doctor::{Context, holder};
use crate::model::{Finding, Severity};

/// DOC-NOT-ACCEPTING, per listener with a queue, when the exchange got silence. A stopped
/// owner or a full queue is named by its own rule.
pub fn check(ctx: &Context) -> Vec<Finding> {
    if !ctx.unserved() {
        return Vec::new();
    }
    ctx.listeners()
        .filter(|s| s.recv_q > 0 && s.recv_q < s.send_q)
        .filter(|s| {
            !s.pids.iter().any(|p| {
                ctx.snapshot
                    .process(*p)
                    .is_some_and(|p| p.state.is_frozen())
            })
        })
        .map(|s| {
            let mut evidence = vec![
                "not a byte came back to the requests sent after the handshake".to_string(),
                format!(
                    "netlink sock_diag: {} has {} connection(s) waiting in its accept queue (backlog {}): nothing takes them",
                    s.local, s.recv_q, s.send_q
                ),
            ];
            let mut fix = Vec::new();
            for p in s.pids.iter().filter_map(|pid| ctx.snapshot.process(*pid)) {
                evidence.push(format!("pid {} ({}): {}", p.pid, p.comm, p.cmdline.join(" ")));
                evidence.extend(holder::describe(p, s));
                fix.push(format!(
                    "cat /proc/{}/wchan; ls -l /proc/{}/fd   # what it waits on, and what it holds",
                    p.pid, p.pid
                ));
            }
            fix.push(format!(
                "if it is not your server (a child that inherited the socket): portscope kill {}",
                ctx.port
            ));
            Finding {
                code: "DOC-NOT-ACCEPTING",
                severity: Severity::Critical,
                title: format!(
                    "{} holds {} but never accepts: the kernel completes each handshake, then the connection waits unanswered",
                    ctx.owner_label(s),
                    s.local
                ),
                evidence,
                fix,
            }
        })
        .collect()
}
