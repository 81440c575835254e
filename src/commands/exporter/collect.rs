//! One collection of the exporter's metrics: listeners with their owners, socket counts by
//! state, and the audit's findings — each a separate collector that may fail alone, timed,
//! so that a scrape always says what it could and could not see.
//!
//! Everything here is plain data; `render::prometheus` turns a [`Metrics`] into text.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use crate::audit::{AuditFinding, AuditOptions};
use crate::knowledge::addr_class::{Exposure, exposure};
use crate::model::{Proto, Severity, Snapshot, SockState};
use crate::snapshot::{self, Owners, Request};
use crate::sys::SocketQuery;
use crate::sys::procfs::Detail;

/// What a collection looks at.
#[derive(Debug, Clone, Default)]
pub struct CollectOptions {
    /// Let the audit probe listeners (slower).
    pub probe: bool,
    /// The audit's allowlist (`None` = its default places).
    pub allowlist: Option<PathBuf>,
}

/// The parts of a collection, each of which succeeds or fails on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Collector {
    /// Listening sockets and their owners (one netlink dump and one fd walk).
    Listeners,
    /// Socket counts by protocol and state (one netlink dump, no owners).
    Sockets,
    /// The audit rules.
    Audit,
}

impl Collector {
    /// Every collector, in the order they run.
    pub const ALL: [Collector; 3] = [Collector::Listeners, Collector::Sockets, Collector::Audit];

    /// The `collector` label value.
    pub fn name(self) -> &'static str {
        match self {
            Collector::Listeners => "listeners",
            Collector::Sockets => "sockets",
            Collector::Audit => "audit",
        }
    }

    /// Position in [`Collector::ALL`] (for per-collector counters).
    pub fn index(self) -> usize {
        match self {
            Collector::Listeners => 0,
            Collector::Sockets => 1,
            Collector::Audit => 2,
        }
    }
}

/// Who holds a listening socket, as a label (never a pid: pids churn).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Holder {
    /// The first owner's `comm`.
    Process(String),
    /// The owner is among the processes portscope may not inspect.
    Hidden,
    /// No process holds it (a kernel socket, or its owner exited during the walk).
    Nobody,
}

/// One `portscope_listener_info` series: a distinct (port, proto, address, exposure,
/// process). Several sockets with the same labels (`SO_REUSEPORT` workers) are one series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerSeries {
    /// Local port.
    pub port: u16,
    /// `tcp` or `udp`.
    pub proto: Proto,
    /// The local address as text (`127.0.0.1`, `::`).
    pub address: String,
    /// Who can reach it.
    pub exposure: Exposure,
    /// Who holds it.
    pub process: Holder,
    /// The container it is held for (as its engine names it), when a container engine named
    /// one: `(name, image)`.
    pub container: Option<(String, String)>,
}

/// Sockets of one protocol in one state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateCount {
    /// Protocol.
    pub proto: Proto,
    /// Kernel state.
    pub state: SockState,
    /// How many.
    pub count: u64,
}

/// Findings of one rule at one severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FindingCount {
    /// The rule's stable code.
    pub rule: &'static str,
    /// Its severity.
    pub severity: Severity,
    /// How many findings.
    pub count: u64,
}

/// One finding, labelled by what it is about (no pid); the `portscope_audit_finding_info`
/// series.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FindingSeries {
    /// The rule's stable code.
    pub rule: &'static str,
    /// Its severity.
    pub severity: Severity,
    /// The port it is about, if any.
    pub port: Option<u16>,
    /// `tcp` / `udp` / `unix`, if known.
    pub proto: Option<String>,
    /// The local address, if known.
    pub address: Option<String>,
    /// The owning process's name, if known.
    pub process: Option<String>,
}

/// How one collector went.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectorRun {
    /// Which.
    pub collector: Collector,
    /// How long it took, in seconds.
    pub seconds: f64,
    /// Why it failed; `None` when it worked.
    pub error: Option<String>,
}

