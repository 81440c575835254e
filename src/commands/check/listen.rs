//! `check listen PORT [--bind loopback|any] [--process NAME]`: is something listening, where,
//! and is it the right program? (Zabbix's `net.tcp.listen[port]` with the owner checked.)
//!
//! The kernel's answer (netlink) shows every listener to any user, so "nothing listens" is
//! always true when said. The owner needs `/proc/<pid>/fd`: when it cannot be seen,
//! `--process` answers UNKNOWN, never OK by guess.

use serde::Serialize;

use super::{CheckReport, Perf, State, hidden_detail, proc_label, safe};
use crate::error::Result;
use crate::knowledge::addr_class::{Exposure, exposure};
use crate::model::{Hidden, Proto, Snapshot, SockState, Socket};
use crate::snapshot::{self, Owners, Request};
use crate::sys::SocketQuery;
use crate::sys::procfs::Detail;

/// The status line's first word.
pub const SERVICE: &str = "LISTEN";

/// What `check listen` asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The port.
    pub port: u16,
    /// `tcp` or `udp`.
    pub proto: Proto,
    /// Where it must listen, when that matters.
    pub bind: Option<BindRule>,
    /// The name of the process that must hold it (not empty), when that matters.
    pub process: Option<String>,
}

/// `--bind` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BindRule {
    /// Every listener on the port must be bound to a loopback address.
    Loopback,
    /// Some listener must be reachable from other hosts (a wildcard or non-loopback address).
    Any,
}

/// What `check listen` saw (JSON).
#[derive(Debug, Clone, Serialize)]
pub struct ListenFacts {
    /// The port asked about.
    pub port: u16,
    /// `tcp` (the default) or `udp`.
    pub proto: Proto,
    /// `--bind`, when given.
    pub bind: Option<BindRule>,
    /// `--process`, when given.
    pub process: Option<String>,
    /// Every socket listening on the port (TCP LISTEN, or bound unconnected UDP).
    pub listeners: Vec<Listener>,
    /// Processes whose sockets could not be seen.
    pub hidden: Hidden,
}

/// One listening socket.
#[derive(Debug, Clone, Serialize)]
pub struct Listener {
    /// The local address (`0.0.0.0`, `::1`, `192.0.2.7`).
    pub address: String,
    /// Who can reach it: `loopback`, `all_interfaces`, `specific`.
    pub exposure: Exposure,
    /// Pids holding it.
    pub pids: Vec<u32>,
    /// Their names (`comm`), in the order of `pids`; `null` for a process that exited meanwhile.
    pub processes: Vec<Option<String>>,
    /// No owner found and some processes could not be inspected.
    pub owner_hidden: bool,
}

/// What a listener does to the verdict.
struct Problem {
    state: State,
    text: String,
}

/// Run the plugin.
pub fn run(opts: &Options) -> Result<CheckReport> {
    let (port, proto) = (opts.port, opts.proto);
    let snap = snapshot::take(&request(port, proto))?;
    let listeners: Vec<(&Socket, Listener)> = snap
        .sockets
        .iter()
        .filter(|s| s.proto == proto && s.is_listening() && s.port() == Some(port))
        .map(|s| (s, listener(s, &snap)))
        .collect();
    let facts = ListenFacts {
        port,
        proto,
        bind: opts.bind,
        process: opts.process.clone(),
        listeners: listeners.iter().map(|(_, l)| l.clone()).collect(),
        hidden: snap.hidden.clone(),
    };
    Ok(verdict(facts, &snap))
}

/// Listening sockets on the port, owners walked only as far as needed.
fn request(port: u16, proto: Proto) -> Request {
    let state = match proto {
        Proto::Udp => SockState::Close,
        _ => SockState::Listen,
    };
    Request {
        sockets: SocketQuery {
            tcp: proto == Proto::Tcp,
            udp: proto == Proto::Udp,
            states: 1 << state.kernel_number(),
            port_range: Some((port, port)),
            ..SocketQuery::default()
        },
        owners: Owners::Targeted,
        detail: Detail::Basic,
        threads: 0,
    }
}

