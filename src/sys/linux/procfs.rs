//! `/proc`: the process table, the fd walk that joins sockets to processes (`procfs/fds.rs`),
//! and process details.
//!
//! The fd walk is the hot path of every command (≈ 5 µs of kernel time per fd), so it is
//! hand-rolled on `rustix` (raw `getdents64` + `readlinkat` into a stack buffer, no allocation
//! per fd) and spread over the available cores. Process *details* are read with the `procfs`
//! crate, only for the few processes a report names.
//!
//! Races are normal here: a process that exits between listing and reading is skipped
//! silently (ENOENT/ESRCH), but one whose fds we may not read is *counted*, never skipped.

use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustix::fs::{AtFlags, Mode, OFlags, RawDir};

mod fds;

pub use fds::{FdScan, InodeMap, InodeSet, Wanted, scan_fds, scan_fds_beside};

use super::cgroup;
use super::users::Names;
use crate::error::{Error, Result};
use crate::model::{Ancestor, Origin, ProcState, Process};

/// A process as listed in `/proc`: its pid and effective uid (owner of `/proc/<pid>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PidEntry {
    /// Process id.
    pub pid: u32,
    /// Effective uid.
    pub uid: u32,
}

/// Open `path` as a directory for `getdents64`/`*at` calls.
fn open_dir(
    dirfd: impl rustix::fd::AsFd,
    path: impl rustix::path::Arg,
) -> rustix::io::Result<OwnedFd> {
    rustix::fs::openat(
        dirfd,
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// Parse a `/proc` entry name as a pid.
fn pid_of(name: &CStr) -> Option<u32> {
    let bytes = name.to_bytes();
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

/// Every process in this pid namespace, with its effective uid.
pub fn list_pids() -> Result<Vec<PidEntry>> {
    let proc_fd =
        open_dir(rustix::fs::CWD, c"/proc").map_err(|e| Error::io("open /proc", e.into()))?;
    let mut buf = vec![MaybeUninit::<u8>::uninit(); 64 * 1024];
    let mut dir = RawDir::new(&proc_fd, &mut buf);
    let mut out = Vec::with_capacity(512);
    while let Some(entry) = dir.next() {
        let entry = entry.map_err(|e| Error::io("read /proc", e.into()))?;
        let Some(pid) = pid_of(entry.file_name()) else {
            continue;
        };
        // The owner of /proc/<pid> is the process's effective uid; a vanished pid is skipped.
        if let Ok(st) = rustix::fs::statat(&proc_fd, entry.file_name(), AtFlags::empty()) {
            out.push(PidEntry {
                pid,
                uid: st.st_uid,
            });
        }
    }
    Ok(out)
}

/// Pids of processes named `name`: their `comm` (which the kernel cuts at 15 bytes), or the
/// file name of their first argument or executable, equals it.
pub fn pids_named(name: &str) -> Result<Vec<u32>> {
    let mut out = Vec::new();
    for entry in list_pids()? {
        let comm = std::fs::read_to_string(format!("/proc/{}/comm", entry.pid)).unwrap_or_default();
        let comm = comm.trim_end_matches('\n');
        let cut = name.get(..15).unwrap_or(name);
        let matches = comm == name
            || (name.len() > 15 && comm == cut)
            || std::fs::read(format!("/proc/{}/cmdline", entry.pid))
                .ok()
                .and_then(|c| {
                    let argv0 = c.split(|b| *b == 0).next()?.to_vec();
                    let argv0 = String::from_utf8_lossy(&argv0).into_owned();
                    Some(argv0.rsplit('/').next() == Some(name))
                })
                .unwrap_or(false);
        if matches {
            out.push(entry.pid);
        }
    }
    Ok(out)
}

/// Parent pid of `pid` from `/proc/<pid>/stat`, or `None` if it is gone.
pub fn ppid(pid: u32) -> Option<u32> {
    let stat = procfs::process::Process::new(i32::try_from(pid).ok()?)
        .ok()?
        .stat()
        .ok()?;
    u32::try_from(stat.ppid).ok()
}

/// `PF_KTHREAD` in the `flags` field of `/proc/<pid>/stat`: a kernel thread.
pub(super) const PF_KTHREAD: u32 = 0x0020_0000;

/// A process's parent, and whether it is a kernel thread (which holds no fds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lineage {
    /// The parent's pid (0 for init and kthreadd).
    pub parent: u32,
    /// `PF_KTHREAD` is among its flags.
    pub kernel: bool,
}

/// The lineage of each of `pids` that is still there, from `/proc/<pid>/stat`: one `openat`
/// and one `read` each, into a stack buffer (the targeted walk pays it for every process;
/// [`ppid`] also stats the directory and parses every field).
pub fn lineages(pids: &[PidEntry]) -> std::collections::HashMap<u32, Lineage> {
    let mut out = std::collections::HashMap::with_capacity(pids.len());
    let Ok(proc_fd) = open_dir(rustix::fs::CWD, c"/proc") else {
        return out;
    };
    let mut name = String::with_capacity(24);
    let mut buf = [0u8; 512];
    for e in pids {
        use std::fmt::Write;
        name.clear();
        let _ = write!(name, "{}/stat", e.pid);
        let flags = OFlags::RDONLY | OFlags::CLOEXEC;
        let Ok(fd) = rustix::fs::openat(&proc_fd, name.as_str(), flags, Mode::empty()) else {
            continue;
        };
        let Ok(n) = rustix::io::read(&fd, &mut buf) else {
            continue;
        };
        if let Some(lineage) = lineage_in_stat(&buf[..n]) {
            out.insert(e.pid, lineage);
        }
    }
    out
}

/// The fields of a `stat` line after the command name in parentheses (which may itself hold
/// spaces and parentheses: the last `)` ends it): state, ppid, pgrp, session, tty, tpgid,
/// flags.
fn lineage_in_stat(stat: &[u8]) -> Option<Lineage> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(stat.get(close + 1..)?).ok()?;
    let mut fields = rest.split_ascii_whitespace();
    let parent = fields.nth(1)?.parse().ok()?;
    let flags: u32 = fields.nth(4)?.parse().ok()?;
    Some(Lineage {
        parent,
        kernel: flags & PF_KTHREAD != 0,
    })
}

/// Where `pid` came from, from `/proc/<pid>/cgroup` (unit, container); empty when unreadable.
pub fn origin(pid: u32) -> Origin {
    let mut buf = Vec::new();
    read_whole(rustix::fs::CWD, format!("/proc/{pid}/cgroup"), &mut buf)
        .and_then(|text| std::str::from_utf8(text).ok())
        .map(cgroup::parse)
        .unwrap_or_default()
}

/// The short name of `pid` (`/proc/<pid>/comm`); `None` when it is gone.
pub fn comm(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|c| c.trim_end_matches('\n').to_string())
}

