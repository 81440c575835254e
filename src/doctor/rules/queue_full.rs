//! Rule: the listener is alive but not accepting: its accept queue is full, so the kernel
//! drops new handshakes and clients time out.

use crate::doctor::Context;
use crate::model::{Finding, Severity};

/// DOC-ACCEPT-QUEUE-FULL when a listener's queue length has reached its backlog.
pub fn check(ctx: &Context) -> Vec<Finding> {
    ctx.listeners()
        .filter(|s| s.recv_q > 0 && s.recv_q >= s.send_q)
        .map(|s| {
            let pid = s.pids.first().map_or("PID".to_string(), u32::to_string);
            Finding {
                code: "DOC-ACCEPT-QUEUE-FULL",
                severity: Severity::Critical,
                title: format!(
                    "{} listens on {} but does not accept: its accept queue is full ({} waiting, backlog {}), so new connections time out",
                    ctx.owner_label(s),
                    s.local,
                    s.recv_q,
                    s.send_q
                ),
                evidence: vec![
                    format!("netlink sock_diag: {} recv-q {} ≥ send-q (backlog) {}", s.local, s.recv_q, s.send_q),
                    "the program is not calling accept(): hung, blocked, or overloaded".into(),
                ],
                fix: vec![
                    format!("see what it is doing: cat /proc/{pid}/wchan; py-spy dump --pid {pid} / jstack {pid} / gdb -p {pid}"),
                    "if it is only slow: raise the backlog in listen() and net.core.somaxconn".into(),
                    format!("restart it: portscope who {} shows how it was started", s.local),
                ],
            }
        })
        .collect()
}
