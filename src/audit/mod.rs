//! Audit rules over the snapshot and probe results: what listens where it should not, what
//! answers without a password, what grants code execution. One file per rule family; each
//! finding carries a stable code, a severity, evidence, a fix, and the subject it is about
//! (for the allowlist and for Prometheus labels).
//!
//! [`audit`] gathers one [`Context`] (every listening socket with its owner in full, one
//! bounded probe per TCP listener, the socket files of unix listeners, the port sysctls) and
//! runs the rules — pure functions of that context — then sorts the findings and moves those
//! the allowlist accepts to [`AuditReport::allowed`].
//!
//! # Example
//! ```no_run
//! use portscope::audit::{self, AuditOptions};
//!
//! let report = audit::audit(&AuditOptions { probe: true, allowlist: None })?;
//! for f in &report.findings {
//!     println!("{:?} {} {}", f.finding.severity, f.finding.code, f.finding.title);
//! }
//! # Ok::<(), portscope::error::Error>(())
//! ```

pub mod allowlist;
pub mod catalog;
mod container;
mod debuggers;
mod exposed;
mod flags;
mod gather;
pub mod known;
mod root_high_port;
pub mod sarif;
pub mod service;
mod unauthenticated;
mod unix_sockets;

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::error::Result;
use crate::knowledge::addr_class::{self, Exposure};
use crate::model::{Finding, Hidden, Process, Proto, Severity};
use crate::probe::engine::PortProbe;

pub use crate::sys::fsmeta::SocketFile;
pub use allowlist::Allowlist;

/// What to audit with.
#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    /// Probe listeners to confirm what they are and whether they ask for authentication.
    pub probe: bool,
    /// The allowlist file; `None` = the default places, when present.
    pub allowlist: Option<std::path::PathBuf>,
}

/// What a finding is about (the allowlist matches on it; the exporter labels with it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Subject {
    /// The port, for socket findings.
    pub port: Option<u16>,
    /// `tcp` / `udp` / `unix`.
    pub proto: Option<String>,
    /// The local address (or unix socket path).
    pub address: Option<String>,
    /// The owning process's pid.
    pub pid: Option<u32>,
    /// The owning process's name.
    pub process: Option<String>,
}

impl Subject {
    /// Where it is, as one word: `tcp/0.0.0.0:6379`, `tcp/[::]:22`, `unix:/run/x.sock`.
    pub fn location(&self) -> String {
        let proto = self.proto.as_deref().unwrap_or("?");
        let address = self.address.as_deref().unwrap_or("");
        match (proto, self.port) {
            ("unix", _) => format!("unix:{address}"),
            (_, Some(port)) if address.contains(':') => format!("{proto}/[{address}]:{port}"),
            (_, Some(port)) => format!("{proto}/{address}:{port}"),
            (_, None) => format!("{proto}/{address}"),
        }
    }
}

/// One audit finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditFinding {
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
    /// What it is about.
    pub subject: Subject,
}

/// A finding the allowlist silenced, and why it was accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Allowed {
    /// The finding.
    #[serde(flatten)]
    pub finding: AuditFinding,
    /// The allowlist entry's reason.
    pub reason: String,
}

/// Everything the audit found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditReport {
    /// Findings, most severe first.
    pub findings: Vec<AuditFinding>,
    /// Findings the allowlist silenced.
    pub allowed: Vec<Allowed>,
    /// How many listening sockets were examined.
    pub listeners: usize,
    /// The allowlist file used, if any.
    pub allowlist: Option<std::path::PathBuf>,
    /// Sockets whose owner could not be seen (their findings may lack a process).
    pub hidden: Hidden,
    /// Whether listeners were probed (`false` with `--no-probe`: findings that need a probe's
    /// answer are then made from the port and the process alone).
    pub probed: bool,
}

impl AuditReport {
    /// The most severe finding's severity (`None` when clean).
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.finding.severity).max()
    }

    /// How many findings have this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.finding.severity == severity)
            .count()
    }
}

/// Run every audit rule. The allowlist is read first: a bad one is an error (bad input)
/// before anything is probed.
pub fn audit(opts: &AuditOptions) -> Result<AuditReport> {
    audit_ports(opts, &[])
}

/// Run every audit rule on the listeners of these ports only (none = every listener): only
/// they are probed, and unix sockets are left out.
pub fn audit_ports(opts: &AuditOptions, ports: &[u16]) -> Result<AuditReport> {
    audit_ports_with(opts, ports, crate::probe::engine::Watch::quiet())
}

/// [`audit_ports`], telling `watch` how far probing is (`(done, total)` after each port) and
/// stopping the probes when it says so (the listeners not probed then are judged unprobed).
pub fn audit_ports_with(
    opts: &AuditOptions,
    ports: &[u16],
    watch: crate::probe::engine::Watch,
) -> Result<AuditReport> {
    let allowlist = allowlist::resolve(opts.allowlist.as_deref())?;
    let ctx = gather::gather(opts.probe, ports, watch)?;
    Ok(evaluate(&ctx, allowlist.as_ref()))
}

