//! The fd walk: which process holds which socket, read from every `/proc/<pid>/fd` table —
//! one `readlinkat` per entry (`socket:[inode]`), by number up to the table's count, then a
//! `getdents64` pass over what is left,
//! over a work queue of pids shared by up to 8 threads. The one cost of a full listing that
//! grows with every descriptor on the machine; BENCHMARKS.md has its profile.

use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rustix::fs::RawDir;
use rustix::io::Errno;

use super::{PidEntry, open_dir};

/// Socket inodes as keys: hashed with foldhash's fast hasher (seeded per run) rather than
/// SipHash, a fraction of the cost on tables of tens of thousands of the kernel's numbers.
pub type InodeSet = foldhash::HashSet<u64>;

/// A map keyed by socket inode (see [`InodeSet`]).
pub type InodeMap<V> = foldhash::HashMap<u64, V>;

/// The result of walking processes' fd tables.
#[derive(Debug, Default, Clone)]
pub struct FdScan {
    /// Socket inode → pids holding an fd on it (ascending, deduplicated).
    pub owners: InodeMap<Vec<u32>>,
    /// Processes whose fd table could not be read for lack of permission.
    pub unreadable: Vec<PidEntry>,
    /// How many processes' fd tables were read.
    pub scanned: usize,
    /// The pids the walk was given, ascending.
    pub listed: Vec<u32>,
    /// Of those, the ones whose fds were read before the socket dump beside the walk was
    /// complete (see [`scan_fds_beside`]), ascending: a socket such a process opened after its
    /// read can be in the dump with no owner found. Empty when the dump came first.
    pub early: Vec<u32>,
}

/// What reading one process's fd table gave.
enum FdRead {
    /// Read: the socket inodes it holds (possibly several fds on one inode, deduplicated later).
    Sockets,
    /// Permission denied.
    Denied,
    /// The process is gone (or is a zombie without an fd table).
    Gone,
}

/// Parse a `socket:[12345]` link target.
fn socket_inode(link: &[u8]) -> Option<u64> {
    let rest = link.strip_prefix(b"socket:[")?;
    let digits = rest.strip_suffix(b"]")?;
    let mut n: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(n)
}

/// Read `/proc/<pid>/fd`, calling `found(inode)` for every socket fd.
///
/// The directory's size is its count of open fds (Linux 6.2 on; 0 before): those are read by
/// number from 0 (a table fills from its low end), without `getdents64`, which looks up every
/// entry's dentry once more (4 ms of `ls --all`'s ~90 at 30k sockets). The rest of the table,
/// from the first number not tried, is then listed as before: an fd opened at a low number
/// while the others were read can make the count come before a higher one, and a gap of
/// [`MISSES_IN_A_ROW`] numbers ends the reading by number. Neither loses an fd held
/// throughout.
fn read_fds(
    proc_fd: &OwnedFd,
    pid: u32,
    dirbuf: &mut [MaybeUninit<u8>],
    mut found: impl FnMut(u64),
) -> FdRead {
    let path = format!("{pid}/fd");
    let fd_dir = match open_dir(proc_fd, path.as_str()) {
        Ok(fd) => fd,
        Err(Errno::ACCESS | Errno::PERM) => return FdRead::Denied,
        Err(_) => return FdRead::Gone,
    };
    let mut link = [0u8; 40];
    let mut read_link = |name: &std::ffi::CStr| -> Result<(), Errno> {
        match rustix::fs::readlinkat_raw(&fd_dir, name, &mut link[..]) {
            Ok(len) => {
                let len = len.min(link.len());
                if let Some(inode) = socket_inode(&link[..len]) {
                    found(inode);
                }
                Ok(())
            }
            Err(e) => Err(e),
        }
    };
    let count = rustix::fs::fstat(&fd_dir).map_or(0, |st| usize::try_from(st.st_size).unwrap_or(0));
    let mut next = 0u32;
    if count > 0 {
        let (mut seen, mut missed) = (0, 0);
        let mut name = [0u8; 12];
        while seen < count && missed < MISSES_IN_A_ROW {
            match read_link(fd_name(next, &mut name)) {
                Ok(()) => (seen, missed) = (seen + 1, 0),
                // See below.
                Err(Errno::ACCESS | Errno::PERM) => return FdRead::Denied,
                Err(_) => missed += 1,
            }
            next += 1;
        }
    }
    // The directory's offset of fd N is N + 2 (after "." and ".."). Where it cannot be moved
    // there, the whole table is listed: what was read is read twice (merged later), not lost.
    if next > 0 {
        let _ = rustix::fs::seek(&fd_dir, rustix::fs::SeekFrom::Start(u64::from(next) + 2));
    }
    let mut dir = RawDir::new(&fd_dir, dirbuf);
    while let Some(entry) = dir.next() {
        let Ok(entry) = entry else {
            // The process exited while we read its table: what we saw stays valid.
            break;
        };
        let name = entry.file_name();
        if name.to_bytes().first() == Some(&b'.') {
            continue;
        }
        match read_link(name) {
            Ok(()) => {}
            // The directory was listable but its links are not (seen for a pid 1 that
            // is not ours, even as root): the process's sockets are hidden from us.
            Err(Errno::ACCESS | Errno::PERM) => return FdRead::Denied,
            // The fd was closed meanwhile.
            Err(_) => {}
        }
    }
    FdRead::Sockets
}

