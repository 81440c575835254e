//! `doctor --bind`: why a program cannot listen on an address — a test bind at every
//! address the target means, without and with `SO_REUSEADDR`, closed at once.

use std::net::{IpAddr, Ipv4Addr};

use super::{
    BindOutcome, Checked, DoctorReport, attempt, findings, gather, one_tcp_port, report, rules,
    verdict,
};
use crate::error::Result;
use crate::model::Severity;
use crate::target::{Host, Target};

/// Diagnose why a program cannot listen on `target` (or confirm that it could).
pub fn bind(target: Target) -> Result<DoctorReport> {
    let port = one_tcp_port(&target)?;
    // A name: every address it resolves to, as a server that binds the name binds each (a
    // server that binds "localhost" fails if any of them cannot be bound).
    let (ips, resolution) = match &target {
        Target::Addr {
            host: Host::Ip(ip), ..
        } => (vec![*ip], None),
        Target::Addr {
            host: Host::Name(name),
            ..
        } => {
            let res = crate::snapshot::resolve_name(name)?;
            (res.addresses.clone(), Some(res))
        }
        // What most servers bind for "port N": every IPv4 address.
        _ => (vec![IpAddr::V4(Ipv4Addr::UNSPECIFIED)], None),
    };
    let binds = ips
        .iter()
        .flat_map(|ip| {
            let addr = std::net::SocketAddr::new(*ip, port);
            [attempt::bind(addr, false), attempt::bind(addr, true)]
        })
        .collect();
    let mut ctx = gather(target, port, Vec::new(), binds, resolution)?;
    ctx.containers = super::container::gather(&ctx, None)?;
    if ctx.binds.iter().any(|b| b.outcome == BindOutcome::InUse) {
        let held = ctx
            .snapshot
            .sockets
            .iter()
            .filter(|s| s.port() == Some(port) && s.remote.is_none());
        ctx.supervisors = crate::supervisors::attach(held, &ctx.snapshot.processes);
    }
    let findings = findings(&ctx, rules::BIND);
    let works = !ctx.binds.is_empty()
        && ctx.binds.iter().all(|b| b.outcome == BindOutcome::Ok)
        && !findings.iter().any(|f| f.severity == Severity::Critical);
    let verdict = if works {
        let addrs: Vec<String> = ips
            .iter()
            .map(|ip| std::net::SocketAddr::new(*ip, port).to_string())
            .collect();
        match addrs.as_slice() {
            [one] => format!("{one} is free: a program can listen there now"),
            all => format!(
                "{} is free at every address it resolves to ({}): a program can listen there now",
                ctx.target,
                all.join(", ")
            ),
        }
    } else {
        verdict(&ctx, &findings)
    };
    Ok(report(
        ctx,
        ("bind", Checked::Bind, None),
        works,
        verdict,
        findings,
    ))
}
