//! Rule: something listens on the port, but on an address the client does not dial: the
//! other loopback family (`::1` vs `127.0.0.1`, often through how `localhost` resolves),
//! another loopback address (`127.0.0.2`), or one specific non-loopback address.

use std::net::IpAddr;

use crate::doctor::{Context, Outcome};
use crate::knowledge::addr_class::receives_for;
use crate::model::{Finding, Severity, Socket};

fn code_for(bound: IpAddr, dialed: IpAddr) -> (&'static str, &'static str) {
    if bound.is_loopback() && dialed.is_loopback() && bound.is_ipv4() != dialed.is_ipv4() {
        ("DOC-WRONG-FAMILY", "the other loopback family")
    } else if bound.is_loopback() {
        (
            "DOC-OTHER-LOOPBACK-ADDRESS",
            "another loopback address (all of 127.0.0.0/8 is loopback, but each address is distinct)",
        )
    } else {
        ("DOC-SPECIFIC-ADDRESS", "one specific address")
    }
}

fn resolution_evidence(ctx: &Context) -> Option<String> {
    let res = ctx.resolution.as_ref()?;
    let order: Vec<String> = res.addresses.iter().map(IpAddr::to_string).collect();
    Some(format!(
        "{} resolves here to {}",
        res.name,
        order.join(", then ")
    ))
}

/// One finding per listener on the port that none of the failed dials reaches.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let failed: Vec<IpAddr> = ctx
        .attempts
        .iter()
        .filter(|a| a.outcome == Outcome::Refused)
        .map(|a| a.addr.ip())
        .collect();
    let Some(&dialed) = failed.first() else {
        return Vec::new();
    };
    let connected_somewhere = ctx.attempts.iter().any(|a| a.outcome == Outcome::Connected);
    let listeners: Vec<&Socket> = ctx.listeners().collect();
    let mut findings = Vec::new();
    for s in listeners.iter().filter(|s| {
        s.local
            .ip()
            .is_some_and(|b| !failed.iter().any(|d| receives_for(b, *d)))
    }) {
        let Some(bound) = s.local.ip() else { continue };
        let (code, what) = code_for(bound, dialed);
        let mut evidence = vec![
            format!(
                "connect to {}: refused",
                std::net::SocketAddr::new(dialed, ctx.port)
            ),
            format!("{} listens on {} only", ctx.owner_label(s), s.local),
        ];
        evidence.extend(resolution_evidence(ctx));
        let severity = if connected_somewhere {
            Severity::Warning
        } else {
            Severity::Critical
        };
        let title = if connected_somewhere {
            format!(
                "{} is refused, but another address of the same name works: {} listens on {what}; a client that tries only the first address fails",
                std::net::SocketAddr::new(dialed, ctx.port),
                ctx.owner_label(s)
            )
        } else {
            format!(
                "{} listens on {} — {what} — so {} is refused",
                ctx.owner_label(s),
                s.local,
                std::net::SocketAddr::new(dialed, ctx.port)
            )
        };
        let wildcard = if dialed.is_ipv4() { "0.0.0.0" } else { "::" };
        let mut fix = vec![
            format!("connect to {} instead", s.local),
            format!(
                "or make the server listen where clients dial: bind {dialed} (or {wildcard} for every address, which also exposes it to the network)"
            ),
        ];
        if ctx.resolution.is_some() && bound.is_ipv4() != dialed.is_ipv4() {
            fix.push("Node.js ≥ 17 keeps the resolver's order for localhost: pass --dns-result-order=ipv4first to the client, or listen on both families".into());
        }
        findings.push(Finding {
            code,
            severity,
            title,
            evidence,
            fix,
        });
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage() {
        let v4: IpAddr = "127.0.0.1".parse().unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let v6 = IpAddr::from(std::net::Ipv6Addr::LOCALHOST);
        assert!(receives_for(IpAddr::from([0, 0, 0, 0]), v4));
        assert!(!receives_for(v6, v4));
        assert!(receives_for(
            IpAddr::from(std::net::Ipv6Addr::UNSPECIFIED),
            v4
        ));
        assert!(!receives_for(IpAddr::from([127, 0, 0, 2]), v4));
        assert_eq!(code_for(v6, v4).0, "DOC-WRONG-FAMILY");
        assert_eq!(
            code_for(IpAddr::from([127, 0, 0, 2]), v4).0,
            "DOC-OTHER-LOOPBACK-ADDRESS"
        );
        assert_eq!(
            code_for(IpAddr::from([10, 1, 2, 3]), v4).0,
            "DOC-SPECIFIC-ADDRESS"
        );
    }
}