/// Numbers tried in a row with no fd before the walk of a table lists the rest instead: a
/// table is mostly dense with a few fds far above (bash's 255, a daemon's moved fds), and a
/// number with no fd costs a failed lookup, several times a listed entry. (The 100k load's
/// processes hold fds 0–104 and 251: with a budget of misses instead, 1,000 processes spent
/// ~40 lookups each on nothing, and the walk was 7–11% slower than with `getdents64` alone.)
const MISSES_IN_A_ROW: usize = 4;

/// `fd`'s name in `/proc/<pid>/fd`, NUL-terminated in `buf`.
fn fd_name(fd: u32, buf: &mut [u8; 12]) -> &std::ffi::CStr {
    let end = buf.len() - 1;
    buf[end] = 0;
    let at = crate::text::decimal(u64::from(fd), &mut buf[..end]);
    std::ffi::CStr::from_bytes_with_nul(&buf[at..]).unwrap_or_default()
}

/// How a walk decides it may stop early.
pub struct Wanted<'a> {
    /// The inodes whose owners are sought.
    pub inodes: &'a InodeSet,
    /// Stop as soon as every inode has at least one owner.
    pub stop_early: bool,
}

/// Walk the fd tables of `pids`, using up to `threads` threads.
///
/// With `wanted = None` every socket fd is recorded (a full listing: one pass). With
/// `wanted = Some(..)` only those inodes are recorded, and with `stop_early` the walk stops as
/// soon as each of them has at least one owner; pids are visited in the order given, so
/// callers put the most likely owners first.
pub fn scan_fds(pids: &[PidEntry], wanted: Option<&Wanted<'_>>, threads: usize) -> FdScan {
    scan_fds_beside(pids, wanted, threads, &AtomicBool::new(true))
}

