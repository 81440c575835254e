//! Rule: the loopback interface itself is down in this network namespace (a fresh namespace,
//! a broken container, `ip link set lo down`): nothing local is reachable, not even 127.0.0.1.

use crate::doctor::{Context, Outcome};
use crate::model::{Finding, Severity};

/// DOC-LOOPBACK-DOWN.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let failed_locally: Vec<_> = ctx
        .attempts
        .iter()
        .filter(|a| a.addr.ip().is_loopback() && a.outcome == Outcome::Unreachable)
        .collect();
    if failed_locally.is_empty() || ctx.loopback_up != Some(false) {
        return Vec::new();
    }
    let mut evidence: Vec<String> = failed_locally
        .iter()
        .map(|a| {
            format!(
                "connect to {}: {}",
                a.addr,
                a.error.as_deref().unwrap_or("network is unreachable")
            )
        })
        .collect();
    evidence.push("/sys/class/net/lo/flags: IFF_UP is not set (interface lo is down)".into());
    if let Some(ns) = ctx.snapshot.netns {
        evidence.push(format!("network namespace inode {ns}"));
    }
    vec![Finding {
        code: "DOC-LOOPBACK-DOWN",
        severity: Severity::Critical,
        title: "the loopback interface is down in this network namespace: even 127.0.0.1 is unreachable".into(),
        evidence,
        fix: vec![
            "sudo ip link set lo up".into(),
            "in a container or namespace you made: bring lo up in its setup (ip netns exec NAME ip link set lo up)".into(),
        ],
    }]
}
