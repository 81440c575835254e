//! `portscope who TARGET`: every socket on a port (listeners and connections), the processes
//! holding them in full — command line, user, start time, state, ancestry, unit or container —
//! and, for connections between two local processes, who is at the other end.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
#[cfg(feature = "history")]
use std::path::PathBuf;

use serde::Serialize;

use crate::containers::{self, ContainerRef};
use crate::error::{Error, Result};
#[cfg(feature = "cli")]
use crate::exit::Exit;
use crate::knowledge::addr_class::{Exposure, exposure};
use crate::model::{Endpoint, Hidden, Process, Proto, Snapshot, Socket};
use crate::snapshot::{self, Owners, Request, serves, target_addrs};
#[cfg(feature = "history")]
use crate::store::history::{self, PastHolder};
use crate::supervisors::{self, Supervisor};
use crate::sys::SocketQuery;
use crate::sys::procfs::{self, Detail};
use crate::sys::sysctl::Resolution;
use crate::target::Target;

#[cfg(feature = "cli")]
use super::{Report, Ui};
#[cfg(feature = "probe")]
use crate::probe::listeners::ProbeResult;

/// What `who` looks at. Build it with [`Options::new`] and set what differs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// The port, address, range, process id or process name.
    pub target: Target,
    /// Also identify what speaks on the listening sockets found (read-only probes).
    #[cfg(feature = "probe")]
    pub probe: bool,
    /// The state directory holding the history store (`None`: the default places).
    #[cfg(feature = "history")]
    pub state_dir: Option<PathBuf>,
}

/// The other end of a connection between two local sockets.
#[derive(Debug, Clone, Serialize)]
pub struct Peer {
    /// The other socket's local endpoint (our remote).
    pub endpoint: Endpoint,
    /// Its inode.
    pub inode: u64,
    /// Processes holding it.
    pub pids: Vec<u32>,
    /// True when its owner could not be seen.
    pub owner_hidden: bool,
}

/// One socket on the port.
#[derive(Debug, Clone, Serialize)]
pub struct WhoSocket {
    /// The socket, with its owners' pids.
    #[serde(flatten)]
    pub socket: Socket,
    /// Who can reach it (listeners and bound UDP sockets).
    pub exposure: Option<Exposure>,
    /// For a connection to another local socket: the process at the other end.
    pub peer: Option<Peer>,
    /// For a listener held for a container (by `docker-proxy`, `conmon`, … or by a process in
    /// the container): the container, the mapping published and the process inside that
    /// listens on the container port. Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerRef>,
    /// What supervises the socket's holder (a systemd unit that restarts it, a `.socket`
    /// unit, a socket-activation manager) and what frees the port. Absent when nothing does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supervisor: Option<Supervisor>,
}

/// The answer to `who`.
#[derive(Debug, Clone, Serialize)]
pub struct WhoReport {
    /// The target as parsed.
    pub target: Target,
    /// True when at least one socket matched (whether or not its owner could be seen).
    pub held: bool,
    /// The sockets, listeners first, then connections, by port and address.
    pub sockets: Vec<WhoSocket>,
    /// Every process named by a socket or a peer, in full.
    pub processes: BTreeMap<u32, Process>,
    /// What could not be seen.
    pub hidden: Hidden,
    /// Why a listener held for a container has no container named (no engine answered, or
    /// none publishes the port), in one sentence. Absent when nothing is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_note: Option<String>,
    /// The target's ports published through NAT that no socket here holds (a container's
    /// engine lists them, or only a DNAT rule shows them): connections to them reach the
    /// container, so they count as held. Absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub published: Vec<containers::NatPublished>,
    /// For a host name with one port: what each family of clients dials for it and the
    /// address it would reach (a listener on it), since they differ — curl and browsers take
    /// `localhost` as both loopback addresses, Python the resolver's answer, Node.js 17–19
    /// its first address.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<crate::knowledge::clients::ClientView>,
    /// With `--probe`: what speaks on each listening socket.
    #[cfg(feature = "probe")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<Vec<ProbeResult>>,
    /// When nothing listens on the (single) port now: the last listener the history store
    #[cfg(feature = "history")]
    /// recorded there, if a store exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_holder: Option<PastHolder>,
}

