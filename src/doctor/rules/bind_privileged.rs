//! Rule (`--bind`): a privileged port without the capability to bind it.

use crate::doctor::{BindOutcome, Context};
use crate::model::{Finding, Severity};

/// DOC-BIND-PRIVILEGED.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let Some(b) = ctx
        .binds
        .iter()
        .find(|b| b.outcome == BindOutcome::PermissionDenied)
    else {
        return Vec::new();
    };
    let start = ctx.sysctls.unprivileged_port_start.unwrap_or(1024);
    let mut evidence = vec![format!(
        "bind {}: {}",
        b.addr,
        b.error.as_deref().unwrap_or("permission denied")
    )];
    if ctx.port < start {
        evidence.push(format!(
            "net.ipv4.ip_unprivileged_port_start is {start} here: ports below it need CAP_NET_BIND_SERVICE"
        ));
    }
    if ctx.cap_net_bind_service == Some(false) {
        evidence
            .push("this process has no CAP_NET_BIND_SERVICE (CapEff in /proc/self/status)".into());
    }
    vec![Finding {
        code: "DOC-BIND-PRIVILEGED",
        severity: Severity::Critical,
        title: format!("port {} is privileged here and this user may not bind it", ctx.port),
        evidence,
        fix: vec![
            "sudo setcap cap_net_bind_service=+ep /path/to/your/binary   # only that program may bind low ports".into(),
            format!("or listen on a port ≥ {start} (e.g. 8080) and redirect: sudo iptables -t nat -A PREROUTING -p tcp --dport {} -j REDIRECT --to-port 8080", ctx.port),
            format!("or lower the limit for everyone: sudo sysctl -w net.ipv4.ip_unprivileged_port_start={}", ctx.port),
        ],
    }]
}
