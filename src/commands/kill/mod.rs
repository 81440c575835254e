//! `kill`: free a port — find every process holding it, show them, ask, signal, escalate,
//! and check the port is free afterwards.
//!
//! The plan is built from a targeted snapshot: listeners, bound UDP and bound-but-unlistening
//! TCP sockets whose *local* end is the target (with `--connections`, also sockets in other
//! states), their owners in full, and with `--tree` the owners' descendants and process-group
//! members. Some processes are never stopped (pid 1, portscope, its ancestors, kernel threads,
//! docker-proxy without `--force`); when one of them holds a port, the other holders of that
//! port are left alone too, since stopping them would not free it. Signals go through pidfds
//! opened *before* re-checking each process's start time, so a recycled pid is never hit.
//! Afterwards a fresh snapshot decides whether each port is free; a socket whose owner could
//! not be seen is never reported free.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::commands::{Report, Ui};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::model::{Endpoint, Process, Proto, SockState, Socket};
use crate::snapshot::{self, Owners, Request};
use crate::sys::SocketQuery;
use crate::sys::procfs::{self, Detail, ProcContext};
use crate::sys::signal::{self, Lineage, Sent, Sig, Stop, StopPlan, Stopped, Victim};
use crate::target::{Host, Target};
use crate::text;

mod docker;
mod engine;
mod exec;
mod nat;
mod plan;
mod respawn;
#[cfg(test)]
mod tests;
mod units;

pub use docker::{DockerMapping, parse_docker_proxy};
pub use engine::{ContainerFate, ContainerOutcome, PlannedContainer};
use exec::*;
use plan::*;
pub use respawn::{Respawn, Respawner};
pub use units::{SupervisorNote, UnitStop};

/// How long to wait for processes to go after SIGKILL before calling them stuck.
const KILL_WAIT: Duration = Duration::from_secs(3);
/// How long to keep re-checking a port that still looks held right after its holders exited.
const VERIFY_WAIT: Duration = Duration::from_secs(1);
/// How long `kill` watches a freed port for a respawn, unless told otherwise.
pub const RESPAWN_WAIT: Duration = Duration::from_secs(2);
const PORTS_ONLY: &str = "kill frees ports: give PORT, HOST:PORT or LOW-HIGH, e.g. 8080, \
                          127.0.0.1:8080 or 3000-3010";

/// Why a process is in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Why {
    /// It holds a socket whose local end is on the port.
    Socket {
        /// Transport.
        proto: Proto,
        /// Kernel state (`listen`, `close` for a bound socket, `established`…).
        state: SockState,
        /// The socket's local end.
        local: Endpoint,
        /// Its remote end, for a connection.
        remote: Option<Endpoint>,
        /// Socket inode.
        inode: u64,
    },
    /// `--tree`: it descends from a holder.
    Descendant {
        /// The holder.
        of: u32,
    },
    /// `--tree`: it is in a holder's process group.
    ProcessGroup {
        /// The group.
        pgid: u32,
        /// The holder.
        of: u32,
    },
}

impl Why {
    fn socket(s: &Socket) -> Why {
        Why::Socket {
            proto: s.proto,
            state: s.state,
            local: s.local.clone(),
            remote: s.remote.clone(),
            inode: s.inode,
        }
    }

    /// True for a listening or bound socket: the kind that keeps the port from being bound.
    pub fn holds_port(&self) -> bool {
        matches!(self, Why::Socket { proto, state, .. } if holds(*proto, *state))
    }
}

/// Whether a socket in this state keeps its local port taken (a listener, a bound TCP socket,
/// any UDP socket); connections and TIME_WAIT do not count.
fn holds(proto: Proto, state: SockState) -> bool {
    match (proto, state) {
        (_, SockState::TimeWait) => false,
        (Proto::Udp, _) => true,
        (_, s) => s == SockState::Listen || s == SockState::Close,
    }
}

/// A process `kill` will signal.
#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    /// The process, in full (as `who` shows it).
    #[serde(flatten)]
    pub process: Process,
    /// The target ports it is stopped for.
    pub ports: Vec<u16>,
    /// Why: the sockets it holds, or its relation to a holder (`--tree`).
    pub why: Vec<Why>,
    /// Start time in clock ticks when planned: the pid-reuse guard.
    #[serde(skip)]
    pub start_ticks: Option<u64>,
}