/// A rule: the findings it has about the context.
pub type Rule = fn(&Context) -> Vec<AuditFinding>;

/// Every rule, in the order their findings tie (findings are sorted by severity, then port).
const RULE_FNS: &[Rule] = &[
    exposed::check,
    debuggers::check,
    unauthenticated::check,
    unix_sockets::check,
    root_high_port::check,
    container::check,
];

/// Run the rules on a gathered context and apply the allowlist (pure).
pub fn evaluate(ctx: &Context, allowlist: Option<&Allowlist>) -> AuditReport {
    let mut all: Vec<AuditFinding> = RULE_FNS.iter().flat_map(|rule| rule(ctx)).collect();
    all.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    let mut findings = Vec::new();
    let mut allowed = Vec::new();
    for f in all {
        match allowlist.and_then(|a| a.reason_for(&f)) {
            Some(reason) => allowed.push(Allowed {
                finding: f,
                reason: reason.to_string(),
            }),
            None => findings.push(f),
        }
    }
    AuditReport {
        findings,
        allowed,
        listeners: ctx.sockets_examined,
        allowlist: allowlist.map(|a| a.path.clone()),
        hidden: ctx.hidden.clone(),
        probed: ctx.probed,
    }
}

/// Most severe first; then by port (unix sockets last), code, address.
fn sort_key(f: &AuditFinding) -> impl Ord + '_ {
    (
        std::cmp::Reverse(f.finding.severity),
        f.subject.port.is_none(),
        f.subject.port,
        f.finding.code,
        f.subject.address.as_deref(),
    )
}

/// A listening TCP socket or bound UDP socket, or several of one owner on one port (a server
/// on `0.0.0.0` and `::` is one listener).
#[derive(Debug, Clone)]
pub struct Listener {
    /// `tcp` or `udp`.
    pub proto: Proto,
    /// The port.
    pub port: u16,
    /// Its local addresses, the most exposed first.
    pub addrs: Vec<IpAddr>,
    /// The processes holding it, ascending.
    pub pids: Vec<u32>,
    /// No owner was found and some processes could not be inspected.
    pub owner_hidden: bool,
    /// The socket's uid (its creator's effective uid), from the kernel.
    pub uid: u32,
    /// The probe of one of its addresses (wildcards through loopback), when it was probed.
    pub probe: Option<PortProbe>,
    /// For a wildcard listener that answered loopback without credentials: the same probe
    /// from a non-loopback address of this machine, as another machine would be seen (Redis's
    /// protected mode, for one, trusts only loopback clients).
    pub outside: Option<PortProbe>,
}

impl Listener {
    /// Its most exposed address.
    pub fn addr(&self) -> IpAddr {
        self.addrs
            .first()
            .copied()
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }

    /// Who can reach it (its most exposed address).
    pub fn exposure(&self) -> Exposure {
        addr_class::exposure(self.addr())
    }

    /// `0.0.0.0:6379` or `[::]:6379`.
    pub fn endpoint(&self) -> String {
        endpoint(self.addr(), self.port)
    }

    /// Every address, `tcp 0.0.0.0:6379 and [::]:6379`.
    pub fn sockets_text(&self) -> String {
        let all: Vec<String> = self.addrs.iter().map(|a| endpoint(*a, self.port)).collect();
        format!("{} {}", self.proto.as_str(), all.join(" and "))
    }

    /// Where it listens, for titles: `on all interfaces (0.0.0.0:6379)`,
    /// `on 192.168.1.5:6379 (private)`, `on 127.0.0.1:6379`.
    pub fn where_text(&self) -> String {
        match self.exposure() {
            Exposure::AllInterfaces => format!("on all interfaces ({})", self.endpoint()),
            Exposure::Loopback => format!("on {}", self.endpoint()),
            Exposure::Specific => format!(
                "on {} ({})",
                self.endpoint(),
                addr_class::classify(self.addr()).class.label()
            ),
        }
    }
}

/// `ADDR:PORT`, IPv6 in brackets.
pub fn endpoint(addr: IpAddr, port: u16) -> String {
    match addr {
        IpAddr::V6(a) => format!("[{a}]:{port}"),
        IpAddr::V4(a) => format!("{a}:{port}"),
    }
}

/// A listening unix socket with a path, and what its file says.
#[derive(Debug, Clone)]
pub struct UnixListener {
    /// The path it was bound to (in its owner's mount namespace).
    pub path: String,
    /// The processes holding it.
    pub pids: Vec<u32>,
    /// No owner was found and some processes could not be inspected.
    pub owner_hidden: bool,
    /// The socket's uid, from the kernel.
    pub uid: u32,
    /// The socket file's mode and owner, when it could be read.
    pub file: Option<SocketFile>,
}

