//! Rule: a name whose addresses do not all serve works for some clients and fails for
//! others — curl and browsers race both families (and take `localhost` as both loopback
//! addresses), Python tries the resolver's answer in turn, Node.js 17–19 dials only its
//! first address. Which client the user runs decides; doctor names who fails.

use crate::doctor::Context;
use crate::model::{Finding, Severity};

/// DOC-CLIENTS-DIFFER when at least one family of clients connects and another does not.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let (ok, failing): (Vec<_>, Vec<_>) = ctx.clients.iter().partition(|c| c.reaches.is_some());
    if ok.is_empty() || failing.is_empty() {
        return Vec::new();
    }
    let Some(res) = &ctx.resolution else {
        return Vec::new();
    };
    let list = |ips: &[std::net::IpAddr]| {
        ips.iter()
            .map(|ip| std::net::SocketAddr::new(*ip, ctx.port).to_string())
            .collect::<Vec<_>>()
            .join(", then ")
    };
    let mut evidence = vec![format!(
        "the resolver (getaddrinfo) answers {} with {}",
        res.name,
        if res.addresses.is_empty() {
            "nothing".to_string()
        } else {
            res.addresses
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", then ")
        }
    )];
    if res.hosts_lines.is_empty() {
        evidence.push(format!("/etc/hosts has no line for {}", res.name));
    }
    for line in &res.hosts_lines {
        evidence.push(format!("/etc/hosts: {line}"));
    }
    for a in &ctx.attempts {
        evidence.push(format!(
            "connect to {}: {}",
            a.addr,
            format!("{:?}", a.outcome).to_lowercase()
        ));
    }
    for c in &ctx.clients {
        let result = match c.reaches {
            Some(ip) => format!("connects to {}", std::net::SocketAddr::new(ip, ctx.port)),
            None => "none connects".into(),
        };
        evidence.push(format!(
            "{} — {}: dial {} → {result}",
            c.clients,
            c.how,
            list(&c.dials)
        ));
    }
    let names = |v: &[&crate::knowledge::clients::ClientView]| {
        let names: Vec<&str> = v.iter().map(|c| c.short).collect();
        match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => names.join(""),
        }
    };
    let serving: Vec<std::net::SocketAddr> = ctx
        .attempts
        .iter()
        .filter(|a| a.outcome == crate::doctor::Outcome::Connected)
        .map(|a| a.addr)
        .collect();
    let shown = |sep: &str| {
        serving
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(sep)
    };
    let dialled = failing
        .first()
        .map(|c| list(&c.dials).replace(", then ", " and "))
        .unwrap_or_default();
    vec![Finding {
        code: "DOC-CLIENTS-DIFFER",
        severity: Severity::Critical,
        title: format!(
            "{} works in {} but not in {}: only {} serves, and they dial {dialled}",
            ctx.target,
            names(&ok),
            names(&failing),
            shown(" and ")
        ),
        evidence,
        fix: vec![
            "make the server listen on every address of the name: both 127.0.0.1 and ::1 for localhost (or :: without IPV6_V6ONLY, which takes both)".into(),
            format!(
                "or have the clients dial the address that serves: {}",
                shown(" or ")
            ),
            "Node.js 17–19: --dns-result-order=ipv4first, or upgrade (Node.js ≥ 20 tries both families)".into(),
        ],
    }]
}
