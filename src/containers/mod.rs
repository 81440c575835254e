//! Who really serves a port held for a container. On the host a published port is held by a
//! middleman — Docker's `docker-proxy`, Podman's `conmon` or `rootlessport`, `slirp4netns`,
//! `pasta` — or, for a container on the host's network, by a process in the container's
//! cgroup. The container engines know which container that is: this module asks them (Docker
//! and Podman, over their unix sockets, all at once and each call bounded), joins their
//! answer to the sockets by published port or container id, and follows the container's first
//! process into its network namespace to the process that listens there on the container
//! port (`containers/inside.rs`).
//!
//! No engine is asked unless a socket is held by such a process, or by one portscope may not
//! inspect (a user in the `docker` group cannot read root's `docker-proxy`, but may ask the
//! engine, which names the container publishing that address and port). When a socket held
//! by a forwarder or a containerised process has no container named, [`Attached::note`] says
//! once why (no socket, no permission, no engine running, no container publishing it), and
//! everything else reads as it would without engines; a hidden owner that no container
//! explains is no reason for a note.

mod inside;
mod lookup;
mod note;
mod published;

pub use lookup::{Found, find_container};
pub use published::{NatPublished, unheld};

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use serde::Serialize;

use crate::knowledge::containers::{COMPOSE_PROJECT, COMPOSE_SERVICE, is_port_forwarder};
use crate::model::{Origin, Process, Proto, Socket};
use crate::sys::engine::{self, Container, EngineError, EngineSocket, Listing, Port};
use crate::sys::procfs;

/// The container behind a socket, as its engine names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerRef {
    /// The engine that runs it: `docker` or `podman`.
    pub engine: &'static str,
    /// The engine's socket that said so.
    pub engine_socket: String,
    /// Its name (`web1`).
    pub name: String,
    /// Its full id (64 hex digits; people read the first 12).
    pub id: String,
    /// The image it runs (`nginx:1.27`, `local/bb:1`).
    pub image: String,
    /// The engine's state: `running`, `paused`, `restarting` …
    pub state: String,
    /// Its Docker Compose project (label `com.docker.compose.project`).
    pub compose_project: Option<String>,
    /// Its Docker Compose service (label `com.docker.compose.service`).
    pub compose_service: Option<String>,
    /// The published mapping this socket serves; `None` for a container on the host's
    /// network (its own process holds the socket).
    pub published: Option<Published>,
    /// The process inside the container that listens on the container port, when found.
    pub inner: Option<Inner>,
}

impl ContainerRef {
    /// The first 12 digits of the id, as `docker ps` shows it.
    pub fn short_id(&self) -> &str {
        self.id.get(..12).unwrap_or(&self.id)
    }
}

/// A published port: host address and port → container port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Published {
    /// The host address as the engine gives it (`0.0.0.0`, `::`, `127.0.0.1`).
    pub host_ip: String,
    /// The port on the host.
    pub host_port: u16,
    /// The port inside the container.
    pub container_port: u16,
    /// `tcp`, `udp` or `sctp`.
    pub proto: String,
}

/// The process in the container's network namespace that listens on the container port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inner {
    /// Its pid, as portscope sees it (the host's pid namespace).
    pub pid: u32,
    /// Its short name.
    pub comm: String,
    /// Its arguments.
    pub cmdline: Vec<String>,
    /// The address it listens on inside the container (`0.0.0.0`, `::`, `127.0.0.1`).
    pub addr: IpAddr,
    /// The port it listens on (the container port).
    pub port: u16,
}

/// Containers attached to sockets, and why some could not be.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attached {
    /// The container each socket serves, by socket inode.
    pub by_inode: HashMap<u64, ContainerRef>,
    /// Why a socket held for a container has none, in one sentence (`None` when every such
    /// socket has its container, or when no socket is held for one).
    pub note: Option<String>,
    /// Sockets held by a `docker-proxy` that no container publishes although a Docker engine
    /// answered: proxies left behind by a removed container. By inode, the engines that
    /// answered (`docker at /var/run/docker.sock`).
    pub leftover: HashMap<u64, String>,
}