/// [`scan_fds`] while the socket dump it will be joined with runs beside it: `dumped` turns
/// true when that dump is complete, and the processes whose fds were read before then are
/// listed in [`FdScan::early`].
pub fn scan_fds_beside(
    pids: &[PidEntry],
    wanted: Option<&Wanted<'_>>,
    threads: usize,
    dumped: &AtomicBool,
) -> FdScan {
    let mut listed: Vec<u32> = pids.iter().map(|e| e.pid).collect();
    listed.sort_unstable();
    let Ok(proc_fd) = open_dir(rustix::fs::CWD, c"/proc") else {
        return FdScan {
            listed,
            ..FdScan::default()
        };
    };
    let next = AtomicUsize::new(0);
    let done = AtomicBool::new(false);
    let found_wanted: Mutex<InodeSet> = Mutex::new(InodeSet::default());
    let threads = threads.clamp(1, 8).min(pids.len().max(1));

    let worker = || {
        let mut dirbuf = vec![MaybeUninit::<u8>::uninit(); 32 * 1024];
        let mut pairs: Vec<(u64, u32)> = Vec::new();
        let mut unreadable = Vec::new();
        let mut early = Vec::new();
        let mut scanned = 0usize;
        loop {
            if done.load(Ordering::Relaxed) {
                break;
            }
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(entry) = pids.get(i) else { break };
            if !dumped.load(Ordering::Acquire) {
                early.push(entry.pid);
            }
            let start = pairs.len();
            let outcome = read_fds(&proc_fd, entry.pid, &mut dirbuf, |inode| {
                if wanted.is_none_or(|w| w.inodes.contains(&inode)) {
                    pairs.push((inode, entry.pid));
                }
            });
            match outcome {
                FdRead::Sockets => scanned += 1,
                FdRead::Denied => unreadable.push(*entry),
                FdRead::Gone => {}
            }
            if let Some(w) = wanted
                && w.stop_early
                && pairs.len() > start
                && let Ok(mut seen) = found_wanted.lock()
            {
                seen.extend(pairs[start..].iter().map(|(inode, _)| *inode));
                if seen.len() >= w.inodes.len() {
                    done.store(true, Ordering::Relaxed);
                }
            }
        }
        (pairs, unreadable, early, scanned)
    };

    let results: Vec<_> = if threads <= 1 {
        vec![worker()]
    } else {
        // This thread is one of the workers; the others start on other CPUs.
        std::thread::scope(|s| {
            let handles: Vec<_> = (1..threads)
                .map(|_| crate::threads::spawn_apart(s, worker))
                .collect();
            let mut results = vec![worker()];
            results.extend(handles.into_iter().map(crate::threads::joined));
            results
        })
    };

    let mut scan = FdScan {
        listed,
        ..FdScan::default()
    };
    // Sized once: nearly every socket has one holder (grown by doubling, the table was
    // rehashed a dozen times at 30k).
    scan.owners.reserve(results.iter().map(|r| r.0.len()).sum());
    for (pairs, unreadable, early, scanned) in results {
        scan.scanned += scanned;
        scan.unreadable.extend(unreadable);
        scan.early.extend(early);
        for (inode, pid) in pairs {
            scan.owners.entry(inode).or_default().push(pid);
        }
    }
    for pids in scan.owners.values_mut().filter(|p| p.len() > 1) {
        pids.sort_unstable();
        pids.dedup();
    }
    scan.unreadable.sort_unstable_by_key(|e| e.pid);
    scan.early.sort_unstable();
    scan
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::list_pids;
    use super::*;

    #[test]
    fn fd_names_are_their_decimal_numbers() {
        let mut buf = [0u8; 12];
        for fd in [0, 7, 10, 1234, u32::MAX] {
            assert_eq!(fd_name(fd, &mut buf).to_str().unwrap(), fd.to_string());
        }
    }

    #[test]
    fn a_socket_far_past_the_tables_count_is_found() {
        // Only fd 1000 or above holds it: the numbered pass runs out of misses long before
        // (this process has tens of fds), and the listing from there finds it.
        let (l, inode) = own_listener();
        let far = rustix::io::fcntl_dupfd_cloexec(&l, 1000).unwrap();
        assert!(std::os::fd::AsRawFd::as_raw_fd(&far) >= 1000);
        drop(l);
        let proc_fd = open_dir(rustix::fs::CWD, c"/proc").unwrap();
        let mut buf = vec![MaybeUninit::<u8>::uninit(); 32 * 1024];
        let mut seen = Vec::new();
        let read = read_fds(&proc_fd, std::process::id(), &mut buf, |i| seen.push(i));
        assert!(matches!(read, FdRead::Sockets));
        assert!(seen.contains(&inode), "the socket at fd 1000+ was missed");
        drop(far);
    }

    #[test]
    fn socket_link_parsing() {
        assert_eq!(socket_inode(b"socket:[12345]"), Some(12345));
        assert_eq!(socket_inode(b"socket:[]"), Some(0));
        assert_eq!(socket_inode(b"pipe:[12345]"), None);
        assert_eq!(socket_inode(b"socket:[12a]"), None);
        assert_eq!(socket_inode(b"socket:[99999999999999999999999]"), None);
        assert_eq!(socket_inode(b"/dev/null"), None);
    }

    /// A listener of this process and its socket inode.
    fn own_listener() -> (std::net::TcpListener, u64) {
        use std::os::unix::fs::MetadataExt;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&l);
        let inode = std::fs::metadata(format!("/proc/self/fd/{fd}"))
            .unwrap()
            .ino();
        (l, inode)
    }

    /// Walk `pids` for the owners of `want` only.
    fn walk_for(pids: &[PidEntry], want: &InodeSet, stop_early: bool, threads: usize) -> FdScan {
        let wanted = Wanted {
            inodes: want,
            stop_early,
        };
        scan_fds(pids, Some(&wanted), threads)
    }

    #[test]
    fn finds_own_listener() {
        let (_l, inode) = own_listener();
        let me = std::process::id();
        let pids = list_pids().unwrap();
        assert!(pids.iter().any(|p| p.pid == me));
        let want: InodeSet = [inode].into_iter().collect();
        let scan = walk_for(&pids, &want, true, 2);
        assert_eq!(scan.owners.get(&inode), Some(&vec![me]));
        let full = scan_fds(&pids, None, 2);
        assert_eq!(full.owners.get(&inode), Some(&vec![me]));
    }

    #[test]
    fn targeted_walk_stops_once_every_socket_has_an_owner() {
        let (_l, inode) = own_listener();
        let me = std::process::id();
        let mut pids = list_pids().unwrap();
        assert!(pids.len() > 2);
        // Put ourselves first: the walk must stop right there.
        pids.sort_by_key(|p| p.pid != me);
        let want: InodeSet = [inode].into_iter().collect();
        let scan = walk_for(&pids, &want, true, 1);
        assert_eq!(scan.scanned, 1, "walked {} processes", scan.scanned);
        let full = walk_for(&pids, &want, false, 1);
        assert!(full.scanned + full.unreadable.len() > 1);
    }
}
