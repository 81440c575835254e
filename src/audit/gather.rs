//! The audit's I/O, all of it: one snapshot of every listening socket (TCP, UDP, unix) with
//! owners in full, one bounded probe per TCP listener, the socket files of unix listeners,
//! the port sysctls, and — only for published container ports — the listeners inside the
//! containers' network namespaces. Everything lands in a [`Context`] the rules read.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use crate::error::Result;
use crate::knowledge::addr_class::{self, Exposure};
use crate::model::{Endpoint, Hidden, Proto, Snapshot, SockState, Socket};
use crate::probe::Limits;
use crate::probe::engine::{self, Context as ProbeContext, PortState};
use crate::snapshot::{self, Owners, Request};
use crate::sys::procfs::{self, Detail, ProcContext};
use crate::sys::{SocketQuery, attempt, fsmeta};

use super::container::{container_port, is_port_proxy};
use super::{Context, ForeignSide, Listener, UnixListener, service};

/// Ports probed at once.
const CONCURRENCY: usize = 16;

/// The probe's bounds here: a little more patient than `portscope probe` (the audit's verdict
/// rests on the answer, and it runs beside other work), still bounded per port.
fn limits() -> Limits {
    Limits {
        connect: Duration::from_millis(500),
        banner_wait: Duration::from_millis(150),
        read: Duration::from_millis(400),
        deadline: Duration::from_millis(1500),
        ..Limits::default()
    }
}

/// For a second try at a listener whose owner names a known service the first probe missed.
fn patient_limits() -> Limits {
    Limits {
        read: Duration::from_millis(1500),
        deadline: Duration::from_millis(4000),
        ..limits()
    }
}

/// Gather everything the rules look at; probe TCP listeners when `probe`. With `ports`, only
/// the listeners on them (and no unix sockets).
pub fn gather(probe: bool, ports: &[u16], watch: engine::Watch) -> Result<Context> {
    let snap = snapshot::take(&Request {
        sockets: SocketQuery {
            unix: true,
            states: (1 << SockState::Listen.kernel_number())
                | (1 << SockState::Close.kernel_number()),
            ..SocketQuery::default()
        },
        owners: Owners::All,
        detail: Detail::Full,
        threads: 0,
    })?;
    let sysctls = crate::sys::sysctl::port_sysctls();
    let ephemeral = sysctls.ephemeral.unwrap_or((32768, 60999));
    let wanted = |s: &Socket| ports.is_empty() || s.port().is_some_and(|p| ports.contains(&p));
    let mut ctx = Context {
        listeners: group(&snap, ephemeral, &wanted),
        unix: if ports.is_empty() {
            unix_listeners(&snap)
        } else {
            Vec::new()
        },
        processes: snap.processes.clone(),
        probed: probe,
        unprivileged_port_start: sysctls.unprivileged_port_start.unwrap_or(1024),
        own_container: own_container(),
        hidden: hidden(&snap, ports, &wanted),
        ..Context::default()
    };
    ctx.sockets_examined = ctx.unix.len()
        + snap
            .sockets
            .iter()
            .filter(|s| s.proto != Proto::Unix && kept(s, ephemeral) && wanted(s))
            .count();
    if probe {
        probe_listeners(&mut ctx, watch);
    }
    ctx.container_sides = container_sides(&ctx);
    Ok(ctx)
}

/// What could not be seen; with `ports`, only about the sockets on them.
fn hidden(snap: &Snapshot, ports: &[u16], wanted: &dyn Fn(&Socket) -> bool) -> Hidden {
    if ports.is_empty() {
        return snap.hidden.clone();
    }
    let on_ports = || snap.sockets.iter().filter(|s| wanted(s));
    let sockets = on_ports().filter(|s| s.owner_hidden).count();
    let ownerless = on_ports().filter(|s| s.ownerless).count();
    if sockets == 0 {
        return Hidden {
            ownerless,
            ..Hidden::default()
        };
    }
    Hidden {
        sockets,
        ownerless,
        ..snap.hidden.clone()
    }
}

/// Listening TCP sockets, and bound UDP sockets outside the ephemeral range (inside it they
/// are clients' sockets that sent a datagram, not servers).
fn kept(s: &Socket, ephemeral: (u16, u16)) -> bool {
    match s.proto {
        Proto::Tcp => s.state == SockState::Listen,
        Proto::Udp => {
            s.state == SockState::Close
                && s.remote.is_none()
                && s.port()
                    .is_some_and(|p| p != 0 && !(ephemeral.0..=ephemeral.1).contains(&p))
        }
        Proto::Unix => false,
    }
}

/// Most exposed first: wildcard, then specific addresses, then loopback.
fn exposure_rank(ip: IpAddr) -> u8 {
    match addr_class::exposure(ip) {
        Exposure::AllInterfaces => 0,
        Exposure::Specific => 1,
        Exposure::Loopback => 2,
    }
}

