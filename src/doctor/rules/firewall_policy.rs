//! Rule: a firewall chain hooked where the connection passes drops by default (`policy
//! drop`), and no rule in it accepts loopback or the port — as much a block as an explicit
//! drop rule, and easier to miss: `ct state established,related accept` lets replies in, not
//! new connections.

use crate::doctor::Context;
use crate::model::{Finding, Severity};
use crate::sys::firewall::Cause;

/// DOC-FIREWALL-POLICY, one per such chain, when a connect attempt failed.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let Some(failed) = super::firewall::failed_attempts(ctx) else {
        return Vec::new();
    };
    let port = ctx.port;
    ctx.firewall
        .iter()
        .filter_map(|r| match &r.cause {
            Cause::Policy {
                chain,
                hook,
                rules,
                accept,
            } => Some((r, chain, hook, rules, accept)),
            Cause::Rule { .. } => None,
        })
        .map(|(r, chain, hook, rules, [lo, port_only])| {
            let mut evidence = failed.clone();
            evidence.push(format!("{}: {}", r.tool, r.location));
            evidence.push(format!(
                "its {rules} rule(s), and the chains they jump to, accept neither loopback nor a new connection to TCP port {port}: the packet falls through to the policy"
            ));
            evidence.extend(super::firewall::listening_line(ctx));
            Finding {
                code: "DOC-FIREWALL-POLICY",
                severity: Severity::Critical,
                title: format!(
                    "the default policy of the {} chain {chain} (hook {hook}) drops, and no rule accepts loopback or TCP port {port}",
                    r.tool
                ),
                evidence,
                fix: vec![
                    format!("{lo}   # accept all loopback traffic (what most rulesets do first)"),
                    format!("or: {port_only}   # accept this port only"),
                ],
            }
        })
        .collect()
}
