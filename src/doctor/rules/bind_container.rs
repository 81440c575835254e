//! Rule (`--bind`): the port belongs to a container. Either a process holds it for one (a
//! `docker-proxy`, `conmon`, `dockerd`: the bind fails, and stopping that process would
//! only break the container), or a container publishes it through NAT with no socket here:
//! the bind then *succeeds*, but connections to the port go to the container, never to the
//! program that bound it.

use crate::doctor::{BindOutcome, Context};
use crate::model::{Finding, Severity};

/// DOC-BIND-CONTAINER (a holder serves a container) and DOC-BIND-PUBLISHED-NAT.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    let in_use = ctx.binds.iter().any(|b| b.outcome == BindOutcome::InUse);
    let leftover = super::leftover_proxy::confirmed(ctx);
    for s in ctx.listeners().filter(|_| in_use) {
        let Some(c) = ctx.containers.of(s) else {
            continue;
        };
        if s.pids.iter().any(|p| leftover.contains(p)) {
            continue;
        }
        let name = crate::text::terminal(&c.name).into_owned();
        out.push(Finding {
            code: "DOC-BIND-CONTAINER",
            severity: Severity::Warning,
            title: format!(
                "{} holds {} for container {name} ({}): the container is the port's real owner",
                ctx.owner_label(s),
                s.local,
                c.engine
            ),
            evidence: vec![format!(
                "{} names the container: {name} ({}), image {}, {}",
                c.engine,
                c.short_id(),
                crate::text::terminal(&c.image),
                crate::text::terminal(&c.state)
            )],
            fix: vec![
                format!("{} stop {name}   # frees the port (stopping its forwarder alone would leave the container unreachable)", c.engine),
                format!("or start your program on another port, or publish the container elsewhere (-p OTHER:{})", c.published.as_ref().map_or(0, |p| p.container_port)),
            ],
        });
    }
    if ctx.binds.is_empty() {
        return out;
    }
    for p in &ctx.containers.published {
        let at = std::net::SocketAddr::new(p.host_ip, p.port);
        let (who, stop) = match &p.container {
            Some(c) => {
                let name = crate::text::terminal(&c.name).into_owned();
                (
                    format!("container {name} ({})", c.engine),
                    format!("{} stop {name}   # removes its NAT rule and frees the port", c.engine),
                )
            }
            None => (
                "a NAT rule".to_string(),
                "sudo iptables-save -t nat | grep -- '--dport PORT'   # find the rule, then the engine or tool that made it".replace("PORT", &p.port.to_string()),
            ),
        };
        let mut evidence = vec![format!(
            "{who} publishes {at} through destination NAT: no socket here holds it, so a bind succeeds"
        )];
        evidence.extend(p.to.map(|to| format!("connections to {at} are sent to {to}")));
        evidence.extend(p.rule.as_ref().map(|r| format!("NAT rule: {r}")));
        out.push(Finding {
            code: "DOC-BIND-PUBLISHED-NAT",
            severity: Severity::Critical,
            title: format!(
                "{who} publishes port {} through NAT: a program here can bind it, but connections to {at} go to the container, never to that program",
                p.port
            ),
            evidence,
            fix: vec![stop, format!("or start your program on another port than {}", p.port)],
        });
    }
    out
}