/// One [`Listener`] per owner set and port (a server on `0.0.0.0` and `::` is one), by port.
fn group(
    snap: &Snapshot,
    ephemeral: (u16, u16),
    wanted: &dyn Fn(&Socket) -> bool,
) -> Vec<Listener> {
    type Key = (Proto, u16, Vec<u32>, bool);
    let mut groups: BTreeMap<Key, Listener> = BTreeMap::new();
    for s in snap
        .sockets
        .iter()
        .filter(|s| kept(s, ephemeral) && wanted(s))
    {
        let (Some(ip), Some(port)) = (s.local.ip(), s.port()) else {
            continue;
        };
        let key = (s.proto, port, s.pids.clone(), s.owner_hidden);
        let l = groups.entry(key).or_insert_with(|| Listener {
            proto: s.proto,
            port,
            addrs: Vec::new(),
            pids: s.pids.clone(),
            owner_hidden: s.owner_hidden,
            uid: s.uid,
            probe: None,
            outside: None,
        });
        if !l.addrs.contains(&ip) {
            l.addrs.push(ip);
        }
        l.uid = l.uid.min(s.uid);
    }
    let mut out: Vec<Listener> = groups.into_values().collect();
    for l in &mut out {
        l.addrs.sort_by_key(|a| (exposure_rank(*a), *a));
    }
    out.sort_by_key(|l| (l.port, l.proto, exposure_rank(l.addr())));
    out
}

/// Listening unix sockets with a path, each with its socket file when a root process (or a
/// hidden owner of a socket root created) holds it.
fn unix_listeners(snap: &Snapshot) -> Vec<UnixListener> {
    snap.sockets
        .iter()
        .filter(|s| s.proto == Proto::Unix && s.state == SockState::Listen)
        .filter_map(|s| {
            let Endpoint::Unix { path } = &s.local else {
                return None;
            };
            if !path.starts_with('/') {
                return None;
            }
            let root_held = s
                .pids
                .iter()
                .any(|p| snap.process(*p).is_some_and(|p| p.uid == 0))
                || (s.owner_hidden && s.uid == 0);
            // Stat in the mount namespace of a holder other than pid 1 (systemd holds
            // socket-activated sockets in its own, which is usually the host's).
            let via = s
                .pids
                .iter()
                .copied()
                .find(|p| *p != 1)
                .or(s.pids.first().copied());
            Some(UnixListener {
                path: path.clone(),
                pids: s.pids.clone(),
                owner_hidden: s.owner_hidden,
                uid: s.uid,
                // As the holder sees it; else (its /proc/PID/root closed to us) as we do.
                file: root_held
                    .then(|| {
                        fsmeta::socket_file(via, path).or_else(|| fsmeta::socket_file(None, path))
                    })
                    .flatten(),
            })
        })
        .collect()
}

/// portscope's own container id, when it runs in one.
fn own_container() -> Option<String> {
    procfs::process(&ProcContext::new(), std::process::id(), Detail::Full)
        .and_then(|p| p.origin.container_id)
}

/// Where to connect for a listener: wildcards over loopback of their family.
fn reach(l: &Listener) -> SocketAddr {
    match l.addr() {
        IpAddr::V4(a) if a.is_unspecified() => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), l.port),
        IpAddr::V6(a) if a.is_unspecified() => SocketAddr::new(Ipv6Addr::LOCALHOST.into(), l.port),
        other => SocketAddr::new(other, l.port),
    }
}

/// Probe every TCP listener once (bounded), in parallel; listeners a debugger flag already
/// identifies are not touched (connecting to a JDWP agent ends its listening for a while).
fn probe_listeners(ctx: &mut Context, watch: engine::Watch) {
    let mut jobs: Vec<(usize, SocketAddr, ProbeContext)> = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, l) in ctx.listeners.iter().enumerate() {
        if l.proto != Proto::Tcp {
            continue;
        }
        let owner = ctx.owner(l);
        // Known without connecting; and a JDWP agent moves (or stops listening for a while)
        // after a connection.
        if owner.is_some_and(|p| {
            service::debugger_flag(p, l.port).is_some() || service::jdwp_on_any_port(p)
        }) {
            continue;
        }
        let addr = reach(l);
        if !seen.insert(addr) {
            continue;
        }
        let words = owner.map(ProbeContext::process_words).unwrap_or_default();
        jobs.push((
            i,
            addr,
            ProbeContext {
                process_words: words,
                ..ProbeContext::default()
            },
        ));
    }
    let work: Vec<(SocketAddr, ProbeContext)> =
        jobs.iter().map(|(_, a, c)| (*a, c.clone())).collect();
    let results = engine::probe_all(&work, &limits(), CONCURRENCY, watch);
    let mut retry = Vec::new();
    for ((i, addr, pctx), result) in jobs.into_iter().zip(results) {
        let missed = result.state == PortState::Open
            && result.identification.is_none()
            && ctx
                .listeners
                .get(i)
                .and_then(|l| ctx.owner(l))
                .is_some_and(|p| {
                    ctx.listeners
                        .get(i)
                        .is_some_and(|l| service::owner_service(p, Proto::Tcp, l.port).is_some())
                });
        if missed {
            retry.push((i, addr, pctx));
        }
        if let Some(l) = ctx.listeners.get_mut(i) {
            l.probe = Some(result);
        }
    }
    if !retry.is_empty() && !(watch.stop)() {
        let work: Vec<(SocketAddr, ProbeContext)> =
            retry.iter().map(|(_, a, c)| (*a, c.clone())).collect();
        let results = engine::probe_all(
            &work,
            &patient_limits(),
            CONCURRENCY,
            engine::Watch::quiet(),
        );
        for ((i, _, _), result) in retry.into_iter().zip(results) {
            if result.identification.is_some()
                && let Some(l) = ctx.listeners.get_mut(i)
            {
                l.probe = Some(result);
            }
        }
    }
    probe_from_outside(ctx);
}

