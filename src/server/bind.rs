//! Binding a server's listening socket, for every server portscope runs (the dashboard, the
//! exporter, `serve`, `forward`): the usual failures become errors that say what to do (who
//! holds the port, which addresses are this host's, which ports need privileges), and the
//! dashboard's default address is tried before a free loopback port.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};

use serde::Serialize;

use crate::error::{Error, Result};

/// The dashboard's usual port (when free): a fixed one keeps browser tabs and bookmarks
/// working across runs.
pub const DEFAULT_PORT: u16 = 62893;

/// How the address was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Chosen {
    /// `--listen` named it.
    Listen,
    /// The default, 127.0.0.1:62893.
    Default,
    /// The default port was taken: the kernel picked a free loopback port.
    DefaultTaken,
}

/// Bind the listening socket, turning the usual failures into errors that say what to do;
/// `what` names the argument that gave the address (`--listen`, `--bind`, `LISTEN`).
pub fn bind(addr: SocketAddr, what: &str) -> Result<TcpListener> {
    TcpListener::bind(addr).map_err(|e| match e.kind() {
        io::ErrorKind::AddrInUse => Error::Io {
            context: format!("cannot serve on {addr} ({})", held_by(addr)),
            source: e,
        },
        io::ErrorKind::AddrNotAvailable => not_local(&format!("{what} {addr}"), addr.ip()),
        io::ErrorKind::PermissionDenied => Error::PermissionDenied {
            what: format!("listening on {addr}"),
            hint: "ports below net.ipv4.ip_unprivileged_port_start (usually 1024) need root or \
                   CAP_NET_BIND_SERVICE; choose a port at or above it"
                .into(),
        },
        _ => Error::io(format!("listening on {addr}"), e),
    })
}

/// The error for an address that is not this host's (`EADDRNOTAVAIL`, or
/// [`require_local`]'s check): `given` is the argument as the user gave it (`--listen
/// 192.0.2.7:80`, `--host 192.0.2.7`; the address is not said twice).
pub fn not_local(given: &str, ip: IpAddr) -> Error {
    let problem = if given.ends_with(&format!(" {ip}")) {
        format!("{given} is not an address of this host")
    } else {
        format!("{given}: {ip} is not an address of this host")
    };
    Error::bad_input(
        problem,
        "expected a local address (see `ip -br addr`), 127.0.0.1, ::1, or 0.0.0.0 for every \
         interface",
    )
}

/// Refuse `ip` unless it is an address of this host (loopback, an interface's address, or a
/// wildcard) before anything binds it: a bind to another address fails with EADDRNOTAVAIL,
/// which a caller testing ports would otherwise read as "in use".
pub fn require_local(ip: IpAddr, given: &str) -> Result<()> {
    if crate::sys::local::is_local(ip) {
        Ok(())
    } else {
        Err(not_local(given, ip))
    }
}

/// Who holds `addr`'s port, in a few words, for the "port in use" error.
fn held_by(addr: SocketAddr) -> String {
    let port = addr.port();
    let who = format!("see `portscope who {port}`");
    let Ok(snap) = crate::snapshot::take(&crate::snapshot::Request::port(port)) else {
        return who;
    };
    let holder = snap
        .sockets
        .iter()
        .filter(|s| s.is_listening() && s.proto == crate::model::Proto::Tcp)
        .filter(|s| s.port() == Some(port))
        .find(|s| !s.pids.is_empty() || s.owner_hidden);
    match holder {
        Some(s) if s.owner_hidden => {
            format!(
                "{} is held by a process you may not inspect; {who}",
                s.local
            )
        }
        Some(s) => {
            let pid = s.pids.first().copied().unwrap_or_default();
            let name = snap.process(pid).map_or("?", |p| p.comm.as_str());
            format!(
                "{} is held by pid {pid} ({}); {who}",
                s.local,
                crate::text::terminal(name)
            )
        }
        None => who,
    }
}

/// Bind the default address if `try_bind` can, else a free loopback port (port 0).
pub fn choose_default<L>(mut try_bind: impl FnMut(SocketAddr) -> Option<L>) -> Option<(L, Chosen)> {
    let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
    if let Some(l) = try_bind(SocketAddr::new(loopback, DEFAULT_PORT)) {
        return Some((l, Chosen::Default));
    }
    try_bind(SocketAddr::new(loopback, 0)).map(|l| (l, Chosen::DefaultTaken))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn default_port_when_free_else_any() {
        let mut asked = Vec::new();
        let got = choose_default(|a| {
            asked.push(a);
            Some(a.port())
        });
        assert_eq!(got, Some((DEFAULT_PORT, Chosen::Default)));
        assert_eq!(asked, vec!["127.0.0.1:62893".parse().unwrap()]);

        let mut asked = Vec::new();
        let got = choose_default(|a| {
            asked.push(a);
            (a.port() != DEFAULT_PORT).then_some(a.port())
        });
        assert_eq!(got, Some((0, Chosen::DefaultTaken)));
        assert_eq!(asked.len(), 2);
        assert_eq!(asked[1], "127.0.0.1:0".parse().unwrap());

        assert_eq!(choose_default(|_| None::<u16>), None);
    }
}
