//! Supervising a child (for `run`): subreaper, signal forwarding, reaping, stopping what is
//! left. Every OS call `run` makes about its child lives here; `commands::run` decides.
//!
//! - portscope becomes a *child subreaper* (`PR_SET_CHILD_SUBREAPER`), so a grandchild that
//!   daemonises (double fork, `setsid`) is re-parented to portscope instead of init: it stays
//!   a descendant, visible to the ppid scan in [`descendants`], and is reaped here.
//! - The child stays in portscope's process group, so a terminal's Ctrl+C reaches it
//!   directly (and it may read the terminal). portscope catches SIGINT, SIGTERM, SIGHUP,
//!   SIGQUIT, SIGUSR1 and SIGUSR2 (with their origin, `siginfo`) so it is not killed first,
//!   and passes on only what the child did not already get (see [`forward_target`]).
//! - Processes are read (`/proc/<pid>/stat`), signalled (pidfds: a recycled pid is never
//!   hit) and stopped (SIGTERM, wait, SIGKILL) with the same code as `kill`:
//!   [`super::signal`].

use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use rustix::io::Errno;
use rustix::process::{Pid, WaitOptions};
use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
use signal_hook::iterator::exfiltrator::WithOrigin;
use signal_hook::iterator::{Handle as SignalsHandle, SignalsInfo};

use super::signal::{self, Handle, ProcStat, Sig, StopPlan, Stopped, Victim};
use crate::error::{Error, Result};

/// The signals portscope catches while its child runs (SIGCHLD only wakes the supervisor).
pub const CAUGHT: &[i32] = &[SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD];

/// Become a child subreaper: orphaned descendants are re-parented to this process.
pub fn become_subreaper() -> Result<()> {
    rustix::process::set_child_subreaper(Some(rustix::process::getpid()))
        .map_err(|e| Error::io("prctl(PR_SET_CHILD_SUBREAPER)", e.into()))
}

