//! The snapshot engine: sockets from the kernel joined to the processes that hold them.
//!
//! This is the one piece of logic every command stands on. It asks `sys` for sockets (filtered
//! in the kernel where it can), walks fd tables once (or, for a targeted question, only as far
//! as it must), reads details only for the processes a report names, and accounts for
//! everything it could not see in [`Hidden`].
//!
//! # Example
//! ```no_run
//! use portscope::snapshot::{self, Owners, Request};
//!
//! // Who holds TCP or UDP port 8080 (listeners and connections)?
//! let snap = snapshot::take(&Request::port(8080))?;
//! for socket in &snap.sockets {
//!     for pid in &socket.pids {
//!         let name = snap.process(*pid).map_or("?", |p| p.comm.as_str());
//!         println!("{} {} held by {pid} ({name})", socket.proto.as_str(), socket.local);
//!     }
//! }
//! if !snap.hidden.is_empty() {
//!     eprintln!("{} (hint: {})", snap.hidden.reason, snap.hidden.hint);
//! }
//! # Ok::<(), portscope::error::Error>(())
//! ```

mod attribute;
mod targeted;

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};
use crate::knowledge::addr_class::receives_for;
use crate::model::{Endpoint, Hidden, Proto, Snapshot, SockState, Socket};
use crate::sys::SocketQuery;
use crate::sys::procfs::{self, Detail, FdScan, InodeMap, InodeSet, PidEntry, ProcContext, Wanted};
use crate::sys::sock_diag;
use crate::target::{Host, Target};
use crate::threads::{joined, spawn_apart};

/// How far to go finding the owners of sockets.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Owners {
    /// Do not look for owners (fastest: the kernel's answer only).
    Skip,
    /// Walk every process's fd table once (listings).
    All,
    /// Walk only as far as needed for the sockets found: processes of the sockets' uids
    /// first, stop once each socket has an owner, then complete the owner set from the
    /// owners' parents and children (forked servers share sockets).
    Targeted,
    /// Only these processes (a `pid:N` or process-name question): sockets are kept only if
    /// one of them holds it.
    OnlyPids(Vec<u32>),
}

/// What to take a snapshot of.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Request {
    /// Which sockets to ask the kernel for.
    pub sockets: SocketQuery,
    /// How to find their owners.
    pub owners: Owners,
    /// How much to read about each owning process.
    pub detail: Detail,
    /// Threads for the fd walk (0 = one per core).
    pub threads: usize,
}

impl Request {
    /// Every TCP/UDP socket on `port` (local or remote), owners in full detail.
    pub fn port(port: u16) -> Request {
        Request {
            sockets: SocketQuery {
                port_range: Some((port, port)),
                ..SocketQuery::default()
            },
            owners: Owners::Targeted,
            detail: Detail::Full,
            threads: 0,
        }
    }

    /// Listening TCP sockets and bound UDP sockets, owners in basic detail.
    pub fn listeners() -> Request {
        Request {
            sockets: SocketQuery {
                states: (1 << SockState::Listen.kernel_number())
                    | (1 << SockState::Close.kernel_number()),
                ..SocketQuery::default()
            },
            owners: Owners::All,
            detail: Detail::Basic,
            threads: 0,
        }
    }
}

/// Take a snapshot.
pub fn take(req: &Request) -> Result<Snapshot> {
    take_inner(req, None)
}

/// What a caller does with the sockets while their owners are read (see [`take_beside`]).
pub type Beside<'a> = &'a mut dyn FnMut(Vec<Socket>);

/// [`take`], handing the sockets (owners attached, hidden ones settled) to `beside` on this
/// thread while the owners' details are read on another: the snapshot comes back with its
/// processes and no sockets. `ls` makes and sorts its rows there (~6 ms at 30k sockets with
/// cold caches), which had waited for the reading (~2.5 ms).
pub fn take_beside(req: &Request, beside: Beside<'_>) -> Result<Snapshot> {
    take_inner(req, Some(beside))
}

