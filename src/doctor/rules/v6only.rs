//! Rule: the server listens on the IPv6 wildcard `[::]:P` with `IPV6_V6ONLY` set, so it takes
//! IPv6 clients only, and a client that dials IPv4 (`127.0.0.1`, or `localhost` resolved to
//! it) is refused. Without the flag `[::]` takes IPv4 too (as `::ffff:a.b.c.d`), which is what
//! most people expect; the flag comes from the program or from `net.ipv6.bindv6only=1`. The
//! kernel reports it per socket (inet_diag `INET_DIAG_SKV6ONLY`).

use std::net::{IpAddr, SocketAddr};

use super::facts;
use crate::doctor::{Context, Outcome};
use crate::model::{Finding, Severity, Socket};

/// DOC-V6ONLY, one per IPv6-only wildcard listener that a refused IPv4 dial would have
/// reached without the flag.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let refused: Vec<IpAddr> = ctx
        .attempts
        .iter()
        .filter(|a| a.outcome == Outcome::Refused && a.addr.ip().is_ipv4())
        .map(|a| a.addr.ip())
        .filter(|ip| !ctx.listeners().any(|s| facts::receives(ctx, s, *ip)))
        .collect();
    let Some(&dialed) = refused.first() else {
        return Vec::new();
    };
    let connected_somewhere = ctx.attempts.iter().any(|a| a.outcome == Outcome::Connected);
    ctx.listeners()
        .filter(|s| facts::v6only(ctx, s) && s.local.ip().is_some_and(|ip| ip.is_unspecified()))
        .map(|s| finding(ctx, s, dialed, connected_somewhere))
        .collect()
}

fn finding(ctx: &Context, s: &Socket, dialed: IpAddr, connected_somewhere: bool) -> Finding {
    let owner = ctx.owner_label(s);
    let dial = SocketAddr::new(dialed, ctx.port);
    let mut evidence = vec![
        format!("connect to {dial}: refused"),
        format!(
            "{owner} listens on {} with IPV6_V6ONLY set (inet_diag INET_DIAG_SKV6ONLY = 1, socket inode {}): it takes IPv6 connections only",
            s.local, s.inode
        ),
    ];
    evidence.extend(facts::owner_evidence(ctx, s));
    evidence.push(match ctx.sysctls.bindv6only {
        Some(true) => "net.ipv6.bindv6only = 1: every IPv6 socket is IPv6-only unless the program clears IPV6_V6ONLY".into(),
        Some(false) => "net.ipv6.bindv6only = 0: IPv6 sockets take IPv4 too by default, so the program set IPV6_V6ONLY itself".into(),
        None => "net.ipv6.bindv6only could not be read".into(),
    });
    if let Some(res) = &ctx.resolution {
        let order: Vec<String> = res.addresses.iter().map(IpAddr::to_string).collect();
        evidence.push(format!(
            "{} resolves here to {}",
            res.name,
            order.join(", then ")
        ));
    }
    let (severity, title) = match connected_somewhere {
        true => (
            Severity::Warning,
            format!(
                "{dial} is refused, but another address of the same name works: {owner} listens on {} for IPv6 only (IPV6_V6ONLY); a client that tries only IPv4 fails",
                s.local
            ),
        ),
        false => (
            Severity::Critical,
            format!(
                "{owner} listens on {} for IPv6 only (IPV6_V6ONLY), so {dial} is refused",
                s.local
            ),
        ),
    };
    let mut fix = vec![
        if crate::knowledge::addr_class::is_loopback(dialed) {
            format!("connect over IPv6 instead: [::1]:{}", ctx.port)
        } else {
            "connect over IPv6 instead: to an IPv6 address of this machine".into()
        },
        format!(
            "or let the server take IPv4 too: clear IPV6_V6ONLY before bind (setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 0); Node.js: listen({{ host: '::', ipv6Only: false }}); nginx: listen [::]:{p} ipv6only=off), or listen on 0.0.0.0:{p} as well",
            p = ctx.port
        ),
    ];
    if ctx.sysctls.bindv6only == Some(true) {
        fix.push("or make dual-stack the default again: sudo sysctl -w net.ipv6.bindv6only=0 (and set it in /etc/sysctl.d/ to keep it), then restart the server".into());
    }
    Finding {
        code: "DOC-V6ONLY",
        severity,
        title,
        evidence,
        fix,
    }
}
