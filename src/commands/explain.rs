//! `portscope explain TARGET`: everything knowable about an address or port without
//! connecting to it. Each fact says where it comes from: read from this machine just now, or
//! general knowledge (a registry, an RFC, what tools commonly print).

use std::net::IpAddr;
#[cfg(feature = "history")]
use std::path::PathBuf;

use serde::Serialize;

use crate::error::Result;
#[cfg(feature = "cli")]
use crate::exit::Exit;
use crate::knowledge::addr_class::{self, AddrInfo};
use crate::knowledge::dev_ports::{self, DevPort, Source as PortSource};
use crate::knowledge::iana::{self, IANA_SOURCE, ServiceName};
use crate::knowledge::ranges::{self, IanaRange, RANGES_SOURCE};
use crate::model::Proto;
use crate::sys::sysctl::{self, PortSysctls, Resolution};
use crate::target::{Host, Target};

use super::who::{self, WhoReport};
#[cfg(feature = "cli")]
use super::{Report, Ui};

/// What `explain` explains. Build it with [`Options::new`] and set what differs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// The address or port (a pid or a process name is refused: that is `who`'s question).
    pub target: Target,
    /// Also identify what speaks there now (read-only probes).
    #[cfg(feature = "probe")]
    pub probe: bool,
    /// The state directory holding the history store (`None`: the default places).
    #[cfg(feature = "history")]
    pub state_dir: Option<PathBuf>,
}

/// Where a fact comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// Read from this machine just now (`read` names the file or call).
    Machine {
        /// What was read.
        read: String,
    },
    /// General knowledge, true on any machine (`reference` names the registry or RFC).
    General {
        /// The source.
        reference: String,
    },
}

/// One statement `explain` makes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fact {
    /// What it is about: `address`, `localhost`, `port`, `ephemeral`, `privileged`,
    /// `service`, `common`, `now`.
    pub topic: &'static str,
    /// The statement.
    pub text: String,
    /// Where it comes from.
    pub origin: Origin,
}

/// The port part of an explanation, structured for scripts.
#[derive(Debug, Clone, Serialize)]
pub struct PortFacts {
    /// The port.
    pub port: u16,
    /// Its IANA range.
    pub iana_range: IanaRange,
    /// This machine's ephemeral range (`net.ipv4.ip_local_port_range`).
    pub ephemeral_range: Option<(u16, u16)>,
    /// Whether the port is inside it.
    pub in_ephemeral_range: Option<bool>,
    /// Whether binding it needs `CAP_NET_BIND_SERVICE` here (`ip_unprivileged_port_start`).
    pub privileged: Option<bool>,
    /// IANA registrations: (proto, name, description).
    pub iana: Vec<(Proto, ServiceName)>,
    /// What developers commonly run there.
    pub commonly: Vec<&'static DevPort>,
}

/// The answer to `explain`.
#[derive(Debug, Clone, Serialize)]
pub struct ExplainReport {
    /// The target as parsed.
    pub target: Target,
    /// The address class, when the target has an IP (or a name that resolved).
    pub address: Option<AddrInfo>,
    /// How the host name (or `localhost`, for loopback targets) resolves here.
    pub resolution: Option<Resolution>,
    /// Port facts, when the target names a single port.
    pub port: Option<PortFacts>,
    /// Every statement, in reading order, each with its origin.
    pub facts: Vec<Fact>,
    /// What holds the port right now (the same data as `who`).
    pub now: Option<WhoReport>,
}

fn general(topic: &'static str, reference: &str, text: String) -> Fact {
    Fact {
        topic,
        text,
        origin: Origin::General {
            reference: reference.to_string(),
        },
    }
}

fn machine(topic: &'static str, read: &str, text: String) -> Fact {
    Fact {
        topic,
        text,
        origin: Origin::Machine {
            read: read.to_string(),
        },
    }
}