fn listener(s: &Socket, snap: &Snapshot) -> Listener {
    let ip = s.local.ip();
    Listener {
        address: ip.map_or_else(|| s.local.to_string(), |ip| ip.to_string()),
        exposure: ip.map_or(Exposure::Specific, exposure),
        pids: s.pids.clone(),
        processes: s
            .pids
            .iter()
            .map(|p| snap.process(*p).map(|p| p.comm.clone()))
            .collect(),
        owner_hidden: s.owner_hidden,
    }
}

/// The state, the status line and the long output.
fn verdict(facts: ListenFacts, snap: &Snapshot) -> CheckReport {
    let what = format!(
        "{} port {}",
        facts.proto.as_str().to_uppercase(),
        facts.port
    );
    let count = facts.listeners.len();
    let mut report = if count == 0 {
        CheckReport::new(
            "listen",
            SERVICE,
            State::Critical,
            format!("nothing listens on {what}"),
        )
    } else {
        let mut problems = Vec::new();
        if let Some(rule) = facts.bind {
            problems.extend(bind_problems(rule, &facts.listeners, &what));
        }
        if let Some(name) = &facts.process {
            problems.extend(process_problems(name, &facts.listeners, &what, snap));
        }
        let state = problems.iter().map(|p| p.state).max().unwrap_or(State::Ok);
        let summary = if problems.is_empty() {
            let all: Vec<String> = facts.listeners.iter().map(describe).collect();
            format!("{what}: {}", all.join(", "))
        } else {
            // The worst first; equal ones in listener order.
            problems.sort_by_key(|p| std::cmp::Reverse(p.state));
            let texts: Vec<String> = problems.into_iter().map(|p| p.text).collect();
            texts.join("; ")
        };
        CheckReport::new("listen", SERVICE, state, summary)
    };
    report.perfdata.push(Perf::count("listeners", count));
    // One listener is all in the status line; several get a line each.
    if count > 1 {
        report.details = facts
            .listeners
            .iter()
            .map(|l| format!("{} {}", facts.proto.as_str(), describe(l)))
            .collect();
    }
    report.details.extend(hidden_detail(&facts.hidden));
    report.listen = Some(facts);
    report
}

/// `python3[1234] on 127.0.0.1 (loopback only)`.
fn describe(l: &Listener) -> String {
    format!("{} on {} ({})", owner(l), l.address, l.exposure.label())
}

/// `python3[1234]`, `nginx[10],nginx[11],+2`, `(owner hidden)`, `(no process)`.
fn owner(l: &Listener) -> String {
    if l.owner_hidden {
        return "(owner hidden)".into();
    }
    if l.pids.is_empty() {
        return "(no process)".into();
    }
    let mut shown: Vec<String> = l
        .pids
        .iter()
        .zip(&l.processes)
        .take(2)
        .map(|(pid, name)| proc_label(name.as_deref().unwrap_or("?"), *pid))
        .collect();
    if l.pids.len() > 2 {
        shown.push(format!("+{}", l.pids.len() - 2));
    }
    shown.join(",")
}

fn bind_problems(rule: BindRule, listeners: &[Listener], what: &str) -> Vec<Problem> {
    match rule {
        BindRule::Loopback => listeners
            .iter()
            .filter_map(|l| {
                let state = match l.exposure {
                    Exposure::Loopback => return None,
                    Exposure::AllInterfaces => State::Critical,
                    // One address: reachable only by whoever can route to it.
                    Exposure::Specific => State::Warning,
                };
                let text = format!(
                    "{what} listens on {} ({}, {}), not on loopback only",
                    l.address,
                    l.exposure.label(),
                    owner(l)
                );
                Some(Problem { state, text })
            })
            .collect(),
        BindRule::Any if listeners.iter().all(|l| l.exposure == Exposure::Loopback) => {
            let on: Vec<String> = listeners
                .iter()
                .map(|l| format!("{} {}", l.address, owner(l)))
                .collect();
            vec![Problem {
                state: State::Critical,
                text: format!(
                    "{what} listens on loopback only ({}): not reachable from other hosts",
                    on.join(", ")
                ),
            }]
        }
        BindRule::Any => Vec::new(),
    }
}

