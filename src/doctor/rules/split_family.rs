//! Rule: the port's IPv4 listener and its IPv6 listener belong to different programs (or two
//! copies of one), so which one a client reaches depends on the family it dials — and for
//! `localhost` that depends on the client: some dial `::1` first, others `127.0.0.1`. One
//! program holding both families (or its own helpers, one per family, like docker-proxy) is
//! fine. With `--bind`: the address is free, but the other family is held by someone else.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::facts::{self, Kin};
use crate::doctor::{BindOutcome, Context, Outcome};
use crate::knowledge::addr_class::is_loopback;
use crate::model::{Finding, Severity, Socket};

/// DOC-SPLIT-FAMILY.
pub fn check(ctx: &Context) -> Vec<Finding> {
    if ctx.binds.is_empty() {
        connect_mode(ctx).into_iter().collect()
    } else {
        bind_mode(ctx)
    }
}

/// The addresses to judge: each one dialled, with its outcome; when every dial was loopback
/// of one family, also the other family's loopback (a client that resolves `localhost` the
/// other way dials it), without an outcome.
fn dials(ctx: &Context) -> Vec<(IpAddr, Option<Outcome>)> {
    let mut out: Vec<(IpAddr, Option<Outcome>)> = ctx
        .attempts
        .iter()
        .map(|a| (a.addr.ip(), Some(a.outcome)))
        .collect();
    let all_loopback = out.iter().all(|(ip, _)| is_loopback(*ip));
    let has = |v4: bool| out.iter().any(|(ip, _)| ip.is_ipv4() == v4);
    if !out.is_empty() && all_loopback && has(true) != has(false) {
        let other = if has(true) {
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        } else {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        };
        out.push((other, None));
    }
    out
}

fn family(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() { "IPv4" } else { "IPv6" }
}

/// How a listener is bound, for evidence: `127.0.0.1:P (IPv4)`, `[::]:P (IPv6 only)`.
fn bound(ctx: &Context, s: &Socket) -> String {
    // The kernel marks every socket bound to one IPv6 address IPv6-only: the flag only
    // says something about the wildcard.
    let fam = match s.local.ip() {
        Some(ip) if ip.is_ipv4() => "IPv4",
        Some(ip) if ip.is_unspecified() && facts::v6only(ctx, s) => "IPv6 only: IPV6_V6ONLY",
        Some(ip) if ip.is_unspecified() => "IPv6, and IPv4 where no IPv4 listener takes it",
        _ => "IPv6",
    };
    format!("{} ({fam})", s.local)
}

