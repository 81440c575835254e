//! What lies behind a forwarder that holds the port. Docker's `docker-proxy` accepts for a
//! container and dials `container-ip:container-port` for each connection; when that dial
//! fails it closes or resets the client's connection (or holds it while the dial hangs), and
//! the client sees only that — an empty reply, a reset, silence. So, when the client's
//! exchange failed that way, doctor makes the dial the forwarder makes: one TCP connect to the
//! backend, nothing sent, bounded, whose outcome tells a container whose program does not
//! listen on the container's address (refused) from a container that is gone (no answer).

use std::net::SocketAddr;
use std::time::Duration;

use super::{Attempt, Context, HttpOutcome, Outcome, holder};
use crate::sys::attempt;

/// How long the connect to a backend may take: a container on a local bridge answers within
/// a millisecond, and one that is gone never does (its address then takes seconds to fail).
const TIMEOUT: Duration = Duration::from_millis(300);

/// A forwarder on the port, and the connect to where it forwards.
#[derive(Debug, Clone)]
pub struct Backend {
    /// The forwarder's pid.
    pub pid: u32,
    /// The connect to its backend, made as the forwarder makes it.
    pub attempt: Attempt,
}

/// Whether the client's exchange failed as a forwarder's clients see a failed backend: the
/// connection closed at once, the request met an empty reply or a reset, or nothing came back.
pub fn exchange_failed(ctx: &Context) -> bool {
    ctx.attempts
        .iter()
        .any(|a| a.outcome == Outcome::ClosedAtOnce)
        || ctx
            .http
            .as_ref()
            .is_some_and(|h| matches!(h.outcome, HttpOutcome::EmptyReply | HttpOutcome::Reset))
        || ctx.unserved()
}

/// One connect to the backend of each `docker-proxy` that holds the port (once per backend
/// address), only after the exchange failed: a port that works needs no look behind it.
pub fn gather(ctx: &Context) -> Vec<Backend> {
    if !exchange_failed(ctx) {
        return Vec::new();
    }
    let mut found: Vec<(u32, SocketAddr)> = Vec::new();
    for s in ctx.listeners() {
        for p in s.pids.iter().filter_map(|pid| ctx.snapshot.process(*pid)) {
            if let Some(addr) = holder::docker_backend(p)
                && !found.iter().any(|(_, a)| *a == addr)
            {
                found.push((p.pid, addr));
            }
        }
    }
    found
        .into_iter()
        .map(|(pid, addr)| Backend {
            pid,
            attempt: attempt::connect_watching(addr, TIMEOUT, false),
        })
        .collect()
}
