//! The dashboard's loopback connection graph (`GET /api/graph`): which local process talks
//! to which, over which port. One snapshot of every TCP socket with its owners; each
//! established connection whose two ends are both sockets of this snapshot becomes an edge
//! from the client's process to the server's, labelled with the server's port.
//!
//! The pairing ([`pair`]) is pure: sockets in, nodes and edges out.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use serde::Serialize;

use crate::error::Result;
use crate::model::{Proto, Snapshot, SockState, Socket};
use crate::snapshot::{self, Owners, Request};
use crate::sys::SocketQuery;
use crate::sys::procfs::Detail;

/// A process at one end of a loopback connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    /// Pid.
    pub pid: u32,
    /// Short name (`comm`), when the process was read.
    pub process: Option<String>,
    /// Its user name (or `uid N`), when the process was read.
    pub user: Option<String>,
    /// The ports it listens on (TCP), ascending.
    pub listens: Vec<u16>,
}

/// Connections from one client process to one server process on one port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Edge {
    /// The client's pid (the end that connected).
    pub from_pid: u32,
    /// The server's pid (the end that accepted).
    pub to_pid: u32,
    /// The server's port.
    pub port: u16,
    /// How many established connections.
    pub count: usize,
}

/// The answer to `GET /api/graph`.
#[derive(Debug, Clone, Serialize)]
pub struct Graph {
    /// Every process at an end of an edge, by pid.
    pub nodes: Vec<Node>,
    /// Client → server, by (from, to, port).
    pub edges: Vec<Edge>,
    /// Established local connections left out because an end's owner could not be seen.
    pub hidden: usize,
    /// When the snapshot was taken, seconds since the Unix epoch.
    pub taken_at: f64,
}

/// Take one snapshot of every TCP socket (all states, owners from one fd walk) and pair it.
pub fn take() -> Result<Graph> {
    let snap = snapshot::take(&Request {
        sockets: SocketQuery {
            udp: false,
            ..SocketQuery::default()
        },
        owners: Owners::All,
        detail: Detail::Basic,
        threads: 0,
    })?;
    Ok(from_snapshot(&snap))
}

/// [`pair`] the sockets of `snap`, with names and users from its processes.
pub fn from_snapshot(snap: &Snapshot) -> Graph {
    let (edges, hidden) = pair(&snap.sockets);
    let listens = listening_ports(&snap.sockets);
    let pids: BTreeSet<u32> = edges.iter().flat_map(|e| [e.from_pid, e.to_pid]).collect();
    let nodes = pids
        .into_iter()
        .map(|pid| {
            let p = snap.process(pid);
            Node {
                pid,
                process: p.map(|p| p.comm.clone()),
                user: p.map(|p| p.user.clone().unwrap_or_else(|| format!("uid {}", p.uid))),
                listens: listens
                    .get(&pid)
                    .map(|s| s.iter().copied().collect())
                    .unwrap_or_default(),
            }
        })
        .collect();
    Graph {
        nodes,
        edges,
        hidden,
        taken_at: snap.taken_at,
    }
}

/// The TCP ports each pid listens on.
fn listening_ports(sockets: &[Socket]) -> HashMap<u32, BTreeSet<u16>> {
    let mut out: HashMap<u32, BTreeSet<u16>> = HashMap::new();
    for s in sockets
        .iter()
        .filter(|s| s.proto == Proto::Tcp && s.state == SockState::Listen)
    {
        if let Some(port) = s.port() {
            for pid in &s.pids {
                out.entry(*pid).or_default().insert(port);
            }
        }
    }
    out
}

/// An IP end, with IPv4-mapped IPv6 addresses as IPv4 (a dual-stack listener's accepted
/// socket names `::ffff:127.0.0.1` where its client names `127.0.0.1`).
type End = (IpAddr, u16);

fn end(e: &crate::model::Endpoint) -> Option<End> {
    Some((e.ip()?.to_canonical(), e.port()?))
}

