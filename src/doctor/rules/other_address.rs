//! Rule: something listens on the port, but on an address the client does not dial: the
//! other family (`::1` vs `127.0.0.1`, often through how `localhost` resolves, or `0.0.0.0`
//! for an IPv6 client), another loopback address (`127.0.0.2`), loopback only while the
//! client dials a non-loopback address (a LAN address, a Docker bridge gateway: what a phone
//! or a container dials), or one specific non-loopback address. An IPv6-only `[::]` listener
//! dialled over IPv4 is DOC-V6ONLY's.

use std::net::{IpAddr, SocketAddr};

use super::facts;
use crate::doctor::{Context, Outcome};
use crate::knowledge::addr_class::{classify, is_loopback};
use crate::model::{Finding, Severity, Socket};

/// The code for a listener on `bound` that a client dialling `dialed` does not reach, and
/// how to say where it listens; `None` for the IPv6 wildcard (only `IPV6_V6ONLY` makes it
/// refuse a dial: DOC-V6ONLY).
fn code_for(bound: IpAddr, dialed: IpAddr) -> Option<(&'static str, &'static str)> {
    let other_family = bound.is_ipv4() != dialed.is_ipv4();
    if bound.is_unspecified() {
        return bound
            .is_ipv4()
            .then_some(("DOC-WRONG-FAMILY", "every IPv4 address, but no IPv6 one"));
    }
    Some(match (is_loopback(bound), is_loopback(dialed)) {
        (true, true) if other_family => ("DOC-WRONG-FAMILY", "the other loopback family"),
        (true, true) => (
            "DOC-OTHER-LOOPBACK-ADDRESS",
            "another loopback address (all of 127.0.0.0/8 is loopback, but each address is distinct)",
        ),
        (true, false) => (
            "DOC-LOOPBACK-ONLY",
            "loopback only, which nothing but this machine can reach",
        ),
        (false, _) => ("DOC-SPECIFIC-ADDRESS", "one specific address"),
    })
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
    // An address that reached the listener (even one that closed at once) is "somewhere".
    let connected_somewhere = ctx
        .attempts
        .iter()
        .any(|a| matches!(a.outcome, Outcome::Connected | Outcome::ClosedAtOnce));
    // A refused address of a name, while another serves, is the clients' matter: harmless
    // when every client reaches the one that serves (portscope dials both loopback addresses
    // for localhost)
    // (when some client fails, the clients' finding names who and why).
    if connected_somewhere && !ctx.clients.is_empty() {
        return Vec::new();
    }
    let listeners: Vec<&Socket> = ctx.listeners().collect();
    let mut findings = Vec::new();
    for s in listeners
        .iter()
        .filter(|s| !failed.iter().any(|d| facts::receives(ctx, s, *d)))
    {
        let Some(bound) = s.local.ip() else { continue };
        let Some((code, what)) = code_for(bound, dialed) else {
            continue;
        };
        let mut evidence = vec![
            format!("connect to {}: refused", SocketAddr::new(dialed, ctx.port)),
            format!("{} listens on {} only", ctx.owner_label(s), s.local),
        ];
        if code == "DOC-LOOPBACK-ONLY" {
            evidence.push(dialed_evidence(dialed));
        }
        evidence.extend(resolution_evidence(ctx));
        let container = ctx
            .containers
            .of(s)
            .map(|c| container_lines(c, dialed, ctx.port));
        if let Some((seen, _)) = &container {
            evidence.push(seen.clone());
        }
        let severity = if connected_somewhere {
            Severity::Warning
        } else {
            Severity::Critical
        };
        let owner = match ctx.containers.of(s) {
            Some(c) => format!(
                "{} (for container {})",
                ctx.owner_label(s),
                crate::text::terminal(&c.name)
            ),
            None => ctx.owner_label(s),
        };
        let title = if connected_somewhere {
            format!(
                "{} is refused, but another address of the same name works: {} listens on {what}; a client that tries only the first address fails",
                std::net::SocketAddr::new(dialed, ctx.port),
                owner
            )
        } else {
            format!(
                "{} listens on {} — {what} — so {} is refused",
                owner,
                s.local,
                std::net::SocketAddr::new(dialed, ctx.port)
            )
        };
        let wildcard = if dialed.is_ipv4() { "0.0.0.0" } else { "::" };
        if code == "DOC-LOOPBACK-ONLY" {
            findings.push(Finding {
                code,
                severity,
                title,
                evidence,
                fix: match &container {
                    Some((_, republish)) => {
                        let mut fix = vec![republish.clone()];
                        fix.extend(loopback_only_fix(ctx, s, dialed));
                        fix
                    }
                    None => loopback_only_fix(ctx, s, dialed),
                },
            });
            continue;
        }
        let mut fix = vec![
            format!("connect to {} instead", s.local),
            format!(
                "or make the server listen where clients dial: bind {dialed} (or {wildcard} for every address, which also exposes it to the network)"
            ),
        ];
        if let Some((_, republish)) = container {
            fix.push(republish);
        }
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

/// For a listener held for a container: what its engine says it publishes, and how to
/// publish it where the client dials.
fn container_lines(
    c: &crate::containers::ContainerRef,
    dialed: IpAddr,
    port: u16,
) -> (String, String) {
    let name = crate::text::terminal(&c.name).into_owned();
    let (host, inside) = c.published.as_ref().map_or((String::new(), 0), |p| {
        (p.host_ip.clone(), p.container_port)
    });
    let any = if dialed.is_ipv4() { "0.0.0.0" } else { "::" };
    (
        format!(
            "it holds the port for container {name} ({} {}), published on {host}:{port} → {inside} only",
            c.engine,
            c.short_id()
        ),
        format!(
            "or publish the container's port where clients dial: {} run -p {}:{inside} … (or -p {any}:{port}:{inside} for every address); a published port changes only when the container is created again",
            c.engine,
            SocketAddr::new(dialed, port)
        ),
    )
}

/// What the dialled address is (`172.17.0.1 is private (172.16.0.0/12, RFC 1918): …`).
fn dialed_evidence(dialed: IpAddr) -> String {
    let info = classify(dialed);
    let block = if info.block.is_empty() {
        String::new()
    } else {
        format!(" ({}, {})", info.block, info.rfc)
    };
    format!(
        "{dialed} is not loopback: it is {}{block}, an address other machines and containers can dial — a loopback listener never receives it",
        info.class.label()
    )
}

/// The fix for a loopback-only listener dialled at a non-loopback address: the client is
/// probably not on this machine (a phone, another computer, a container), so "connect to
/// 127.0.0.1" is no answer.
fn loopback_only_fix(ctx: &Context, s: &Socket, dialed: IpAddr) -> Vec<String> {
    let port = ctx.port;
    let wildcard = if dialed.is_ipv4() { "0.0.0.0" } else { "::" };
    vec![
        format!(
            "make the server listen where the client dials: bind {dialed} (or {wildcard} for every address) — e.g. --host {wildcard} (Vite, webpack-dev-server, Flask), runserver {wildcard}:{port} (Django), -b {wildcard} (Rails)"
        ),
        format!(
            "{} is reachable only from this machine itself: a phone or another computer dials {dialed}, and a container reaches {} only with host networking (docker run --network host)",
            s.local, s.local
        ),
        format!(
            "then let the clients in through the firewall (e.g. sudo ufw allow {port}/tcp, or an nftables/iptables accept rule), and run portscope doctor {} again once the server listens there: it names a rule that drops the port",
            SocketAddr::new(dialed, port)
        ),
        format!(
            "{wildcard} also exposes the port to every network this machine is on: bind {dialed} alone to serve only that one"
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage() {
        let v4 = IpAddr::from([127, 0, 0, 1]);
        let v6 = IpAddr::from(std::net::Ipv6Addr::LOCALHOST);
        let code = |b: IpAddr, d: IpAddr| code_for(b, d).map(|c| c.0);
        assert_eq!(code(v6, v4), Some("DOC-WRONG-FAMILY"));
        assert_eq!(code(v4, v6), Some("DOC-WRONG-FAMILY"));
        assert_eq!(
            code(IpAddr::from([0, 0, 0, 0]), v6),
            Some("DOC-WRONG-FAMILY")
        );
        assert_eq!(
            code(IpAddr::from([127, 0, 0, 2]), v4),
            Some("DOC-OTHER-LOOPBACK-ADDRESS")
        );
        assert_eq!(
            code(IpAddr::from([10, 1, 2, 3]), v4),
            Some("DOC-SPECIFIC-ADDRESS")
        );
        // An IPv6-only wildcard is DOC-V6ONLY's.
        assert_eq!(
            code(IpAddr::from(std::net::Ipv6Addr::UNSPECIFIED), v4),
            None
        );
    }

    #[test]
    fn a_non_loopback_dial_is_never_called_loopback() {
        let lo = IpAddr::from([127, 0, 0, 1]);
        for dialed in [
            "192.168.1.20",
            "172.17.0.1",
            "10.0.0.5",
            "203.0.113.9",
            "fd00::5",
        ] {
            let dialed: IpAddr = dialed.parse().unwrap_or(lo);
            assert_ne!(dialed, lo);
            let (code, what) = code_for(lo, dialed).unwrap_or(("", ""));
            assert_eq!(code, "DOC-LOOPBACK-ONLY", "{dialed}");
            assert!(!what.contains("another loopback"), "{what}");
            assert!(!dialed_evidence(dialed).contains("is loopback"));
        }
        let v6lo = IpAddr::from(std::net::Ipv6Addr::LOCALHOST);
        assert_eq!(
            code_for(v6lo, IpAddr::from([192, 168, 1, 20])).map(|c| c.0),
            Some("DOC-LOOPBACK-ONLY")
        );
        // A specific LAN address dialled at another LAN address is not a loopback matter.
        assert_eq!(
            code_for(
                IpAddr::from([192, 168, 1, 20]),
                IpAddr::from([172, 17, 0, 1])
            )
            .map(|c| c.0),
            Some("DOC-SPECIFIC-ADDRESS")
        );
        assert!(dialed_evidence(IpAddr::from([172, 17, 0, 1])).contains("172.16.0.0/12"));
    }
}
