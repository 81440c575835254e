//! Whether a socket the fd walk found no holder for is hidden, or held by no process at all.
//!
//! A socket keeps a file (a non-zero inode) while any descriptor refers to it: a process's fd,
//! or a descriptor in flight in a unix socket's receive queue (`SCM_RIGHTS`, not yet received).
//! So "no holder seen" has two readings. Either a process portscope could not inspect holds it
//! (hidden: more permission would show it), or nothing does right now: its process is exiting,
//! or its descriptor is in flight (ownerless: no permission would show more).
//!
//! The walk cannot tell them apart, so the uid decides. A process holds only sockets it created
//! or received; the kernel records as a socket's uid the fs uid of its creator, and a received
//! descriptor keeps it. An unreadable process is taken to be a possible holder of the sockets
//! whose uid is one of its real, effective, saved or fs uids (read from `/proc/<pid>/status`,
//! which stays readable); a zombie or a process already exiting is no suspect. That is a
//! heuristic: it covers the creator, a server that bound as
//! root and switched user (root stays its saved uid, or its root master is the unreadable
//! one), and descendants that inherited the socket; it misses a descriptor received from
//! another user (systemd's fd store in an unreadable pid 1 holding a service's socket), which
//! is then called ownerless. A process whose uids cannot be read, or a socket whose network
//! namespace or uid is unknown, keeps the old, cautious answer: hidden.
//!
//! Processes come and go between the kernel's socket dump and the fd walk, so before deciding,
//! the fds of the processes that could have missed a socket are read once more, among those
//! running as the unattributed sockets' uids: a process started after the pid list was taken,
//! and, for a socket from the part of the dump that runs beside the walk (TCP sockets other
//! than listeners), one whose fds were read before that part was complete (it may have opened
//! the socket after). A process read after a socket was dumped held it then if it holds it at
//! all — except one passed to it over a unix socket meanwhile by a process read earlier, which
//! is then called hidden or ownerless. So a listener no process may be seen to hold (an
//! init's, a kernel's) costs no second read, and a connection no process holds (a kernel's,
//! one in flight) a second read of the early processes only, not of every process. And
//! a socket still called hidden is looked for again in the kernel: one that is gone was let
//! go of, not hidden.

use std::collections::HashSet;

use crate::model::{Family, Proto, SockState, Socket};
use crate::sys::SocketQuery;
use crate::sys::creds;
use crate::sys::procfs::{self, FdScan, InodeSet, PidEntry, Wanted};
use crate::sys::sock_diag;

/// An unreadable process as a possible holder of sockets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Suspect {
    /// It runs under these uids: it may hold their sockets.
    Uids(Vec<u32>),
    /// Its uids could not be read: it may hold any socket.
    Any,
}

impl Suspect {
    fn could_hold(&self, socket: &Socket) -> bool {
        match self {
            // u32::MAX: a kernel that does not say (unix sockets before Linux 5.3).
            Suspect::Uids(uids) => socket.uid == u32::MAX || uids.contains(&socket.uid),
            Suspect::Any => true,
        }
    }
}

/// The unreadable processes as suspects. Those that exited meanwhile, or are exiting (a
/// process of one's own becomes unreadable once it lets go of its memory on the way out),
/// hold nothing any more.
pub(crate) fn suspects(unreadable: &[PidEntry]) -> Vec<(PidEntry, Suspect)> {
    unreadable
        .iter()
        .filter_map(|e| {
            let suspect = match creds::read(e.pid) {
                Ok(c) if c.exiting => return None,
                Ok(c) if c.uids.is_empty() => Suspect::Uids(vec![e.uid]),
                Ok(c) => Suspect::Uids(c.uids),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => return None,
                Err(_) => Suspect::Any,
            };
            Some((*e, suspect))
        })
        .collect()
}

/// Inodes of sockets that have a file but no holder attached.
fn unattributed(sockets: &[Socket]) -> InodeSet {
    sockets
        .iter()
        .filter(|s| s.inode != 0 && s.pids.is_empty())
        .map(|s| s.inode)
        .collect()
}