/// The engines' answers, asked once and shared by the callers that need them (`ls` asks
/// them while the kernel is read).
#[derive(Default)]
pub struct Engines {
    answers: Vec<Answer>,
}

impl Engines {
    /// Whether some engine answered.
    pub fn answered(&self) -> bool {
        self.answers.iter().any(|a| a.listing.is_ok())
    }
}

/// Ask the engines whose socket file exists now (a stat each when none runs: no engine
/// socket, no call), all at once.
pub fn ask_present() -> Engines {
    let present: Vec<EngineSocket> = engine::sockets(&[])
        .into_iter()
        .filter(|s| s.unusable.is_none() && s.path.exists())
        .collect();
    Engines {
        answers: ask(present),
    }
}

/// A socket held by a container's forwarder or by a process in a container, or whose owner
/// could not be inspected (`holder: None`).
struct Candidate<'a> {
    socket: &'a Socket,
    holder: Option<&'a Process>,
    /// The container id the holder's cgroup names (a container on the host's network).
    id: Option<String>,
}

/// Where a candidate's container is: which answer, which container of it, and which of its
/// published ports the socket serves (none for a container on the host's network).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hit {
    answer: usize,
    container: usize,
    port: Option<usize>,
}

/// How many engine calls, or looks inside containers, run at once.
const LANES: usize = 8;

/// What one engine socket answered.
struct Answer {
    socket: EngineSocket,
    listing: Result<Listing, EngineError>,
}

/// The containers behind `sockets` (their holders are in `processes`; a holder read without
/// its origin has its cgroup read here). Engines are asked only when some socket is held for
/// a container, all at once.
pub fn attach<'a>(
    sockets: impl IntoIterator<Item = &'a Socket>,
    processes: &'a BTreeMap<u32, Process>,
) -> Attached {
    attach_with(sockets, processes, &mut Engines::default())
}

/// [`attach`], with the engines' answers already in `known` (those it lacks are asked and
/// kept there).
pub fn attach_with<'a>(
    sockets: impl IntoIterator<Item = &'a Socket>,
    processes: &'a BTreeMap<u32, Process>,
    known: &mut Engines,
) -> Attached {
    let candidates = candidates(sockets, processes);
    if candidates.is_empty() {
        return Attached::default();
    }
    let mut uids: Vec<u32> = candidates
        .iter()
        .map(|c| c.holder.map_or(c.socket.uid, |h| h.uid))
        .collect();
    uids.sort_unstable();
    uids.dedup();
    let wanted: Vec<EngineSocket> = engine::sockets(&uids)
        .into_iter()
        .filter(|s| !known.answers.iter().any(|a| a.socket.path == s.path))
        .collect();
    known.answers.extend(ask(wanted));
    let answers = &known.answers;
    let found: Vec<Option<Hit>> = candidates.iter().map(|c| find(c, answers)).collect();
    let pids = init_pids(answers, &found);
    // The process inside each container (a thread entering its network namespace): at once,
    // as the engine calls were, so `ls` with many containers does not pay for each in turn.
    let looks: Vec<(usize, u32, Proto, u16)> = candidates
        .iter()
        .zip(&found)
        .enumerate()
        .filter_map(|(i, (c, hit))| {
            let hit = (*hit)?;
            let container = &answer_containers(&answers[hit.answer])[hit.container];
            let port = container.ports.get(hit.port?)?;
            let pid = pids.get(&(hit.answer, container.id.clone())).copied()?;
            Some((i, pid, c.socket.proto, port.private_port))
        })
        .collect();
    let inners: HashMap<usize, Inner> = in_parallel(looks, LANES, |(i, pid, proto, port)| {
        Some((i, inside::listener(pid, proto, port)?))
    })
    .into_iter()
    .flatten()
    .collect();
    let mut out = Attached::default();
    for (i, (c, hit)) in candidates.iter().zip(&found).enumerate() {
        let Some(hit) = *hit else { continue };
        let answer = &answers[hit.answer];
        let container = &answer_containers(answer)[hit.container];
        let published = hit.port.map(|p| &container.ports[p]);
        let inner = inners.get(&i).cloned();
        let published = published.map(|p| (p, c.socket.local.ip()));
        let reference = reference(answer, container, published, inner);
        out.by_inode.insert(c.socket.inode, reference);
    }
    let missing: Vec<&Candidate<'_>> = candidates
        .iter()
        .zip(&found)
        .filter(|(c, hit)| hit.is_none() && c.holder.is_some())
        .map(|(c, _)| c)
        .collect();
    let docker: Vec<String> = answers
        .iter()
        .filter_map(|a| Some((a, a.listing.as_ref().ok()?)))
        .filter(|(_, l)| l.kind == engine::Kind::Docker)
        .map(|(a, _)| format!("docker at {}", a.socket.path.display()))
        .collect();
    if !docker.is_empty() {
        for c in missing
            .iter()
            .filter(|c| c.holder.is_some_and(|h| h.comm == "docker-proxy"))
        {
            out.leftover.insert(c.socket.inode, docker.join(" and "));
        }
    }
    let leftover_port = missing
        .iter()
        .find(|c| out.leftover.contains_key(&c.socket.inode))
        .and_then(|c| c.socket.port());
    out.note = note::why_missing(&missing, answers, leftover_port);
    out
}

