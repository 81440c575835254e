//! Rule: Docker's port forwarder holds the port, the client's exchange failed, and the
//! connect to the container behind it says why. `docker-proxy` accepts on the host and dials
//! `container-ip:container-port` for each connection. Refused there: the container is up but
//! its program does not listen on the container's address — it binds 127.0.0.1 inside the
//! container, the usual dev-server default — and the client gets an empty reply or a reset.
//! No answer there: the container is gone and the proxy was left behind; the client gets
//! silence, then a reset. A backend that accepts is no finding here (other rules judge).

use crate::doctor::backend::{self, Backend};
use crate::doctor::{Context, HttpOutcome, Outcome, holder};
use crate::model::{Finding, Severity};

/// What the connect to the backend says about the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// Refused: the container's address is there, its program does not listen on it.
    NotOnItsAddress,
    /// No answer, or no route: nothing is at the container's address any more.
    Gone,
}

/// The backend that explains the failed exchange, and how. The rules for the bare symptom
/// (closed at once, empty reply, reset, no answer) defer to this one when it is `Some`.
pub fn explains(ctx: &Context) -> Option<(&Backend, Cause)> {
    if !backend::exchange_failed(ctx) {
        return None;
    }
    ctx.backends.iter().find_map(|b| {
        let cause = match b.attempt.outcome {
            Outcome::Refused | Outcome::Reset => Cause::NotOnItsAddress,
            Outcome::TimedOut | Outcome::Unreachable => Cause::Gone,
            Outcome::Connected | Outcome::ClosedAtOnce | Outcome::Failed => return None,
        };
        Some((b, cause))
    })
}

/// DOC-CONTAINER-LOOPBACK-ONLY or DOC-DOCKER-PROXY-ORPHAN.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let Some((b, cause)) = explains(ctx) else {
        return Vec::new();
    };
    let Some(p) = ctx.snapshot.process(b.pid) else {
        return Vec::new();
    };
    // The engine says no container publishes the port: DOC-DOCKER-PROXY-LEFTOVER's.
    if super::leftover_proxy::confirmed(ctx).contains(&p.pid) {
        return Vec::new();
    }
    let container = ctx
        .listeners()
        .filter(|s| s.pids.contains(&p.pid))
        .find_map(|s| ctx.containers.of(s));
    let (to, port) = (b.attempt.addr, ctx.port);
    let mut evidence = vec![symptom(ctx)];
    evidence.push(format!("pid {}: {}", p.pid, p.cmdline.join(" ")));
    evidence.extend(
        ctx.listeners()
            .filter(|s| s.pids.contains(&p.pid))
            .find_map(|s| holder::describe(p, s)),
    );
    // "No route to host" says more than "unreachable"; "refused" and "timed out" say it all.
    let error = match (b.attempt.outcome, b.attempt.error.as_deref()) {
        (Outcome::Unreachable | Outcome::Reset, Some(e)) => format!(": {e}"),
        _ => String::new(),
    };
    let (code, title, seen, fix) = match cause {
        Cause::NotOnItsAddress => (
            "DOC-CONTAINER-LOOPBACK-ONLY",
            format!(
                "{}[{}] forwards port {port} to {to}, which refuses: the container's program does not listen on the container's address — it probably binds 127.0.0.1 inside the container",
                p.comm, p.pid
            ),
            format!(
                "the container's address {} is up, but nothing listens on port {} there",
                to.ip(),
                to.port()
            ),
            vec![
                format!("make the program listen on 0.0.0.0 inside the container, not 127.0.0.1: e.g. --host 0.0.0.0 (Vite, Flask), HOST=0.0.0.0 in its environment, -b 0.0.0.0 (Rails, gunicorn), runserver 0.0.0.0:{} (Django)", to.port()),
                format!("docker ps --filter publish={port}   # the container that publishes the port"),
                format!("docker exec CONTAINER ss -ltn   # what listens inside: 127.0.0.1:{0} instead of 0.0.0.0:{0}; nothing on {0} means the program did not start (docker logs CONTAINER)", to.port()),
            ],
        ),
        Cause::Gone => (
            "DOC-DOCKER-PROXY-ORPHAN",
            format!(
                "{}[{}] forwards port {port} to {to}, where nothing answers: its container is probably gone",
                p.comm, p.pid
            ),
            format!(
                "no container answers at {}: the proxy was left behind, or the container is stopped",
                to.ip()
            ),
            vec![
                format!("docker ps -a --filter publish={port}   # the container that published the port, and whether it still runs"),
                "docker start CONTAINER   # if it is only stopped; else restart Docker (sudo systemctl restart docker), which drops the proxies it left behind".into(),
                format!("portscope kill {port}   # stop the proxy left behind, to free the port (only once its container is gone)"),
            ],
        ),
    };
    evidence.push(format!(
        "connect to {to} (the backend, as docker-proxy dials it): {} ({:.0} ms){error}",
        outcome(b.attempt.outcome),
        b.attempt.elapsed_ms
    ));
    evidence.push(seen);
    if let Some(c) = container {
        evidence.push(format!(
            "{} names the container: {} ({}), image {}",
            c.engine,
            crate::text::terminal(&c.name),
            c.short_id(),
            crate::text::terminal(&c.image)
        ));
        if let Some(i) = &c.inner {
            evidence.push(format!(
                "inside the container (its network namespace), {}[{}] listens on {}{}",
                crate::text::terminal(&i.comm),
                i.pid,
                std::net::SocketAddr::new(i.addr, i.port),
                if i.addr.is_loopback() {
                    " only: the container's own loopback, which the proxy's connections never reach"
                } else {
                    ""
                }
            ));
        }
    }
    let inner_loopback = container.and_then(|c| {
        let i = c.inner.as_ref().filter(|i| i.addr.is_loopback())?;
        Some((c, i))
    });
    let title = match (cause, inner_loopback) {
        (Cause::NotOnItsAddress, Some((c, i))) => format!(
            "{}[{}] forwards port {port} to container {} at {to}, which refuses: inside it {} listens on {} only — the container's loopback",
            p.comm,
            p.pid,
            crate::text::terminal(&c.name),
            crate::text::terminal(&i.comm),
            i.addr
        ),
        _ => title,
    };
    let fix = match container {
        Some(c) => fix
            .into_iter()
            .map(|f| f.replace("CONTAINER", &crate::text::terminal(&c.name)))
            .collect(),
        None => fix,
    };
    vec![Finding {
        code,
        severity: Severity::Critical,
        title,
        evidence,
        fix,
    }]
}