/// A listener seen in another network namespace (a container's), for published ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignSide {
    /// The namespace's inode.
    pub netns: u64,
    /// A process living in it.
    pub pid: u32,
    /// That process's name, when readable.
    pub comm: Option<String>,
    /// The listening address as that namespace sees it.
    pub local: String,
}

/// Everything the rules may look at. Gathered once; rules do no I/O.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// TCP listeners and bound UDP sockets, grouped by owner and port, sorted by port.
    pub listeners: Vec<Listener>,
    /// Listening unix sockets with a path.
    pub unix: Vec<UnixListener>,
    /// The owners of all of them, in full.
    pub processes: BTreeMap<u32, Process>,
    /// How many listening sockets (TCP, UDP, unix) were examined.
    pub sockets_examined: usize,
    /// Whether TCP listeners were probed.
    pub probed: bool,
    /// `net.ipv4.ip_unprivileged_port_start` (1024 when unreadable).
    pub unprivileged_port_start: u16,
    /// portscope's own container id, when it runs in one (its neighbours are not "other
    /// containers").
    pub own_container: Option<String>,
    /// Container-side listeners of published ports, by container port.
    pub container_sides: BTreeMap<u16, Vec<ForeignSide>>,
    /// What could not be seen.
    pub hidden: Hidden,
}

impl Context {
    /// The first owner of a listener that was read.
    pub fn owner(&self, l: &Listener) -> Option<&Process> {
        self.first_process(&l.pids)
    }

    /// The first of `pids` that was read.
    pub fn first_process(&self, pids: &[u32]) -> Option<&Process> {
        pids.iter().find_map(|p| self.processes.get(p))
    }

    /// `redis-server[4242] (user redis)`, or why there is no name.
    pub fn owner_label(&self, l: &Listener) -> String {
        self.holder_label(&l.pids, l.owner_hidden, l.uid)
    }

    /// The holder of a socket, for evidence lines.
    pub fn holder_label(&self, pids: &[u32], hidden: bool, uid: u32) -> String {
        match self.first_process(pids) {
            Some(p) => {
                let user = p.user.clone().unwrap_or_else(|| format!("uid {}", p.uid));
                let more = match pids.len() {
                    0 | 1 => String::new(),
                    n => format!(" and {} more", n - 1),
                };
                format!("{}[{}]{more} (user {user})", p.comm, p.pid)
            }
            None if hidden => {
                format!("a process portscope may not inspect (the socket was created by uid {uid})")
            }
            None => "no process (the kernel holds it)".into(),
        }
    }

    /// The subject of a finding about a listener.
    pub fn subject(&self, l: &Listener) -> Subject {
        let owner = self.owner(l);
        Subject {
            port: Some(l.port),
            proto: Some(l.proto.as_str().to_string()),
            address: Some(l.addr().to_string()),
            pid: owner.map(|p| p.pid).or(l.pids.first().copied()),
            process: owner.map(|p| p.comm.clone()),
        }
    }
}

/// Build a finding.
fn finding(
    code: &'static str,
    severity: Severity,
    title: String,
    evidence: Vec<String>,
    fix: Vec<String>,
    subject: Subject,
) -> AuditFinding {
    AuditFinding {
        finding: Finding {
            code,
            severity,
            title,
            evidence,
            fix,
        },
        subject,
    }
}

/// A fix template with `{port}` filled in.
fn fill(template: &str, port: u16) -> String {
    template.replace("{port}", &port.to_string())
}

/// `Jupyter (jupyter-lab[4242])`: a service's name with its owner's, when it has one.
fn named(name: &str, owner: Option<&Process>) -> String {
    match owner {
        Some(p) => format!("{name} ({}[{}])", p.comm, p.pid),
        None => name.to_string(),
    }
}

/// The evidence for a finding about a listener: its sockets and who holds them, what
/// identified the service, and why it matters (`risk`).
fn listen_evidence(ctx: &Context, l: &Listener, s: &service::Service, risk: &str) -> Vec<String> {
    let mut evidence = vec![format!(
        "{} LISTEN, held by {}",
        l.sockets_text(),
        ctx.owner_label(l)
    )];
    evidence.extend(s.evidence.iter().cloned());
    evidence.push(format!("why it matters: {risk}"));
    evidence
}

/// The last-resort fix when a service must stay bound where it is: drop outside traffic.
fn firewall_fix(l: &Listener) -> String {
    format!(
        "or, if it must stay bound there, drop what does not come from loopback: sudo iptables -I INPUT -p {proto} --dport {port} ! -i lo -j DROP (and ip6tables; ufw: sudo ufw deny {port}/{proto})",
        proto = l.proto.as_str(),
        port = l.port
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod tests;