/// The listening IP sockets held by a forwarder or by a process in a container, or by a
/// process that could not be inspected; and the bound TCP sockets a forwarder holds.
fn candidates<'a>(
    sockets: impl IntoIterator<Item = &'a Socket>,
    processes: &'a BTreeMap<u32, Process>,
) -> Vec<Candidate<'a>> {
    // The container each holder's cgroup names, read once per process.
    let mut cgroup_ids: foldhash::HashMap<u32, Option<String>> = foldhash::HashMap::default();
    let mut container_of = |p: &Process| -> Option<String> {
        if p.origin != Origin::default() {
            return p.origin.container_id.clone();
        }
        cgroup_ids
            .entry(p.pid)
            .or_insert_with(|| procfs::origin(p.pid).container_id)
            .clone()
    };
    let mut out = Vec::new();
    for s in sockets {
        // A forwarder's bound TCP socket that does not listen (yet, or any more: its listener
        // was destroyed) still holds the published port for its container.
        let bound_only = !s.is_listening()
            && s.proto == Proto::Tcp
            && s.state == crate::model::SockState::Close
            && s.remote.is_none();
        if !(s.is_listening() || bound_only) || s.inode == 0 || s.proto == Proto::Unix {
            continue;
        }
        let found = s
            .pids
            .iter()
            .filter_map(|pid| processes.get(pid))
            .find_map(|p| {
                // dockerd keeps a published port bound itself when its userland proxy is off.
                if is_port_forwarder(&p.comm) || p.comm == "dockerd" {
                    return Some((p, forwarded_id(p)));
                }
                if bound_only {
                    return None;
                }
                container_of(p).map(|id| (p, Some(id)))
            });
        if let Some((holder, id)) = found {
            out.push(Candidate {
                socket: s,
                holder: Some(holder),
                id,
            });
        } else if s.owner_hidden && !bound_only {
            out.push(Candidate {
                socket: s,
                holder: None,
                id: None,
            });
        }
    }
    out
}

/// The container a forwarder names on its command line: Podman's `conmon -c ID`.
fn forwarded_id(p: &Process) -> Option<String> {
    if p.comm != "conmon" {
        return None;
    }
    let at = p.cmdline.iter().position(|a| a == "-c" || a == "--cid")?;
    p.cmdline.get(at + 1).cloned()
}

/// Ask every engine socket at once (one thread each, each call bounded).
fn ask(sockets: Vec<EngineSocket>) -> Vec<Answer> {
    let lanes = sockets.len();
    in_parallel(sockets, lanes, |socket| {
        let listing = engine::list(&socket);
        Answer { socket, listing }
    })
}