/// [`take`] or [`take_beside`].
fn take_inner(req: &Request, beside_sockets: Option<Beside<'_>>) -> Result<Snapshot> {
    let taken_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let threads = if req.threads == 0 {
        std::thread::available_parallelism().map_or(1, usize::from)
    } else {
        req.threads
    };
    let taken = |beside| Taken {
        threads,
        beside,
        taken_at,
    };
    let (sockets, scan) = match &req.owners {
        Owners::Skip => (sock_diag::dump(&req.sockets)?, FdScan::default()),
        Owners::Targeted => targeted::dump_and_scan(&req.sockets, threads)?,
        // The walk does not depend on the dump, so the two run side by side where they may;
        // see `split_dump`.
        Owners::All | Owners::OnlyPids(_) => {
            let (first, beside) = split_dump(&req.sockets, threads);
            let Some(beside) = beside else {
                let sockets = dump_all(&first)?;
                // Every socket is known before the walk: only theirs are recorded (at 100k
                // sockets, a third of the fds for the listener query).
                let inodes: InodeSet = sockets.iter().map(|s| s.inode).collect();
                let wanted = Wanted {
                    inodes: &inodes,
                    stop_early: false,
                };
                let all = AtomicBool::new(true);
                let scan = independent_scan(&req.owners, threads, Some(&wanted), &all)?;
                return finish(req, sockets, scan, taken(None), beside_sockets);
            };
            // The connection table's dump starts first, on another CPU: the other part is
            // dumped meanwhile, then walked beside it. The dump's thread then puts the two
            // parts together while the walk goes on.
            let dumped = AtomicBool::new(false);
            let (sockets, scan) = std::thread::scope(|scope| {
                let (give, first_part) = std::sync::mpsc::sync_channel::<Vec<Socket>>(1);
                let (beside, dumped) = (&beside, &dumped);
                let dump = spawn_apart(scope, move || -> Result<Vec<Socket>> {
                    let later = sock_diag::dump(beside);
                    dumped.store(true, Ordering::Release);
                    let later = later?;
                    // No first part when its dump failed: that error is the answer.
                    Ok(first_part
                        .recv()
                        .map_or(Vec::new(), |first| in_order(first, later)))
                });
                let _ = give.send(dump_all(&first)?);
                let scan = independent_scan(&req.owners, threads, None, dumped);
                let sockets = joined(dump)?;
                Ok::<_, Error>((sockets, scan?))
            })?;
            return finish(req, sockets, scan, taken(Some(&beside)), beside_sockets);
        }
    };
    finish(req, sockets, scan, taken(None), beside_sockets)
}

/// How a snapshot was taken, for [`finish`]: the walk's threads, the part of the dump that
/// ran beside the walk (see [`split_dump`]), and when.
struct Taken<'a> {
    threads: usize,
    beside: Option<&'a SocketQuery>,
    taken_at: f64,
}

/// What `queries` ask for, in their order: the first dump's vector, grown, not a copy (10k
/// sockets copied were 300 page faults).
fn dump_all(queries: &[SocketQuery]) -> Result<Vec<Socket>> {
    let mut sockets = Vec::new();
    for q in queries {
        let part = sock_diag::dump(q)?;
        if sockets.is_empty() {
            sockets = part;
        } else {
            sockets.extend(part);
        }
    }
    Ok(sockets)
}

/// The two parts of a split dump (see [`split_dump`]) in the kernel's order: TCP listeners,
/// the other TCP sockets (`later`), then the rest.
fn in_order(mut first: Vec<Socket>, mut later: Vec<Socket>) -> Vec<Socket> {
    let tcp_end = first
        .iter()
        .position(|s| s.proto != Proto::Tcp)
        .unwrap_or(first.len());
    // The listeners go into the bigger part rather than the other way round: the smaller is
    // the one given back (at 100k sockets, 4 MB not 10 at the peak).
    let rest = first.split_off(tcp_end);
    later.splice(0..0, first);
    later.extend(rest);
    later
}