/// The arguments of `pid` (`/proc/<pid>/cmdline`); empty when it is gone or has none.
pub fn cmdline(pid: u32) -> Vec<String> {
    i32::try_from(pid)
        .ok()
        .and_then(|id| procfs::process::Process::new(id).ok())
        .and_then(|p| p.cmdline().ok())
        .unwrap_or_default()
}

/// `pid` and its descendants, parents first, at most `max`: the children of each of their
/// threads (`/proc/<pid>/task/<tid>/children`), or, on a kernel without those files, the
/// processes whose parent chain leads to `pid`.
pub fn family(pid: u32, max: usize) -> Vec<u32> {
    if children(pid).is_some() {
        return descend(pid, max, children);
    }
    let parents: Vec<(u32, u32)> = list_pids()
        .unwrap_or_default()
        .iter()
        .filter_map(|e| Some((e.pid, ppid(e.pid)?)))
        .collect();
    descend(pid, max, |parent| {
        Some(
            parents
                .iter()
                .filter(|(p, pp)| *pp == parent && *p != parent)
                .map(|(p, _)| *p)
                .collect(),
        )
    })
}

/// The children of every thread of `pid`; `None` when a `children` file cannot be read.
fn children(pid: u32) -> Option<Vec<u32>> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut kids = Vec::new();
    for t in tasks.flatten() {
        let text = std::fs::read_to_string(t.path().join("children")).ok()?;
        kids.extend(
            text.split_whitespace()
                .filter_map(|k| k.parse::<u32>().ok()),
        );
    }
    Some(kids)
}

