//! Rule: the port accepts a connection and closes it before a byte goes either way — a
//! forwarder whose backend is gone (docker-proxy for a container that stopped, or whose
//! program listens on the container's own loopback), TCP wrappers, or a server that drops
//! clients it does not want. Clients see "Empty reply from server" or "Connection reset".

use crate::doctor::{Context, Outcome, holder};
use crate::model::{Finding, Severity};

/// DOC-CLOSED-AT-ONCE, once per address that did so.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let Some(a) = ctx
        .attempts
        .iter()
        .find(|a| a.outcome == Outcome::ClosedAtOnce)
    else {
        return Vec::new();
    };
    // docker-proxy with a backend that refuses or is gone: that rule names the cause.
    if super::docker_proxy::explains(ctx).is_some() {
        return Vec::new();
    }
    let mut evidence = vec![format!(
        "connect to {}: accepted, then closed before a byte was sent or received",
        a.addr
    )];
    let mut fix = Vec::new();
    let mut holder_label = "the listener".to_string();
    for s in ctx.listeners() {
        holder_label = ctx.owner_label(s);
        for p in s.pids.iter().filter_map(|pid| ctx.snapshot.process(*pid)) {
            evidence.push(format!("pid {}: {}", p.pid, p.cmdline.join(" ")));
            evidence.extend(holder::describe(p, s));
            if let Some(backend) = holder::docker_backend(p) {
                fix.push(format!(
                    "docker ps --filter publish={}   # is the container still running?",
                    ctx.port
                ));
                if ctx
                    .backends
                    .iter()
                    .any(|b| b.attempt.addr == backend && b.attempt.outcome == Outcome::Connected)
                {
                    fix.push(format!("docker logs CONTAINER   # docker-proxy reaches {backend}: the container's program closes each connection"));
                } else {
                    fix.push(format!(
                        "inside the container the program must listen on 0.0.0.0 (every address), not 127.0.0.1: docker-proxy connects to {backend}, which is the container's own address"
                    ));
                }
            }
        }
    }
    if fix.is_empty() {
        fix.push(format!("read {holder_label}'s output or log: it closes each connection at once (a crash on accept, a connection limit, or TCP wrappers in /etc/hosts.allow and /etc/hosts.deny)"));
    }
    vec![Finding {
        code: "DOC-CLOSED-AT-ONCE",
        severity: Severity::Critical,
        title: format!(
            "{holder_label} accepts connections on {} and closes them at once, without a word",
            a.addr
        ),
        evidence,
        fix,
    }]
}
