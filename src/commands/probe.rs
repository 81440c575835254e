//! `portscope probe [TARGET…]`: identify what speaks on ports. Targets become addresses with
//! what the snapshot knows about their owners (to try the likely protocol first); the probe
//! engine does the talking, bounded in time and bytes.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::model::{Proto, Snapshot};
use crate::probe::Limits;
use crate::probe::engine::Context;
use crate::probe::listeners::{Job, listener_jobs, owner_of, reach, run_jobs};
pub use crate::probe::listeners::{OwnerRef, ProbeResult, probe_snapshot_listeners};
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

/// The answer to `probe`.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeReport {
    /// One entry per address, in the order targets were given (listeners: by port).
    pub results: Vec<ProbeResult>,
    /// The per-port deadline used, milliseconds.
    pub deadline_ms: u64,
    /// For each host-name target with one TCP port: what each family of clients dials for
    /// it and which address it would reach, judged from the probes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<NameClients>,
}

/// Which clients of a host name reach what (see [`crate::knowledge::clients`]).
#[derive(Debug, Clone, Serialize)]
pub struct NameClients {
    /// The target, as written.
    pub target: String,
    /// The port.
    pub port: u16,
    /// A family of clients each.
    pub clients: Vec<crate::knowledge::clients::ClientView>,
}

/// A host-name target's resolver answer, to judge its clients by once the probes are in.
struct Named {
    text: String,
    res: crate::sys::sysctl::Resolution,
    port: u16,
}

/// Run `probe` (exit 0: a port that does not answer is a result, not a failure); `ui`
/// hears of each address as it finishes.
pub fn run(opts: &Options, ui: &dyn Ui) -> Result<(Report, Exit)> {
    let limits = limits(opts.deadline);
    let watch = crate::probe::engine::Watch {
        progress: &|done, total| ui.progress(done, total),
        stop: &|| ui.cancelled(),
    };
    let mut named = Vec::new();
    let jobs = jobs(&opts.targets, &mut named)?;
    let results = run_jobs(jobs, &limits, opts.concurrency, watch);
    let clients = named
        .into_iter()
        .map(|n| {
            let open = |ip: IpAddr| {
                results.iter().any(|r| {
                    r.target == n.text
                        && r.addr == ip
                        && r.probe.state == crate::probe::engine::PortState::Open
                })
            };
            NameClients {
                clients: crate::knowledge::clients::views(&n.res.name, &n.res.addresses, open),
                target: n.text,
                port: n.port,
            }
        })
        .collect();
    let report = ProbeReport {
        results,
        deadline_ms: u64::try_from(limits.deadline.as_millis()).unwrap_or(u64::MAX),
        clients,
    };
    Ok((Report::Probe(Box::new(report)), Exit::Success))
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

/// Turn the targets into addresses to probe; host-name targets are also kept in `named`.
fn jobs(targets: &[ProbeTarget], named: &mut Vec<Named>) -> Result<Vec<Job>> {
    if targets.is_empty() {
        let snap = listeners_snapshot(None, Owners::All)?;
        return Ok(listener_jobs(&snap, "", |_| true));
    }
    let mut jobs = Vec::new();
    for ProbeTarget { target: t, text } in targets {
        if t.proto() == Some(Proto::Udp) {
            jobs.extend(udp_jobs(text, t)?);
        } else {
            jobs.extend(target_jobs(text, t, named)?);
        }
    }
    Ok(jobs)
}

/// UDP targets (`161/udp`, `udp/127.0.0.1:53`): the UDP table is asked, hinted by the
/// process that holds the port. A port alone means the addresses UDP sockets are bound to on it
/// (loopback if none).
fn udp_jobs(text: &str, t: &Target) -> Result<Vec<Job>> {
    let (host, port) = match t {
        Target::Addr { host, port, .. } => (Some(host), *port),
        Target::Port { port, .. } => (None, *port),
        _ => {
            return Err(Error::bad_input(
                format!(
                    "'{}': over UDP only one port or address can be probed",
                    crate::text::echo(text)
                ),
                "expected e.g. 53/udp or udp/127.0.0.1:53",
            ));
        }
    };
    let snap = snapshot::take(&Request {
        sockets: SocketQuery {
            tcp: false,
            port_range: Some((port, port)),
            ..SocketQuery::default()
        },
        owners: Owners::Targeted,
        detail: Detail::Basic,
        threads: 0,
    })?;
    let bound: Vec<_> = snap
        .sockets
        .iter()
        .filter(|s| s.proto == Proto::Udp && s.port() == Some(port) && s.remote.is_none())
        .collect();
    let addrs: Vec<IpAddr> = match host {
        Some(Host::Ip(ip)) => vec![*ip],
        Some(Host::Name(name)) => snapshot::name_addrs(name)?,
        None => {
            let mut found: Vec<IpAddr> = bound
                .iter()
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
        .map(|ip| {
            let socket = bound.iter().find(|s| {
                s.local.ip().is_some_and(|l| reach(l) == ip)
                    || crate::snapshot::serves(&s.local, &[ip])
            });
            let (owner, process_words) = socket.map_or((None, Vec::new()), |s| owner_of(&snap, s));
            Job {
                target: text.to_string(),
                addr: SocketAddr::new(ip, port),
                owner,
                ctx: Context {
                    process_words,
                    udp: true,
                    ..Context::default()
                },
            }
        })
        .collect())
}

fn target_jobs(text: &str, t: &Target, named: &mut Vec<Named>) -> Result<Vec<Job>> {
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
        Some(Host::Name(name)) => {
            let res = snapshot::resolve_name(name)?;
            let dials = crate::knowledge::clients::as_curl_dials(name, &res.addresses);
            named.push(Named {
                text: text.to_string(),
                res,
                port,
            });
            dials
        }
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
            // The socket that receives a connection to `ip`: the same address, its family's
            // wildcard, or an IPv6 socket bound to its v4-mapped form (a JVM's `::ffff:127.0.0.1`).
            let listener = snap.sockets.iter().find(|s| {
                s.is_listening()
                    && s.port() == Some(port)
                    && crate::snapshot::serves(&s.local, &[ip])
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