/// What the client met, in its own words.
fn symptom(ctx: &Context) -> String {
    if let Some(h) = &ctx.http {
        match h.outcome {
            HttpOutcome::EmptyReply => {
                return format!(
                    "sent to {}: {}: closed without an answer (curl: Empty reply from server)",
                    h.addr, h.request
                );
            }
            HttpOutcome::Reset => {
                return format!(
                    "sent to {}: {}: reset (curl: Connection reset by peer)",
                    h.addr, h.request
                );
            }
            HttpOutcome::NoAnswer => {
                return format!(
                    "sent to {}: {}: no answer in {:.0} ms (docker-proxy holds the connection while its own connect waits)",
                    h.addr, h.request, h.elapsed_ms
                );
            }
            _ => {}
        }
    }
    match ctx
        .attempts
        .iter()
        .find(|a| a.outcome == Outcome::ClosedAtOnce)
    {
        Some(a) => format!(
            "connect to {}: accepted, then closed before a byte was sent or received",
            a.addr
        ),
        None => format!(
            "connect to {}: accepted, but not a byte came back (docker-proxy holds the connection while its own connect waits)",
            ctx.first_connected()
                .map_or_else(|| ctx.port.to_string(), |a| a.to_string())
        ),
    }
}

/// A backend connect's outcome, as a sentence part.
pub fn outcome(o: Outcome) -> &'static str {
    match o {
        Outcome::Refused => "refused",
        Outcome::Reset => "reset",
        Outcome::TimedOut => "no answer, timed out",
        Outcome::Unreachable => "unreachable",
        Outcome::Connected | Outcome::ClosedAtOnce => "connected",
        Outcome::Failed => "failed",
    }
}