/// The dump for a full walk, in two parts: what the kernel dumps quickly (TCP listeners, then
/// UDP and unix sockets), before the walk; and the TCP sockets in every other state (the bulk
/// on a busy machine, one pass over the connection table), beside the walk when it has two
/// threads or more. `None` when nothing is left for beside.
///
/// Why not all of it beside: a socket in a dump complete before the walk began was held by
/// its holders when each was read, so when no holder is found (a kernel's socket, one an
/// unreadable init holds) no process needs reading again. A socket from the dump beside the
/// walk may have been opened by a process read before that dump was complete, and such
/// processes are read again for it (`attribute::second_look`). Connections no process holds
/// are rare (their inode is 0 once their process let go); listeners no process may be seen
/// to hold are common (an init's, a kernel's).
fn split_dump(q: &SocketQuery, threads: usize) -> (Vec<SocketQuery>, Option<SocketQuery>) {
    let listen = 1 << SockState::Listen.kernel_number();
    // CLOSE alone finds no TCP socket (the listener query asks for it, for unconnected UDP),
    // so it leaves nothing to dump beside the walk; with the other states it stays, since the
    // kernel reports the bound-only TCP sockets it finds in CLOSE.
    let close = 1 << SockState::Close.kernel_number();
    let others_states = q.states & !listen;
    if threads < 2 || !q.tcp || others_states & !close == 0 {
        return (vec![q.clone()], None);
    }
    let tcp_listeners = SocketQuery {
        udp: false,
        unix: false,
        states: q.states & listen,
        ..q.clone()
    };
    let others = SocketQuery {
        tcp: false,
        ..q.clone()
    };
    let beside = SocketQuery {
        udp: false,
        unix: false,
        states: others_states,
        ..q.clone()
    };
    let first = [tcp_listeners, others]
        .into_iter()
        .filter(|p| (p.tcp || p.udp || p.unix) && p.states != 0)
        .collect();
    (first, Some(beside))
}

/// Attach owners to a dumped snapshot, and join (see [`join`]).
fn finish(
    req: &Request,
    mut sockets: Vec<Socket>,
    mut scan: FdScan,
    taken: Taken<'_>,
    beside_sockets: Option<Beside<'_>>,
) -> Result<Snapshot> {
    let Taken {
        threads,
        beside,
        taken_at,
    } = taken;
    attach_owners(&mut sockets, &mut scan.owners);
    match req.owners {
        Owners::OnlyPids(_) => sockets.retain(|s| !s.pids.is_empty()),
        Owners::Skip => {}
        Owners::All | Owners::Targeted => {
            attribute::second_look(&mut sockets, &mut scan, threads, beside);
        }
    }
    let looked = if req.owners == Owners::Skip {
        Looked::Not
    } else {
        Looked::Walked {
            again: Some(&req.sockets),
        }
    };
    let joined = Joined {
        looked,
        detail: req.detail,
        taken_at,
        threads,
    };
    Ok(join(sockets, scan, joined, beside_sockets))
}

/// Owners for sockets already dumped: the targeted walk (see [`Owners::Targeted`]) over just
/// these sockets. Watchers use it so that a tick in which nothing new appeared costs only the
/// kernel's dump, and a tick with one new listener walks only until its owner is found.
pub fn with_owners(sockets: Vec<Socket>, detail: Detail) -> Result<Snapshot> {
    let taken_at = crate::time::now();
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let mut sockets = sockets;
    let mut scan = targeted::scan(&sockets, None, threads)?;
    attach_owners(&mut sockets, &mut scan.owners);
    attribute::second_look(&mut sockets, &mut scan, threads, None);
    let joined = Joined {
        looked: Looked::Walked { again: None },
        detail,
        taken_at,
        threads,
    };
    Ok(join(sockets, scan, joined, None))
}

/// Whether owners were looked for, and the query to ask the kernel again about sockets that
/// seem hidden (when there is one).
enum Looked<'a> {
    /// The kernel's answer only.
    Not,
    /// The fd tables were walked.
    Walked { again: Option<&'a SocketQuery> },
}

/// What [`join`] is to do: whether owners were looked for, the detail to read them in, when
/// the snapshot was taken, and on how many threads.
struct Joined<'a> {
    looked: Looked<'a>,
    detail: Detail,
    taken_at: f64,
    threads: usize,
}

