//! `portscope ls`: listening sockets (or, with `--all`, every socket) with exposure, owning
//! processes and IANA service names — the `ss -tulpn` view, with the hidden owners counted.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;

use crate::containers::{self, ContainerRef};
use crate::error::{Error, Result};
#[cfg(feature = "cli")]
use crate::exit::Exit;
use crate::knowledge::addr_class::{Exposure, exposure};
use crate::knowledge::iana::iana_service;
use crate::model::{Endpoint, Hidden, Process, Proto, Snapshot, SockState, Socket};
use crate::snapshot::{self, Owners, Request};
use crate::sys::SocketQuery;
use crate::sys::procfs::{self, Detail, ProcContext};
use crate::sys::services::{self, Services};

#[cfg(feature = "cli")]
use super::{Report, Ui};

/// Whose sockets `ls --user` keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum User {
    /// A numeric uid.
    Uid(u32),
    /// A user name, looked up through NSS when `ls` runs.
    Name(String),
}

/// What `ls` lists. The default is `portscope ls` with no flags: every listening TCP and
/// UDP socket, IPv4 and IPv6, with its owners.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Every state, not only listeners.
    pub all: bool,
    /// Only TCP (with `udp` too, or with neither: both protocols).
    pub tcp: bool,
    /// Only UDP (with `tcp` too, or with neither: both protocols).
    pub udp: bool,
    /// Include unix-domain sockets.
    pub unix: bool,
    /// Only IPv4 (with `ipv6` too, or with neither: both families).
    pub ipv4: bool,
    /// Only IPv6 (with `ipv4` too, or with neither: both families).
    pub ipv6: bool,
    /// Only sockets in these states (none: listeners, or every state with `all`); implies
    /// `all`.
    pub states: Vec<SockState>,
    /// Only sockets held by processes of this user.
    pub user: Option<User>,
    /// Only sockets held by this process id.
    pub pid: Option<u32>,
    /// Only sockets held by processes with this name (comm, or the file name of the first
    /// argument).
    pub process: Option<String>,
    /// Do not look up owning processes (the kernel's view only).
    pub no_owners: bool,
}

/// One socket in the listing.
#[derive(Debug, Clone, Serialize)]
pub struct LsRow {
    /// The socket as the kernel reports it, with its owners' pids.
    #[serde(flatten)]
    pub socket: Socket,
    /// Who can reach a listener: loopback only, all interfaces, or one address.
    pub exposure: Option<Exposure>,
    /// Service name of the local port and protocol: the system's (`/etc/services`, as `ss`
    /// says it), else the IANA registry's.
    pub service: Option<Arc<str>>,
    /// Name (`comm`) of the first owning process.
    pub process: Option<Arc<str>>,
    /// User name (or uid) of the first owning process; for a hidden owner, of the socket's
    /// uid (the kernel's, so known even when the process is not).
    pub user: Option<Arc<str>>,
    /// For a listener held for a container: the container (as in `who`). Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<Box<ContainerRef>>,
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
    /// Why a listener held for a container has no container named, in one sentence (as in
    /// `who`). Absent when nothing is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_note: Option<String>,
    /// Ports published through NAT that no socket here holds: by a container its engine
    /// names, or by a DNAT rule alone. Absent when there are none (and with `--pid`,
    /// `--process`, `--user`, which no NAT rule matches).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub published: Vec<containers::NatPublished>,
}

/// Turn the options into a kernel query plus whether every state is listed.
fn query(opts: &Options) -> (SocketQuery, bool) {
    let (tcp, udp) = match (opts.tcp, opts.udp) {
        (false, false) => (true, true),
        other => other,
    };
    let (ipv4, ipv6) = match (opts.ipv4, opts.ipv6) {
        (false, false) => (true, true),
        other => other,
    };
    let states = &opts.states;
    let all = opts.all || !states.is_empty();
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
        unix: opts.unix,
        ipv4,
        ipv6,
        states: mask,
        port_range: None,
    };
    (q, all)
}

/// Resolve `--user` (a name or a uid) to a uid.
fn user_uid(ctx: &ProcContext, user: &User) -> Result<u32> {
    let user = match user {
        User::Uid(uid) => return Ok(*uid),
        User::Name(name) => name,
    };
    ctx.uid_of(user).ok_or_else(|| {
        Error::bad_input(
            format!(
                "no user named '{}' on this machine",
                crate::text::echo(user)
            ),
            "expected a user name this system knows (through NSS: /etc/passwd, LDAP, SSSD, systemd) or a numeric uid",
        )
    })
}

