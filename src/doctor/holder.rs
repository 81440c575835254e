//! What a holder of the port is, when it is not simply "your server": Docker's port
//! forwarder (`docker-proxy`, which accepts for a container and forwards to it), a socket
//! activation manager (systemd holds the socket and starts the service on the first
//! connection). Said from the process's own command line, never guessed from the port.

use std::net::{IpAddr, SocketAddr};

use crate::model::{Process, Socket};

/// A sentence about `p` (which holds `s`) when it is a known kind of middleman.
pub fn describe(p: &Process, s: &Socket) -> Option<String> {
    match p.comm.as_str() {
        "docker-proxy" => {
            let to = docker_backend(p)
                .map(|b| format!(" to {b}"))
                .unwrap_or_default();
            Some(format!(
                "{}[{}] is Docker's port forwarder: it accepts on {} for a container and forwards each connection{to}",
                p.comm, p.pid, s.local
            ))
        }
        "systemd" => Some(format!(
            "{}[{}] holds {} for socket activation (a .socket unit): the service it starts on the first connection does the serving",
            p.comm, p.pid, s.local
        )),
        _ => None,
    }
}

/// Where a `docker-proxy` forwards (`container-ip:container-port`), from its command line.
pub fn docker_backend(p: &Process) -> Option<SocketAddr> {
    if p.comm != "docker-proxy" {
        return None;
    }
    let arg = |name: &str| {
        p.cmdline
            .iter()
            .position(|a| a == name)
            .and_then(|i| p.cmdline.get(i + 1))
    };
    let ip: IpAddr = arg("-container-ip")?.parse().ok()?;
    let port: u16 = arg("-container-port")?.parse().ok()?;
    Some(SocketAddr::new(ip, port))
}
