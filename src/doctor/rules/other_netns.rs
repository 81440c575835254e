//! Rule: nothing listens here, but a process listens on the port in *another* network
//! namespace (a container, an `ip netns`), which this namespace cannot reach.

use crate::doctor::{Context, Outcome};
use crate::model::{Finding, Severity};

/// DOC-OTHER-NETNS, one per foreign listener.
pub fn check(ctx: &Context) -> Vec<Finding> {
    if ctx.listeners().next().is_some()
        || ctx.attempts.iter().any(|a| a.outcome == Outcome::Connected)
    {
        return Vec::new();
    }
    let (foreign, _) = &ctx.foreign;
    foreign
        .iter()
        .map(|f| {
            let comm = std::fs::read_to_string(format!("/proc/{}/comm", f.pid))
                .map(|c| c.trim().to_string())
                .unwrap_or_default();
            let ns = match &f.name {
                Some(name) => format!("network namespace \"{name}\" (ip netns)"),
                None => format!("network namespace {} (a container's, or a program's own)", f.netns),
            };
            let mut fix = Vec::new();
            if let Some(name) = &f.name {
                fix.push(format!("run the client inside it: sudo ip netns exec {name} <client>"));
            } else {
                fix.push(format!("run the client inside it: sudo nsenter --net=/proc/{}/ns/net <client>", f.pid));
            }
            fix.push("or publish the port to this namespace (docker run -p, a veth pair, a proxy)".into());
            Finding {
                code: "DOC-OTHER-NETNS",
                severity: Severity::Critical,
                title: format!(
                    "port {} listens in another {ns}, not in this one: from here the connection is refused",
                    ctx.port
                ),
                evidence: vec![
                    format!("/proc/{}/net/tcp*: {} in state LISTEN", f.pid, f.socket.local),
                    format!("pid {} ({comm}) lives in that namespace (inode {})", f.pid, f.netns),
                    format!(
                        "this namespace is {}",
                        ctx.snapshot.netns.map_or("unknown".into(), |n| n.to_string())
                    ),
                ],
                fix,
            }
        })
        .collect()
}