/// Everything one scrape reports. A failed collector's series are absent (and its
/// `CollectorRun` says why), as Prometheus exporters do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    /// Distinct listener series, sorted by port, protocol, address, process.
    pub listeners: Vec<ListenerSeries>,
    /// Socket counts: every TCP state and UDP's two (zeros included).
    pub sockets: Vec<StateCount>,
    /// Listening sockets whose owner could not be inspected (`None` if that failed).
    pub hidden_sockets: Option<usize>,
    /// Listening sockets no process holds right now: exiting, or a descriptor in flight, so
    /// not hidden (`None` if that failed).
    pub ownerless_sockets: Option<usize>,
    /// Processes whose file descriptors could not be read (`None` if that failed).
    pub hidden_processes: Option<usize>,
    /// Findings by rule and severity.
    pub findings: Vec<FindingCount>,
    /// One series per finding, labelled by its subject.
    pub finding_series: Vec<FindingSeries>,
    /// Findings the allowlist silenced, by rule and severity.
    pub allowed: Vec<FindingCount>,
    /// Each collector's outcome, in [`Collector::ALL`] order.
    pub collectors: Vec<CollectorRun>,
    /// Failed collections per collector since the exporter started (server only; `None` for
    /// a one-shot textfile, where a counter would reset on every run).
    pub errors_total: Option<[u64; 3]>,
    /// How long the whole collection took, in seconds.
    pub seconds: f64,
}

impl Metrics {
    /// The collectors that failed, with why.
    pub fn failures(&self) -> impl Iterator<Item = (Collector, &str)> {
        self.collectors
            .iter()
            .filter_map(|c| c.error.as_deref().map(|e| (c.collector, e)))
    }
}

/// Take one fresh collection. Blocking (netlink, /proc, perhaps probes): run it off any
/// async executor.
pub fn collect(opts: &CollectOptions) -> Metrics {
    let started = Instant::now();
    let mut m = Metrics::default();
    let run = timed(Collector::Listeners, || {
        let snap = snapshot::take(&Request::listeners())?;
        m.listeners = listener_series(&snap);
        #[cfg(feature = "engines")]
        name_containers(&mut m.listeners, &snap);
        m.hidden_sockets = Some(snap.hidden.sockets);
        m.ownerless_sockets = Some(snap.hidden.ownerless);
        m.hidden_processes = Some(snap.hidden.processes);
        Ok(())
    });
    m.collectors.push(run);
    let run = timed(Collector::Sockets, || {
        let snap = snapshot::take(&state_request())?;
        m.sockets = state_counts(&snap);
        Ok(())
    });
    m.collectors.push(run);
    let run = timed(Collector::Audit, || {
        let report = crate::audit::audit(&AuditOptions {
            probe: opts.probe,
            allowlist: opts.allowlist.clone(),
        })?;
        m.findings = with_every_rule(finding_counts(&report.findings));
        m.finding_series = finding_series(&report.findings);
        let allowed: Vec<AuditFinding> = report.allowed.into_iter().map(|a| a.finding).collect();
        m.allowed = finding_counts(&allowed);
        Ok(())
    });
    m.collectors.push(run);
    m.seconds = started.elapsed().as_secs_f64();
    m
}

/// Run one collector, timing it and keeping its error as text.
fn timed(collector: Collector, f: impl FnOnce() -> crate::error::Result<()>) -> CollectorRun {
    let started = Instant::now();
    let error = f().err().map(|e| e.to_string());
    CollectorRun {
        collector,
        seconds: started.elapsed().as_secs_f64(),
        error,
    }
}

/// Every TCP and UDP socket in every state, without owners: the kernel's answer only.
fn state_request() -> Request {
    Request {
        sockets: SocketQuery::default(),
        owners: Owners::Skip,
        detail: Detail::Basic,
        threads: 1,
    }
}

/// The distinct listener series of a listeners snapshot.
pub fn listener_series(snap: &Snapshot) -> Vec<ListenerSeries> {
    let mut series: Vec<ListenerSeries> = snap
        .sockets
        .iter()
        .filter(|s| s.is_listening() && s.proto != Proto::Unix)
        .filter_map(|s| {
            let ip = s.local.ip()?;
            let process = match s.pids.first() {
                Some(pid) => snap
                    .process(*pid)
                    .map_or(Holder::Nobody, |p| Holder::Process(p.comm.clone())),
                None if s.owner_hidden => Holder::Hidden,
                None => Holder::Nobody,
            };
            Some(ListenerSeries {
                port: s.port()?,
                proto: s.proto,
                address: ip.to_string(),
                exposure: exposure(ip),
                process,
                container: None,
            })
        })
        .collect();
    series.sort_by(|a, b| {
        (a.port, a.proto, &a.address, &a.process).cmp(&(b.port, b.proto, &b.address, &b.process))
    });
    series.dedup();
    series
}