#[cfg(feature = "history")]
/// The last listener the history store recorded for the target's single port (and serving
/// its address), when nothing listens there now.
pub(crate) fn past_holder(
    report: &WhoReport,
    state_dir: Option<&std::path::Path>,
) -> Option<PastHolder> {
    if report.sockets.iter().any(|s| s.socket.is_listening()) {
        return None;
    }
    history::last_recorded(&report.target, state_dir)
}

/// Run `who`: exit 0 when something holds the target, 1 when nothing does. A pid or process
/// name with no socket seen while some processes could not be inspected is 3: unknown, not
/// "free" (the kernel lists every socket on a port, owner seen or not).
#[cfg(feature = "cli")]
pub fn run(opts: &Options, ui: &dyn Ui) -> Result<(Report, Exit)> {
    let r = report_with(opts, &|done, total| ui.progress(done, total))?;
    let code = match (r.held, r.hidden.processes) {
        (true, _) => Exit::Success,
        (false, 0) => Exit::Nothing,
        (false, _) if r.target.port_range().is_none() => Exit::Failure,
        (false, _) => Exit::Nothing,
    };
    Ok((Report::Who(Box::new(r)), code))
}

impl Options {
    /// Who holds `target`: no probes, the history store in its default place.
    pub fn new(target: Target) -> Options {
        Options {
            target,
            #[cfg(feature = "probe")]
            probe: false,
            #[cfg(feature = "history")]
            state_dir: None,
        }
    }
}

/// Who holds the target: every socket on it, the processes in full, the other end of
/// loopback connections, what could not be seen (and, with the `history` feature, the last
/// recorded holder of a free port).
///
/// ```no_run
/// use portscope::commands::who;
///
/// // A dev server's banner said 127.0.0.1:5173: who is that?
/// let report = who::report(&who::Options::new(portscope::target::parse("127.0.0.1:5173")?))?;
/// for s in report.sockets.iter().filter(|s| s.socket.is_listening()) {
///     for pid in &s.socket.pids {
///         let p = &report.processes[pid];
///         println!("{} is held by {} (pid {pid}): {}", s.socket.local, p.comm, p.cmdline.join(" "));
///     }
/// }
/// if !report.held {
///     println!("nothing holds it ({} processes could not be inspected)", report.hidden.processes);
/// }
/// # Ok::<(), portscope::error::Error>(())
/// ```
pub fn report(opts: &Options) -> Result<WhoReport> {
    report_with(opts, &|_, _| {})
}

/// [`report`], telling `progress` how far `--probe` is (`(done, total)` after each listener).
#[cfg_attr(not(feature = "probe"), allow(unused_variables))]
pub fn report_with(opts: &Options, progress: &(dyn Fn(usize, usize) + Sync)) -> Result<WhoReport> {
    let target = opts.target.clone();
    // A name is resolved once, here: an error when it does not resolve.
    let resolution = match &target {
        Target::Addr {
            host: crate::target::Host::Name(name),
            ..
        } => Some(snapshot::resolve_name(name)?),
        _ => None,
    };
    let addrs = match &resolution {
        Some(r) => Some(crate::knowledge::clients::as_curl_dials(
            &r.name,
            &r.addresses,
        )),
        None => target_addrs(&target),
    };
    let snap = snapshot::take(&request(&target)?)?;
    #[cfg(feature = "probe")]
    let probe = opts.probe.then(|| {
        let covers = |s: &Socket| local_socket_matches(&target, addrs.as_deref(), s);
        crate::probe::listeners::probe_snapshot_listeners(&snap, &covers, progress)
    });
    let mut report = build(target, snap, addrs.clone(), resolution.as_ref());
    attach_containers(&mut report, addrs.as_deref());
    attach_supervisors(&mut report);
    #[cfg(feature = "probe")]
    {
        report.probe = probe;
    }
    #[cfg(feature = "history")]
    {
        report.last_holder = past_holder(&report, opts.state_dir.as_deref());
    }
    Ok(report)
}