/// Run `ls`: the listing always answers (exit 0).
#[cfg(feature = "cli")]
pub fn run(opts: &Options, _ui: &dyn Ui) -> Result<(Report, Exit)> {
    list(opts).map(|r| (Report::Ls(Box::new(r)), Exit::Success))
}

/// The listing itself: sockets with their owners, and what could not be seen.
pub fn list(opts: &Options) -> Result<LsReport> {
    let (sockets, all) = query(opts);
    let ctx = ProcContext::new();
    let uid_filter = opts.user.as_ref().map(|u| user_uid(&ctx, u)).transpose()?;
    let owners = if opts.no_owners {
        Owners::Skip
    } else if let Some(pid) = opts.pid {
        Owners::OnlyPids(vec![pid])
    } else if let Some(name) = &opts.process {
        Owners::OnlyPids(procfs::pids_named(name)?)
    } else {
        Owners::All
    };
    let nat_wanted = opts.pid.is_none()
        && opts.process.is_none()
        && opts.user.is_none()
        && (opts.states.is_empty() || opts.states.contains(&SockState::Listen));
    // Without `--user` (whose filter needs the owners), the rows are made and sorted while the
    // owners are read; their names are filled in after.
    let services = services::read();
    let names = Names {
        users: &ctx,
        services: &services,
    };
    let mut made: Option<Vec<LsRow>> = None;
    let mut rows_beside = |sockets: Vec<Socket>| {
        let keep = |s: &Socket| kept_state(s, &opts.states, all);
        made = Some(make_rows(sockets, keep, |s| row(s, None, &names)));
    };
    // The engines whose socket exists, and the DNAT rules, are read while the kernel is.
    let (snap, mut engines, dnat) = std::thread::scope(|scope| {
        let side = scope.spawn(|| {
            if !nat_wanted {
                return (containers::Engines::default(), Vec::new());
            }
            let dnat = crate::sys::firewall::nat::dnat_rules();
            (containers::ask_present(), dnat)
        });
        let req = Request {
            sockets: sockets.clone(),
            owners,
            detail: Detail::Basic,
            threads: 0,
        };
        let snap = if uid_filter.is_none() {
            snapshot::take_beside(&req, &mut rows_beside)
        } else {
            snapshot::take(&req)
        };
        let (engines, dnat) = side.join().unwrap_or_default();
        (snap, engines, dnat)
    });
    let snap = snap?;
    let wanted = Wanted {
        states: &opts.states,
        all,
        uid: uid_filter,
    };
    let mut report = build(snap, made, &wanted, !opts.no_owners, &names);
    let attached = containers::attach_with(
        report.sockets.iter().map(|r| &r.socket),
        &report.processes,
        &mut engines,
    );
    for row in &mut report.sockets {
        row.container = attached
            .by_inode
            .get(&row.socket.inode)
            .cloned()
            .map(Box::new);
    }
    report.container_note = attached.note;
    if nat_wanted {
        let listeners: Vec<&Socket> = report
            .sockets
            .iter()
            .map(|r| &r.socket)
            .filter(|s| s.is_listening())
            .collect();
        let family_ok =
            |ip: std::net::IpAddr| (ip.is_ipv4() && sockets.ipv4) || (ip.is_ipv6() && sockets.ipv6);
        report.published = containers::unheld(&engines, &dnat, &listeners, |_, proto| {
            (proto == Proto::Tcp && sockets.tcp) || (proto == Proto::Udp && sockets.udp)
        });
        report.published.retain(|p| family_ok(p.host_ip));
    }
    Ok(report)
}

/// Sort rows by port, protocol, then local and remote address. Rows are large (~200 bytes):
/// the sort moves their indices, then each row moves once, into its place.
fn sort_rows(rows: &mut [LsRow]) {
    // The first keys packed in a number beside each index: most comparisons end there
    // without reaching into the rows (6 MB of them at 30k, in no useful order).
    let key = |s: &Socket| {
        (u64::from(s.proto == Proto::Unix) << 32)
            | (u64::from(s.port().unwrap_or(0)) << 8)
            | s.proto as u64
    };
    let mut keyed: Vec<(u64, Option<u128>, usize)> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (key(&r.socket), ipv4_key(&r.socket), i))
        .collect();
    keyed.sort_unstable_by(|&(ka, fa, a), &(kb, fb, b)| {
        ka.cmp(&kb).then_with(|| match (fa, fb) {
            (Some(fa), Some(fb)) => fa.cmp(&fb),
            _ => {
                let (a, b) = (&rows[a].socket, &rows[b].socket);
                a.local.cmp(&b.local).then_with(|| a.remote.cmp(&b.remote))
            }
        })
    });
    let mut order: Vec<usize> = keyed.into_iter().map(|(_, _, i)| i).collect();
    // `order[i]` is the row that belongs at `i`. Follow each cycle from its first position:
    // the row first there travels along the cycle, each swap putting one row in its place.
    for start in 0..order.len() {
        let mut at = start;
        loop {
            let from = order[at];
            order[at] = at;
            if from == start {
                break;
            }
            rows.swap(at, from);
            at = from;
        }
    }
}

