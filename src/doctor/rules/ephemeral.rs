//! Rule: the local (ephemeral) ports for connections to the target are nearly used up, so
//! `connect()` fails with EADDRNOTAVAIL ("Cannot assign requested address") or soon will.

use crate::doctor::{Context, Outcome};
use crate::model::{Finding, Severity};

/// DOC-EPHEMERAL-EXHAUSTED when connections to the target use ≥ 70 % of the ephemeral range.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let Some((lo, hi)) = ctx.sysctls.ephemeral else {
        return Vec::new();
    };
    let size = usize::from(hi.saturating_sub(lo)) + 1;
    let mut findings = Vec::new();
    for a in &ctx.attempts {
        let used = ctx
            .snapshot
            .sockets
            .iter()
            .filter(|s| {
                s.remote.as_ref().and_then(|r| r.ip()) == Some(a.addr.ip())
                    && s.remote.as_ref().and_then(|r| r.port()) == Some(a.addr.port())
                    && s.port().is_some_and(|p| (lo..=hi).contains(&p))
            })
            .count();
        if used * 10 < size * 7 {
            continue;
        }
        let refused_port = a.outcome == Outcome::Unreachable
            && a.error
                .as_deref()
                .is_some_and(|e| e.contains("assign requested address"));
        let full = used >= size || refused_port;
        let listeners_in_range = ctx
            .snapshot
            .sockets
            .iter()
            .filter(|s| s.is_listening() && s.port().is_some_and(|p| (lo..=hi).contains(&p)))
            .count();
        let mut evidence = vec![format!(
            "{used} connection(s) to {} use local ports from the ephemeral range {lo}-{hi} ({size} ports, net.ipv4.ip_local_port_range)",
            a.addr
        )];
        if listeners_in_range > 0 {
            evidence.push(format!(
                "{listeners_in_range} more port(s) of the range are held by listeners (a bind to port 0 draws from the same range)"
            ));
        }
        if let Some(e) = &a.error {
            evidence.push(format!("connect to {}: {e}", a.addr));
        }
        findings.push(Finding {
            code: "DOC-EPHEMERAL-EXHAUSTED",
            severity: if full { Severity::Critical } else { Severity::Warning },
            title: format!(
                "{}: {used} of {size} local ports for connections to {} are in use{}",
                if full { "out of local ports" } else { "nearly out of local ports" },
                a.addr,
                if full { ", so new connections fail with \"Cannot assign requested address\"" } else { "" }
            ),
            evidence,
            fix: vec![
                "reuse connections (keep-alive, a connection pool) instead of opening one per request".into(),
                format!("widen the range: sudo sysctl -w net.ipv4.ip_local_port_range=\"{} 65000\"", lo.min(15000)),
                "portscope ls --all --state established,time_wait   # who holds them".into(),
            ],
        });
    }
    findings
}