/// `root` and, breadth first, what `kids_of` gives for each process found (at most `max`).
fn descend(root: u32, max: usize, mut kids_of: impl FnMut(u32) -> Option<Vec<u32>>) -> Vec<u32> {
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() && out.len() < max {
        for k in kids_of(out[i]).unwrap_or_default() {
            if !out.contains(&k) {
                out.push(k);
            }
        }
        i += 1;
    }
    out.truncate(max);
    out
}

/// How much to read about a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// comm, state, ppid, uid, user, cmdline, start time: what a listing shows.
    Basic,
    /// Everything: plus exe, cwd, ancestry, cgroup/unit/container, network namespace.
    Full,
}

/// Cached facts that do not change during a run: boot time, clock ticks, user names.
pub struct ProcContext {
    boot_time: Option<u64>,
    ticks: u64,
    users: Names,
}

impl ProcContext {
    /// Read boot time once; user names are asked of NSS as they are needed.
    pub fn new() -> ProcContext {
        ProcContext {
            boot_time: procfs::boot_time_secs().ok(),
            ticks: procfs::ticks_per_second().max(1),
            users: Names::new(),
        }
    }

    /// The uid of user `name`, through NSS (`/etc/passwd`, LDAP, SSSD, systemd…).
    pub fn uid_of(&self, name: &str) -> Option<u32> {
        self.users.uid(name)
    }

    /// The user name of `uid`, through NSS (`/etc/passwd`, LDAP, SSSD, systemd…).
    pub fn user_name(&self, uid: u32) -> Option<String> {
        self.users.name(uid)
    }
}

impl Default for ProcContext {
    fn default() -> Self {
        Self::new()
    }
}

