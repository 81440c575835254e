//! Rule: the host name does not resolve here, so no client can even try to connect. Never
//! "nothing listens": nothing was dialled.

use crate::doctor::Context;
use crate::model::{Finding, Severity};

/// DOC-NAME-UNRESOLVED.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let Some(res) = ctx
        .resolution
        .as_ref()
        .filter(|r| r.addresses.is_empty() && ctx.attempts.is_empty())
    else {
        return Vec::new();
    };
    let mut evidence = vec![format!(
        "getaddrinfo({}): {}",
        res.name,
        res.error.as_deref().unwrap_or("no address")
    )];
    evidence.push(if res.hosts_lines.is_empty() {
        format!("/etc/hosts has no line for {}", res.name)
    } else {
        format!("/etc/hosts: {}", res.hosts_lines.join(" | "))
    });
    vec![Finding {
        code: "DOC-NAME-UNRESOLVED",
        severity: Severity::Critical,
        title: format!(
            "{} does not resolve here: no client can connect to {}",
            res.name, ctx.target
        ),
        evidence,
        fix: vec![
            format!("check the spelling of {}", res.name),
            format!(
                "getent hosts {}   # what the resolver says; add a line to /etc/hosts for a local name",
                res.name
            ),
        ],
    }]
}