/// `f` of every item, on at most `lanes` threads at once (one, the caller's, when there is
/// one lane), in no particular order.
fn in_parallel<T: Send, R: Send>(items: Vec<T>, lanes: usize, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let lanes = lanes.clamp(1, items.len().max(1));
    if lanes == 1 {
        return items.into_iter().map(f).collect();
    }
    let mut queues: Vec<Vec<T>> = (0..lanes).map(|_| Vec::new()).collect();
    for (i, item) in items.into_iter().enumerate() {
        queues[i % lanes].push(item);
    }
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = queues
            .into_iter()
            .map(|queue| scope.spawn(move || queue.into_iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(crate::threads::joined)
            .collect()
    })
}

/// The containers an answer lists (none for an engine that did not answer).
fn answer_containers(a: &Answer) -> &[Container] {
    a.listing.as_ref().map_or(&[], |l| l.containers.as_slice())
}

/// The container `c` serves: `(answer, container, published port)`. By id when the holder
/// names one, else by the published port the socket is bound to (an exact host address
/// before a wildcard).
fn find(c: &Candidate<'_>, answers: &[Answer]) -> Option<Hit> {
    let port = c.socket.port()?;
    let mut best: Option<(u8, Hit)> = None;
    for (a, answer) in answers.iter().enumerate() {
        for (i, container) in answer_containers(answer).iter().enumerate() {
            let by_id =
                c.id.as_deref()
                    .is_some_and(|id| !id.is_empty() && container.id.starts_with(id));
            let published = container
                .ports
                .iter()
                .enumerate()
                .filter_map(|(p, mapping)| Some((publishes(mapping, c.socket, port)?, p)))
                .max_by_key(|(score, _)| *score);
            let score = match (by_id, published) {
                (true, Some((s, _))) => 10 + s,
                (true, None) => 9,
                (false, Some((s, _))) => s,
                (false, None) => continue,
            };
            if best.as_ref().is_none_or(|(b, _)| score > *b) {
                let hit = Hit {
                    answer: a,
                    container: i,
                    port: published.map(|(_, p)| p),
                };
                best = Some((score, hit));
            }
        }
    }
    best.map(|(_, hit)| hit)
}

/// How well `mapping` describes socket `s` on `port`: 2 for its exact host address, 1 for a
/// wildcard one, `None` when it is another port, protocol or address.
fn publishes(mapping: &Port, s: &Socket, port: u16) -> Option<u8> {
    if mapping.public_port != Some(port) || mapping.proto != s.proto.as_str() {
        return None;
    }
    let local = s.local.ip()?;
    let ip = mapping.ip.as_deref().unwrap_or("").trim();
    if ip.is_empty() {
        return Some(1);
    }
    let ip: IpAddr = ip.parse().ok()?;
    if ip == local {
        Some(2)
    } else if ip.is_unspecified() && local.is_unspecified() {
        Some(1)
    } else {
        None
    }
}

/// The first pid of every container a socket serves through a published port, asked of its
/// engine (at most four calls at once), by `(answer, container id)`.
fn init_pids(answers: &[Answer], found: &[Option<Hit>]) -> HashMap<(usize, String), u32> {
    let mut wanted: Vec<(usize, String)> = found
        .iter()
        .flatten()
        .filter(|hit| hit.port.is_some())
        .map(|hit| {
            let c = &answer_containers(&answers[hit.answer])[hit.container];
            (hit.answer, c.id.clone())
        })
        .collect();
    wanted.sort();
    wanted.dedup();
    in_parallel(wanted, LANES, |(a, id)| {
        let pid = engine::init_pid(&answers[a].socket.path, &id).ok()??;
        Some(((a, id), pid))
    })
    .into_iter()
    .flatten()
    .collect()
}

