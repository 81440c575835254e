//! Rule (`--from-container`): the client runs in a container and dials `localhost` (or
//! 127.0.0.1, ::1) for a service of the host. In the container's network namespace loopback
//! is the container's own: nothing of the host is there. The host is reached at the
//! container's default gateway (the bridge address, `172.17.0.1` on Docker's default
//! bridge), by `host.docker.internal` (added with `--add-host=host.docker.internal:host-gateway`
//! on Linux; Podman names it `host.containers.internal`), or by running the container on the
//! host's network.

use std::net::{IpAddr, SocketAddr};

use crate::doctor::Context;
use crate::knowledge::addr_class::is_loopback;
use crate::model::{Finding, Severity};
use crate::target::{Host, Target};

/// Whether the target is the container's own loopback (`localhost`, a bare port, a loopback
/// address).
fn dials_loopback(target: &Target) -> bool {
    match target {
        Target::Addr {
            host: Host::Ip(ip), ..
        } => is_loopback(*ip),
        Target::Addr {
            host: Host::Name(name),
            ..
        } => name.eq_ignore_ascii_case("localhost") || name.ends_with(".localhost"),
        _ => true,
    }
}

/// DOC-CONTAINER-LOCALHOST, or DOC-CONTAINER-LOCALHOST-OWN when the container has its own
/// listener there.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let Some(from) = &ctx.containers.from else {
        return Vec::new();
    };
    if !dials_loopback(&ctx.target) {
        return Vec::new();
    }
    let c = &from.found.container;
    let name = crate::text::terminal(&c.name).into_owned();
    let port = ctx.port;
    let host: Vec<&crate::model::Socket> = ctx.listeners().collect();
    if let Some(own) = from.listeners.first() {
        return vec![Finding {
            code: "DOC-CONTAINER-LOCALHOST-OWN",
            severity: Severity::Info,
            title: format!(
                "inside container {name}, localhost:{port} is the container's own listener ({}), not the host's",
                own.local
            ),
            evidence: vec![format!(
                "container {name}'s network namespace (pid {}) has a listener on {}",
                from.found.init_pid, own.local
            )],
            fix: vec![
                "if the client means the host's service, dial the host (see portscope doctor --from-container without that listener)".into(),
            ],
        }];
    }
    let gateway = from.gateway.map(IpAddr::V4);
    let mut evidence = vec![format!(
        "container {name} ({} {}): nothing listens on port {port} in its network namespace (pid {}), so localhost:{port} there is refused",
        c.engine,
        c.short_id(),
        from.found.init_pid
    )];
    let reaches = |s: &crate::model::Socket, ip: IpAddr| {
        s.local
            .ip()
            .is_some_and(|b| crate::knowledge::addr_class::receives_for(b, ip))
    };
    for s in &host {
        evidence.push(format!(
            "on the host, {} listens on {}",
            ctx.owner_label(s),
            s.local
        ));
    }
    match gateway {
        Some(g) => evidence.push(format!(
            "the container's default gateway is {g}: the host's address on its bridge"
        )),
        None => evidence.push("the container has no IPv4 default route (its own network, or none): only --network host reaches the host".into()),
    }
    let mut fix = Vec::new();
    if let Some(g) = gateway {
        let at = SocketAddr::new(g, port);
        let served = host.iter().any(|s| reaches(s, g));
        if served || host.is_empty() {
            fix.push(format!(
                "dial {at} from the container (the host, as the container sees it)"
            ));
        } else {
            let owner = host.first().map(|s| ctx.owner_label(s)).unwrap_or_default();
            fix.push(format!(
                "dial {at} from the container — and make {owner} listen there too: it listens on loopback only, which the container cannot reach (bind 0.0.0.0:{port}, or {g}:{port} for the bridge alone)"
            ));
        }
    }
    let alias = if c.engine == "podman" {
        format!("dial host.containers.internal:{port} (Podman adds that name to every container)")
    } else {
        format!(
            "dial host.docker.internal:{port}, with docker run --add-host=host.docker.internal:host-gateway (compose: extra_hosts: [\"host.docker.internal:host-gateway\"]) on Linux"
        )
    };
    fix.push(alias);
    fix.push(format!(
        "or run the container on the host's network ({} run --network host …): then localhost:{port} is the host's",
        c.engine
    ));
    let title = if host.is_empty() {
        format!(
            "inside container {name}, localhost:{port} is the container's own loopback, and nothing listens there — nor on the host"
        )
    } else {
        format!(
            "inside container {name}, localhost:{port} is the container's own loopback, not the host's: the host's {} is not there",
            ctx.owner_label(host[0])
        )
    };
    vec![Finding {
        code: "DOC-CONTAINER-LOCALHOST",
        severity: Severity::Critical,
        title,
        evidence,
        fix,
    }]
}
