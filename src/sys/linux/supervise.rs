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

/// A signal portscope received while its child ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The signal number.
    pub signal: i32,
    /// The process that sent it (`kill`, `systemctl stop`…); `None` when the kernel
    /// generated it (the terminal's Ctrl+C, Ctrl+\, hang-up).
    pub sender: Option<u32>,
    /// Where it was passed on, if it was.
    pub forwarded: Option<Forward>,
}

/// Where a received signal was passed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forward {
    /// To the child.
    Child,
    /// To the child's own process group (it left portscope's group, so the terminal's
    /// signals no longer reach it).
    Group(u32),
}

/// Something the supervisor should look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A caught signal (already forwarded when `forwarded` says so).
    Signal(Received),
    /// A child changed state (SIGCHLD): time to [`reap`].
    Child,
}

/// Where portscope stands, for [`forward_target`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// portscope's process group.
    pub own_pgid: u32,
    /// The child's process group, while it lives.
    pub child_pgid: Option<u32>,
    /// portscope leads its session (`setsid portscope …`, `ssh -t host portscope …`): a
    /// terminal hang-up then signals portscope alone.
    pub session_leader: bool,
}

/// What the facts about a signal say to do with it (pure, so it is tested without signals).
///
/// - Sent by a process (`kill -INT <portscope>`): the child did not get it, pass it on —
///   unless the sender is portscope's own descendant (`kill 0` from inside the tree reaches
///   the child already).
/// - Generated by the terminal (Ctrl+C, Ctrl+\): the child got it too, being in the
///   foreground group — unless it moved to a group of its own; then pass it on to that
///   group. A hang-up goes to the session leader only: when that is portscope, pass it on.
pub fn forward_target(
    signal: i32,
    sender: Option<u32>,
    sender_is_descendant: bool,
    place: Place,
) -> Option<Forward> {
    let own_group = place.child_pgid.filter(|&g| g != place.own_pgid && g != 0);
    match sender {
        Some(_) if sender_is_descendant => None,
        Some(_) => Some(Forward::Child),
        None => match own_group {
            Some(g) => Some(Forward::Group(g)),
            None if signal == SIGHUP && place.session_leader => Some(Forward::Child),
            None => None,
        },
    }
}

/// Whether this process leads its session (`/proc/self/stat`: session id = pid).
pub fn is_session_leader() -> bool {
    let me = std::process::id();
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|text| {
            let after = text.get(text.rfind(')')? + 1..)?.to_string();
            after.split_whitespace().nth(3)?.parse::<u32>().ok()
        })
        .is_some_and(|session| session == me)
}

/// The signals, caught from before the child starts until the supervision ends.
pub struct Catcher {
    signals: SignalsInfo<WithOrigin>,
}

/// Catch [`CAUGHT`]: from now on they no longer end portscope (they queue until
/// [`Catcher::watch`] hands them out).
pub fn catch() -> Result<Catcher> {
    let signals = SignalsInfo::<WithOrigin>::new(CAUGHT)
        .map_err(|e| Error::io("installing signal handlers", e))?;
    Ok(Catcher { signals })
}

/// The thread that forwards signals to the child and reports them.
pub struct Watcher {
    /// What happened, in order.
    pub events: Receiver<Event>,
    handle: SignalsHandle,
    thread: Option<JoinHandle<()>>,
}

impl Catcher {
    /// Start forwarding to `child` (see [`forward_target`]) and reporting every caught signal
    /// on [`Watcher::events`].
    pub fn watch(self, child: ChildRef) -> Result<Watcher> {
        let (tx, rx) = mpsc::channel();
        let handle = self.signals.handle();
        let mut signals = self.signals;
        let own_pgid = own_pgid();
        let session_leader = is_session_leader();
        let thread = std::thread::Builder::new()
            .name("run-signals".into())
            .spawn(move || {
                for origin in signals.forever() {
                    let place = Place {
                        own_pgid,
                        child_pgid: pgid_of(child.pid()),
                        session_leader,
                    };
                    if !handle_one(&origin, &child, place, &tx) {
                        break;
                    }
                }
            })
            .map_err(|e| Error::io("starting the signal thread", e))?;
        Ok(Watcher {
            events: rx,
            handle,
            thread: Some(thread),
        })
    }
}