fn process_problems(
    name: &str,
    listeners: &[Listener],
    what: &str,
    snap: &Snapshot,
) -> Vec<Problem> {
    let want = safe(name);
    listeners
        .iter()
        .filter_map(|l| {
            let named = |pid: &u32| snap.process(*pid).is_some_and(|p| is_named(p, name));
            if l.pids.iter().any(named) {
                return None;
            }
            let (state, text) = if l.owner_hidden {
                let how = if snap.euid == 0 {
                    "even as root (see the hidden-owner line)"
                } else {
                    "run as root (sudo portscope …)"
                };
                (
                    State::Unknown,
                    format!(
                        "cannot see the owner of {what} on {}, so cannot tell whether it is \
                         {want}; {how}",
                        l.address
                    ),
                )
            } else if l.pids.is_empty() {
                (
                    State::Critical,
                    format!(
                        "{what} on {} is held by no process (a kernel socket?), not by {want}",
                        l.address
                    ),
                )
            } else if l.pids.iter().any(|p| snap.process(*p).is_none()) {
                (
                    State::Unknown,
                    format!(
                        "{what} on {}: holder {} exited while it was read; try again",
                        l.address,
                        owner(l)
                    ),
                )
            } else {
                (
                    State::Critical,
                    format!(
                        "{what} on {} is held by {}, not by {want}",
                        l.address,
                        owner(l)
                    ),
                )
            };
            Some(Problem { state, text })
        })
        .collect()
}

/// `comm` equals `name` (or its first 15 bytes, as the kernel cuts `comm`), or the file name
/// of the first argument does.
fn is_named(p: &crate::model::Process, name: &str) -> bool {
    let cut = name.get(..15).unwrap_or(name);
    p.comm == name
        || (name.len() > 15 && p.comm == cut)
        || p.cmdline
            .first()
            .is_some_and(|a| a.rsplit('/').next() == Some(name))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn l(address: &str, exposure: Exposure, pids: &[u32], hidden: bool) -> Listener {
        Listener {
            address: address.into(),
            exposure,
            pids: pids.to_vec(),
            processes: pids.iter().map(|_| Some("python3".to_string())).collect(),
            owner_hidden: hidden,
        }
    }

    #[test]
    fn loopback_rule() {
        let ok = [l("127.0.0.1", Exposure::Loopback, &[1], false)];
        assert!(bind_problems(BindRule::Loopback, &ok, "TCP port 1").is_empty());
        let mixed = [
            l("127.0.0.1", Exposure::Loopback, &[1], false),
            l("192.0.2.7", Exposure::Specific, &[1], false),
            l("::", Exposure::AllInterfaces, &[1], false),
        ];
        let p = bind_problems(BindRule::Loopback, &mixed, "TCP port 1");
        let states: Vec<State> = p.iter().map(|p| p.state).collect();
        assert_eq!(states, [State::Warning, State::Critical]);
        assert!(
            p[1].text.contains(":: (all interfaces, python3[1])"),
            "{}",
            p[1].text
        );
    }

    #[test]
    fn any_rule() {
        let lo = [
            l("127.0.0.1", Exposure::Loopback, &[1], false),
            l("::1", Exposure::Loopback, &[1], false),
        ];
        let p = bind_problems(BindRule::Any, &lo, "TCP port 1");
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].state, State::Critical);
        assert!(
            p[0].text.contains("127.0.0.1 python3[1], ::1 python3[1]"),
            "{}",
            p[0].text
        );
        let wide = [
            l("127.0.0.1", Exposure::Loopback, &[1], false),
            l("192.0.2.7", Exposure::Specific, &[1], false),
        ];
        assert!(bind_problems(BindRule::Any, &wide, "TCP port 1").is_empty());
    }

    #[test]
    fn owners_are_named_briefly() {
        assert_eq!(
            owner(&l("::", Exposure::AllInterfaces, &[1, 2, 3, 4], false)),
            "python3[1],python3[2],+2"
        );
        assert_eq!(
            owner(&l("::", Exposure::AllInterfaces, &[], true)),
            "(owner hidden)"
        );
        assert_eq!(
            owner(&l("::", Exposure::AllInterfaces, &[], false)),
            "(no process)"
        );
    }
}