/// Why a process is never stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refused {
    /// pid 1: the init of the system or container.
    Pid1,
    /// portscope itself (it inherited the socket).
    Portscope,
    /// portscope's parent (the shell or program that ran it).
    Parent,
    /// Another ancestor of portscope.
    Ancestor,
    /// A kernel thread.
    KernelThread,
    /// docker-proxy, without `--force`: the container owns the port.
    DockerProxy,
    /// docker-proxy that no container publishes for (Docker answered), without `--force`:
    /// left over from a removed container.
    LeftoverProxy,
    /// dockerd holding a published port itself (userland proxy off), without `--force`:
    /// stopping it stops every container.
    ContainerEngine,
    /// Another holder of the port is refused, so stopping this one would not free it.
    PortStaysHeld,
}

/// A process left alone, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    /// Pid.
    pub pid: u32,
    /// Short name.
    pub comm: String,
    /// Arguments.
    pub cmdline: Vec<String>,
    /// Effective uid.
    pub uid: u32,
    /// User name.
    pub user: Option<String>,
    /// The target ports it holds (or would have been stopped for).
    pub ports: Vec<u16>,
    /// What it holds, or its relation to a holder.
    pub why: Vec<Why>,
    /// Why it is left alone.
    pub reason: Refused,
    /// The same, in a sentence.
    pub message: String,
}

/// A docker-proxy in the plan: the published port it serves.
#[derive(Debug, Clone, Serialize)]
pub struct DockerNote {
    /// The docker-proxy pid.
    pub pid: u32,
    /// Its mapping, from its command line.
    pub mapping: DockerMapping,
    /// `--force` was given: it is stopped like any holder.
    pub forced: bool,
    /// Docker answered and no container publishes its port: left over from a removed
    /// container. Omitted when false.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub leftover: bool,
}

/// A listening/bound socket owner, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Owner {
    /// Pid.
    pub pid: u32,
    /// Short name.
    pub comm: String,
}

/// A uid that owns hidden sockets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HiddenUser {
    /// uid as the kernel records it (the socket's creator).
    pub uid: u32,
    /// Its name.
    pub user: Option<String>,
}

/// One port's state (as found, or after signalling).
#[derive(Debug, Clone, Serialize)]
pub struct PortState {
    /// The port this entry is about (a range is split into the ports found on it).
    pub target: Target,
    /// No listening or bound socket is on it, visible or hidden.
    pub free: bool,
    /// The listening/bound sockets on it.
    pub sockets: Vec<Socket>,
    /// Their owners.
    pub owners: Vec<Owner>,
    /// Connections whose local end is on it (not TIME_WAIT).
    pub connections: usize,
    /// TIME_WAIT entries on it: no process holds them; the kernel drops them within 60 s.
    pub time_wait: usize,
    /// Listening/bound sockets whose owner may be a process portscope could not inspect.
    pub hidden: usize,
    /// Who created those hidden sockets.
    pub hidden_users: Vec<HiddenUser>,
    /// Listening/bound sockets no process holds right now (exiting, or a descriptor in
    /// flight): nothing to stop, and no permission would show more. Omitted when 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub ownerless: usize,
    /// For a host name: what each family of clients dials for it and which address it
    /// reaches among these sockets (omitted for ports and addresses).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<crate::knowledge::clients::ClientView>,
    /// With no socket on the port: a container its engine lists publishes it through NAT
    /// alone, so connections to it reach the container and the port is not free. Omitted
    /// when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub published: Vec<crate::containers::NatPublished>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

/// What `kill` is about to do (shown before asking).
#[derive(Debug, Clone, Serialize)]
pub struct KillPlan {
    /// The targets as parsed.
    pub targets: Vec<Target>,
    /// The first signal.
    pub signal: Sig,
    /// How long to wait after it before SIGKILL, in milliseconds.
    pub timeout_ms: u64,
    /// Whether SIGKILL follows for what is still running (not `--no-escalate`).
    pub escalate: bool,
    /// `--tree`.
    pub tree: bool,
    /// `--connections`.
    pub connections: bool,
    /// The effective uid portscope runs as.
    pub euid: u32,
    /// Each port as found.
    pub found: Vec<PortState>,
    /// The processes to signal.
    pub stop: Vec<Planned>,
    /// The containers to stop through their engines (their forwarders are not signalled).
    /// Omitted when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stop_containers: Vec<PlannedContainer>,
    /// The processes left alone, and why.
    pub refused: Vec<Refusal>,
    /// docker-proxy holders and the container ports they serve.
    pub docker: Vec<DockerNote>,
    /// Anything else worth knowing about the plan.
    pub notes: Vec<String>,
    /// What supervises the holders (a unit that restarts them, a `.socket` unit, a
    /// socket-activation manager); units to stop instead of signalling. Omitted when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub supervisors: Vec<SupervisorNote>,
}

/// What happened to one process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    /// It exited after the first signal.
    ExitedAfterSignal,
    /// It ignored the first signal and was killed with SIGKILL.
    Killed,
    /// It was gone before it was signalled (or its pid now names another process).
    AlreadyExited,
    /// The kernel refused the signal: another user's process.
    PermissionDenied,
    /// Still running at the end.
    StillRunning,
}