/// When clients of a name part ways (some reach a listener, some do not): which reach what.
fn clients_fact(report: &who::WhoReport) -> Option<Fact> {
    let c = &report.clients;
    if !crate::knowledge::clients::part_ways(c) {
        return None;
    }
    let port = report.target.port_range().map_or(0, |(p, _)| p);
    let at = |ip: IpAddr| std::net::SocketAddr::new(ip, port).to_string();
    let parts: Vec<String> = c
        .iter()
        .map(|v| match v.reaches {
            Some(ip) => format!("{} → {}", v.short, at(ip)),
            None => format!(
                "{} → {}, where nothing listens",
                v.short,
                v.dials
                    .iter()
                    .map(|ip| at(*ip))
                    .collect::<Vec<_>>()
                    .join(" then ")
            ),
        })
        .collect();
    Some(machine(
        "clients",
        "getaddrinfo() and netlink sock_diag",
        format!("not every client reaches it: {}", parts.join("; ")),
    ))
}

/// Run `explain`: it always answers (exit 0).
#[cfg(feature = "cli")]
pub fn run(opts: &Options, ui: &dyn Ui) -> Result<(Report, Exit)> {
    explain_with(opts, &|done, total| ui.progress(done, total))
        .map(|r| (Report::Explain(Box::new(r)), Exit::Success))
}