/// Read once more the fds of the processes that may have missed a socket left without a
/// holder, among those running as that socket's uid: any process started after the walk's pid
/// list; and, for a socket from the part of the dump that ran beside the walk (`beside`),
/// any process read before that dump was complete. Attach what they hold to the sockets
/// (whose holders from the first walk are attached already), and add any newly unreadable
/// process to `scan`.
pub(crate) fn second_look(
    sockets: &mut [Socket],
    scan: &mut FdScan,
    threads: usize,
    beside: Option<&SocketQuery>,
) {
    let missing = unattributed(sockets);
    if missing.is_empty() {
        return;
    }
    let from_beside = |s: &Socket| {
        beside.is_some_and(|q| {
            s.proto == Proto::Tcp && q.tcp && q.states & (1 << s.state.kernel_number()) != 0
        })
    };
    // The uids of the sockets without a holder; and of those, the ones dumped beside the walk.
    let mut uids: HashSet<u32> = HashSet::new();
    let mut uids_beside: HashSet<u32> = HashSet::new();
    for s in sockets.iter().filter(|s| missing.contains(&s.inode)) {
        uids.insert(s.uid);
        if from_beside(s) {
            uids_beside.insert(s.uid);
        }
    }
    let Ok(pids) = procfs::list_pids() else {
        return;
    };
    let missed = |e: &PidEntry| {
        let unlisted = scan.listed.binary_search(&e.pid).is_err();
        let early = scan.early.binary_search(&e.pid).is_ok();
        (unlisted && uids.contains(&e.uid)) || (early && uids_beside.contains(&e.uid))
    };
    let again: Vec<PidEntry> = pids.into_iter().filter(|e| missed(e)).collect();
    if again.is_empty() {
        return;
    }
    let wanted = Wanted {
        inodes: &missing,
        stop_early: true,
    };
    let more = procfs::scan_fds(&again, Some(&wanted), threads);
    // Each walk lists an inode's holders ascending and once; these sockets had none.
    for s in sockets.iter_mut().filter(|s| s.pids.is_empty()) {
        if let Some(holders) = more.owners.get(&s.inode) {
            s.pids.clone_from(holders);
        }
    }
    let known: HashSet<u32> = scan.unreadable.iter().map(|e| e.pid).collect();
    scan.unreadable.extend(
        more.unreadable
            .into_iter()
            .filter(|e| !known.contains(&e.pid)),
    );
    scan.unreadable.sort_unstable_by_key(|e| e.pid);
}

/// Mark each socket without a holder hidden or ownerless (pure: `suspects` already read).
pub(crate) fn classify(sockets: &mut [Socket], suspects: &[(PidEntry, Suspect)]) {
    for s in sockets {
        s.owner_hidden = false;
        s.ownerless = false;
        if s.inode == 0 || !s.pids.is_empty() {
            continue;
        }
        let hidden = if s.netns.is_none() {
            !suspects.is_empty()
        } else {
            suspects.iter().any(|(_, p)| p.could_hold(s))
        };
        s.owner_hidden = hidden;
        s.ownerless = !hidden;
    }
}

/// At most this many sockets are asked about one by one when rechecking hidden sockets; with
/// more, the whole query is dumped again.
const RECHECK_PORTS: usize = 8;

/// Ask the kernel again for the sockets still called hidden: one no longer there (or there
/// without a file) was closed by whoever held it, so nothing hides it. A few hidden sockets
/// (a kernel's, one held by an init portscope may not read) are asked about one by one, by
/// protocol, family and port (and, for a listener, state), filtered in the kernel, rather than
/// by dumping every socket again: a listener's recheck then reads only the listening table (a
/// port filter alone still makes the kernel visit every connection: ~10 ms at 30k sockets).
///
/// Among a few, a TCP listener is first looked up alone, by address and port
/// ([`sock_diag::open_listeners`]): found with its inode, it is open, and no dump is needed for
/// it. Its port's dump visits every listener: ~2.5 ms at 10k right after `ss -tanp`.
pub(crate) fn recheck_hidden(sockets: &mut [Socket], query: &SocketQuery) {
    let hidden: Vec<&Socket> = sockets.iter().filter(|s| s.owner_hidden).collect();
    if hidden.is_empty() {
        return;
    }
    let mut open = if hidden.len() <= RECHECK_PORTS {
        sock_diag::open_listeners(&hidden)
    } else {
        HashSet::new()
    };
    let hidden: HashSet<_> = hidden
        .into_iter()
        .filter(|s| !open.contains(&s.inode))
        .map(|s| (s.proto, s.family, s.state == SockState::Listen, s.port()))
        .collect();
    if hidden.is_empty() {
        return;
    }
    let one_by_one = |&(proto, family, listener, port): &(Proto, Family, bool, Option<u16>)| {
        let port = port.filter(|_| proto != Proto::Unix)?;
        Some(SocketQuery {
            tcp: proto == Proto::Tcp,
            udp: proto == Proto::Udp,
            unix: false,
            ipv4: family == Family::Ipv4,
            ipv6: family == Family::Ipv6,
            // A listener stays one while open; a connection may have moved on since the
            // dump (to CLOSE_WAIT, say), and is asked for in any state.
            states: if listener {
                1 << SockState::Listen.kernel_number()
            } else {
                query.states
            },
            port_range: Some((port, port)),
        })
    };
    let queries: Vec<SocketQuery> = match hidden.iter().map(one_by_one).collect::<Option<Vec<_>>>()
    {
        Some(queries) if queries.len() <= RECHECK_PORTS => queries,
        _ => vec![query.clone()],
    };
    for q in &queries {
        let Ok(now) = sock_diag::dump(q) else {
            return;
        };
        open.extend(now.iter().map(|s| s.inode).filter(|&i| i != 0));
    }
    settle_closed(sockets, &open);
}

