//! Containers in `kill`: a port held for a container — by a forwarder (`docker-proxy`,
//! `conmon`, `rootlessport`, `pasta`, `slirp4netns`) or by a process in the container's cgroup
//! (a container on the host's network) — is freed by stopping the container through its
//! engine (`docker stop`, over the API), not by signalling the forwarder, which would leave
//! the container running and unreachable. The holders that go with the container are not
//! signalled. `--force` keeps the old way (signal the holders, even docker-proxy). When no
//! engine names the container, the plan is what it was without engines, and a note says why.

use serde::Serialize;

use super::*;
use crate::containers::{self, ContainerRef};
use crate::knowledge::containers::is_port_forwarder;
use crate::sys::engine::{self, StopAnswer};

/// A container `kill` stops through its engine.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedContainer {
    /// The container as its engine names it (`published` and `inner`: for the first target
    /// socket it serves).
    #[serde(flatten)]
    pub container: ContainerRef,
    /// The target ports it holds through its forwarders or processes.
    pub ports: Vec<u16>,
    /// The host processes holding those ports for it: not signalled, they go with it.
    pub holders: Vec<Owner>,
    /// Seconds the engine waits after the container's stop signal before SIGKILL (the
    /// `t` of the stop call: `--timeout`, rounded up to a second).
    pub grace_s: u64,
}

/// What happened to a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContainerFate {
    /// The engine stopped it.
    Stopped,
    /// The engine said it was not running.
    AlreadyStopped,
    /// The engine refused, or did not answer in time.
    Failed,
}

/// The outcome for one planned container.
#[derive(Debug, Clone, Serialize)]
pub struct ContainerOutcome {
    /// `docker` or `podman`.
    pub engine: &'static str,
    /// The engine's socket the stop went through.
    pub engine_socket: String,
    /// Its name.
    pub name: String,
    /// Its full id.
    pub id: String,
    /// Its image.
    pub image: String,
    /// The target ports it held.
    pub ports: Vec<u16>,
    /// What happened.
    pub outcome: ContainerFate,
    /// For `failed`: what the engine said, or why it said nothing.
    pub message: Option<String>,
    /// Seconds the stop call took.
    pub after_s: f64,
}

/// The containers found behind the target sockets, and which holders go with them.
#[derive(Debug, Default)]
pub(super) struct Found {
    /// The containers to stop.
    pub planned: Vec<PlannedContainer>,
    /// Pids not signalled: their container is stopped instead.
    pub handled: BTreeSet<u32>,
    /// Why a socket held for a container has no container named.
    pub note: Option<String>,
    /// docker-proxy holders that no container publishes for, although Docker answered: left
    /// over from a removed container.
    pub leftover: BTreeSet<u32>,
}

/// Ask the engines about the holding sockets of the targets (only when some holder is a
/// forwarder or in a container) and decide which holders go with a container (none with
/// `--force`, which signals them; the engines then only tell a leftover docker-proxy).
pub(super) fn find(
    opts: &Options,
    held: &[Socket],
    procs: &BTreeMap<u32, Process>,
    why: &BTreeMap<u32, Vec<Why>>,
) -> Found {
    if held.is_empty() {
        return Found::default();
    }
    let attached = containers::attach(held, procs);
    let leftover = held
        .iter()
        .filter(|s| attached.leftover.contains_key(&s.inode))
        .flat_map(|s| s.pids.iter().copied())
        .collect();
    if opts.force {
        // Holders are signalled as they are; the engines only tell a leftover proxy.
        return Found {
            leftover,
            ..Found::default()
        };
    }
    let mut found = decide(held, procs, why, &attached.by_inode, grace_s(opts.timeout));
    found.note = attached.note;
    found.leftover = leftover;
    found
}

/// The stop call's `t`: a whole number of seconds, rounded up.
pub(super) fn grace_s(timeout: Duration) -> u64 {
    timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0)
}

