//! Probing the listeners a snapshot found: one job per reachable address (a wildcard bind is
//! reached over loopback), hinted by the owner's name, run by the [`super::engine`] with
//! bounded concurrency. `who --probe`, `explain --probe` and the `probe` verb share it.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use serde::Serialize;

use super::Limits;
use super::engine::{self, Context, PortProbe};
use crate::model::{Proto, Snapshot, Socket};

/// The process holding a probed port.
#[derive(Debug, Clone, Serialize)]
pub struct OwnerRef {
    /// Pid.
    pub pid: u32,
    /// Short name.
    pub comm: String,
}

/// One probed address.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeResult {
    /// The target as the user wrote it (or `ADDR:PORT` for listeners found in the snapshot).
    pub target: String,
    /// Address probed.
    pub addr: IpAddr,
    /// Port probed.
    pub port: u16,
    /// Transport: `tcp`, or `udp` (the UDP table).
    pub proto: Proto,
    /// What the engine found.
    #[serde(flatten)]
    pub probe: PortProbe,
    /// The listening process, when the snapshot names one.
    pub owner: Option<OwnerRef>,
}

/// An address to probe and what is known about it.
pub struct Job {
    /// How the result names it (the target as written, or `ADDR:PORT`).
    pub target: String,
    /// Where to connect.
    pub addr: SocketAddr,
    /// The listening process, when known.
    pub owner: Option<OwnerRef>,
    /// Hints for the engine (owner's words, SNI, UDP).
    pub ctx: Context,
}

/// Probe the TCP listeners of a snapshot that `keep` selects (for `who --probe`,
/// `explain --probe`), telling `progress` after each.
pub fn probe_snapshot_listeners(
    snap: &Snapshot,
    keep: &dyn Fn(&Socket) -> bool,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Vec<ProbeResult> {
    run_jobs(
        listener_jobs(snap, "", keep),
        &Limits::default(),
        16,
        engine::Watch::progress(progress),
    )
}

/// Probe every job and pair each with its result.
pub fn run_jobs(
    jobs: Vec<Job>,
    limits: &Limits,
    concurrency: usize,
    watch: engine::Watch,
) -> Vec<ProbeResult> {
    let work: Vec<(SocketAddr, Context)> = jobs.iter().map(|j| (j.addr, j.ctx.clone())).collect();
    let probes = engine::probe_all(&work, limits, concurrency, watch);
    jobs.into_iter()
        .zip(probes)
        .map(|(job, probe)| ProbeResult {
            target: job.target,
            addr: job.addr.ip(),
            port: job.addr.port(),
            proto: if job.ctx.udp { Proto::Udp } else { Proto::Tcp },
            probe,
            owner: job.owner,
        })
        .collect()
}

/// Where to connect for a listener bound to `ip`: the wildcard is reached over loopback.
pub fn reach(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        other => other,
    }
}

/// Owner name and the words probe hints are matched against.
pub fn owner_of(snap: &Snapshot, s: &Socket) -> (Option<OwnerRef>, Vec<String>) {
    let Some(p) = s.pids.first().and_then(|pid| snap.process(*pid)) else {
        return (None, Vec::new());
    };
    let words = Context::process_words(p);
    (
        Some(OwnerRef {
            pid: p.pid,
            comm: p.comm.clone(),
        }),
        words,
    )
}

/// Jobs for the TCP listeners of a snapshot that `keep` selects, one per reachable address.
pub fn listener_jobs(snap: &Snapshot, label: &str, keep: impl Fn(&Socket) -> bool) -> Vec<Job> {
    let mut seen = BTreeSet::new();
    let mut jobs = Vec::new();
    let mut listeners: Vec<&Socket> = snap
        .sockets
        .iter()
        .filter(|s| s.proto == Proto::Tcp && s.is_listening() && keep(s))
        .collect();
    listeners.sort_by_key(|s| (s.port(), s.local.ip()));
    for s in listeners {
        let (Some(ip), Some(port)) = (s.local.ip(), s.port()) else {
            continue;
        };
        let addr = SocketAddr::new(reach(ip), port);
        if !seen.insert(addr) {
            continue;
        }
        let (owner, process_words) = owner_of(snap, s);
        let target = if label.is_empty() {
            addr.to_string()
        } else {
            label.to_string()
        };
        jobs.push(Job {
            target,
            addr,
            owner,
            ctx: Context {
                process_words,
                ..Context::default()
            },
        });
    }
    jobs
}