/// Label the series held for a container with its name and image (the engines are asked only
/// when some listener is held by a port forwarder or a containerised process, as in `ls`).
#[cfg(feature = "engines")]
fn name_containers(series: &mut [ListenerSeries], snap: &Snapshot) {
    let attached = crate::containers::attach(&snap.sockets, &snap.processes);
    if attached.by_inode.is_empty() {
        return;
    }
    for s in snap.sockets.iter().filter(|s| s.is_listening()) {
        let Some(c) = attached.by_inode.get(&s.inode) else {
            continue;
        };
        let (Some(port), Some(ip)) = (s.port(), s.local.ip()) else {
            continue;
        };
        let address = ip.to_string();
        for l in series
            .iter_mut()
            .filter(|l| l.port == port && l.proto == s.proto && l.address == address)
        {
            l.container = Some((c.name.clone(), c.image.clone()));
        }
    }
}

/// Counts by protocol and state: every TCP state and UDP's `close` (unconnected) and
/// `established` (connected) always, so a series never vanishes when it drops to zero;
/// any other state only when present.
pub fn state_counts(snap: &Snapshot) -> Vec<StateCount> {
    let mut counts: BTreeMap<(Proto, SockState), u64> = BTreeMap::new();
    for state in SockState::ALL {
        counts.insert((Proto::Tcp, state), 0);
    }
    counts.insert((Proto::Udp, SockState::Close), 0);
    counts.insert((Proto::Udp, SockState::Established), 0);
    for s in &snap.sockets {
        *counts.entry((s.proto, s.state)).or_insert(0) += 1;
    }
    counts
        .into_iter()
        .map(|((proto, state), count)| StateCount {
            proto,
            state,
            count,
        })
        .collect()
}

