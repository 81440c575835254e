//! Ports published through NAT alone in `kill`: a container's engine lists host port P, and
//! no socket on the host holds it (Docker without its userland proxy, engines that never bind).
//! A bind on P would succeed, yet connections to it go to the container: the port is not free
//! from the user's side, and the only way to free it is to stop that container through its
//! engine. A DNAT rule no engine names is shown (in `who`) but not acted on: there is nothing
//! to stop.

use super::*;
use crate::containers::{self, NatPublished};

/// Fill `published` on the states whose port has no holding socket (asking the engines whose
/// socket exists, once), and mark those ports not free. The containers publishing them, to be
/// stopped with `grace_s`.
pub(super) fn mark(states: &mut [PortState], grace_s: u64) -> Vec<engine::PlannedContainer> {
    if !states.iter().any(|s| s.sockets.is_empty()) {
        return Vec::new();
    }
    let engines = containers::ask_present();
    if !engines.answered() {
        return Vec::new();
    }
    let mut planned: Vec<engine::PlannedContainer> = Vec::new();
    for st in states.iter_mut().filter(|s| s.sockets.is_empty()) {
        let Some((lo, hi)) = st.target.port_range() else {
            continue;
        };
        let proto = st.target.proto();
        let addrs = crate::snapshot::target_addrs(&st.target);
        let mut found = containers::unheld(&engines, &[], &[], |port, p| {
            (lo..=hi).contains(&port) && proto.is_none_or(|x| x == p)
        });
        found.retain(|p| {
            p.container.is_some()
                && addrs
                    .as_ref()
                    .is_none_or(|a| a.iter().any(|ip| p.receives(*ip)))
        });
        for p in &found {
            add(&mut planned, p, grace_s);
        }
        st.free &= found.is_empty();
        st.published = found;
    }
    planned
}

/// Plan the stop of the container publishing `p` (once per container, its ports gathered).
fn add(planned: &mut Vec<engine::PlannedContainer>, p: &NatPublished, grace_s: u64) {
    let Some(c) = &p.container else { return };
    match planned
        .iter_mut()
        .find(|x| x.container.id == c.id && x.container.engine_socket == c.engine_socket)
    {
        Some(x) if !x.ports.contains(&p.port) => {
            x.ports.push(p.port);
            x.ports.sort_unstable();
        }
        Some(_) => {}
        None => planned.push(engine::PlannedContainer {
            container: c.clone(),
            ports: vec![p.port],
            holders: Vec::new(),
            grace_s,
        }),
    }
}

/// Whether the plan stops a container for a port published through NAT alone (then `verify`
/// asks the engines again).
pub(super) fn any(plan: &KillPlan) -> bool {
    plan.stop_containers.iter().any(|c| c.holders.is_empty())
}