/// Tell hidden owners from none among sockets with their owners attached (see [`attribute`]),
/// and read the owning processes (on `threads` threads). With `beside`, the sockets are handed
/// to it, once the hidden ones are settled, while the processes are read.
fn join(
    mut sockets: Vec<Socket>,
    scan: FdScan,
    joined: Joined<'_>,
    beside: Option<Beside<'_>>,
) -> Snapshot {
    let Joined {
        looked,
        detail,
        taken_at,
        threads,
    } = joined;
    let netns = procfs::self_netns();
    for s in &mut sockets {
        s.netns = netns;
    }
    let ctx = ProcContext::new();
    let owner_pids: foldhash::HashSet<u32> = sockets
        .iter()
        .flat_map(|s| s.pids.iter().copied())
        .collect();
    let owner_pids: Vec<u32> = owner_pids.into_iter().collect();
    // Unreadable processes that are not exiting: the ones that may hide something.
    let mut unreadable = Vec::new();
    let mut again = None;
    if let Looked::Walked { again: query } = looked {
        let suspects = attribute::suspects(&scan.unreadable);
        attribute::classify(&mut sockets, &suspects);
        unreadable = suspects.into_iter().map(|(e, _)| e).collect();
        again = query.filter(|_| sockets.iter().any(|s| s.owner_hidden));
    }
    let (processes, hidden) = match beside {
        Some(beside) => {
            if let Some(query) = again {
                attribute::recheck_hidden(&mut sockets, query);
            }
            let hidden = hidden_summary(&sockets, &unreadable);
            let sockets = std::mem::take(&mut sockets);
            if owner_pids.is_empty() {
                beside(sockets);
                (Vec::new(), hidden)
            } else {
                let processes =
                    procfs::processes_beside(&ctx, &owner_pids, detail, threads, || {
                        beside(sockets)
                    });
                (processes, hidden)
            }
        }
        None => {
            let processes = match again {
                // The owners are read while the kernel is asked again.
                Some(query) => procfs::processes_beside(&ctx, &owner_pids, detail, threads, || {
                    attribute::recheck_hidden(&mut sockets, query)
                }),
                None => procfs::processes(&ctx, &owner_pids, detail, threads),
            };
            (processes, hidden_summary(&sockets, &unreadable))
        }
    };
    let processes = processes.into_iter().map(|p| (p.pid, p)).collect();
    Snapshot {
        sockets,
        processes,
        hidden,
        netns,
        euid: rustix::process::geteuid().as_raw(),
        taken_at,
    }
}

/// Give each socket its holders, moved out of the walk's map (a clone was an allocation
/// per socket). An inode listed twice (a socket that changed state between two dumps) has its
/// holders copied from its first row.
fn attach_owners(sockets: &mut [Socket], owners: &mut InodeMap<Vec<u32>>) {
    for i in 0..sockets.len() {
        let inode = sockets[i].inode;
        let Some(pids) = owners.get_mut(&inode).filter(|_| inode != 0) else {
            continue;
        };
        // The walk records every inode with at least one pid: empty means moved already.
        let pids = if pids.is_empty() {
            sockets[..i]
                .iter()
                .find(|s| s.inode == inode)
                .map(|s| s.pids.clone())
                .unwrap_or_default()
        } else {
            std::mem::take(pids)
        };
        sockets[i].pids = pids;
    }
}

/// A walk of every process, or only the given pids, for every socket or only `wanted`'s.
fn independent_scan(
    owners: &Owners,
    threads: usize,
    wanted: Option<&Wanted<'_>>,
    dumped: &AtomicBool,
) -> Result<FdScan> {
    let pids = procfs::list_pids()?;
    Ok(match owners {
        Owners::OnlyPids(only) => {
            let entries: Vec<PidEntry> =
                pids.into_iter().filter(|e| only.contains(&e.pid)).collect();
            procfs::scan_fds_beside(&entries, wanted, threads, dumped)
        }
        _ => procfs::scan_fds_beside(&pids, wanted, threads, dumped),
    })
}

/// Describe what could not be seen, and count what no process holds.
fn hidden_summary(sockets: &[Socket], unreadable: &[PidEntry]) -> Hidden {
    let ownerless = sockets.iter().filter(|s| s.ownerless).count();
    if unreadable.is_empty() {
        return Hidden {
            ownerless,
            ..Hidden::default()
        };
    }
    let mut uids: Vec<u32> = unreadable.iter().map(|e| e.uid).collect();
    uids.sort_unstable();
    uids.dedup();
    let uid_list = uids
        .iter()
        .take(5)
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    Hidden {
        sockets: sockets.iter().filter(|s| s.owner_hidden).count(),
        ownerless,
        processes: unreadable.len(),
        reason: format!(
            "the file descriptors of {} process(es) (uid {uid_list}) could not be read",
            unreadable.len()
        ),
        hint: if rustix::process::geteuid().is_root() {
            "even root was refused: a security module (Yama ptrace scope, AppArmor, SELinux) or another user namespace protects them; run portscope inside that namespace or container to see them".into()
        } else {
            "to see them, run as root (sudo portscope …) or grant CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH (sudo setcap cap_sys_ptrace,cap_dac_read_search+ep \"$(command -v portscope)\")".into()
        },
    }
}

