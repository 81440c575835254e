//! Rule: the listener's process is stopped (Ctrl+Z, SIGSTOP): the kernel still completes
//! handshakes into the accept queue, so clients connect — and then wait forever.

use crate::doctor::Context;
use crate::model::{Finding, ProcState, Severity};

/// DOC-LISTENER-STOPPED when every owner of a listener on the port is stopped.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    for s in ctx.listeners() {
        let owners: Vec<_> = s
            .pids
            .iter()
            .filter_map(|p| ctx.snapshot.process(*p))
            .collect();
        if owners.is_empty() || !owners.iter().all(|p| p.state.is_frozen()) {
            continue;
        }
        let mut evidence: Vec<String> = owners
            .iter()
            .map(|p| format!("/proc/{}/stat: {} is in state {:?}", p.pid, p.comm, p.state))
            .collect();
        evidence.push(format!(
            "{} connection(s) wait in its accept queue (backlog {}), this check's own attempt included",
            s.recv_q, s.send_q
        ));
        let pids: Vec<String> = owners.iter().map(|p| p.pid.to_string()).collect();
        let traced = owners.iter().any(|p| p.state == ProcState::TracingStop);
        let mut fix = vec![format!("kill -CONT {}", pids.join(" "))];
        if traced {
            fix.insert(0, "it is stopped in a debugger: continue it there".into());
        } else {
            fix.insert(
                0,
                "fg   # in the terminal where it was suspended with Ctrl+Z".into(),
            );
        }
        findings.push(Finding {
            code: "DOC-LISTENER-STOPPED",
            severity: Severity::Critical,
            title: format!(
                "{} listens on {} but is stopped: connections are accepted by the kernel and never answered",
                ctx.owner_label(s),
                s.local
            ),
            evidence,
            fix,
        });
    }
    findings
}