/// The outcome for one planned process.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Pid.
    pub pid: u32,
    /// Short name.
    pub comm: String,
    /// User name (or uid).
    pub user: String,
    /// The target ports it was stopped for.
    pub ports: Vec<u16>,
    /// What happened.
    pub outcome: Fate,
    /// The signal it exited after.
    pub signal: Option<Sig>,
    /// Seconds from that signal to its exit.
    pub after_s: Option<f64>,
    /// For `killed`: seconds it ignored the first signal.
    pub ignored_s: Option<f64>,
    /// It was stopped (SIGSTOP/Ctrl-Z), so SIGCONT was sent after the first signal.
    pub resumed: bool,
    /// More about it, in a sentence.
    pub detail: Option<String>,
}

/// What `kill` did.
#[derive(Debug, Clone, Serialize)]
pub struct KillReport {
    /// The plan (targets, processes, refusals…).
    #[serde(flatten)]
    pub plan: KillPlan,
    /// `--dry-run`: nothing was sent.
    pub dry_run: bool,
    /// The person asked answered no: nothing was sent.
    pub declined: bool,
    /// Per planned process, what happened (empty for a dry run or a "no").
    pub outcomes: Vec<Outcome>,
    /// Every signal sent, in order.
    pub signals_sent: Vec<Sent>,
    /// Per planned container, what its engine did (empty for a dry run or a "no"). Omitted
    /// when none was planned.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<ContainerOutcome>,
    /// Processes that took a port again once its holders were gone (a watcher started them):
    /// such a port is not free. Omitted when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub respawned: Vec<Respawn>,
    /// How long the freed ports were watched for a respawn, in milliseconds. Omitted when the
    /// ports were not watched.
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub respawn_watch_ms: u64,
    /// Watchers (nodemon, `cargo watch`, `uvicorn --reload`…) that started a stopped holder
    /// and still run: they start it again on the next change. Omitted when none (and when a
    /// respawn was seen).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub watchers: Vec<Respawner>,
    /// Every `systemctl stop` run, before any signal. Omitted when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unit_stops: Vec<UnitStop>,
    /// Each port when kill finished (after signalling; as found for a dry run or a "no").
    pub ports: Vec<PortState>,
    /// Every port is free at the end.
    pub all_free: bool,
}

/// What `kill` is asked to do: which ports, how, and how far to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The ports to free: ports, addresses and ranges (a pid or a process name is refused).
    pub targets: Vec<Target>,
    /// Also stop the processes holding connections on the port, not only listeners.
    pub connections: bool,
    /// Do not ask: stop them.
    pub yes: bool,
    /// Only show what would be stopped and the signals that would be sent.
    pub dry_run: bool,
    /// The first signal.
    pub signal: Sig,
    /// How long to wait after the first signal before SIGKILL.
    pub timeout: Duration,
    /// Never send SIGKILL: report what is still running instead.
    pub no_escalate: bool,
    /// Also stop the holders' descendants and the other members of their process groups.
    pub tree: bool,
    /// Signal the holders of a container's port (docker-proxy included) instead of stopping
    /// the container through its engine.
    pub force: bool,
    /// How long to watch a freed port for a respawn when a holder's parent may start it
    /// again (zero: do not watch).
    pub respawn_wait: Duration,
}

impl Options {
    /// Free `targets` the way the command line does without flags (SIGTERM, then SIGKILL
    /// after 5 s; listeners and bound sockets only), asking first.
    pub fn new(targets: Vec<Target>) -> Options {
        Options {
            targets,
            connections: false,
            yes: false,
            dry_run: false,
            signal: Sig::Term,
            timeout: Duration::from_secs(5),
            no_escalate: false,
            tree: false,
            force: false,
            respawn_wait: RESPAWN_WAIT,
        }
    }
}

/// Run `kill`. Exit 0 when every port is free at the end (or for a dry run), 1 otherwise
/// (declined, refused holders, a port still held, a process the kernel would not signal).
pub fn run(opts: &Options, ui: &dyn Ui) -> Result<(Report, Exit)> {
    free_ports(opts, ui).map(|(r, code)| (Report::Kill(Box::new(r)), code))
}

