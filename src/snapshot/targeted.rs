//! The targeted question (`who 8080`, `kill`, `check`): the sockets on a port and only as much
//! of the fd walk as their owners need.
//!
//! Its time goes to the kernel more than to the walk: at 30k sockets the port-filtered dump
//! still visits every socket twice, once in the connection tables and once in the bind table
//! for the sockets bound but idle (~4 ms each when alone), while the walk stops at the owner.
//! So where there are two cores the bind-table walk runs alone on the second; on the first,
//! the process list (pids, uids, and each one's parent and whether it is a kernel thread),
//! the rest of the dump and then the walk for the sockets it found (on the other cores),
//! without waiting for the bind table. The bound-only sockets that one finds, which are rare, get a
//! walk of their own once it is done, so none of their owners is read before the kernel
//! listed the socket. A process started after the list is read by the second look
//! ([`super::attribute::second_look`]) like any other latecomer.

use std::collections::{HashMap, HashSet};

use crate::error::Result;
use crate::model::{Proto, SockState, Socket};
use crate::sys::SocketQuery;
use crate::sys::procfs::{self, FdScan, InodeSet, Lineage, PidEntry, Wanted};
use crate::sys::sock_diag;
use crate::threads::{joined, spawn_apart};

/// The sockets `q` asks for, in the kernel's order (TCP listeners, the bound-only ones, the
/// other TCP sockets, then the rest), and the walk for their owners.
pub(super) fn dump_and_scan(q: &SocketQuery, threads: usize) -> Result<(Vec<Socket>, FdScan)> {
    let Some((rest, bound)) = sock_diag::bound_apart(q).filter(|_| threads >= 2) else {
        let sockets = sock_diag::dump(q)?;
        let scan = scan(&sockets, None, threads)?;
        return Ok((sockets, scan));
    };
    let (first, bound) = std::thread::scope(|scope| {
        let lane = spawn_apart(scope, || sock_diag::dump(&bound));
        // The process list on this side, before its dump: the bind table's walk is the longer
        // (3.1 ms against 2.6 at 30k sockets, 6.5 against 4.8 with cold caches), so the lane
        // does nothing else; with the list there, `who` took 0.8 ms more with cold caches.
        let first = Processes::read().and_then(|processes| {
            let sockets = sock_diag::dump(&rest)?;
            // The lane keeps its core for the bind table: measured on two, a second walker
            // there slowed both (14.2 ms for `who` at 30k sockets, against 15.7).
            let scan = scan(&sockets, Some(&processes), threads - 1)?;
            Ok((sockets, processes, scan))
        });
        (first, joined(lane))
    });
    let ((mut sockets, processes, mut found), bound) = (first?, bound?);
    if !bound.is_empty() {
        merge(&mut found, scan(&bound, Some(&processes), threads)?);
    }
    let at = sockets
        .iter()
        .position(|s| s.proto != Proto::Tcp || s.state != SockState::Listen)
        .unwrap_or(sockets.len());
    sockets.splice(at..at, bound);
    Ok((sockets, found))
}

/// The processes to walk: pid and uid each, and each one's lineage.
pub(super) struct Processes {
    pids: Vec<PidEntry>,
    lineages: HashMap<u32, Lineage>,
}

impl Processes {
    fn read() -> Result<Processes> {
        let pids = procfs::list_pids()?;
        let lineages = procfs::lineages(&pids);
        Ok(Processes { pids, lineages })
    }
}

/// The targeted walk: only as far as the sockets in hand require (`processes`: as listed
/// already, or `None` to list them now, if there is anything to walk for).
pub(super) fn scan(
    sockets: &[Socket],
    processes: Option<&Processes>,
    threads: usize,
) -> Result<FdScan> {
    let inodes: InodeSet = sockets
        .iter()
        .map(|s| s.inode)
        .filter(|&i| i != 0)
        .collect();
    if inodes.is_empty() {
        return Ok(FdScan::default());
    }
    let read_now;
    let processes = match processes {
        Some(p) => p,
        None => {
            read_now = Processes::read()?;
            &read_now
        }
    };
    let uids: HashSet<u32> = sockets.iter().map(|s| s.uid).collect();
    let kernel = |pid: &u32| processes.lineages.get(pid).is_some_and(|l| l.kernel);
    // Likely owners first (processes running as a socket's uid), kernel threads (no fds) last.
    let mut pids = processes.pids.clone();
    pids.sort_by_key(|e| (!uids.contains(&e.uid), kernel(&e.pid)));
    let wanted = Wanted {
        inodes: &inodes,
        stop_early: true,
    };
    let mut scan = procfs::scan_fds(&pids, Some(&wanted), threads);
    if scan.owners.len() < inodes.len() {
        // The walk went through everything: the owner sets are complete.
        return Ok(scan);
    }
    complete_family(&mut scan, &pids, &processes.lineages, &inodes);
    Ok(scan)
}

/// After an early stop, other holders of a socket can only be processes that inherited it
/// across fork: the owners' children and parents (and, transitively, theirs). Check those.
fn complete_family(
    scan: &mut FdScan,
    pids: &[PidEntry],
    lineages: &HashMap<u32, Lineage>,
    inodes: &InodeSet,
) {
    let parent = |pid: &u32| lineages.get(pid).map(|l| l.parent);
    let mut checked: HashSet<u32> = scan.owners.values().flatten().copied().collect();
    let mut frontier: Vec<u32> = checked.iter().copied().collect();
    while let Some(owner) = frontier.pop() {
        let up = parent(&owner);
        let relatives: Vec<PidEntry> = pids
            .iter()
            .filter(|e| parent(&e.pid) == Some(owner) || Some(e.pid) == up)
            .filter(|e| checked.insert(e.pid))
            .copied()
            .collect();
        if relatives.is_empty() {
            continue;
        }
        let wanted = Wanted {
            inodes,
            stop_early: false,
        };
        let more = procfs::scan_fds(&relatives, Some(&wanted), 1);
        frontier.extend(more.owners.values().flatten().copied());
        merge(scan, more);
    }
}

/// Add a later walk's findings to `scan` (owners and unreadable processes, each once; the
/// pids walked, if `scan` had none to walk).
fn merge(scan: &mut FdScan, more: FdScan) {
    if scan.listed.is_empty() {
        scan.listed = more.listed;
    }
    for (inode, holders) in more.owners {
        let list = scan.owners.entry(inode).or_default();
        list.extend(holders);
        list.sort_unstable();
        list.dedup();
    }
    scan.unreadable.extend(more.unreadable);
    scan.unreadable.sort_unstable_by_key(|e| e.pid);
    scan.unreadable.dedup();
}
