//! Rule (`--bind`): the address is not on this machine (`EADDRNOTAVAIL`), or it is `::1`
//! while IPv6 is disabled.

use crate::doctor::{BindOutcome, Context};
use crate::model::{Finding, Severity};

/// DOC-BIND-ADDRESS-NOT-HERE.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let Some(b) = ctx
        .binds
        .iter()
        .find(|b| b.outcome == BindOutcome::NotAvailable)
    else {
        return Vec::new();
    };
    let ip = b.addr.ip();
    let mut evidence = vec![format!(
        "bind {}: {}",
        b.addr,
        b.error
            .as_deref()
            .unwrap_or("cannot assign requested address")
    )];
    let v6_off = ip.is_ipv6() && ctx.sysctls.ipv6_disabled == Some(true);
    if v6_off {
        evidence.push("net.ipv6.conf.all.disable_ipv6 = 1: IPv6 is switched off here".into());
    }
    let title = if v6_off {
        format!("{ip} cannot be bound: IPv6 is disabled on this machine")
    } else {
        format!("{ip} is not an address of this machine: no interface here has it")
    };
    vec![Finding {
        code: "DOC-BIND-ADDRESS-NOT-HERE",
        severity: Severity::Critical,
        title,
        evidence,
        fix: vec![
            "ip -brief address   # the addresses this machine has".into(),
            format!(
                "bind one of them, 127.0.0.1 for this machine only, or 0.0.0.0 for every interface (port {})",
                ctx.port
            ),
        ],
    }]
}