/// [`run`], with the report as `kill`'s own type (for the terminal view).
pub(crate) fn free_ports(opts: &Options, ui: &dyn Ui) -> Result<(KillReport, Exit)> {
    check_targets(&opts.targets)?;
    let ctx = ProcContext::new();
    let me = signal::own_lineage();
    // Look first: a port nothing holds is freed already, with no question to ask (a
    // `"predev": "portscope kill 3000"` script must pass when the port is free).
    let plan = build_plan(opts, &me, &ctx)?;
    let parents = respawn::Parents::record(&plan);
    if plan.has_work() && !opts.yes && !opts.dry_run && !ui.can_ask() {
        return Err(Error::bad_input(
            "kill asks before stopping anything, and there is no terminal to ask on",
            "pass --yes, or --dry-run to see what would stop",
        ));
    }
    let mut report = KillReport {
        ports: plan.found.clone(),
        plan,
        dry_run: opts.dry_run,
        declined: false,
        outcomes: Vec::new(),
        signals_sent: Vec::new(),
        containers: Vec::new(),
        unit_stops: Vec::new(),
        respawned: Vec::new(),
        respawn_watch_ms: 0,
        watchers: Vec::new(),
        all_free: false,
    };
    if !opts.dry_run && report.plan.has_work() {
        if !opts.yes && !ui.confirm_kill(&report.plan) {
            report.declined = true;
        } else {
            // Units first: a unit that restarts its processes would start them again.
            report.unit_stops = units::stop_units(&report.plan);
            // Containers and processes at once: each waits its own grace period.
            let plan = &report.plan;
            let (containers, (outcomes, sent)) = std::thread::scope(|scope| {
                let engines = scope.spawn(|| engine::stop_all(&plan.stop_containers));
                let signals = if plan.stop.is_empty() {
                    (Vec::new(), Vec::new())
                } else {
                    execute(plan, opts.timeout)
                };
                (engines.join().unwrap_or_default(), signals)
            });
            (report.containers, report.outcomes, report.signals_sent) =
                (containers, outcomes, sent);
            let gone = Instant::now();
            let exited = report
                .outcomes
                .iter()
                .any(|o| matches!(o.outcome, Fate::ExitedAfterSignal | Fate::Killed))
                || report
                    .containers
                    .iter()
                    .any(|c| c.outcome == ContainerFate::Stopped)
                || report.unit_stops.iter().any(|u| u.ok);
            report.ports = verify(&report.plan, exited, &ctx)?;
            respawn::watch(&mut report, &parents, opts.respawn_wait, &me, gone, &ctx)?;
        }
    }
    report.all_free = report.ports.iter().all(|p| p.free) && report.respawned.is_empty();
    let failed = report.declined
        || !report.all_free
        || !report.plan.refused.is_empty()
        || report.unit_stops.iter().any(|u| !u.ok)
        || report
            .outcomes
            .iter()
            .any(|o| o.outcome == Fate::PermissionDenied)
        || report
            .containers
            .iter()
            .any(|c| c.outcome == ContainerFate::Failed);
    let code = if opts.dry_run || !failed {
        Exit::Success
    } else {
        Exit::Nothing
    };
    Ok((report, code))
}

impl KillPlan {
    /// Whether the plan stops anything: a process to signal or a container to stop.
    pub fn has_work(&self) -> bool {
        !self.stop.is_empty() || !self.stop_containers.is_empty() || units::any(self)
    }
}

/// The targets against the system: ports, addresses and ranges only (a caller that did not
/// parse the command line may pass a pid or a process name), and host names that resolve.
fn check_targets(targets: &[Target]) -> Result<()> {
    for t in targets {
        match t {
            Target::Pid(_) | Target::Process(_) => return Err(names_a_process(&t.to_string())),
            Target::Addr {
                host: Host::Name(name),
                ..
            } if crate::snapshot::target_addrs(t).is_none_or(|a| a.is_empty()) => {
                return Err(Error::bad_input(
                    format!("{} does not resolve here", text::echo(name)),
                    "give an address that resolves, or an IP address, e.g. 127.0.0.1:8080",
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The error for a target that names a process (`pid:N`, a name) as the user wrote it:
/// `kill` frees ports.
pub fn names_a_process(text: &str) -> Error {
    Error::bad_input(
        format!(
            "{} names a process, not a port (see its ports with: portscope who {})",
            text::echo(text),
            text::shell_word(text.trim())
        ),
        PORTS_ONLY,
    )
}