/// The reference a report carries (`published`: the mapping and the address of the socket
/// it serves).
fn reference(
    answer: &Answer,
    c: &Container,
    published: Option<(&Port, Option<IpAddr>)>,
    inner: Option<Inner>,
) -> ContainerRef {
    let kind = answer
        .listing
        .as_ref()
        .map_or(answer.socket.kind, |l| l.kind);
    ContainerRef {
        engine: kind.as_str(),
        engine_socket: answer.socket.path.display().to_string(),
        name: c.name(),
        id: c.id.clone(),
        image: c.image.clone(),
        state: c.state.clone(),
        compose_project: c.labels.get(COMPOSE_PROJECT).cloned(),
        compose_service: c.labels.get(COMPOSE_SERVICE).cloned(),
        published: published.map(|(p, local)| Published {
            // No address from the engine: every address, as the socket is bound.
            host_ip: p
                .ip
                .clone()
                .filter(|ip| !ip.trim().is_empty())
                .unwrap_or_else(|| local.map_or_else(|| "0.0.0.0".into(), |ip| ip.to_string())),
            host_port: p.public_port.unwrap_or(0),
            container_port: p.private_port,
            proto: p.proto.clone(),
        }),
        inner,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Family, SockState};

    fn listener(addr: &str, port: u16) -> Socket {
        let ip: IpAddr = addr.parse().unwrap();
        Socket {
            proto: Proto::Tcp,
            family: if ip.is_ipv4() {
                Family::Ipv4
            } else {
                Family::Ipv6
            },
            state: SockState::Listen,
            local: Endpoint::inet(ip, port),
            remote: None,
            inode: 7,
            peer_inode: None,
            uid: 0,
            recv_q: 0,
            send_q: 4096,
            netns: None,
            pids: vec![1],
            owner_hidden: false,
            ownerless: false,
        }
    }

    fn mapping(ip: Option<&str>, public: u16, proto: &str) -> Port {
        Port {
            ip: ip.map(str::to_string),
            private_port: 80,
            public_port: Some(public),
            proto: proto.into(),
        }
    }

    #[test]
    fn a_mapping_matches_its_own_address_before_a_wildcard() {
        let lo = listener("127.0.0.1", 8080);
        assert_eq!(
            publishes(&mapping(Some("127.0.0.1"), 8080, "tcp"), &lo, 8080),
            Some(2)
        );
        assert_eq!(
            publishes(&mapping(Some(""), 8080, "tcp"), &lo, 8080),
            Some(1)
        );
        assert_eq!(publishes(&mapping(None, 8080, "tcp"), &lo, 8080), Some(1));
        assert_eq!(
            publishes(&mapping(Some("0.0.0.0"), 8080, "tcp"), &lo, 8080),
            None
        );
        assert_eq!(
            publishes(&mapping(Some("127.0.0.1"), 8081, "tcp"), &lo, 8080),
            None
        );
        assert_eq!(
            publishes(&mapping(Some("127.0.0.1"), 8080, "udp"), &lo, 8080),
            None
        );
        let any6 = listener("::", 8080);
        assert_eq!(
            publishes(&mapping(Some("::"), 8080, "tcp"), &any6, 8080),
            Some(2)
        );
        assert_eq!(
            publishes(&mapping(Some("0.0.0.0"), 8080, "tcp"), &any6, 8080),
            Some(1)
        );
    }

    #[test]
    fn conmon_names_its_container() {
        let mut p = Process {
            pid: 9,
            ppid: 1,
            pgid: None,
            comm: "conmon".into(),
            cmdline: [
                "/usr/bin/conmon",
                "--api-version",
                "1",
                "-c",
                "8f9fa229",
                "-u",
                "x",
            ]
            .map(String::from)
            .to_vec(),
            exe: None,
            cwd: None,
            uid: 0,
            user: None,
            start_time: None,
            state: crate::model::ProcState::Sleeping,
            ancestry: vec![],
            origin: Origin::default(),
            netns: None,
        };
        assert_eq!(forwarded_id(&p).as_deref(), Some("8f9fa229"));
        p.comm = "docker-proxy".into();
        assert_eq!(forwarded_id(&p), None);
    }

    #[test]
    fn work_is_spread_and_all_of_it_done() {
        let mut got = in_parallel((0..10).collect(), 4, |i: u32| i * 2);
        got.sort_unstable();
        assert_eq!(got, (0..10).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(in_parallel(Vec::<u32>::new(), 4, |i| i), Vec::<u32>::new());
        assert_eq!(in_parallel(vec![3], 0, |i: u32| i + 1), vec![4]);
    }
}
