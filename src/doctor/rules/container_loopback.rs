//! Rule: a container publishes the port, the client's connection is refused, reset or closed
//! without an answer, and inside the container the program listens on the container's own
//! loopback (or not at all) — seen in the container's network namespace. Behind NAT (Docker
//! without its userland proxy, Podman, CNI) the client meets the container's refusal itself;
//! behind `docker-proxy` the proxy accepts, then closes (DOC-CONTAINER-LOOPBACK-ONLY there
//! is `docker_proxy.rs`'s, told from the proxy's own dial; this rule leaves it that case).

use super::docker_proxy;
use crate::containers::ContainerRef;
use crate::doctor::{Context, Outcome, backend};
use crate::model::{Finding, Severity};

/// The containers that serve the port: those behind its listeners, then those publishing it
/// through NAT with no socket here.
pub fn serving(ctx: &Context) -> Vec<&ContainerRef> {
    let mut out: Vec<&ContainerRef> = ctx
        .listeners()
        .filter_map(|s| ctx.containers.of(s))
        .collect();
    out.extend(
        ctx.containers
            .published
            .iter()
            .filter_map(|p| p.container.as_ref()),
    );
    out.dedup_by(|a, b| a.id == b.id);
    out
}

/// DOC-CONTAINER-LOOPBACK-ONLY or DOC-CONTAINER-NOT-LISTENING.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let failed = backend::exchange_failed(ctx)
        || ctx
            .attempts
            .iter()
            .any(|a| matches!(a.outcome, Outcome::Refused | Outcome::Reset));
    if !failed || docker_proxy::explains(ctx).is_some() {
        return Vec::new();
    }
    serving(ctx)
        .into_iter()
        .filter_map(|c| finding(ctx, c))
        .take(1)
        .collect()
}

fn finding(ctx: &Context, c: &ContainerRef) -> Option<Finding> {
    let p = c.published.as_ref()?;
    let (port, inside) = (ctx.port, p.container_port);
    let name = crate::text::terminal(&c.name).into_owned();
    let mut evidence: Vec<String> = ctx
        .attempts
        .iter()
        .filter(|a| a.outcome != Outcome::Connected)
        .map(|a| {
            format!(
                "connect to {}: {}",
                a.addr,
                docker_proxy::outcome(a.outcome)
            )
        })
        .collect();
    evidence.push(format!(
        "container {name} ({} {}) publishes {}:{port} → {inside}/{} in the container",
        c.engine,
        c.short_id(),
        p.host_ip,
        p.proto
    ));
    let exec = format!("{} exec {name} netstat -ltn", c.engine);
    match &c.inner {
        Some(i) if i.addr.is_loopback() => {
            evidence.push(format!(
                "inside the container (its network namespace), {}[{}] listens on {} only: the container's own loopback, which forwarded connections never reach",
                crate::text::terminal(&i.comm),
                i.pid,
                std::net::SocketAddr::new(i.addr, i.port)
            ));
            let any = if i.addr.is_ipv4() { "0.0.0.0" } else { "::" };
            Some(Finding {
                code: "DOC-CONTAINER-LOOPBACK-ONLY",
                severity: Severity::Critical,
                title: format!(
                    "container {name} publishes port {port}, but inside it {} listens on {} only — the container's loopback — so connections forwarded to the container are refused",
                    crate::text::terminal(&i.comm),
                    i.addr
                ),
                evidence,
                fix: vec![
                    format!(
                        "make the program listen on {any} inside the container, not {}: e.g. --host {any} (Vite, Flask), HOST={any} in its environment, -b {any} (Rails, gunicorn), runserver {any}:{inside} (Django)",
                        i.addr
                    ),
                    format!(
                        "{exec}   # then shows {any}:{inside} instead of {}:{inside}",
                        i.addr
                    ),
                    format!(
                        "{} restart {name}   # after changing its command or environment",
                        c.engine
                    ),
                ],
            })
        }
        Some(_) => None,
        None => {
            evidence.push(format!(
                "inside the container (its network namespace), nothing listens on port {inside}"
            ));
            Some(Finding {
                code: "DOC-CONTAINER-NOT-LISTENING",
                severity: Severity::Critical,
                title: format!(
                    "container {name} publishes port {port} → {inside}, but nothing listens on port {inside} inside it: the program did not start, or listens on another port"
                ),
                evidence,
                fix: vec![
                    format!(
                        "{} logs {name}   # did the program start, and on which port?",
                        c.engine
                    ),
                    format!("{exec}   # what listens inside"),
                    format!(
                        "publish the port the program listens on: -p {}:{port}:PORT",
                        p.host_ip
                    ),
                ],
            })
        }
    }
}