/// Where `program` would be started from: itself when it names a path (contains `/`),
/// else the first executable file of that name in `$PATH`. `Err(true)` when a file was found
/// but may not be executed, `Err(false)` when there is none.
pub fn find_program(program: &str) -> std::result::Result<PathBuf, bool> {
    let executable =
        |p: &Path| p.is_file() && rustix::fs::access(p, rustix::fs::Access::EXEC_OK).is_ok();
    if program.contains('/') {
        let p = Path::new(program);
        return if executable(p) {
            Ok(p.to_path_buf())
        } else {
            Err(p.exists())
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    let mut seen = false;
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(program);
        if executable(&candidate) {
            return Ok(candidate);
        }
        seen |= candidate.is_file();
    }
    Err(seen)
}

/// Start `program` (already resolved to a path) with `args` (`args[0]` is shown to the child
/// as its name), the given extra environment variables, and inherited standard streams, in
/// portscope's own process group. Returns its pid; it is reaped with [`reap`].
pub fn spawn(program: &Path, args: &[String], env: &[(&str, String)]) -> io::Result<u32> {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new(program);
    if let Some((first, rest)) = args.split_first() {
        cmd.arg0(first).args(rest);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn()?;
    // Dropping `Child` neither waits nor kills: `reap` collects the status.
    Ok(child.id())
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It exited with this code.
    Code(i32),
    /// A signal (this number) killed it.
    Signal(i32),
}

/// Collect every child that has ended, without blocking: the direct child and the orphans
/// re-parented to portscope.
pub fn reap() -> Vec<(u32, Ended)> {
    let mut out = Vec::new();
    loop {
        // `wait`, not `waitpid(None)`: the latter only sees children of portscope's own
        // process group, and a daemon that called setsid is in another.
        match rustix::process::wait(WaitOptions::NOHANG) {
            Ok(Some((pid, status))) => {
                let ended = match (status.exit_status(), status.terminating_signal()) {
                    (Some(code), _) => Ended::Code(code),
                    (None, Some(sig)) => Ended::Signal(sig),
                    (None, None) => continue, // stopped or continued: not an end
                };
                out.push((pid.as_raw_nonzero().get().unsigned_abs(), ended));
            }
            Err(Errno::INTR) => {}
            Ok(None) | Err(_) => return out, // none ended yet, or no children at all (ECHILD)
        }
    }
}

/// The members of `all` below `root` (children, theirs, …), parents before children.
pub fn tree_below(root: u32, mut all: Vec<ProcStat>) -> Vec<ProcStat> {
    all.sort_by_key(|d| d.ppid);
    let mut out: Vec<ProcStat> = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        let from = all.partition_point(|d| d.ppid < parent);
        for d in all[from..].iter().take_while(|d| d.ppid == parent) {
            if d.pid != root && !out.iter().any(|o| o.pid == d.pid) {
                frontier.push(d.pid);
                out.push(*d);
            }
        }
    }
    out
}

/// The live (not zombie) processes below portscope — with portscope a subreaper, daemonised
/// grandchildren are among them — and, when `group` is given, the live members of that
/// process group (a child that made its own group).
pub fn descendants(group: Option<u32>) -> Vec<ProcStat> {
    let all = signal::process_table();
    let mut out: Vec<ProcStat> = tree_below(std::process::id(), all.clone());
    if let Some(g) = group {
        for p in all.into_iter().filter(|p| p.pgrp == g) {
            if !out.iter().any(|o| o.pid == p.pid) {
                out.push(p);
            }
        }
    }
    out.retain(|p| !p.is_zombie() && !p.kernel_thread);
    out
}

/// Whether `pid` runs below portscope (its parent chain reaches portscope's pid).
pub fn is_descendant(pid: u32) -> bool {
    let me = std::process::id();
    let mut at = signal::stat(pid).map(|s| s.ppid);
    for _ in 0..4096 {
        match at {
            Some(p) if p == me => return true,
            Some(p) if p > 1 => at = signal::stat(p).map(|s| s.ppid),
            _ => return false,
        }
    }
    false
}

/// The short name (`comm`) of `pid`; `?` once it is gone.
pub fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map_or_else(|_| "?".into(), |c| c.trim_end_matches('\n').to_string())
}

/// portscope's own process group (from `/proc`: `getpgrp` reads 0 for a group outside this
/// pid namespace).
pub fn own_pgid() -> u32 {
    pgid_of(std::process::id()).unwrap_or(0)
}

/// The process group of `pid`, while it lives.
pub fn pgid_of(pid: u32) -> Option<u32> {
    signal::stat(pid).map(|s| s.pgrp)
}

/// The [`Sig`] with this number, if it is one `run` passes on or stops with.
fn sig_of(number: i32) -> Option<Sig> {
    Sig::CHOICES.into_iter().find(|s| s.number() == number)
}

/// The child, held so that a signal reaches it or nobody: a pidfd, or on kernels without
/// pidfds (before 5.3) its pid, which cannot be reused before portscope reaps it.
#[derive(Debug)]
pub struct ChildRef {
    pid: u32,
    handle: Option<Handle>,
}

impl ChildRef {
    /// Hold the direct child `pid` (call before reaping it).
    pub fn new(pid: u32) -> ChildRef {
        ChildRef {
            pid,
            handle: signal::open(pid).ok(),
        }
    }

    /// Its pid.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Send signal number `sig`; `false` when it is gone or the signal is not one `run`
    /// passes on.
    pub fn send(&self, sig: i32) -> bool {
        let Some(s) = sig_of(sig) else {
            return false;
        };
        match &self.handle {
            Some(h) => h.send(s).is_ok(),
            None => Pid::from_raw(i32::try_from(self.pid).unwrap_or(0))
                .and_then(|p| Some(rustix::process::kill_process(p, raw(s)?).is_ok()))
                .unwrap_or(false),
        }
    }
}