/// Read one process. `None` when it no longer exists.
///
/// `stat`, `status` and `cmdline` are each read whole by one `read` into one buffer and
/// parsed by the `procfs` crate (its own readers took 25 system calls a process: a `statx`
/// and a 32-byte first read per file). The name is `stat`'s, the kernel's same
/// `task->comm` as in `comm`.
pub fn process(ctx: &ProcContext, pid: u32, detail: Detail) -> Option<Process> {
    use procfs::{FromBufRead, FromRead};
    let dir = open_dir(rustix::fs::CWD, format!("/proc/{pid}")).ok()?;
    let mut buf = Vec::new();
    let stat = procfs::process::Stat::from_read(read_whole(&dir, c"stat", &mut buf)?).ok()?;
    let uid = read_whole(&dir, c"status", &mut buf)
        .and_then(|text| procfs::process::Status::from_buf_read(text).ok())
        .map(|s| s.euid)
        .or_else(|| rustix::fs::fstat(&dir).ok().map(|st| st.st_uid))?;
    let comm = stat.comm.trim_end_matches('\n').to_string();
    // As the crate read it: nothing for arguments that are not UTF-8.
    let cmdline = read_whole(&dir, c"cmdline", &mut buf)
        .and_then(|text| std::str::from_utf8(text).ok())
        .map(|text| {
            text.split('\0')
                .filter(|a| !a.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let start_time = ctx.boot_time.map(|boot| boot + stat.starttime / ctx.ticks);
    let mut proc = Process {
        pid,
        ppid: u32::try_from(stat.ppid).unwrap_or(0),
        pgid: u32::try_from(stat.pgrp).ok(),
        comm,
        cmdline,
        exe: None,
        cwd: None,
        uid,
        user: ctx.user_name(uid),
        start_time,
        state: ProcState::from_char(stat.state),
        ancestry: Vec::new(),
        origin: Default::default(),
        netns: None,
    };
    if detail == Detail::Full {
        let link = |name: &CStr| {
            rustix::fs::readlinkat(&dir, name, Vec::new())
                .ok()
                .map(|x| x.to_string_lossy().into_owned())
        };
        proc.exe = link(c"exe");
        proc.cwd = link(c"cwd");
        proc.ancestry = ancestry(proc.ppid);
        proc.origin = origin(pid);
        proc.netns = netns_of(&format!("/proc/{pid}/ns/net"));
    }
    Some(proc)
}

/// The whole of `dir`'s file `name`, read into `buf` (grown until a read comes back short:
/// a `/proc` file is made whole at its first read); `None` when it cannot be read.
fn read_whole(
    dir: impl rustix::fd::AsFd,
    name: impl rustix::path::Arg,
    buf: &mut Vec<u8>,
) -> Option<&[u8]> {
    let fd = rustix::fs::openat(dir, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).ok()?;
    buf.resize(buf.capacity().max(4096), 0);
    let mut len = 0;
    loop {
        let n = rustix::io::retry_on_intr(|| rustix::io::read(&fd, &mut buf[len..])).ok()?;
        len += n;
        if n == 0 || len < buf.len() {
            return Some(&buf[..len]);
        }
        buf.resize(buf.len() * 2, 0);
    }
}

/// [`process`] for each of `pids` (the ones that exist), on up to `threads` threads: with a
/// thousand owners, reading each one's `stat`, `status`, `comm` and `cmdline` one after the
/// other is a tenth of a second.
pub fn processes(ctx: &ProcContext, pids: &[u32], detail: Detail, threads: usize) -> Vec<Process> {
    processes_after(ctx, pids, detail, reader_threads(threads, pids, 1), || {})
}

/// [`processes`] on `threads` threads (at least two where two may run) while this thread
/// first does `first`, then reads what is left. The other threads start reading at once; a
/// thread started from one of them to share the work waited for this CPU instead (1.3 ms
/// while `first` asked the kernel a question, at 10k listeners).
pub fn processes_beside(
    ctx: &ProcContext,
    pids: &[u32],
    detail: Detail,
    threads: usize,
    first: impl FnOnce(),
) -> Vec<Process> {
    processes_after(ctx, pids, detail, reader_threads(threads, pids, 2), first)
}

/// How many threads read `pids`: one per 32 of them, at least `floor` (where `threads`, the
/// CPUs allowed, permit), at most 8.
fn reader_threads(threads: usize, pids: &[u32], floor: usize) -> usize {
    threads.clamp(1, 8).min(pids.len().div_ceil(32).max(floor))
}

/// The reading behind [`processes`] and [`processes_beside`]: `threads` as given.
fn processes_after(
    ctx: &ProcContext,
    pids: &[u32],
    detail: Detail,
    threads: usize,
    first: impl FnOnce(),
) -> Vec<Process> {
    if threads <= 1 {
        first();
        return pids
            .iter()
            .filter_map(|&pid| process(ctx, pid, detail))
            .collect();
    }
    let next = AtomicUsize::new(0);
    let worker = || {
        let mut mine = Vec::new();
        while let Some(&pid) = pids.get(next.fetch_add(1, Ordering::Relaxed)) {
            mine.extend(process(ctx, pid, detail));
        }
        mine
    };
    // The caller reads too; the others start on other CPUs (see `threads::spawn_apart`).
    std::thread::scope(|s| {
        let handles: Vec<_> = (1..threads)
            .map(|_| crate::threads::spawn_apart(s, worker))
            .collect();
        first();
        let mut all = worker();
        for handle in handles {
            all.extend(crate::threads::joined(handle));
        }
        all
    })
}

/// The parent chain starting at `ppid`, nearest first, up to pid 1 (at most 64 links).
fn ancestry(mut ppid: u32) -> Vec<Ancestor> {
    let mut chain = Vec::new();
    while ppid != 0 && chain.len() < 64 {
        let Some(p) = i32::try_from(ppid)
            .ok()
            .and_then(|id| procfs::process::Process::new(id).ok())
        else {
            break;
        };
        let Ok(stat) = p.stat() else { break };
        chain.push(Ancestor {
            pid: ppid,
            comm: stat.comm.clone(),
        });
        ppid = u32::try_from(stat.ppid).unwrap_or(0);
    }
    chain
}

/// Inode of a namespace link such as `/proc/self/ns/net` (`net:[4026531840]`).
fn netns_of(path: &str) -> Option<u64> {
    std::fs::metadata(path)
        .ok()
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
}

/// Whether a process with this pid is alive now (a zombie has exited: it only waits to be
/// reaped).
pub fn pid_alive(pid: u32) -> bool {
    i32::try_from(pid)
        .ok()
        .and_then(|id| procfs::process::Process::new(id).ok())
        .and_then(|p| p.stat().ok())
        .is_some_and(|st| st.state != 'Z' && st.state != 'X')
}

/// How many file descriptors `pid` has open (entries of `/proc/<pid>/fd`); `None` if unreadable.
pub fn fd_count(pid: u32) -> Option<usize> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()
        .map(Iterator::count)
}

/// The soft `RLIMIT_NOFILE` of `pid` (`Max open files` in `/proc/<pid>/limits`); `None` when
/// unreadable or unlimited.
pub fn nofile_soft_limit(pid: u32) -> Option<usize> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Whether portscope holds a capability in its effective set (`CapEff` of
/// `/proc/self/status`; bit 10 is `CAP_NET_BIND_SERVICE`). `None` when unreadable.
pub fn has_effective_cap(bit: u32) -> Option<bool> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))?
        .trim();
    let caps = u64::from_str_radix(hex, 16).ok()?;
    Some(bit < 64 && caps & (1u64 << bit) != 0)
}