/// Addresses a target's host stands for; `None` = any address. A name stands for every
/// address it resolves to here, and `localhost` for both loopback addresses, as curl and
/// browsers take it (an unresolvable name stands for none: see [`name_addrs`]).
pub fn target_addrs(target: &Target) -> Option<Vec<IpAddr>> {
    match target {
        Target::Addr {
            host: Host::Ip(ip), ..
        } => Some(vec![*ip]),
        Target::Addr {
            host: Host::Name(name),
            ..
        } => Some(name_addrs(name).unwrap_or_default()),
        _ => None,
    }
}

/// Every address `name` stands for (see [`target_addrs`]), or the error for a name that does
/// not resolve.
pub fn name_addrs(name: &str) -> crate::error::Result<Vec<IpAddr>> {
    let res = resolve_name(name)?;
    Ok(crate::knowledge::clients::as_curl_dials(
        name,
        &res.addresses,
    ))
}

/// How `name` resolves here, or the error for a name that does not (`localhost` always
/// resolves: it is loopback even where the resolver does not say so, RFC 6761).
pub fn resolve_name(name: &str) -> crate::error::Result<crate::sys::sysctl::Resolution> {
    let res = crate::sys::sysctl::resolve(name);
    if !resolves(&res) {
        return Err(unresolved(&res));
    }
    Ok(res)
}

/// Whether the name `res` answers for stands for any address here: it resolved, or it is
/// `localhost`, which is loopback whatever the resolver says (RFC 6761).
pub fn resolves(res: &crate::sys::sysctl::Resolution) -> bool {
    !res.addresses.is_empty() || res.name.eq_ignore_ascii_case("localhost")
}

/// A name that does not resolve is an error, never "nothing holds it": bad input (exit 2)
/// when the resolver says the name does not exist, a failure (exit 3) when the resolver
/// itself could not answer.
pub fn unresolved(res: &crate::sys::sysctl::Resolution) -> crate::error::Error {
    let reason = res.error.as_deref().unwrap_or("no address");
    let transient = ["Temporary failure", "System error", "try again"]
        .iter()
        .any(|t| reason.contains(t));
    if transient {
        return crate::error::Error::io(
            format!("resolving {}", res.name),
            std::io::Error::other(reason.to_string()),
        );
    }
    crate::error::Error::bad_input(
        format!(
            "{} does not resolve here: {reason}",
            crate::text::echo(&res.name)
        ),
        "give a name this machine resolves (getent hosts NAME shows what it says), an IP address, or a port, e.g. 127.0.0.1:8080",
    )
}

/// Whether a socket bound to `local` receives connections for any of `addrs`.
pub fn serves(local: &Endpoint, addrs: &[IpAddr]) -> bool {
    local
        .ip()
        .is_some_and(|ip| addrs.iter().any(|a| receives_for(ip, *a)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dump_beside_the_walk_holds_only_tcp_beyond_listeners() {
        let bit = |s: SockState| 1u32 << s.kernel_number();
        // Listeners (LISTEN for TCP, CLOSE for UDP): nothing is left for beside the walk.
        let listeners = Request::listeners().sockets;
        assert_eq!(split_dump(&listeners, 2), (vec![listeners.clone()], None));
        // Every socket: TCP listeners, then UDP, before; the other TCP states beside.
        let all = SocketQuery::default();
        let (first, beside) = split_dump(&all, 2);
        assert_eq!(first.len(), 2);
        assert!(first[0].tcp && !first[0].udp && first[0].states == bit(SockState::Listen));
        assert!(!first[1].tcp && first[1].udp && first[1].states == u32::MAX);
        let beside = beside.unwrap_or_default();
        assert!(beside.tcp && !beside.udp && !beside.unix);
        assert_eq!(beside.states & bit(SockState::Listen), 0);
        assert_ne!(beside.states & bit(SockState::Established), 0);
        // CLOSE stays: the kernel reports the bound-only TCP sockets in it.
        assert_ne!(beside.states & bit(SockState::Close), 0);
        // One thread: one dump, before the walk.
        assert_eq!(split_dump(&all, 1), (vec![all.clone()], None));
    }
}