fn raw(s: Sig) -> Option<rustix::process::Signal> {
    rustix::process::Signal::from_named_raw(s.number())
}

/// Send signal number `sig` to every member of process group `pgid`; `false` when the group
/// is empty or the signal is not one `run` passes on.
pub fn signal_group(pgid: u32, sig: i32) -> bool {
    let (Some(p), Some(s)) = (
        i32::try_from(pgid).ok().and_then(Pid::from_raw),
        sig_of(sig).and_then(raw),
    ) else {
        return false;
    };
    rustix::process::kill_process_group(p, s).is_ok()
}

/// A leftover process and what stopping it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// Its pid.
    pub pid: u32,
    /// Its short name.
    pub comm: String,
    /// The last signal it was sent (`TERM`, or `KILL` when it outlived the wait).
    pub signal: Sig,
    /// It is gone now.
    pub gone: bool,
}

/// Stop `victims` as `kill` does: SIGTERM (SIGCONT too for a stopped one), up to `wait`,
/// then SIGKILL; also signal process group `group` (a child's own group) both times. The
/// caller reaps them ([`reap`]). Processes already gone when their turn came are left out.
pub fn stop(victims: &[ProcStat], group: Option<u32>, wait: Duration) -> Vec<Leftover> {
    let names: Vec<String> = victims.iter().map(|v| comm(v.pid)).collect();
    let list: Vec<Victim> = victims
        .iter()
        .map(|v| Victim {
            pid: v.pid,
            start_ticks: Some(v.start_ticks),
        })
        .collect();
    if let Some(g) = group {
        signal_group(g, SIGTERM);
    }
    let plan = StopPlan {
        first: Sig::Term,
        timeout: wait,
        escalate: true,
        kill_wait: Duration::from_secs(1),
    };
    let (results, _) = signal::stop(&list, &plan);
    if let Some(g) = group {
        signal_group(g, signal_hook::consts::SIGKILL);
    }
    victims
        .iter()
        .zip(names)
        .zip(results)
        .filter_map(|((v, comm), r)| {
            let (signal, gone) = match r.result {
                Stopped::AlreadyExited { .. } => return None,
                Stopped::Exited { .. } => (Sig::Term, true),
                Stopped::Killed { .. } => (Sig::Kill, true),
                Stopped::PermissionDenied => (Sig::Term, false),
                Stopped::StillRunning { last, .. } => (last, false),
            };
            Some(Leftover {
                pid: v.pid,
                comm,
                signal,
                gone,
            })
        })
        .collect()
}

/// Short signal name, as `kill` writes them (`INT`, `TERM`, `SEGV`); the number for others.
pub fn signal_name(sig: i32) -> String {
    use rustix::process::Signal as S;
    const NAMES: &[(S, &str)] = &[
        (S::HUP, "HUP"),
        (S::INT, "INT"),
        (S::QUIT, "QUIT"),
        (S::ILL, "ILL"),
        (S::TRAP, "TRAP"),
        (S::ABORT, "ABRT"),
        (S::BUS, "BUS"),
        (S::FPE, "FPE"),
        (S::KILL, "KILL"),
        (S::USR1, "USR1"),
        (S::SEGV, "SEGV"),
        (S::USR2, "USR2"),
        (S::PIPE, "PIPE"),
        (S::ALARM, "ALRM"),
        (S::TERM, "TERM"),
        (S::XCPU, "XCPU"),
        (S::XFSZ, "XFSZ"),
        (S::SYS, "SYS"),
    ];
    NAMES
        .iter()
        .find(|(s, _)| s.as_raw() == sig)
        .map_or_else(|| sig.to_string(), |(_, n)| (*n).to_string())
}

/// Whether a signal asks a process to end (what a second one during cleanup means).
pub fn is_terminating(sig: i32) -> bool {
    [SIGINT, SIGTERM, SIGHUP, SIGQUIT].contains(&sig)
}

mod catch;

pub use catch::*;
#[cfg(test)]
mod tests;