/// The pure part of [`find`]: which containers to stop for `held` (their containers by socket
/// inode in `by_inode`), and which holders are left to them. A holder goes with its container
/// when it is a forwarder or runs in that container, and every port socket it holds is one a
/// container is stopped for; a `--tree` member goes when every holder it was added for does.
pub(super) fn decide(
    held: &[Socket],
    procs: &BTreeMap<u32, Process>,
    why: &BTreeMap<u32, Vec<Why>>,
    by_inode: &HashMap<u64, ContainerRef>,
    grace_s: u64,
) -> Found {
    let mut found = Found::default();
    let mut candidates: BTreeSet<u32> = BTreeSet::new();
    for s in held {
        let Some(c) = by_inode.get(&s.inode) else {
            continue;
        };
        let at =
            match found.planned.iter().position(|p| {
                p.container.id == c.id && p.container.engine_socket == c.engine_socket
            }) {
                Some(i) => i,
                None => {
                    found.planned.push(PlannedContainer {
                        container: c.clone(),
                        ports: Vec::new(),
                        holders: Vec::new(),
                        grace_s,
                    });
                    found.planned.len() - 1
                }
            };
        let planned = &mut found.planned[at];
        if let Some(port) = s.port()
            && !planned.ports.contains(&port)
        {
            planned.ports.push(port);
        }
        for pid in &s.pids {
            let Some(p) = procs.get(pid) else { continue };
            if !goes_with(p, c) {
                continue;
            }
            candidates.insert(*pid);
            if !planned.holders.iter().any(|o| o.pid == *pid) {
                planned.holders.push(Owner {
                    pid: *pid,
                    comm: p.comm.clone(),
                });
            }
        }
    }
    for p in &mut found.planned {
        p.ports.sort_unstable();
    }
    // A holder that also holds a port no container is stopped for is still signalled.
    for pid in candidates {
        let all_attached = why.get(&pid).is_some_and(|whys| {
            whys.iter().all(|w| match w {
                Why::Socket { inode, .. } if w.holds_port() => by_inode.contains_key(inode),
                _ => true,
            })
        });
        if all_attached {
            found.handled.insert(pid);
        }
    }
    let members: Vec<u32> = why
        .iter()
        .filter(|(_, whys)| {
            !whys.is_empty()
                && whys.iter().all(|w| match w {
                    Why::Descendant { of } | Why::ProcessGroup { of, .. } => {
                        found.handled.contains(of)
                    }
                    Why::Socket { .. } => false,
                })
        })
        .map(|(pid, _)| *pid)
        .collect();
    found.handled.extend(members);
    found
}

/// Whether process `p`, holding a socket for container `c`, goes when `c` stops: a forwarder
/// (or dockerd holding the port itself), or a process in `c`'s cgroup.
fn goes_with(p: &Process, c: &ContainerRef) -> bool {
    // dockerd keeps a published port bound itself when its userland proxy is off.
    is_port_forwarder(&p.comm)
        || p.comm == "dockerd"
        || p.origin
            .container_id
            .as_deref()
            .is_some_and(|id| !id.is_empty() && c.id.starts_with(id))
}

/// Stop every planned container through its engine, all at once.
pub(super) fn stop_all(planned: &[PlannedContainer]) -> Vec<ContainerOutcome> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = planned
            .iter()
            .map(|p| scope.spawn(move || stop_one(p)))
            .collect();
        handles
            .into_iter()
            .zip(planned)
            .map(|(h, p)| {
                h.join().unwrap_or_else(|_| {
                    outcome(
                        p,
                        ContainerFate::Failed,
                        Some("the stop call failed".into()),
                        0.0,
                    )
                })
            })
            .collect()
    })
}

fn stop_one(p: &PlannedContainer) -> ContainerOutcome {
    let c = &p.container;
    let start = Instant::now();
    let answer = engine::stop(std::path::Path::new(&c.engine_socket), &c.id, p.grace_s);
    let took = secs(start.elapsed());
    let (fate, message) = match answer {
        Ok(StopAnswer::Stopped) => (ContainerFate::Stopped, None),
        Ok(StopAnswer::AlreadyStopped) => (ContainerFate::AlreadyStopped, None),
        Ok(StopAnswer::Refused { status, message }) => (
            ContainerFate::Failed,
            Some(format!("the engine answered HTTP {status}: {message}")),
        ),
        Err(engine::EngineError::Timeout) => (
            ContainerFate::Failed,
            Some(format!(
                "the engine did not answer within {} s",
                p.grace_s + engine::STOP_MARGIN.as_secs()
            )),
        ),
        Err(e) => (
            ContainerFate::Failed,
            Some(format!("{}: {e}", c.engine_socket)),
        ),
    };
    outcome(p, fate, message, took)
}

fn outcome(
    p: &PlannedContainer,
    fate: ContainerFate,
    message: Option<String>,
    after_s: f64,
) -> ContainerOutcome {
    let c = &p.container;
    ContainerOutcome {
        engine: c.engine,
        engine_socket: c.engine_socket.clone(),
        name: c.name.clone(),
        id: c.id.clone(),
        image: c.image.clone(),
        ports: p.ports.clone(),
        outcome: fate,
        message,
        after_s,
    }
}
