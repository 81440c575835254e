//! `portscope ls`: listening sockets (or, with `--all`, every socket) with exposure, owning
//! processes and IANA service names — the `ss -tulpn` view, with the hidden owners counted.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde::Serialize;

use crate::cli::LsArgs;
use crate::error::{Error, Result};
use crate::knowledge::addr_class::{Exposure, exposure};
use crate::knowledge::iana::iana_service;
use crate::model::{Hidden, Process, Proto, Snapshot, SockState, Socket};
use crate::snapshot::{self, Owners, Request};
use crate::sys::SocketQuery;
use crate::sys::procfs::{self, Detail, ProcContext};

/// One socket in the listing.
#[derive(Debug, Clone, Serialize)]
pub struct LsRow {
    /// The socket as the kernel reports it, with its owners' pids.
    #[serde(flatten)]
    pub socket: Socket,
    /// Who can reach a listener: loopback only, all interfaces, or one address.
    pub exposure: Option<Exposure>,
    /// IANA service name registered for the local port and protocol.
    pub service: Option<&'static str>,
    /// Name (`comm`) of the first owning process.
    pub process: Option<Arc<str>>,
    /// User name (or uid) of the first owning process.
    pub user: Option<Arc<str>>,
}

/// The result of `ls`.
#[derive(Debug, Clone, Serialize)]
pub struct LsReport {
    /// True when every state was listed (`--all` or `--state`), false for listeners only.
    pub all_states: bool,
    /// Rows, sorted by port, protocol, address.
    pub sockets: Vec<LsRow>,
    /// Every process a row names, by pid (basic detail: no exe, cwd, ancestry or origin).
    pub processes: BTreeMap<u32, Process>,
    /// Whether owners were looked up at all (`--no-owners` turns it off).
    pub owners_looked_up: bool,
    /// What could not be seen.
    pub hidden: Hidden,
}

/// Turn the flags into a kernel query plus the states to keep.
fn query(args: &LsArgs) -> Result<(SocketQuery, Vec<SockState>, bool)> {
    let (tcp, udp) = match (args.tcp, args.udp) {
        (false, false) => (true, true),
        other => other,
    };
    let (ipv4, ipv6) = match (args.ipv4, args.ipv6) {
        (false, false) => (true, true),
        other => other,
    };
    let mut states = Vec::new();
    for text in &args.state {
        let state = SockState::parse(text).ok_or_else(|| {
            Error::bad_input(
                format!("unknown state '{}'", crate::text::terminal(text)),
                "expected one of listen, established, syn_sent, syn_recv, fin_wait1, fin_wait2, time_wait, close (unconn), close_wait, last_ack, closing, new_syn_recv",
            )
        })?;
        states.push(state);
    }
    let all = args.all || !states.is_empty();
    let mask = if !states.is_empty() {
        states
            .iter()
            .fold(0u32, |m, s| m | (1 << s.kernel_number()))
    } else if all {
        u32::MAX
    } else {
        (1 << SockState::Listen.kernel_number()) | (1 << SockState::Close.kernel_number())
    };
    let q = SocketQuery {
        tcp,
        udp,
        unix: args.unix,
        ipv4,
        ipv6,
        states: mask,
        port_range: None,
    };
    Ok((q, states, all))
}

/// Resolve `--user` (a name or a uid) to a uid.
fn user_uid(ctx: &ProcContext, user: &str) -> Result<u32> {
    if let Ok(uid) = user.parse::<u32>() {
        return Ok(uid);
    }
    ctx.uid_of(user).ok_or_else(|| {
        Error::bad_input(
            format!(
                "no user named '{}' on this machine",
                crate::text::terminal(user)
            ),
            "expected a user name from /etc/passwd or a numeric uid",
        )
    })
}

/// Run `ls`.
pub fn run(args: &LsArgs) -> Result<LsReport> {
    let (sockets, states, all) = query(args)?;
    let ctx = ProcContext::new();
    let uid_filter = args
        .user
        .as_deref()
        .map(|u| user_uid(&ctx, u))
        .transpose()?;
    let pid_filter = args.pid.as_deref().map(crate::input::pid).transpose()?;
    let owners = if args.no_owners {
        Owners::Skip
    } else if let Some(pid) = pid_filter {
        Owners::OnlyPids(vec![pid])
    } else if let Some(name) = &args.process {
        Owners::OnlyPids(procfs::pids_named(name)?)
    } else {
        Owners::All
    };
    let snap = snapshot::take(&Request {
        sockets,
        owners,
        detail: Detail::Basic,
        threads: 0,
    })?;
    Ok(build(snap, &states, all, uid_filter, !args.no_owners))
}

/// Filter, sort and annotate a snapshot into the report.
fn build(
    snap: Snapshot,
    states: &[SockState],
    all: bool,
    uid: Option<u32>,
    owners_looked_up: bool,
) -> LsReport {
    let Snapshot {
        sockets,
        processes: all_processes,
        hidden,
        ..
    } = snap;
    // Names are shared by every row of a process: one allocation per process, not per row.
    let names: HashMap<u32, (Arc<str>, Arc<str>)> = all_processes
        .values()
        .map(|p| {
            let user = p.user.clone().unwrap_or_else(|| p.uid.to_string());
            (p.pid, (Arc::from(p.comm.as_str()), Arc::from(user)))
        })
        .collect();
    let keep = |s: &Socket| {
        let state_ok = if !states.is_empty() {
            states.contains(&s.state)
        } else {
            all || s.is_listening()
        };
        let uid_ok = uid.is_none_or(|u| match s.pids.first() {
            Some(pid) => all_processes.get(pid).is_some_and(|p| p.uid == u),
            None => s.uid == u,
        });
        state_ok && uid_ok
    };
    let mut rows: Vec<LsRow> = sockets
        .into_iter()
        .filter(|s| keep(s))
        .map(|s| {
            let first = s.pids.first().and_then(|p| names.get(p));
            LsRow {
                exposure: s.local.ip().map(exposure),
                service: s
                    .port()
                    .filter(|_| s.proto != Proto::Unix)
                    .and_then(|p| iana_service(p, s.proto))
                    .map(|n| n.name),
                process: first.map(|(comm, _)| comm.clone()),
                user: first.map(|(_, user)| user.clone()),
                socket: s,
            }
        })
        .collect();
    rows.sort_unstable_by(|a, b| {
        let key = |r: &LsRow| {
            let s = &r.socket;
            (s.proto == Proto::Unix, s.port().unwrap_or(0), s.proto)
        };
        key(a)
            .cmp(&key(b))
            .then_with(|| a.socket.local.cmp(&b.socket.local))
            .then_with(|| a.socket.remote.cmp(&b.socket.remote))
    });
    let named: BTreeSet<u32> = rows
        .iter()
        .flat_map(|r| r.socket.pids.iter().copied())
        .collect();
    let mut all_processes = all_processes;
    let processes = named
        .into_iter()
        .filter_map(|pid| all_processes.remove(&pid).map(|p| (pid, p)))
        .collect();
    let mut hidden = hidden;
    hidden.sockets = rows.iter().filter(|r| r.socket.owner_hidden).count();
    if hidden.sockets == 0 && hidden.processes == 0 {
        hidden = Hidden::default();
    }
    LsReport {
        all_states: all,
        sockets: rows,
        processes,
        owners_looked_up,
        hidden,
    }
}
