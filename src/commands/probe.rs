//! `portscope probe [TARGET…]`: identify what speaks on ports. Targets become addresses with
//! what the snapshot knows about their owners (to try the likely protocol first); the probe
//! engine does the talking, bounded in time and bytes.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::model::{Proto, Snapshot, Socket};
use crate::probe::Limits;
use crate::probe::engine::{self, Context, PortProbe};
use crate::snapshot::{self, Owners, Request};
use crate::sys::SocketQuery;
use crate::sys::procfs::{self, Detail};
use crate::target::{Host, Target};

use super::{Report, Ui};

/// One target to probe: as understood, and as the person wrote it (each result names it
/// so, e.g. `localhost:5432` rather than the canonical form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeTarget {
    /// The target.
    pub target: Target,
    /// The text it was written as.
    pub text: String,
}

/// What `probe` probes, and how hard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// What to probe (none: every listening TCP port of this machine).
    pub targets: Vec<ProbeTarget>,
    /// Total time allowed per address (connect, banner wait and every probe).
    pub deadline: Duration,
    /// How many addresses to probe at once.
    pub concurrency: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            targets: Vec::new(),
            deadline: Duration::from_millis(1200),
            concurrency: 32,
        }
    }
}

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
    /// Transport: `tcp`, or `udp` (DNS only).
    pub proto: Proto,
    /// What the engine found.
    #[serde(flatten)]
    pub probe: PortProbe,
    /// The listening process, when the snapshot names one.
    pub owner: Option<OwnerRef>,
}

/// The answer to `probe`.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeReport {
    /// One entry per address, in the order targets were given (listeners: by port).
    pub results: Vec<ProbeResult>,
    /// The per-port deadline used, milliseconds.
    pub deadline_ms: u64,
}

/// An address to probe and what is known about it.
struct Job {
    target: String,
    addr: SocketAddr,
    owner: Option<OwnerRef>,
    ctx: Context,
}

/// Run `probe` (exit 0: a port that does not answer is a result, not a failure); `ui`
/// hears of each address as it finishes.
pub fn run(opts: &Options, ui: &dyn Ui) -> Result<(Report, Exit)> {
    let limits = limits(opts.deadline);
    let progress = |done, total| ui.progress(done, total);
    let results = run_jobs(jobs(&opts.targets)?, &limits, opts.concurrency, &progress);
    let report = ProbeReport {
        results,
        deadline_ms: u64::try_from(limits.deadline.as_millis()).unwrap_or(u64::MAX),
    };
    Ok((Report::Probe(Box::new(report)), Exit::Success))
}

/// Probe the TCP listeners of a snapshot that `keep` selects (for `who --probe`,
/// `explain --probe`).
pub fn probe_snapshot_listeners(
    snap: &Snapshot,
    keep: &dyn Fn(&Socket) -> bool,
) -> Vec<ProbeResult> {
    run_jobs(
        listener_jobs(snap, "", keep),
        &Limits::default(),
        16,
        &|_, _| {},
    )
}