/// Findings counted by (rule, severity), sorted.
pub fn finding_counts(findings: &[AuditFinding]) -> Vec<FindingCount> {
    let mut counts: BTreeMap<(&'static str, Severity), u64> = BTreeMap::new();
    for f in findings {
        *counts
            .entry((f.finding.code, f.finding.severity))
            .or_insert(0) += 1;
    }
    counts
        .into_iter()
        .map(|((rule, severity), count)| FindingCount {
            rule,
            severity,
            count,
        })
        .collect()
}

/// Add a zero for every rule of the audit's catalog (at its usual severity) that found
/// nothing, so a series does not vanish when its findings are fixed.
pub fn with_every_rule(counts: Vec<FindingCount>) -> Vec<FindingCount> {
    let mut all: BTreeMap<(&'static str, Severity), u64> = crate::audit::catalog::RULES
        .iter()
        .map(|r| ((r.code, r.severity), 0))
        .collect();
    for c in counts {
        all.insert((c.rule, c.severity), c.count);
    }
    all.into_iter()
        .map(|((rule, severity), count)| FindingCount {
            rule,
            severity,
            count,
        })
        .collect()
}

/// One series per distinct (rule, severity, subject without pid), sorted.
pub fn finding_series(findings: &[AuditFinding]) -> Vec<FindingSeries> {
    let mut series: Vec<FindingSeries> = findings
        .iter()
        .map(|f| FindingSeries {
            rule: f.finding.code,
            severity: f.finding.severity,
            port: f.subject.port,
            proto: f.subject.proto.clone(),
            address: f.subject.address.clone(),
            process: f.subject.process.clone(),
        })
        .collect();
    series.sort();
    series.dedup();
    series
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::audit::Subject;
    use crate::audit::tests::socket;
    use crate::model::{Finding, Process};

    fn process(pid: u32, comm: &str) -> Process {
        Process::fixture(pid, comm)
    }

    #[test]
    fn listeners_are_distinct_sorted_and_labelled() {
        let mut hidden = socket(Proto::Tcp, SockState::Listen, "0.0.0.0", 22, &[]);
        hidden.owner_hidden = true;
        let snap = Snapshot {
            sockets: vec![
                socket(Proto::Tcp, SockState::Listen, "127.0.0.1", 8080, &[20]),
                // an SO_REUSEPORT twin: the same series
                socket(Proto::Tcp, SockState::Listen, "127.0.0.1", 8080, &[21]),
                socket(Proto::Udp, SockState::Close, "::", 53, &[30]),
                // a bound, unconnected TCP socket is not a listener; a connected UDP one neither
                socket(Proto::Tcp, SockState::Close, "127.0.0.1", 9000, &[20]),
                socket(Proto::Udp, SockState::Established, "127.0.0.1", 9001, &[20]),
                hidden,
                socket(Proto::Udp, SockState::Close, "192.0.2.7", 123, &[]),
            ],
            processes: [
                (20, process(20, "nginx")),
                (21, process(21, "nginx")),
                (30, process(30, "dnsmasq")),
            ]
            .into_iter()
            .collect(),
            ..Snapshot::default()
        };
        let got = listener_series(&snap);
        let brief: Vec<(u16, &str, &str, Exposure, Holder)> = got
            .iter()
            .map(|s| {
                (
                    s.port,
                    s.proto.as_str(),
                    s.address.as_str(),
                    s.exposure,
                    s.process.clone(),
                )
            })
            .collect();
        assert_eq!(
            brief,
            vec![
                (
                    22,
                    "tcp",
                    "0.0.0.0",
                    Exposure::AllInterfaces,
                    Holder::Hidden
                ),
                (
                    53,
                    "udp",
                    "::",
                    Exposure::AllInterfaces,
                    Holder::Process("dnsmasq".into())
                ),
                (123, "udp", "192.0.2.7", Exposure::Specific, Holder::Nobody),
                (
                    8080,
                    "tcp",
                    "127.0.0.1",
                    Exposure::Loopback,
                    Holder::Process("nginx".into())
                ),
            ]
        );
    }

    #[test]
    fn state_counts_keep_zeros() {
        let snap = Snapshot {
            sockets: vec![
                socket(Proto::Tcp, SockState::Listen, "127.0.0.1", 1, &[]),
                socket(Proto::Tcp, SockState::Listen, "127.0.0.1", 2, &[]),
                socket(Proto::Tcp, SockState::TimeWait, "127.0.0.1", 3, &[]),
            ],
            ..Snapshot::default()
        };
        let counts = state_counts(&snap);
        assert_eq!(counts.len(), 14); // 12 TCP states + 2 UDP
        let of = |p, s| {
            counts
                .iter()
                .find(|c| c.proto == p && c.state == s)
                .unwrap()
        };
        assert_eq!(of(Proto::Tcp, SockState::Listen).count, 2);
        assert_eq!(of(Proto::Tcp, SockState::TimeWait).count, 1);
        assert_eq!(of(Proto::Tcp, SockState::Established).count, 0);
        assert_eq!(of(Proto::Udp, SockState::Close).count, 0);
    }

    #[test]
    fn findings_are_counted_by_rule_and_severity() {
        let finding = |code, severity, port, pid| AuditFinding {
            finding: Finding {
                code,
                severity,
                title: String::new(),
                evidence: vec![],
                fix: vec![],
            },
            subject: Subject {
                port: Some(port),
                proto: Some("tcp".into()),
                address: Some("0.0.0.0".into()),
                pid: Some(pid),
                process: Some("node".into()),
            },
        };
        let findings = vec![
            finding("AUD-B", Severity::Critical, 9229, 1),
            finding("AUD-A", Severity::Warning, 80, 2),
            finding("AUD-B", Severity::Critical, 9230, 3),
            // the same subject held by another pid: one series, two findings
            finding("AUD-B", Severity::Critical, 9230, 4),
        ];
        let counts = finding_counts(&findings);
        assert_eq!(
            counts.clone(),
            vec![
                FindingCount {
                    rule: "AUD-A",
                    severity: Severity::Warning,
                    count: 1
                },
                FindingCount {
                    rule: "AUD-B",
                    severity: Severity::Critical,
                    count: 3
                },
            ]
        );
        let every = with_every_rule(counts);
        assert_eq!(every.len(), crate::audit::catalog::RULES.len() + 2);
        let of = |rule: &str, severity| {
            every
                .iter()
                .find(|c| c.rule == rule && c.severity == severity)
                .map(|c| c.count)
        };
        assert_eq!(of("AUD-B", Severity::Critical), Some(3));
        assert_eq!(of("AUD-EXPOSED-DEBUGGER", Severity::Critical), Some(0));
        let series = finding_series(&findings);
        assert_eq!(series.len(), 3);
        assert_eq!(series[0].rule, "AUD-A");
        assert_eq!(series[1].port, Some(9229));
    }
}
