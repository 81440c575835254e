//! Rule: the client dials the port at one address, and a container publishes it through NAT
//! on another only (`-p 127.0.0.2:P:80`, `-p 192.168.1.20:P:80`): no socket here holds it,
//! the NAT rule matches only that address, so the client's dial is refused while the
//! container runs. (A published port a proxy holds is a listener: DOC-OTHER-LOOPBACK-ADDRESS
//! and its kin in `other_address.rs` name its container.)

use std::net::{IpAddr, SocketAddr};

use crate::doctor::{Context, Outcome};
use crate::model::{Finding, Severity};

/// DOC-PUBLISHED-ELSEWHERE, once per container publishing the port elsewhere.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let refused: Vec<IpAddr> = ctx
        .attempts
        .iter()
        .filter(|a| a.outcome == Outcome::Refused)
        .map(|a| a.addr.ip())
        .collect();
    let Some(&dialed) = refused.first() else {
        return Vec::new();
    };
    let connected = ctx.attempts.iter().any(|a| a.outcome == Outcome::Connected);
    if connected || ctx.containers.published.iter().any(|p| p.receives(dialed)) {
        return Vec::new();
    }
    let mut out: Vec<Finding> = Vec::new();
    for p in &ctx.containers.published {
        let at = SocketAddr::new(p.host_ip, p.port);
        let who = match &p.container {
            Some(c) => format!(
                "container {} ({})",
                crate::text::terminal(&c.name),
                c.engine
            ),
            None => "a NAT rule".into(),
        };
        if out.iter().any(|f| f.title.contains(&who)) {
            continue;
        }
        let mut evidence = vec![format!(
            "connect to {}: refused",
            SocketAddr::new(dialed, ctx.port)
        )];
        evidence.push(format!(
            "{who} publishes {at} through NAT (no socket here holds it)"
        ));
        evidence.extend(p.rule.as_ref().map(|r| format!("NAT rule: {r}")));
        let mut fix = vec![format!("connect to {at} instead")];
        if let Some(c) = &p.container {
            let inside = c.published.as_ref().map_or(0, |m| m.container_port);
            let any = if dialed.is_ipv4() { "0.0.0.0" } else { "::" };
            fix.push(format!(
                "or publish it where clients dial: {} run -p {}:{inside} … (or -p {any}:{}:{inside} for every address, which also exposes it to the network); a published port changes only when the container is created again",
                c.engine,
                SocketAddr::new(dialed, ctx.port),
                ctx.port
            ));
        }
        out.push(Finding {
            code: "DOC-PUBLISHED-ELSEWHERE",
            severity: Severity::Critical,
            title: format!(
                "{who} publishes port {} on {} only, so {} is refused",
                ctx.port,
                p.host_ip,
                SocketAddr::new(dialed, ctx.port)
            ),
            evidence,
            fix,
        });
    }
    out
}