/// For a socket whose ends are both IPv4 without an interface (or whose remote end is
/// absent), the rest of the sort's order in one number: the local address, then the remote
/// end (none first), its address, its port. Its local port is in the first key already.
/// `None` for any other socket, which is compared by its endpoints.
fn ipv4_key(s: &Socket) -> Option<u128> {
    let v4 = |e: &Endpoint| match e {
        Endpoint::Inet {
            addr: IpAddr::V4(a),
            port,
            ifindex: None,
        } => Some((u32::from(*a), *port)),
        _ => None,
    };
    let (local, _) = v4(&s.local)?;
    let remote = match &s.remote {
        None => 0,
        Some(e) => {
            let (addr, port) = v4(e)?;
            1 << 48 | u128::from(addr) << 16 | u128::from(port)
        }
    };
    Some(u128::from(local) << 49 | remote)
}

/// Where a row's names come from: users through NSS, services from the system first.
struct Names<'a> {
    users: &'a ProcContext,
    services: &'a Services,
}

impl Names<'_> {
    /// The service on `port`/`proto`: the system's name, else the IANA registry's.
    fn service(&self, port: u16, proto: Proto) -> Option<Arc<str>> {
        self.services
            .name(port, proto)
            .or_else(|| iana_service(port, proto).map(|s| Arc::from(s.name)))
    }
}

/// Sockets made into rows at a time (see [`build`]).
const ROWS_AT_A_TIME: usize = 8192;

/// Which sockets `ls` lists: their states, and whose they are.
struct Wanted<'a> {
    /// `--state`: only these (none: listeners, or every state with `all`).
    states: &'a [SockState],
    /// Every state (`--all`).
    all: bool,
    /// `--user`: only sockets whose first owner (or, with none, the socket) has this uid.
    uid: Option<u32>,
}

/// Whether `s` is in a state `ls` lists.
fn kept_state(s: &Socket, states: &[SockState], all: bool) -> bool {
    if !states.is_empty() {
        states.contains(&s.state)
    } else {
        all || s.is_listening()
    }
}

/// The process name and user name of each process, shared by every row of a process: one
/// allocation per process, not per row.
type ProcessNames = foldhash::HashMap<u32, (Arc<str>, Arc<str>)>;

/// `s` as a row; `first`: its first owner's names, when known.
fn row(s: Socket, first: Option<&(Arc<str>, Arc<str>)>, names_of: &Names<'_>) -> LsRow {
    LsRow {
        exposure: s.local.ip().map(exposure),
        service: s
            .port()
            .filter(|_| s.proto != Proto::Unix)
            .and_then(|p| names_of.service(p, s.proto)),
        process: first.map(|(comm, _)| comm.clone()),
        // A hidden owner still has the socket's uid, from the kernel.
        user: first.map(|(_, user)| user.clone()).or_else(|| {
            s.owner_hidden.then(|| {
                let name = names_of.users.user_name(s.uid);
                Arc::from(name.unwrap_or_else(|| s.uid.to_string()))
            })
        }),
        container: None,
        socket: s,
    }
}

/// The rows of the sockets `keep` keeps, made by `row`, sorted. Counted first (grown by
/// doubling, 100k rows took 28 MB instead of 22), and made from the back a run at a time, the
/// sockets' memory given back as they go (they took 15 MB more while the rows were made).
fn make_rows(
    sockets: Vec<Socket>,
    keep: impl Fn(&Socket) -> bool,
    row: impl Fn(Socket) -> LsRow,
) -> Vec<LsRow> {
    let mut rows: Vec<LsRow> = Vec::with_capacity(sockets.iter().filter(|s| keep(s)).count());
    let mut sockets = sockets;
    while !sockets.is_empty() {
        let from = sockets.len().saturating_sub(ROWS_AT_A_TIME);
        rows.extend(sockets.drain(from..).filter(|s| keep(s)).map(&row));
        sockets.shrink_to_fit();
    }
    sort_rows(&mut rows);
    rows
}