/// The network namespace portscope itself runs in (the one netlink answers for).
pub fn self_netns() -> Option<u64> {
    netns_of("/proc/self/ns/net")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_process() {
        let ctx = ProcContext::new();
        let me = process(&ctx, std::process::id(), Detail::Full).unwrap();
        assert_eq!(me.pid, std::process::id());
        assert!(!me.cmdline.is_empty());
        assert!(me.exe.is_some());
        assert!(!me.ancestry.is_empty());
        assert_eq!(me.netns, self_netns());
        assert!(me.start_time.unwrap() > 1_600_000_000);
    }

    #[test]
    fn lineages_agree_with_the_kernel() {
        let me = std::process::id();
        let entry = |pid| PidEntry { pid, uid: 0 };
        // kthreadd (pid 2) is a kernel thread wherever the test runs in the host's pid space.
        let found = lineages(&[entry(me), entry(u32::MAX - 1), entry(2)]);
        let parent = rustix::process::getppid().map(|p| p.as_raw_nonzero().get().unsigned_abs());
        assert_eq!(found.get(&me).map(|l| l.parent), parent);
        assert_eq!(found.get(&me).map(|l| l.kernel), Some(false));
        assert!(
            !found.contains_key(&(u32::MAX - 1)),
            "a vanished pid is left out"
        );
        if comm(2).as_deref() == Some("kthreadd") {
            assert_eq!(found.get(&2).map(|l| l.kernel), Some(true));
        }
    }

    #[test]
    fn a_command_name_with_parentheses_does_not_shift_the_fields() {
        let stat = b"42 (a) b (c) S 17 42 42 0 -1 2129984 0 0";
        let kernel = b"2 (kthreadd) S 0 0 0 0 -1 2129984 0 0";
        let user = b"42 (a) b (c) S 17 42 42 0 -1 4194560 0 0";
        assert_eq!(lineage_in_stat(stat).map(|l| l.parent), Some(17));
        assert_eq!(lineage_in_stat(kernel).map(|l| l.kernel), Some(true));
        assert_eq!(lineage_in_stat(user).map(|l| l.kernel), Some(false));
        assert_eq!(lineage_in_stat(b"42 (x S"), None);
    }
}