impl Options {
    /// Explain `target`: no probes, the history store in its default place.
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

/// Everything knowable about an address or port without connecting to it: the address
/// class, the port's registry entry and range, and what holds it now — each fact with where
/// it comes from.
///
/// ```no_run
/// use portscope::commands::explain;
///
/// // An address from a debugger line.
/// let target = portscope::target::parse("127.0.0.1:62893")?;
/// let report = explain::explain(&explain::Options::new(target))?;
/// for fact in &report.facts {
///     println!("{}", fact.text);
/// }
/// # Ok::<(), portscope::error::Error>(())
/// ```
pub fn explain(opts: &Options) -> Result<ExplainReport> {
    explain_with(opts, &|_, _| {})
}

/// [`explain`], telling `progress` how far `--probe` is (`(done, total)` after each listener).
pub fn explain_with(
    opts: &Options,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<ExplainReport> {
    let target = opts.target.clone();
    if matches!(target, Target::Pid(_) | Target::Process(_)) {
        return Err(crate::error::Error::bad_input(
            format!("explain takes an address or a port, not {target}"),
            format!(
                "expected e.g. 127.0.0.1:8080 or 8080; for a process's sockets use `portscope who {target}`"
            ),
        ));
    }
    let mut facts = Vec::new();
    let (ip, resolution) = address_part(&target, &mut facts);
    let address = ip.map(addr_class::classify);
    if let (Some(ip), Some(info)) = (ip, address) {
        facts.push(general(
            "address",
            addr_class::ADDR_SOURCE,
            format!(
                "{ip} is {} ({} {}): {}",
                info.class.label(),
                info.block,
                info.rfc,
                info.meaning
            ),
        ));
    }
    let port = single_port(&target).map(|(p, proto)| port_part(p, proto, &mut facts));
    if let Target::Range { start, end, .. } = target
        && start != end
    {
        range_part(start, end, &mut facts);
    }
    let now = match &target {
        Target::Port { .. } | Target::Addr { .. } | Target::Range { .. } => {
            let who_opts = who::Options {
                target: target.clone(),
                #[cfg(feature = "probe")]
                probe: opts.probe,
                #[cfg(feature = "history")]
                state_dir: opts.state_dir.clone(),
            };
            let report = who::report_with(&who_opts, progress)?;
            facts.push(now_fact(&report));
            facts.extend(who::supervisors_said(&report).into_iter().map(|text| {
                machine(
                    "supervisor",
                    "the holders' command lines, cgroups and environment in /proc, and systemctl show",
                    text,
                )
            }));
            facts.extend(clients_fact(&report));
            #[cfg(feature = "history")]
            if let Some(past) = &report.last_holder {
                facts.push(past_fact(past));
            }
            #[cfg(feature = "probe")]
            facts.extend(report.probe.iter().flatten().map(probe_fact));
            Some(report)
        }
        _ => None,
    };
    Ok(ExplainReport {
        target,
        address,
        resolution,
        port,
        facts,
        now,
    })
}

/// The IP to classify and the resolution to report.
fn address_part(target: &Target, facts: &mut Vec<Fact>) -> (Option<IpAddr>, Option<Resolution>) {
    let (ip, name) = match target {
        Target::Addr {
            host: Host::Ip(ip), ..
        } => (Some(*ip), ip.is_loopback().then_some("localhost")),
        Target::Addr {
            host: Host::Name(n),
            ..
        } => (None, Some(n.as_str())),
        _ => (None, None),
    };
    let Some(name) = name else { return (ip, None) };
    let res = sysctl::resolve(name);
    let read = "getaddrinfo() and /etc/hosts";
    if let Some(e) = &res.error {
        facts.push(machine(
            "localhost",
            read,
            format!("{name} does not resolve here: {e}"),
        ));
    } else {
        let order: Vec<String> = res.addresses.iter().map(IpAddr::to_string).collect();
        let mut text = format!("{name} resolves here to {}", order.join(", then "));
        if res.addresses.len() > 1 {
            text.push_str(&format!(
                " — a client that tries only the first address connects to {}; a server listening only on {} is then \"connection refused\"",
                order[0],
                order[1..].join(" / ")
            ));
        }
        facts.push(machine("localhost", read, text));
        for line in &res.hosts_lines {
            facts.push(machine(
                "localhost",
                "/etc/hosts",
                format!("/etc/hosts: {line}"),
            ));
        }
    }
    (ip.or_else(|| res.addresses.first().copied()), Some(res))
}

/// The single port a target names, with its protocol (TCP when unspecified).
fn single_port(target: &Target) -> Option<(u16, Option<Proto>)> {
    match target {
        Target::Port { port, proto } | Target::Addr { port, proto, .. } => Some((*port, *proto)),
        Target::Range { start, end, proto } if start == end => Some((*start, *proto)),
        _ => None,
    }
}

fn port_part(port: u16, proto: Option<Proto>, facts: &mut Vec<Fact>) -> PortFacts {
    let range = ranges::iana_range(port);
    let (lo, hi) = range.span();
    facts.push(general(
        "port",
        RANGES_SOURCE,
        format!("{port} is in the IANA {} range ({lo}-{hi})", range.label()),
    ));
    let sys = sysctl::port_sysctls();
    let in_eph = ephemeral_fact(port, &sys, facts);
    let privileged = sys.unprivileged_port_start.map(|start| {
        let read = "/proc/sys/net/ipv4/ip_unprivileged_port_start";
        let text = if port < start {
            format!("{port} is privileged here: ports below {start} need root or CAP_NET_BIND_SERVICE to bind")
        } else {
            format!("{port} is not privileged here: any user may bind ports from {start} up")
        };
        facts.push(machine("privileged", read, text));
        port < start
    });
    let protos: Vec<Proto> = proto.map_or(vec![Proto::Tcp, Proto::Udp], |p| vec![p]);
    let iana: Vec<(Proto, ServiceName)> = protos
        .iter()
        .filter_map(|p| iana::iana_service(port, *p).map(|s| (*p, s)))
        .collect();
    if iana.is_empty() {
        facts.push(general(
            "service",
            IANA_SOURCE,
            format!("IANA has no service registered on {port}"),
        ));
    }
    for (p, s) in &iana {
        facts.push(general(
            "service",
            IANA_SOURCE,
            format!(
                "IANA registers {port}/{} as \"{}\" ({})",
                p.as_str(),
                s.name,
                s.description
            ),
        ));
    }
    let commonly: Vec<&'static DevPort> = protos
        .iter()
        .flat_map(|p| dev_ports::dev_ports(port, *p))
        .collect();
    for d in &commonly {
        let mut text = format!("commonly {} — it prints: {}", d.what, d.banner);
        if let Some(risk) = d.risk {
            text.push_str(&format!(" (if exposed: {risk})"));
        }
        facts.push(general(
            "common",
            "portscope's table of developer defaults",
            text,
        ));
    }
    if commonly.is_empty() && port >= 1024 {
        let intro = match in_eph {
            Some(false) => {
                "no well-known program uses this port by default; addresses like this usually come from one of the following. On Linux a bind to port 0 gets a port from the ephemeral range, so outside it they apply when the address was printed on Windows or macOS, or when the tool picked the number itself"
            }
            _ => {
                "no well-known program uses this port by default; addresses like this usually come from one of the following"
            }
        };
        facts.push(general(
            "common",
            "what tools print (portscope's table)",
            intro.to_string(),
        ));
        for s in dev_ports::random_port_sources() {
            facts.push(random_source_fact(s));
        }
    }
    PortFacts {
        port,
        iana_range: range,
        ephemeral_range: sys.ephemeral,
        in_ephemeral_range: in_eph,
        privileged,
        iana,
        commonly,
    }
}

/// Facts about a port range: which IANA ranges it spans, how much of it the kernel may hand
/// out automatically here, and whether any of it is privileged.
fn range_part(start: u16, end: u16, facts: &mut Vec<Fact>) {
    let count = u32::from(end) - u32::from(start) + 1;
    let (first, last) = (ranges::iana_range(start), ranges::iana_range(end));
    let text = if first == last {
        format!(
            "{start}-{end} ({count} ports) is in the IANA {} range",
            first.label()
        )
    } else {
        format!(
            "{start}-{end} ({count} ports) runs from the IANA {} range into the {} range",
            first.label(),
            last.label()
        )
    };
    facts.push(general("port", RANGES_SOURCE, text));
    let sys = sysctl::port_sysctls();
    if let Some((lo, hi)) = sys.ephemeral {
        let overlap = u32::from(end.min(hi)).saturating_sub(u32::from(start.max(lo))) + 1;
        let overlap = if start > hi || end < lo { 0 } else { overlap };
        facts.push(machine(
            "ephemeral",
            "/proc/sys/net/ipv4/ip_local_port_range",
            if overlap == 0 {
                format!(
                    "none of these ports is in this machine's ephemeral range {lo}-{hi}: the kernel never hands them out automatically"
                )
            } else {
                format!(
                    "{overlap} of these {count} ports are in this machine's ephemeral range {lo}-{hi}, where the kernel picks ports for outgoing connections and port-0 binds: a server that needs a fixed port there can find it taken"
                )
            },
        ));
    }
    if let Some(limit) = sys.unprivileged_port_start.filter(|l| start < *l) {
        facts.push(machine(
            "privileged",
            "/proc/sys/net/ipv4/ip_unprivileged_port_start",
            format!("ports below {limit} need root or CAP_NET_BIND_SERVICE to bind here"),
        ));
    }
}

fn random_source_fact(s: &PortSource) -> Fact {
    general(
        "common",
        "what tools print (portscope's table)",
        format!(
            "  · {}. Seen as: {}. Holder: {}",
            s.what, s.looks_like, s.who_listens
        ),
    )
}

/// Whether the port is in this machine's ephemeral range, stated with what follows from it.
fn ephemeral_fact(port: u16, sys: &PortSysctls, facts: &mut Vec<Fact>) -> Option<bool> {
    let read = "/proc/sys/net/ipv4/ip_local_port_range";
    let Some((lo, hi)) = sys.ephemeral else {
        facts.push(machine(
            "ephemeral",
            read,
            "the ephemeral port range could not be read here".into(),
        ));
        return None;
    };
    let inside = (lo..=hi).contains(&port);
    let text = if inside {
        format!(
            "{port} is inside this machine's ephemeral range {lo}-{hi}: the kernel may have assigned it, to an outgoing connection's local end or to a program that bound port 0"
        )
    } else {
        let elsewhere = if ranges::iana_range(port) == IanaRange::Dynamic {
            " (on Windows and macOS, whose ephemeral range is 49152-65535, it would be an ordinary automatic port)"
        } else {
            ""
        };
        format!(
            "{port} is NOT in this machine's ephemeral range {lo}-{hi}: the Linux kernel here never assigns it automatically, so a program chose this number{elsewhere}"
        )
    };
    facts.push(machine("ephemeral", read, text));
    if sys.reserved.iter().any(|(a, b)| (*a..=*b).contains(&port)) {
        facts.push(machine(
            "ephemeral",
            "/proc/sys/net/ipv4/ip_local_reserved_ports",
            format!(
                "{port} is in ip_local_reserved_ports: the kernel never hands it out automatically"
            ),
        ));
    }
    Some(inside)
}

/// One sentence about what a probe found.
#[cfg(feature = "probe")]
fn probe_fact(r: &crate::probe::listeners::ProbeResult) -> Fact {
    let addr = std::net::SocketAddr::new(r.addr, r.port);
    let text = match &r.probe.identification {
        Some(id) => {
            let mut t = format!("{addr} speaks {}", id.protocol);
            let product: Vec<&str> = [id.product.as_deref(), id.version.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            if !product.is_empty() {
                t.push_str(&format!(" ({})", product.join(" ")));
            }
            match id.auth {
                Some(crate::probe::Auth::NotRequired) => {
                    t.push_str(", and answered without authentication")
                }
                Some(crate::probe::Auth::Required) => t.push_str(", and demands authentication"),
                None => {}
            }
            t
        }
        None => format!("{addr} did not identify itself to read-only probes"),
    };
    machine("probe", "read-only probes just now (portscope probe)", text)
}

/// One sentence about who held the target before, from the history store.
#[cfg(feature = "history")]
fn past_fact(past: &crate::store::history::PastHolder) -> Fact {
    let read = format!(
        "the history store {} (recorded by portscope daemon)",
        past.store.display()
    );
    machine(
        "history",
        &read,
        crate::store::history::past_sentence(past, crate::time::now()),
    )
}

/// One sentence about what holds the target now.
fn now_fact(report: &WhoReport) -> Fact {
    let read = "netlink sock_diag and /proc/<pid>/fd";
    let text = if report.sockets.is_empty() {
        "nothing holds it right now: no listener and no connection (connecting now would be refused)".to_string()
    } else {
        let listeners = report
            .sockets
            .iter()
            .filter(|s| s.socket.is_listening())
            .count();
        let mut names: Vec<String> = report
            .sockets
            .iter()
            .flat_map(|s| s.socket.pids.iter())
            .filter_map(|pid| report.processes.get(pid))
            .map(|p| format!("{}[{}]", crate::text::terminal(&p.comm), p.pid))
            .collect();
        names.sort();
        names.dedup();
        let hidden = report
            .sockets
            .iter()
            .filter(|s| s.socket.owner_hidden)
            .count();
        let mut t = format!(
            "held right now: {listeners} listening and {} other socket(s)",
            report.sockets.len() - listeners
        );
        if !names.is_empty() {
            t.push_str(&format!(", by {}", names.join(", ")));
        }
        let containers = who::containers_served(report);
        if !containers.is_empty() {
            t.push_str(&format!(" for {}", containers.join(", ")));
        }
        if let Some(note) = &report.container_note {
            t.push_str(&format!("; {note}"));
        }
        if hidden > 0 {
            t.push_str(&format!(
                "; {hidden} socket(s) owned by processes you may not inspect (run as root)"
            ));
        }
        t
    };
    machine("now", read, text)
}
