//! Rule: a firewall rule (nftables or iptables) drops or rejects the traffic — loopback
//! included, which many people believe cannot be filtered.

use crate::doctor::{Context, Outcome};
use crate::model::{Finding, Severity};
use crate::sys::firewall::Cause;

/// What the failed connect attempts did, one line each (`None` when every attempt connected:
/// then no firewall is in the way). Shared with the policy rule.
pub(super) fn failed_attempts(ctx: &Context) -> Option<Vec<String>> {
    let lines: Vec<String> = ctx
        .attempts
        .iter()
        .filter(|a| a.outcome != Outcome::Connected)
        .map(|a| {
            let how = match a.outcome {
                Outcome::TimedOut => "timed out: the packets are dropped",
                Outcome::Refused => "refused",
                Outcome::Unreachable => "unreachable",
                _ => "failed",
            };
            format!("connect to {}: {how} ({:.0} ms)", a.addr, a.elapsed_ms)
        })
        .collect();
    (!lines.is_empty()).then_some(lines)
}

/// The evidence line that a process does listen (so the firewall is what is in the way).
pub(super) fn listening_line(ctx: &Context) -> Option<String> {
    ctx.listeners().next().map(|_| {
        format!(
            "a process does listen on port {} here: the firewall is in the way",
            ctx.port
        )
    })
}

/// DOC-FIREWALL, one per blocking rule, when a connect attempt failed.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let Some(failed) = failed_attempts(ctx) else {
        return Vec::new();
    };
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
            let mut evidence = failed.clone();
            evidence.push(format!("{}: {}", r.tool, r.location));
            evidence.extend(listening_line(ctx));
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