/// Forward and report one signal; `false` once nobody listens any more.
fn handle_one(
    origin: &signal_hook::low_level::siginfo::Origin,
    child: &ChildRef,
    place: Place,
    tx: &Sender<Event>,
) -> bool {
    if origin.signal == SIGCHLD {
        return tx.send(Event::Child).is_ok();
    }
    let sender = origin
        .process
        .and_then(|p| u32::try_from(p.pid).ok())
        .filter(|&p| p != 0);
    let from_tree = sender.is_some_and(is_descendant);
    let target = forward_target(origin.signal, sender, from_tree, place);
    let forwarded = match target {
        Some(Forward::Child) => child.send(origin.signal),
        Some(Forward::Group(g)) => signal_group(g, origin.signal),
        None => false,
    };
    tx.send(Event::Signal(Received {
        signal: origin.signal,
        sender,
        forwarded: target.filter(|_| forwarded),
    }))
    .is_ok()
}

impl Watcher {
    /// Stop the thread and hand out what it reported that was not read yet (a signal that
    /// ended the child is reported after the child's exit may already have been seen).
    pub fn finish(mut self) -> Vec<Event> {
        self.stop_thread();
        self.events.try_iter().collect()
    }

    fn stop_thread(&mut self) {
        self.handle.close();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Watcher {
    /// Stop the thread. The handlers stay installed (signal-hook cannot restore the default
    /// action), so a late Ctrl+C does not interrupt the final report either.
    fn drop(&mut self) {
        self.stop_thread();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn p(pid: u32, ppid: u32) -> ProcStat {
        ProcStat {
            pid,
            ppid,
            pgrp: 1,
            state: 'S',
            kernel_thread: false,
            start_ticks: 0,
        }
    }

    #[test]
    fn tree() {
        let all = vec![
            p(10, 1),
            p(11, 10),
            p(12, 11),
            p(13, 1),
            p(14, 12),
            p(15, 10),
        ];
        let mut below: Vec<u32> = tree_below(10, all).iter().map(|d| d.pid).collect();
        below.sort_unstable();
        assert_eq!(below, vec![11, 12, 14, 15]);
        assert!(tree_below(99, vec![p(1, 0)]).is_empty());
    }

    #[test]
    fn forwarding_rules() {
        let place = |child_pgid, session_leader| Place {
            own_pgid: 5,
            child_pgid,
            session_leader,
        };
        let same = place(Some(5), false);
        // kill -INT <portscope> from another process: pass it on.
        assert_eq!(
            forward_target(SIGINT, Some(77), false, same),
            Some(Forward::Child)
        );
        // sent from inside the tree (kill 0): the child got it already.
        assert_eq!(forward_target(SIGINT, Some(78), true, same), None);
        // the terminal's Ctrl+C: the child, in the same group, got it already.
        assert_eq!(forward_target(SIGINT, None, false, same), None);
        // … unless the child moved to a group of its own.
        assert_eq!(
            forward_target(SIGINT, None, false, place(Some(9), false)),
            Some(Forward::Group(9))
        );
        assert_eq!(
            forward_target(SIGINT, None, false, place(None, false)),
            None
        );
        // A hang-up reaches only the session leader: passed on when that is portscope.
        assert_eq!(forward_target(SIGHUP, None, false, same), None);
        assert_eq!(
            forward_target(SIGHUP, None, false, place(Some(5), true)),
            Some(Forward::Child)
        );
        assert_eq!(
            forward_target(SIGINT, None, false, place(Some(5), true)),
            None
        );
    }

    #[test]
    fn names() {
        assert_eq!(signal_name(2), "INT");
        assert_eq!(signal_name(15), "TERM");
        assert_eq!(signal_name(9), "KILL");
        assert_eq!(signal_name(77), "77");
        assert!(is_terminating(SIGINT) && !is_terminating(SIGUSR1));
    }

    #[test]
    fn a_child_is_below_this_process() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        assert!(is_descendant(pid));
        assert!(descendants(None).iter().any(|d| d.pid == pid));
        assert_eq!(comm(pid), "sleep");
        let stopped = stop(&[signal::stat(pid).unwrap()], None, Duration::from_secs(5));
        let _ = child.wait();
        assert_eq!(stopped.len(), 1);
        assert_eq!((stopped[0].signal, stopped[0].gone), (Sig::Term, true));
        assert!(!is_descendant(std::os::unix::process::parent_id()));
    }
}
