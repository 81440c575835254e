//! Rule: a firewall rule (nftables or iptables) drops or rejects the traffic — loopback
//! included, which many people believe cannot be filtered.

use crate::doctor::{Context, Outcome};
use crate::model::{Finding, Severity};
use crate::sys::firewall::Cause;

/// DOC-FIREWALL, one per blocking rule, when a connect attempt failed.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let failed: Vec<_> = ctx
        .attempts
        .iter()
        .filter(|a| a.outcome != Outcome::Connected)
        .collect();
    if failed.is_empty() {
        return Vec::new();
    }
    ctx.firewall
        .iter()
        .filter_map(|r| match &r.cause {
            Cause::Rule { delete } => Some((r, delete)),
            Cause::Policy { .. } => None,
        })
        .map(|(r, delete)| {
            let how = if r.verdict == "drop" {
                "drops the packets (the client waits and times out)"
            } else {
                "rejects the connection (the client sees it refused or unreachable)"
            };
            let mut evidence: Vec<String> = failed
                .iter()
                .map(|a| format!("connect to {}: {:?}", a.addr, a.outcome).to_lowercase())
                .collect();
            evidence.push(format!("{}: {}", r.tool, r.location));
            let listening = ctx.listeners().next().is_some();
            if listening {
                evidence.push(format!(
                    "a process does listen on port {} here: the firewall is in the way",
                    ctx.port
                ));
            }
            Finding {
                code: "DOC-FIREWALL",
                severity: Severity::Critical,
                title: format!("a {} rule {how} for TCP port {}", r.tool, ctx.port),
                evidence,
                fix: vec![
                    format!("{delete}   # remove the rule"),
                    "or add an accept rule for this port before it (loopback can be filtered too)"
                        .into(),
                ],
            }
        })
        .collect()
}