/// Filter, sort and annotate a snapshot into the report; `made`: its rows, made already
/// without their owners' names (see [`list`]).
fn build(
    snap: Snapshot,
    made: Option<Vec<LsRow>>,
    wanted: &Wanted<'_>,
    owners_looked_up: bool,
    names_of: &Names<'_>,
) -> LsReport {
    let Snapshot {
        sockets,
        processes: all_processes,
        hidden,
        ..
    } = snap;
    let names: ProcessNames = all_processes
        .values()
        .map(|p| {
            let user = p.user.clone().unwrap_or_else(|| p.uid.to_string());
            (p.pid, (Arc::from(p.comm.as_str()), Arc::from(user)))
        })
        .collect();
    let rows = match made {
        Some(mut rows) => {
            for r in &mut rows {
                if let Some((comm, user)) = r.socket.pids.first().and_then(|p| names.get(p)) {
                    r.process = Some(comm.clone());
                    r.user = Some(user.clone());
                }
            }
            rows
        }
        None => {
            let keep = |s: &Socket| {
                let uid_ok = wanted.uid.is_none_or(|u| match s.pids.first() {
                    Some(pid) => all_processes.get(pid).is_some_and(|p| p.uid == u),
                    None => s.uid == u,
                });
                kept_state(s, wanted.states, wanted.all) && uid_ok
            };
            make_rows(sockets, keep, |s| {
                let first = s.pids.first().and_then(|p| names.get(p));
                row(s, first, names_of)
            })
        }
    };
    let named: BTreeSet<u32> = rows
        .iter()
        .flat_map(|r| r.socket.pids.iter().copied())
        .collect();
    let mut all_processes = all_processes;
    let processes = named
        .into_iter()
        .filter_map(|pid| all_processes.remove(&pid).map(|p| (pid, p)))
        .collect();
    let hidden = hidden.recount(rows.iter().map(|r| &r.socket));
    LsReport {
        all_states: wanted.all,
        sockets: rows,
        processes,
        owners_looked_up,
        hidden,
        container_note: None,
        published: Vec::new(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::model::Family;

    fn row(proto: Proto, local: Endpoint, remote: Option<Endpoint>) -> LsRow {
        LsRow {
            socket: Socket {
                proto,
                family: Family::Ipv4,
                state: SockState::Established,
                local,
                remote,
                inode: 1,
                peer_inode: None,
                uid: 0,
                recv_q: 0,
                send_q: 0,
                netns: None,
                pids: Vec::new(),
                owner_hidden: false,
                ownerless: false,
            },
            exposure: None,
            service: None,
            process: None,
            user: None,
            container: None,
        }
    }

    #[test]
    fn the_packed_keys_sort_as_the_endpoints_do() {
        let ips: [IpAddr; 4] = [
            "127.0.0.1".parse().unwrap(),
            "10.0.0.2".parse().unwrap(),
            "::1".parse().unwrap(),
            "0.0.0.0".parse().unwrap(),
        ];
        let ends = |seed: usize| {
            let ip = ips[seed % ips.len()];
            let mut e = Endpoint::inet(ip, [80, 443, 8080][seed / 4 % 3]);
            if seed.is_multiple_of(7)
                && let Endpoint::Inet { ifindex, .. } = &mut e
            {
                *ifindex = Some(2);
            }
            e
        };
        let mut rows = Vec::new();
        for i in 0..600 {
            let remote = (i % 5 != 0).then(|| ends(i * 31 + 3));
            let proto = [Proto::Tcp, Proto::Udp][i / 300];
            rows.push(row(proto, ends(i * 17 + i / 3), remote));
        }
        rows.push(row(
            Proto::Unix,
            Endpoint::Unix {
                path: "/run/x".into(),
            },
            None,
        ));
        let mut want: Vec<Socket> = rows.iter().map(|r| r.socket.clone()).collect();
        want.sort_by(|a, b| {
            (a.proto == Proto::Unix, a.port(), a.proto as u8)
                .cmp(&(b.proto == Proto::Unix, b.port(), b.proto as u8))
                .then_with(|| a.local.cmp(&b.local))
                .then_with(|| a.remote.cmp(&b.remote))
        });
        sort_rows(&mut rows);
        let got: Vec<Socket> = rows.into_iter().map(|r| r.socket).collect();
        assert_eq!(got, want);
    }
}