/// Probe every job and pair each with its result.
fn run_jobs(
    jobs: Vec<Job>,
    limits: &Limits,
    concurrency: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Vec<ProbeResult> {
    let work: Vec<(SocketAddr, Context)> = jobs.iter().map(|j| (j.addr, j.ctx.clone())).collect();
    let probes = engine::probe_all(&work, limits, concurrency, progress);
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

/// The engine's limits for a per-address deadline: no step may take longer than it.
fn limits(deadline: Duration) -> Limits {
    let d = Limits::default();
    Limits {
        deadline,
        connect: d.connect.min(deadline),
        banner_wait: d.banner_wait.min(deadline),
        read: d.read.min(deadline),
        ..d
    }
}

/// Where to connect for a listener bound to `ip`: the wildcard is reached over loopback.
fn reach(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        other => other,
    }
}

/// Owner name and the words probe hints are matched against.
fn owner_of(snap: &Snapshot, s: &Socket) -> (Option<OwnerRef>, Vec<String>) {
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
fn listener_jobs(snap: &Snapshot, label: &str, keep: impl Fn(&Socket) -> bool) -> Vec<Job> {
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

fn listeners_snapshot(port_range: Option<(u16, u16)>, owners: Owners) -> Result<Snapshot> {
    snapshot::take(&Request {
        sockets: SocketQuery {
            udp: false,
            states: 1 << crate::model::SockState::Listen.kernel_number(),
            port_range,
            ..SocketQuery::default()
        },
        owners,
        detail: Detail::Basic,
        threads: 0,
    })
}

/// Turn the targets into addresses to probe.
fn jobs(targets: &[ProbeTarget]) -> Result<Vec<Job>> {
    if targets.is_empty() {
        let snap = listeners_snapshot(None, Owners::All)?;
        return Ok(listener_jobs(&snap, "", |_| true));
    }
    let mut jobs = Vec::new();
    for ProbeTarget { target: t, text } in targets {
        if t.proto() == Some(Proto::Udp) {
            jobs.extend(udp_jobs(text, t)?);
        } else {
            jobs.extend(target_jobs(text, t)?);
        }
    }
    Ok(jobs)
}

/// UDP targets (`53/udp`, `udp/127.0.0.1:53`): DNS is the one question asked over UDP. A
/// port alone means the addresses UDP sockets are bound to on it (loopback if none).
fn udp_jobs(text: &str, t: &Target) -> Result<Vec<Job>> {
    let (host, port) = match t {
        Target::Addr { host, port, .. } => (Some(host), *port),
        Target::Port { port, .. } => (None, *port),
        _ => {
            return Err(Error::bad_input(
                format!("'{text}': over UDP only one port or address can be probed"),
                "expected e.g. 53/udp or udp/127.0.0.1:53",
            ));
        }
    };
    let addrs: Vec<IpAddr> = match host {
        Some(Host::Ip(ip)) => vec![*ip],
        Some(Host::Name(name)) => crate::sys::sysctl::resolve(name).addresses,
        None => {
            let snap = snapshot::take(&Request {
                sockets: SocketQuery {
                    tcp: false,
                    port_range: Some((port, port)),
                    ..SocketQuery::default()
                },
                owners: Owners::Skip,
                detail: Detail::Basic,
                threads: 0,
            })?;
            let mut found: Vec<IpAddr> = snap
                .sockets
                .iter()
                .filter(|s| s.port() == Some(port) && s.remote.is_none())
                .filter_map(|s| s.local.ip().map(reach))
                .collect();
            found.sort();
            found.dedup();
            if found.is_empty() {
                found.push(IpAddr::V4(Ipv4Addr::LOCALHOST));
            }
            found
        }
    };
    Ok(addrs
        .into_iter()
        .map(|ip| Job {
            target: text.to_string(),
            addr: SocketAddr::new(ip, port),
            owner: None,
            ctx: Context {
                udp: true,
                ..Context::default()
            },
        })
        .collect())
}

fn target_jobs(text: &str, t: &Target) -> Result<Vec<Job>> {
    let owners = match t {
        Target::Pid(pid) => Owners::OnlyPids(vec![*pid]),
        Target::Process(name) => Owners::OnlyPids(procfs::pids_named(name)?),
        _ => Owners::Targeted,
    };
    let snap = listeners_snapshot(t.port_range(), owners)?;
    let (host, port) = match t {
        Target::Addr { host, port, .. } => (Some(host), *port),
        Target::Port { port, .. } => (None, *port),
        _ => return Ok(listener_jobs(&snap, "", |_| true)),
    };
    let addrs: Vec<IpAddr> = match host {
        Some(Host::Ip(ip)) => vec![*ip],
        Some(Host::Name(name)) => crate::sys::sysctl::resolve(name).addresses,
        None => {
            let found = listener_jobs(&snap, text, |s| s.port() == Some(port));
            if !found.is_empty() {
                return Ok(found);
            }
            vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]
        }
    };
    let sni = match host {
        Some(Host::Name(name)) => Some(name.clone()),
        _ => None,
    };
    Ok(addrs
        .into_iter()
        .map(|ip| {
            let listener = snap.sockets.iter().find(|s| {
                s.is_listening()
                    && s.port() == Some(port)
                    && s.local.ip().is_some_and(|l| l == ip || l.is_unspecified())
            });
            let (owner, process_words) =
                listener.map_or((None, Vec::new()), |s| owner_of(&snap, s));
            Job {
                target: text.to_string(),
                addr: SocketAddr::new(ip, port),
                owner,
                ctx: Context {
                    process_words,
                    sni: sni.clone(),
                    udp: false,
                },
            }
        })
        .collect())
}