/// The pure half of [`recheck_hidden`]: hidden sockets whose inode is not in `open` are
/// ownerless.
fn settle_closed(sockets: &mut [Socket], open: &HashSet<u64>) {
    for s in sockets.iter_mut().filter(|s| s.owner_hidden) {
        if !open.contains(&s.inode) {
            s.owner_hidden = false;
            s.ownerless = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Endpoint;

    fn unseen(suspect: Suspect) -> Vec<(PidEntry, Suspect)> {
        vec![(PidEntry { pid: 1, uid: 0 }, suspect)]
    }

    fn socket(inode: u64, uid: u32, pids: &[u32]) -> Socket {
        Socket {
            proto: Proto::Tcp,
            family: Family::Ipv4,
            state: SockState::Listen,
            local: Endpoint::inet(std::net::Ipv4Addr::LOCALHOST.into(), 8080),
            remote: None,
            inode,
            peer_inode: None,
            uid,
            recv_q: 0,
            send_q: 0,
            netns: Some(4_026_531_840),
            pids: pids.to_vec(),
            owner_hidden: false,
            ownerless: false,
        }
    }

    fn states(sockets: &[Socket]) -> Vec<(bool, bool)> {
        sockets
            .iter()
            .map(|s| (s.owner_hidden, s.ownerless))
            .collect()
    }

    #[test]
    fn only_a_suspect_of_the_sockets_uid_hides_it() {
        // An unreadable pid 1 running as root: root's unheld socket may be its; nobody's
        // cannot be.
        let mut sockets = vec![
            socket(10, 0, &[]),
            socket(11, 65534, &[]),
            socket(12, 0, &[7]),
        ];
        classify(&mut sockets, &unseen(Suspect::Uids(vec![0])));
        assert_eq!(
            states(&sockets),
            vec![(true, false), (false, true), (false, false)]
        );
    }

    #[test]
    fn no_suspect_means_ownerless_and_no_file_means_neither() {
        let mut sockets = vec![socket(10, 0, &[]), socket(0, 0, &[])];
        classify(&mut sockets, &[]);
        assert_eq!(states(&sockets), vec![(false, true), (false, false)]);
    }

    #[test]
    fn unknown_uids_or_namespace_stay_hidden() {
        let mut sockets = vec![socket(10, 1000, &[])];
        classify(&mut sockets, &unseen(Suspect::Any));
        assert_eq!(states(&sockets), vec![(true, false)]);
        let mut sockets = vec![socket(10, 1000, &[])];
        sockets[0].netns = None;
        classify(&mut sockets, &unseen(Suspect::Uids(vec![0])));
        assert_eq!(states(&sockets), vec![(true, false)]);
    }

    #[test]
    fn a_hidden_socket_gone_from_the_kernel_was_let_go_of() {
        let mut sockets = vec![socket(10, 0, &[]), socket(11, 0, &[])];
        classify(&mut sockets, &unseen(Suspect::Uids(vec![0])));
        settle_closed(&mut sockets, &HashSet::from([11]));
        assert_eq!(states(&sockets), vec![(false, true), (true, false)]);
    }

    #[test]
    fn this_process_is_its_own_suspect() {
        let me = PidEntry {
            pid: std::process::id(),
            uid: rustix::process::geteuid().as_raw(),
        };
        let found = suspects(&[me]);
        assert!(
            matches!(&found[..], [(e, Suspect::Uids(u))] if e.pid == me.pid && u.contains(&me.uid))
        );
    }
}