/// Pair the established TCP connections of `sockets` whose both ends are in `sockets`:
/// the server end is the one whose local port has a listener (on its address or a
/// wildcard); when neither or both do, the end with the lower port. Connections between
/// two sockets of one process are kept (`from_pid == to_pid`). Returns the edges (sorted,
/// counted) and how many local connections were left out because an end has no visible
/// owner. Each connection counts once, whichever of its two sockets comes first.
pub fn pair(sockets: &[Socket]) -> (Vec<Edge>, usize) {
    let established: Vec<(&Socket, End, End)> = sockets
        .iter()
        .filter(|s| s.proto == Proto::Tcp && s.state == SockState::Established)
        .filter_map(|s| Some((s, end(&s.local)?, end(s.remote.as_ref()?)?)))
        .collect();
    let by_ends: HashMap<(End, End), &Socket> =
        established.iter().map(|(s, l, r)| ((*l, *r), *s)).collect();
    let listeners: BTreeSet<End> = sockets
        .iter()
        .filter(|s| s.proto == Proto::Tcp && s.state == SockState::Listen)
        .filter_map(|s| end(&s.local))
        .collect();
    let listens = |(ip, port): End| {
        let any = if ip.is_ipv4() {
            IpAddr::from([0u8; 4])
        } else {
            IpAddr::from([0u16; 8])
        };
        listeners.contains(&(ip, port))
            || listeners.contains(&(any, port))
            // A dual-stack `[::]` listener accepts IPv4 too.
            || listeners.contains(&(IpAddr::from([0u16; 8]), port))
    };

    let mut counts: BTreeMap<(u32, u32, u16), usize> = BTreeMap::new();
    let mut hidden = 0;
    for (a, la, ra) in &established {
        // Visit each connection once: from the end whose (local, remote) sorts first.
        if la > ra {
            continue;
        }
        let Some(b) = by_ends.get(&(*ra, *la)) else {
            continue;
        };
        let (a_srv, b_srv) = (listens(*la), listens(*ra));
        let a_is_server = if a_srv != b_srv { a_srv } else { la.1 < ra.1 };
        let (client, server, port) = if a_is_server {
            (*b, *a, la.1)
        } else {
            (*a, *b, ra.1)
        };
        match (client.pids.first(), server.pids.first()) {
            (Some(c), Some(s)) => *counts.entry((*c, *s, port)).or_default() += 1,
            _ => hidden += 1,
        }
    }
    let edges = counts
        .into_iter()
        .map(|((from_pid, to_pid, port), count)| Edge {
            from_pid,
            to_pid,
            port,
            count,
        })
        .collect();
    (edges, hidden)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Family};

    /// A TCP socket on `local` ("ip:port"), connected to `remote`, held by `pids` (hidden
    /// when none).
    fn sock(state: SockState, local: &str, remote: Option<&str>, pids: &[u32]) -> Socket {
        let ep = |t: &str| {
            let a: std::net::SocketAddr = t.parse().unwrap();
            Endpoint::inet(a.ip(), a.port())
        };
        let at: std::net::SocketAddr = local.parse().unwrap();
        let mut s =
            crate::audit::tests::socket(Proto::Tcp, state, &at.ip().to_string(), at.port(), pids);
        if at.is_ipv6() {
            s.family = Family::Ipv6;
        }
        s.remote = remote.map(ep);
        s.owner_hidden = pids.is_empty();
        s
    }

    /// Both ends of an established connection: `a` held by `pid_a`, `b` by `pid_b`.
    fn connection(a: &str, pid_a: u32, b: &str, pid_b: u32) -> [Socket; 2] {
        [
            sock(SockState::Established, a, Some(b), &[pid_a]),
            sock(SockState::Established, b, Some(a), &[pid_b]),
        ]
    }

    #[test]
    fn pairs_client_to_listening_server() {
        let mut sockets = vec![sock(SockState::Listen, "127.0.0.1:8000", None, &[10])];
        sockets.extend(connection("127.0.0.1:8000", 10, "127.0.0.1:50001", 20));
        sockets.extend(connection("127.0.0.1:8000", 10, "127.0.0.1:50002", 20));
        sockets.extend([
            // A connection to a remote host: one end only, no edge.
            sock(
                SockState::Established,
                "10.0.0.2:40000",
                Some("93.184.216.34:443"),
                &[30],
            ),
            // TIME_WAIT pairs are not connections.
            sock(
                SockState::TimeWait,
                "127.0.0.1:50003",
                Some("127.0.0.1:8000"),
                &[],
            ),
        ]);
        let (edges, hidden) = pair(&sockets);
        assert_eq!(
            edges,
            vec![Edge {
                from_pid: 20,
                to_pid: 10,
                port: 8000,
                count: 2
            }]
        );
        assert_eq!(hidden, 0);
    }

    #[test]
    fn listener_decides_even_when_its_port_is_higher() {
        // A server on 60000 whose client happened to get port 40000.
        let mut sockets = vec![sock(SockState::Listen, "0.0.0.0:60000", None, &[1])];
        sockets.extend(connection("127.0.0.1:40000", 2, "127.0.0.1:60000", 1));
        let (edges, _) = pair(&sockets);
        assert_eq!(
            (edges[0].from_pid, edges[0].to_pid, edges[0].port),
            (2, 1, 60000)
        );
    }

    #[test]
    fn dual_stack_mapped_addresses_pair_and_hidden_ends_are_counted() {
        let sockets = vec![
            sock(SockState::Listen, "[::]:9000", None, &[1]),
            sock(
                SockState::Established,
                "[::ffff:127.0.0.1]:9000",
                Some("[::ffff:127.0.0.1]:45000"),
                &[1],
            ),
            sock(
                SockState::Established,
                "127.0.0.1:45000",
                Some("127.0.0.1:9000"),
                &[2],
            ),
            // A client whose owner is hidden.
            sock(
                SockState::Established,
                "[::ffff:127.0.0.1]:9000",
                Some("[::ffff:127.0.0.1]:45001"),
                &[1],
            ),
            sock(
                SockState::Established,
                "127.0.0.1:45001",
                Some("127.0.0.1:9000"),
                &[],
            ),
        ];
        let (edges, hidden) = pair(&sockets);
        assert_eq!(
            edges,
            vec![Edge {
                from_pid: 2,
                to_pid: 1,
                port: 9000,
                count: 1
            }]
        );
        assert_eq!(hidden, 1);
    }

    #[test]
    fn nodes_carry_names_and_listening_ports() {
        let snap = Snapshot {
            sockets: [
                vec![sock(SockState::Listen, "127.0.0.1:8000", None, &[10])],
                connection("127.0.0.1:8000", 10, "127.0.0.1:50001", 20).to_vec(),
            ]
            .concat(),
            processes: BTreeMap::new(),
            hidden: crate::model::Hidden::default(),
            netns: None,
            euid: 0,
            taken_at: 1.0,
        };
        let g = from_snapshot(&snap);
        assert_eq!(g.nodes.len(), 2);
        assert_eq!(g.nodes[0].pid, 10);
        assert_eq!(g.nodes[0].listens, vec![8000]);
        assert_eq!(g.nodes[0].process, None);
        assert!(g.nodes[1].listens.is_empty());
    }
}