/// Name the containers behind the listeners (see [`containers::attach`]), and, for a port
/// target, the ports published through NAT with no socket here (`addrs`: the addresses the
/// target stands for; `None`: any).
fn attach_containers(report: &mut WhoReport, addrs: Option<&[IpAddr]>) {
    let range = report.target.port_range();
    let mut engines = match range {
        Some(_) => containers::ask_present(),
        None => containers::Engines::default(),
    };
    let attached = containers::attach_with(
        report.sockets.iter().map(|w| &w.socket),
        &report.processes,
        &mut engines,
    );
    for w in &mut report.sockets {
        w.container = attached.by_inode.get(&w.socket.inode).cloned();
    }
    report.container_note = attached.note;
    let Some((lo, hi)) = range else { return };
    let listeners: Vec<&Socket> = report
        .sockets
        .iter()
        .map(|w| &w.socket)
        .filter(|s| s.is_listening())
        .collect();
    let proto = report.target.proto();
    // The rules are read only when a port of the target is free here.
    let free = (lo..=hi).any(|p| !listeners.iter().any(|s| s.port() == Some(p)));
    let dnat = if free {
        crate::sys::firewall::nat::dnat_rules()
    } else {
        Vec::new()
    };
    let mut published = containers::unheld(&engines, &dnat, &listeners, |port, pr| {
        (lo..=hi).contains(&port) && proto.is_none_or(|p| p == pr)
    });
    // A published wildcard receives every address of its family; one address, only itself.
    published.retain(|p| addrs.is_none_or(|a| a.iter().any(|ip| p.receives(*ip))));
    report.held |= !published.is_empty();
    report.published = published;
}

/// Name the supervisors behind the sockets (see [`supervisors::attach`]).
fn attach_supervisors(report: &mut WhoReport) {
    let mut found =
        supervisors::attach(report.sockets.iter().map(|w| &w.socket), &report.processes);
    for w in &mut report.sockets {
        w.supervisor = found.remove(&w.socket.inode);
    }
}

/// What supervises the target's sockets, each once, in a sentence each (for `explain`).
pub(crate) fn supervisors_said(report: &WhoReport) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for sup in report.sockets.iter().filter_map(|w| w.supervisor.as_ref()) {
        let text = supervisors::sentence(sup);
        if !out.contains(&text) {
            out.push(text);
        }
    }
    out
}

