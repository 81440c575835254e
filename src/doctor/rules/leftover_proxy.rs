//! Rule: a `docker-proxy` holds the port, and the Docker engine, asked, lists no container
//! publishing it: the proxy was left behind by a removed container (dockerd killed, or a
//! crash between removing the container and stopping its proxy). It accepts connections and
//! forwards them to an address where its container no longer is — or, worse, where another
//! container now is — and it keeps the port from every other program.

use crate::doctor::{BindOutcome, Context, holder};
use crate::model::{Finding, Severity};

/// The pids of the `docker-proxy` processes the engine confirms are left over.
pub fn confirmed(ctx: &Context) -> Vec<u32> {
    ctx.listeners()
        .filter(|s| ctx.containers.attached.leftover.contains_key(&s.inode))
        .flat_map(|s| s.pids.iter().copied())
        .collect()
}

/// DOC-DOCKER-PROXY-LEFTOVER, once per leftover proxy.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let bind_mode = !ctx.binds.is_empty();
    if bind_mode && !ctx.binds.iter().any(|b| b.outcome == BindOutcome::InUse) {
        return Vec::new();
    }
    let mut out: Vec<Finding> = Vec::new();
    let mut seen: Vec<u32> = Vec::new();
    for s in ctx.listeners() {
        let Some(asked) = ctx.containers.attached.leftover.get(&s.inode) else {
            continue;
        };
        for p in s.pids.iter().filter_map(|pid| ctx.snapshot.process(*pid)) {
            if p.comm != "docker-proxy" || seen.contains(&p.pid) {
                continue;
            }
            seen.push(p.pid);
            let port = ctx.port;
            let mut evidence = vec![format!("pid {}: {}", p.pid, p.cmdline.join(" "))];
            evidence.extend(holder::describe(p, s));
            evidence.push(format!(
                "{asked} answered: no running container publishes port {port}"
            ));
            if let Some(b) = ctx.backends.iter().find(|b| b.pid == p.pid) {
                evidence.push(format!(
                    "connect to {} (where it forwards): {}",
                    b.attempt.addr,
                    super::docker_proxy::outcome(b.attempt.outcome)
                ));
            }
            let to = holder::docker_backend(p)
                .map(|b| format!(" to {b}"))
                .unwrap_or_default();
            out.push(Finding {
                code: "DOC-DOCKER-PROXY-LEFTOVER",
                severity: Severity::Critical,
                title: format!(
                    "leftover docker-proxy pid {} from a removed container holds {}: no container publishes port {port} any more, yet it accepts and forwards{to}",
                    p.pid, s.local
                ),
                evidence,
                fix: vec![
                    "sudo systemctl restart docker   # Docker drops the proxies it left behind (containers with a restart policy come back)".into(),
                    format!("or: portscope kill --force {port}   # stops docker-proxy pid {} alone and checks the port is free", p.pid),
                    format!("docker ps -a --filter publish={port}   # check first: no container, running or stopped, should publish it"),
                ],
            });
        }
    }
    out
}