/// Probe again, from a non-loopback address of this machine, the wildcard listeners that
/// answered loopback without credentials: some services trust loopback clients only (Redis in
/// protected mode answers `-DENIED` to everyone else).
fn probe_from_outside(ctx: &mut Context) {
    let (v4, v6) = (
        attempt::outward_source_addr(false),
        attempt::outward_source_addr(true),
    );
    let mut jobs = Vec::new();
    for (i, l) in ctx.listeners.iter().enumerate() {
        let open = l
            .probe
            .as_ref()
            .and_then(|p| p.identification.as_ref())
            .is_some_and(|id| id.auth == Some(crate::probe::Auth::NotRequired));
        if !open || l.exposure() != Exposure::AllInterfaces {
            continue;
        }
        let ip = match l.addr() {
            IpAddr::V4(_) => v4,
            IpAddr::V6(_) => v6.or(v4),
        };
        let Some(ip) = ip else { continue };
        let words = ctx
            .owner(l)
            .map(ProbeContext::process_words)
            .unwrap_or_default();
        jobs.push((
            i,
            (
                SocketAddr::new(ip, l.port),
                ProbeContext {
                    process_words: words,
                    ..ProbeContext::default()
                },
            ),
        ));
    }
    if jobs.is_empty() {
        return;
    }
    let work: Vec<(SocketAddr, ProbeContext)> = jobs.iter().map(|(_, j)| j.clone()).collect();
    let results = engine::probe_all(&work, &limits(), CONCURRENCY, engine::Watch::quiet());
    for ((i, _), result) in jobs.into_iter().zip(results) {
        if let Some(l) = ctx.listeners.get_mut(i) {
            l.outside = Some(result);
        }
    }
}

/// For ports published by `docker-proxy`: who listens on the container port in other network
/// namespaces.
fn container_sides(ctx: &Context) -> BTreeMap<u16, Vec<ForeignSide>> {
    let ports: BTreeSet<u16> = ctx
        .listeners
        .iter()
        .filter_map(|l| ctx.owner(l))
        .filter(|p| is_port_proxy(p))
        .filter_map(container_port)
        .collect();
    let mut out = BTreeMap::new();
    if ports.is_empty() {
        return out;
    }
    let pctx = ProcContext::new();
    for port in ports {
        let (found, _) = crate::sys::netns::foreign_listeners(port);
        let sides = found
            .into_iter()
            .map(|f| ForeignSide {
                netns: f.netns,
                pid: f.pid,
                comm: procfs::process(&pctx, f.pid, Detail::Basic).map(|p| p.comm),
                local: f.socket.local.to_string(),
            })
            .collect();
        out.insert(port, sides);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::audit::tests::socket;

    #[test]
    fn sockets_of_one_owner_and_port_are_one_listener() {
        let snap = Snapshot {
            sockets: vec![
                socket(Proto::Tcp, SockState::Listen, "::", 6379, &[5]),
                socket(Proto::Tcp, SockState::Listen, "127.0.0.1", 6379, &[5]),
                socket(Proto::Tcp, SockState::Listen, "0.0.0.0", 6379, &[5]),
                socket(Proto::Tcp, SockState::Listen, "0.0.0.0", 22, &[6]),
                socket(Proto::Udp, SockState::Close, "0.0.0.0", 5353, &[7]),
                socket(Proto::Udp, SockState::Close, "0.0.0.0", 40000, &[8]),
                socket(Proto::Tcp, SockState::Established, "127.0.0.1", 22, &[6]),
            ],
            ..Snapshot::default()
        };
        let ls = group(&snap, (32768, 60999), &|_| true);
        let shape: Vec<(u16, Proto, usize)> = ls
            .iter()
            .map(|l| (l.port, l.proto, l.addrs.len()))
            .collect();
        assert_eq!(
            shape,
            [
                (22, Proto::Tcp, 1),
                (5353, Proto::Udp, 1),
                (6379, Proto::Tcp, 3)
            ]
        );
        let redis = &ls[2];
        assert_eq!(redis.addr().to_string(), "0.0.0.0");
        assert_eq!(
            redis.sockets_text(),
            "tcp 0.0.0.0:6379 and [::]:6379 and 127.0.0.1:6379"
        );
        assert_eq!(reach(redis).to_string(), "127.0.0.1:6379");
        let only = group(&snap, (32768, 60999), &|s| s.port() == Some(22));
        assert_eq!(only.len(), 1);
    }
}