/// The containers the target's listeners are held for: `container web1 (docker, image
/// nginx:1.27; served inside by nginx[2177])`, each once.
pub(crate) fn containers_served(report: &WhoReport) -> Vec<String> {
    let t = |s: &str| crate::text::terminal(s).into_owned();
    let mut out: Vec<String> = report
        .sockets
        .iter()
        .filter_map(|s| s.container.as_ref())
        .map(|c| {
            let inner = c
                .inner
                .as_ref()
                .map(|i| format!("; served inside by {}[{}]", t(&i.comm), i.pid))
                .unwrap_or_default();
            format!(
                "container {} ({}, image {}{inner})",
                t(&c.name),
                c.engine,
                t(&c.image)
            )
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The snapshot request a target needs.
fn request(target: &Target) -> Result<Request> {
    let proto_query = |proto: Option<Proto>| SocketQuery {
        tcp: proto != Some(Proto::Udp),
        udp: proto != Some(Proto::Tcp),
        port_range: target.port_range(),
        ..SocketQuery::default()
    };
    let owners = match target {
        Target::Pid(pid) => {
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                return Err(Error::bad_input(
                    format!("no process with pid {pid}"),
                    "expected the pid of a running process (see `portscope ls`)",
                ));
            }
            Owners::OnlyPids(vec![*pid])
        }
        Target::Process(name) => Owners::OnlyPids(procfs::pids_named(name)?),
        _ => Owners::Targeted,
    };
    Ok(Request {
        sockets: proto_query(target.proto()),
        owners,
        detail: Detail::Full,
        threads: 0,
    })
}

/// Whether `s` is a socket of the target's own side (its local port and address match).
#[cfg(feature = "probe")]
fn local_socket_matches(target: &Target, addrs: Option<&[IpAddr]>, s: &Socket) -> bool {
    let in_range = match (target.port_range(), s.port()) {
        (Some((lo, hi)), Some(p)) => (lo..=hi).contains(&p),
        (None, _) => true,
        (Some(_), None) => false,
    };
    in_range && addrs.is_none_or(|a| serves(&s.local, a))
}

/// For a name (resolved as `res`) and one port: what each family of clients would reach
/// among the listeners.
fn clients(
    target: &Target,
    res: Option<&Resolution>,
    chosen: &[WhoSocket],
) -> Vec<crate::knowledge::clients::ClientView> {
    let (Some(res), Some((port, hi))) = (res, target.port_range()) else {
        return Vec::new();
    };
    if port != hi {
        return Vec::new();
    }
    let listening = |ip: std::net::IpAddr| {
        chosen.iter().any(|w| {
            w.socket.is_listening()
                && w.socket.port() == Some(port)
                && serves(&w.socket.local, &[ip])
        })
    };
    crate::knowledge::clients::views(&res.name, &res.addresses, listening)
}

/// Select, pair and order the sockets; `addrs` are the addresses the target stands for
/// (`None`: any), `res` how its name resolved.
fn build(
    target: Target,
    snap: Snapshot,
    addrs: Option<Vec<IpAddr>>,
    res: Option<&Resolution>,
) -> WhoReport {
    let range = target.port_range();
    let in_range = |p: Option<u16>| match (range, p) {
        (Some((lo, hi)), Some(p)) => (lo..=hi).contains(&p),
        (None, _) => true,
        (Some(_), None) => false,
    };
    // The service side: sockets whose *local* port is the target.
    let local_match =
        |s: &Socket| in_range(s.port()) && addrs.as_ref().is_none_or(|a| serves(&s.local, a));
    let by_ends: HashMap<(Proto, &Endpoint, &Endpoint), &Socket> = snap
        .sockets
        .iter()
        .filter_map(|s| Some(((s.proto, &s.local, s.remote.as_ref()?), s)))
        .collect();
    let peer_of = |s: &Socket| -> Option<&Socket> {
        let remote = s.remote.as_ref()?;
        by_ends.get(&(s.proto, remote, &s.local)).copied()
    };
    let mut chosen: Vec<WhoSocket> = Vec::new();
    for s in &snap.sockets {
        let keep = if range.is_none() || local_match(s) {
            true
        } else {
            // A connection *to* the port: shown on its own only when the other end is not
            // a local socket already listed (then it appears as that socket's peer).
            let to_target = in_range(s.remote.as_ref().and_then(Endpoint::port))
                && addrs.as_ref().is_none_or(|a| {
                    s.remote
                        .as_ref()
                        .and_then(Endpoint::ip)
                        .is_some_and(|ip| a.contains(&ip))
                });
            to_target && peer_of(s).is_none_or(|p| !local_match(p))
        };
        if !keep {
            continue;
        }
        let peer = peer_of(s).map(|p| Peer {
            endpoint: p.local.clone(),
            inode: p.inode,
            pids: p.pids.clone(),
            owner_hidden: p.owner_hidden,
        });
        chosen.push(WhoSocket {
            exposure: s
                .is_listening()
                .then(|| s.local.ip().map(exposure))
                .flatten(),
            peer,
            container: None,
            supervisor: None,
            socket: s.clone(),
        });
    }
    chosen.sort_by(|a, b| {
        let key = |w: &WhoSocket| {
            (
                !w.socket.is_listening(),
                w.socket.port().unwrap_or(0),
                w.socket.proto,
                w.socket.local.clone(),
                w.socket.remote.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    let named: std::collections::BTreeSet<u32> = chosen
        .iter()
        .flat_map(|w| {
            w.socket
                .pids
                .iter()
                .chain(w.peer.iter().flat_map(|p| p.pids.iter()))
        })
        .copied()
        .collect();
    let processes = snap
        .processes
        .iter()
        .filter(|(pid, _)| named.contains(pid))
        .map(|(pid, p)| (*pid, p.clone()))
        .collect();
    let hidden = snap.hidden.recount(chosen.iter().map(|w| &w.socket));
    let clients = clients(&target, res, &chosen);
    WhoReport {
        clients,
        #[cfg(feature = "probe")]
        probe: None,
        #[cfg(feature = "history")]
        last_holder: None,
        held: !chosen.is_empty(),
        target,
        sockets: chosen,
        processes,
        hidden,
        container_note: None,
        published: Vec::new(),
    }
}
