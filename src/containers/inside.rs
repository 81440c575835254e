//! The process inside a container that listens on the container port: the listening sockets
//! of the container's network namespace (read through its first process's `/proc/<pid>/net`
//! tables), and, among that process and its descendants, the one whose descriptors hold one.

use super::Inner;
use crate::model::Proto;
use crate::sys::netns;
use crate::sys::procfs::{self, InodeSet, PidEntry, Wanted};

/// The most processes of one container walked for the listener's holder.
const MAX_FAMILY: usize = 4096;

/// Who listens on `port`/`proto` in the network namespace of `init` (a container's first
/// process), among `init` and its descendants; `None` when nothing listens there or its
/// holder could not be read.
pub fn listener(init: u32, proto: Proto, port: u16) -> Option<Inner> {
    let listeners = netns::listeners_in(init, proto, port);
    let inodes: InodeSet = listeners
        .iter()
        .map(|s| s.inode)
        .filter(|&i| i != 0)
        .collect();
    if inodes.is_empty() {
        return None;
    }
    let family: Vec<PidEntry> = procfs::family(init, MAX_FAMILY)
        .into_iter()
        .map(|pid| PidEntry { pid, uid: 0 })
        .collect();
    let wanted = Wanted {
        inodes: &inodes,
        stop_early: true,
    };
    let scan = procfs::scan_fds(&family, Some(&wanted), 1);
    listeners.iter().find_map(|s| {
        let pid = *scan.owners.get(&s.inode)?.first()?;
        Some(Inner {
            pid,
            comm: procfs::comm(pid)?,
            cmdline: procfs::cmdline(pid),
            addr: s.local.ip()?,
            port,
        })
    })
}