fn connect_mode(ctx: &Context) -> Option<Finding> {
    let dials = dials(ctx);
    let reached: Vec<(IpAddr, Option<Outcome>, &Socket)> = dials
        .iter()
        .filter_map(|(ip, o)| Some((*ip, *o, facts::reached_by(ctx, *ip)?)))
        .collect();
    let by_family = |v4: bool| {
        reached
            .iter()
            .find(|(ip, _, _)| ip.is_ipv4() == v4)
            .map(|r| r.2)
    };
    let (s4, s6) = (by_family(true)?, by_family(false)?);
    if s4.inode == s6.inode {
        return None;
    }
    let kin = facts::kin(ctx, s4, s6);
    // A literal address always dials its one family: the split bites the clients that dial
    // by name (or a bare port, which means localhost).
    let severity = match kin {
        Kin::Same | Kin::Pool => return None,
        Kin::Unknown => Severity::Warning,
        _ if ctx.resolution.is_none() => Severity::Warning,
        Kin::OtherInstance | Kin::OtherProgram => Severity::Critical,
    };
    let (o4, o6) = (ctx.owner_label(s4), ctx.owner_label(s6));
    let mut evidence = Vec::new();
    for s in [s4, s6] {
        evidence.push(format!(
            "{} listens on {}",
            ctx.owner_label(s),
            bound(ctx, s)
        ));
        evidence.extend(facts::owner_evidence(ctx, s));
    }
    for (ip, outcome, s) in &reached {
        let addr = SocketAddr::new(*ip, ctx.port);
        evidence.push(match outcome {
            Some(o) => format!(
                "connect to {addr}: {} — {} reaches {}",
                if *o == Outcome::Connected {
                    "connected"
                } else {
                    "did not connect"
                },
                family(*ip),
                ctx.owner_label(s)
            ),
            None => format!(
                "a client that dials {addr} ({}) reaches {} (the kernel's choice for that address; not dialled by this check)",
                family(*ip),
                ctx.owner_label(s)
            ),
        });
    }
    if let Some(res) = &ctx.resolution {
        let order: Vec<String> = res.addresses.iter().map(IpAddr::to_string).collect();
        evidence.push(format!(
            "{} resolves here to {}; which family a client tries first is its own choice (browsers and Node.js ≥ 17 may take ::1, others 127.0.0.1)",
            res.name,
            order.join(", then ")
        ));
    }
    let what = if kin == Kin::OtherInstance {
        "two copies of one program"
    } else {
        "two programs"
    };
    let title = format!(
        "port {} is served by {what}, one per family: IPv4 clients reach {o4}, IPv6 clients reach {o6} — a client gets one or the other depending on the family it dials",
        ctx.port
    );
    let mut fix = Vec::new();
    for s in [s4, s6] {
        if let Some(p) = facts::main_owner(ctx, s) {
            fix.push(format!(
                "kill {}   # if {} on {} should not serve here",
                p.pid,
                ctx.owner_label(s),
                s.local
            ));
        }
    }
    if kin == Kin::Unknown {
        fix.push(format!(
            "sudo portscope who {}   # see both owners: one is another user's process",
            ctx.port
        ));
    }
    fix.push("then let the server you keep listen on both families: [::] without IPV6_V6ONLY takes both, or bind 127.0.0.1 and ::1".into());
    fix.push(format!(
        "until then, dial the one you want by address, not by name: 127.0.0.1:{p} or [::1]:{p}",
        p = ctx.port
    ));
    Some(Finding {
        code: "DOC-SPLIT-FAMILY",
        severity,
        title,
        evidence,
        fix,
    })
}

/// `--bind`: the address is free, but a listener of the other family holds the port.
fn bind_mode(ctx: &Context) -> Vec<Finding> {
    let Some(want) = ctx.binds.first().map(|b| b.addr) else {
        return Vec::new();
    };
    if !ctx.binds.iter().all(|b| b.outcome == BindOutcome::Ok) {
        return Vec::new();
    }
    let other: Vec<&Socket> = ctx
        .listeners()
        .filter(|s| {
            s.local
                .ip()
                .is_some_and(|ip| ip.is_ipv4() != want.is_ipv4())
        })
        .collect();
    other
        .into_iter()
        .map(|s| {
            let owner = ctx.owner_label(s);
            let mut evidence = vec![
                format!("test bind {want}: free"),
                format!("{owner} listens on {}", bound(ctx, s)),
            ];
            evidence.extend(facts::owner_evidence(ctx, s));
            let mut fix = Vec::new();
            if let Some(p) = facts::main_owner(ctx, s) {
                fix.push(format!(
                    "kill {}   # if {owner} is an older copy of your program, stop it first",
                    p.pid
                ));
            }
            fix.push(format!(
                "or make your program listen on both families itself, once port {} is free of {owner}",
                ctx.port
            ));
            Finding {
                code: "DOC-SPLIT-FAMILY",
                severity: Severity::Warning,
                title: format!(
                    "{want} is free, but {owner} holds {} on {}: once your program listens, {} clients reach it and {} clients reach {owner}",
                    s.local,
                    family(s.local.ip().unwrap_or(want.ip())),
                    family(want.ip()),
                    family(s.local.ip().unwrap_or(want.ip()))
                ),
                evidence,
                fix,
            }
        })
        .collect()
}
