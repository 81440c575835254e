//! Other network namespaces: their listeners asked of the kernel through a netlink socket made
//! inside them (a short-lived thread joins the namespace for that, which takes
//! `CAP_SYS_ADMIN`), or else read from a member process's `/proc/<pid>/net/tcp*`, which show
//! the sockets of *its* namespace (slower: the kernel walks every socket of the machine for
//! each read); `/run/netns/*` names the ones `ip netns` made.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;

use super::{proc_net, procfs, sock_diag};
use crate::model::{Family, Proto, SockState, Socket};
use crate::sys::SocketQuery;

/// A TCP listener in a network namespace other than portscope's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignListener {
    /// Inode of the namespace.
    pub netns: u64,
    /// Its `ip netns` name, when `/run/netns` has one.
    pub name: Option<String>,
    /// A process that lives in it (whose `/proc/<pid>/net` was read).
    pub pid: u32,
    /// The listening socket as that namespace sees it (no owner pids).
    pub socket: Socket,
}

/// `ip netns` names by namespace inode.
fn named_namespaces() -> BTreeMap<u64, String> {
    let Ok(dir) = std::fs::read_dir("/run/netns") else {
        return BTreeMap::new();
    };
    dir.flatten()
        .filter_map(|e| {
            let ino = std::fs::metadata(e.path()).ok()?.ino();
            Some((ino, e.file_name().to_string_lossy().into_owned()))
        })
        .collect()
}

/// TCP listeners on `port` in every other network namespace a process of this machine lives
/// in (one process read per namespace). Namespaces whose processes may not be inspected are
/// not seen; `hidden` counts them.
pub fn foreign_listeners(port: u16) -> (Vec<ForeignListener>, usize) {
    let own = procfs::self_netns();
    let Ok(pids) = procfs::list_pids() else {
        return (Vec::new(), 0);
    };
    let mut seen: BTreeMap<u64, u32> = BTreeMap::new();
    let mut hidden = 0;
    for e in pids {
        match std::fs::metadata(format!("/proc/{}/ns/net", e.pid)) {
            Ok(m) if Some(m.ino()) != own => {
                seen.entry(m.ino()).or_insert(e.pid);
            }
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::PermissionDenied => hidden += 1,
            Err(_) => {}
        }
    }
    let names = named_namespaces();
    let mut out = Vec::new();
    for (netns, pid) in seen {
        for s in listeners_in(pid, Proto::Tcp, port) {
            out.push(ForeignListener {
                netns,
                name: names.get(&netns).cloned(),
                pid,
                socket: s,
            });
        }
    }
    (out, hidden)
}

/// The listening sockets (TCP `LISTEN`, bound UDP) on `port` in the network namespace of
/// process `pid`, as that namespace sees them (no owner pids: their inodes lead to the
/// holders): from netlink inside the namespace when portscope may join it, else from the
/// process's `/proc/<pid>/net/` tables. Unreadable tables give nothing.
pub fn listeners_in(pid: u32, proto: Proto, port: u16) -> Vec<Socket> {
    let listening = |s: &Socket| s.is_listening() && s.port() == Some(port);
    if let Some(mut found) = diag_inside(pid, proto, port) {
        found.retain(listening);
        return found;
    }
    let files = match proto {
        Proto::Udp => [("udp", Family::Ipv4), ("udp6", Family::Ipv6)],
        _ => [("tcp", Family::Ipv4), ("tcp6", Family::Ipv6)],
    };
    let mut out = Vec::new();
    for (file, family) in files {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{file}")) else {
            continue;
        };
        out.extend(
            proc_net::parse_inet(&text, proto, family)
                .into_iter()
                .filter(listening),
        );
    }
    out
}

/// The sockets on `port` in `pid`'s network namespace in a listening state, from a netlink
/// dump made by a thread that joined that namespace (the kernel filters by state and port,
/// and walks only its listening table); `None` when the namespace may not be joined.
fn diag_inside(pid: u32, proto: Proto, port: u16) -> Option<Vec<Socket>> {
    use std::os::fd::AsFd;
    let ns = std::fs::File::open(format!("/proc/{pid}/ns/net")).ok()?;
    let state = match proto {
        Proto::Udp => SockState::Close,
        _ => SockState::Listen,
    };
    let query = SocketQuery {
        tcp: proto == Proto::Tcp,
        udp: proto == Proto::Udp,
        unix: false,
        ipv4: true,
        ipv6: true,
        states: 1 << state.kernel_number(),
        port_range: Some((port, port)),
    };
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let net = Some(rustix::thread::LinkNameSpaceType::Network);
                rustix::thread::move_into_link_name_space(ns.as_fd(), net).ok()?;
                sock_diag::dump_netlink(&query).ok()
            })
            .join()
            .ok()
            .flatten()
    })
}

/// The IPv4 default gateway of `pid`'s network namespace (from `/proc/<pid>/net/route`): for
/// a container on a bridge, the host's address on that bridge (Docker's `172.17.0.1`).
pub fn default_gateway(pid: u32) -> Option<std::net::Ipv4Addr> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/net/route")).ok()?;
    parse_default_gateway(&text)
}

/// The gateway of the first default route (destination and mask 0, flag `RTF_GATEWAY`) in
/// `/proc/net/route` text, whose addresses are hex in the kernel's (little-endian) order.
pub fn parse_default_gateway(text: &str) -> Option<std::net::Ipv4Addr> {
    text.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        let hex = |i: usize| u32::from_str_radix(f.get(i)?, 16).ok();
        let (dest, gw, flags, mask) = (hex(1)?, hex(2)?, hex(3)?, hex(7)?);
        (dest == 0 && mask == 0 && flags & 0x2 != 0 && gw != 0)
            .then(|| std::net::Ipv4Addr::from(gw.to_le_bytes()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_containers_default_route() {
        let route = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
            eth0\t00000000\t010011AC\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
            eth0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n";
        assert_eq!(
            parse_default_gateway(route),
            Some(std::net::Ipv4Addr::new(172, 17, 0, 1))
        );
        let no_default = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n\
            eth0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\n";
        assert_eq!(parse_default_gateway(no_default), None);
        assert_eq!(parse_default_gateway(""), None);
    }
}
