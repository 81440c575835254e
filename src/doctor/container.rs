//! What the container engines and the NAT rules say about the port: the container behind
//! each listener on it (and a `docker-proxy` none publishes: left over), the ports published
//! through NAT with no socket here, and — for `doctor --from-container` — the client's view
//! from inside a container's network namespace. The I/O of the doctor's container rules.

use std::net::Ipv4Addr;

use super::Context;
use crate::containers::{self, Attached, Found, NatPublished};
use crate::error::{Error, Result};
use crate::model::{Proto, Socket};

/// What the engines and the NAT rules say about the port.
#[derive(Debug, Clone, Default)]
pub struct Containers {
    /// The containers behind the port's listeners, and the leftover proxies.
    pub attached: Attached,
    /// The port published through NAT, with no socket here.
    pub published: Vec<NatPublished>,
    /// `--from-container`: the client's container and what it sees.
    pub from: Option<FromContainer>,
}

/// The container a client runs in, and the port as its network namespace sees it.
#[derive(Debug, Clone)]
pub struct FromContainer {
    /// The container and its first process.
    pub found: Found,
    /// Listeners on the port inside the container's network namespace.
    pub listeners: Vec<Socket>,
    /// The container's default gateway: the host's address on the container's bridge.
    pub gateway: Option<Ipv4Addr>,
}

impl Containers {
    /// The container a listener of the port serves, by its inode.
    pub fn of(&self, s: &Socket) -> Option<&containers::ContainerRef> {
        self.attached.by_inode.get(&s.inode)
    }
}

/// Ask the engines whose socket exists and read the DNAT rules, for `ctx`'s port; and, with
/// `from` (a container's name or id), look at the port from inside it (an error when there
/// is no such running container).
pub fn gather(ctx: &Context, from: Option<&str>) -> Result<Containers> {
    let mut engines = containers::ask_present();
    let listeners: Vec<&Socket> = ctx.listeners().collect();
    let attached = containers::attach_with(
        listeners.iter().copied(),
        &ctx.snapshot.processes,
        &mut engines,
    );
    let dnat = crate::sys::firewall::nat::dnat_rules();
    let port = ctx.port;
    let published = containers::unheld(&engines, &dnat, &listeners, |p, proto| {
        p == port && proto == Proto::Tcp
    });
    let from = match from {
        None => None,
        Some(name) => {
            let found = containers::find_container(name).map_err(|why| {
                Error::bad_input(
                    format!("--from-container {}: {why}", crate::text::echo(name)),
                    "expected the name or id of a running container (docker ps, podman ps)",
                )
            })?;
            let pid = found.init_pid;
            Some(FromContainer {
                listeners: crate::sys::netns::listeners_in(pid, Proto::Tcp, port),
                gateway: crate::sys::netns::default_gateway(pid),
                found,
            })
        }
    };
    Ok(Containers {
        attached,
        published,
        from,
    })
}
