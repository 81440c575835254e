//! Signals to other processes (for `kill`): pidfd-based, so a recycled pid is never hit.
//!
//! Every call that signals or waits on another process lives here: `pidfd_open` +
//! `pidfd_send_signal` (a pidfd names one process for good; signalling it after that process
//! exited fails with ESRCH instead of hitting whoever got the pid next), waiting for exits by
//! `poll`ing the pidfds (readable once the process has exited), and the `/proc/<pid>/stat`
//! facts `kill` decides with: start time in clock ticks (the pid-reuse guard), run state,
//! process group, and the kernel-thread flag.

use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::io::Errno;
use rustix::process::{Pid, PidfdFlags, Signal};
use serde::Serialize;

/// A signal `kill` may send. Serialises as its short name (`"TERM"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Sig {
    /// SIGHUP (1).
    Hup,
    /// SIGINT (2).
    Int,
    /// SIGQUIT (3).
    Quit,
    /// SIGKILL (9): cannot be caught or ignored.
    Kill,
    /// SIGUSR1 (10).
    Usr1,
    /// SIGUSR2 (12).
    Usr2,
    /// SIGTERM (15): the polite request to exit.
    Term,
    /// SIGCONT (18): resumes a stopped process (sent after another signal, never chosen).
    Cont,
}

impl Sig {
    /// The signals a user may choose as the first signal.
    pub const CHOICES: [Sig; 7] = [
        Sig::Term,
        Sig::Int,
        Sig::Hup,
        Sig::Quit,
        Sig::Kill,
        Sig::Usr1,
        Sig::Usr2,
    ];

    /// Short name without `SIG` (`TERM`).
    pub fn name(self) -> &'static str {
        match self {
            Sig::Hup => "HUP",
            Sig::Int => "INT",
            Sig::Quit => "QUIT",
            Sig::Kill => "KILL",
            Sig::Usr1 => "USR1",
            Sig::Usr2 => "USR2",
            Sig::Term => "TERM",
            Sig::Cont => "CONT",
        }
    }

    /// The signal number on Linux (x86, arm, riscv: the generic numbering).
    pub fn number(self) -> i32 {
        self.raw().as_raw()
    }

    fn raw(self) -> Signal {
        match self {
            Sig::Hup => Signal::HUP,
            Sig::Int => Signal::INT,
            Sig::Quit => Signal::QUIT,
            Sig::Kill => Signal::KILL,
            Sig::Usr1 => Signal::USR1,
            Sig::Usr2 => Signal::USR2,
            Sig::Term => Signal::TERM,
            Sig::Cont => Signal::CONT,
        }
    }

    /// Parse a first signal as users write it: `TERM`, `SIGTERM`, `term`, `15`. Only
    /// [`Sig::CHOICES`] are accepted (a STOP would freeze the holder, not free the port).
    pub fn parse(text: &str) -> Option<Sig> {
        let t = text.trim().to_ascii_uppercase();
        let name = t.strip_prefix("SIG").unwrap_or(&t);
        Sig::CHOICES
            .into_iter()
            .find(|s| s.name() == name || name.parse::<i32>().ok() == Some(s.number()))
    }
}

/// The facts of `/proc/<pid>/stat` that `kill` decides with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    /// Process id.
    pub pid: u32,
    /// Parent pid (0 for pid 1, and for processes whose parent is outside this pid namespace).
    pub ppid: u32,
    /// Process group id (0 for kernel threads).
    pub pgrp: u32,
    /// The one-letter run state (`S`, `R`, `T` stopped, `Z` zombie…).
    pub state: char,
    /// True for kernel threads (`PF_KTHREAD`): they hold no sockets and cannot be killed.
    pub kernel_thread: bool,
    /// Start time in clock ticks since boot: with the pid, it names one process for good.
    pub start_ticks: u64,
}

impl ProcStat {
    /// Exited, waiting to be reaped (holds no files, no sockets).
    pub fn is_zombie(&self) -> bool {
        matches!(self.state, 'Z' | 'X' | 'x')
    }

    /// Stopped by a signal or a tracer: it will not act on SIGTERM until continued.
    pub fn is_stopped(&self) -> bool {
        matches!(self.state, 'T' | 't')
    }
}

/// Read `/proc/<pid>/stat`; `None` when the process is gone.
pub fn stat(pid: u32) -> Option<ProcStat> {
    let st = procfs::process::Process::new(i32::try_from(pid).ok()?)
        .ok()?
        .stat()
        .ok()?;
    Some(ProcStat {
        pid,
        ppid: u32::try_from(st.ppid).unwrap_or(0),
        pgrp: u32::try_from(st.pgrp).unwrap_or(0),
        state: st.state,
        kernel_thread: st.flags & super::procfs::PF_KTHREAD != 0,
        start_ticks: st.starttime,
    })
}

/// Every process of this pid namespace (for `--tree`: descendants and process groups).
pub fn process_table() -> Vec<ProcStat> {
    super::procfs::list_pids()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| stat(e.pid))
        .collect()
}

/// portscope's own place in the process tree: what `kill` must never stop.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lineage {
    /// portscope's pid.
    pub pid: u32,
    /// Its parent, grandparent… nearest first (the shell chain that ran it).
    pub ancestors: Vec<u32>,
    /// Its process group.
    pub pgrp: u32,
}

/// Read portscope's own lineage.
pub fn own_lineage() -> Lineage {
    let pid = rustix::process::getpid()
        .as_raw_nonzero()
        .get()
        .unsigned_abs();
    let mut ancestors = Vec::new();
    let mut next = rustix::process::getppid().map(|p| p.as_raw_nonzero().get().unsigned_abs());
    while let Some(p) = next.filter(|&p| p != 0 && ancestors.len() < 128) {
        ancestors.push(p);
        next = super::procfs::ppid(p);
    }
    // Not getpgrp(): a group outside this pid namespace reads as 0 (nsenter), which rustix
    // asserts against.
    Lineage {
        pid,
        ancestors,
        pgrp: stat(pid).map_or(0, |s| s.pgrp),
    }
}

/// Why a process could not be opened or signalled.
#[derive(Debug)]
pub enum SignalError {
    /// It has exited (ESRCH).
    Gone,
    /// It belongs to another user (EPERM).
    PermissionDenied,
    /// Anything else the kernel said.
    Other(std::io::Error),
}

impl From<Errno> for SignalError {
    fn from(e: Errno) -> Self {
        match e {
            Errno::SRCH => SignalError::Gone,
            Errno::PERM | Errno::ACCESS => SignalError::PermissionDenied,
            other => SignalError::Other(other.into()),
        }
    }
}

/// One process, held by a pidfd: signals sent through it reach that process or nobody.
#[derive(Debug)]
pub struct Handle {
    pid: u32,
    fd: OwnedFd,
}

impl Handle {
    /// The pid this handle was opened for.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Send `sig` to the process.
    pub fn send(&self, sig: Sig) -> Result<(), SignalError> {
        Ok(rustix::process::pidfd_send_signal(&self.fd, sig.raw())?)
    }
}

/// Open a pidfd for `pid`. Check the process's start time *after* this (see [`stat`]) to be
/// sure the handle names the process you meant.
pub fn open(pid: u32) -> Result<Handle, SignalError> {
    let raw = i32::try_from(pid).map_err(|_| SignalError::Gone)?;
    let id = Pid::from_raw(raw).ok_or(SignalError::Gone)?;
    let fd = rustix::process::pidfd_open(id, PidfdFlags::empty())?;
    Ok(Handle { pid, fd })
}

/// Wait until each process has exited or `timeout` has passed. Returns, per handle, how long
/// after the call it was seen gone (`None`: still running at the deadline).
pub fn wait_exits(handles: &[&Handle], timeout: Duration) -> Vec<Option<Duration>> {
    let start = Instant::now();
    let mut exited: Vec<Option<Duration>> = vec![None; handles.len()];
    loop {
        let waiting: Vec<usize> = (0..handles.len())
            .filter(|&i| exited[i].is_none())
            .collect();
        if waiting.is_empty() {
            break;
        }
        let left = timeout.saturating_sub(start.elapsed());
        let mut fds: Vec<PollFd<'_>> = waiting
            .iter()
            .map(|&i| PollFd::new(&handles[i].fd, PollFlags::IN))
            .collect();
        let limit = Timespec::try_from(left).unwrap_or(Timespec {
            tv_sec: 86_400,
            tv_nsec: 0,
        });
        match rustix::event::poll(&mut fds, Some(&limit)) {
            Ok(_) | Err(Errno::INTR) => {}
            // poll itself failed: fall back to asking /proc, once.
            Err(_) => {
                for &i in &waiting {
                    if stat(handles[i].pid).is_none_or(|s| s.is_zombie()) {
                        exited[i] = Some(start.elapsed());
                    }
                }
                break;
            }
        }
        let now = start.elapsed();
        for (fd, &i) in fds.iter().zip(&waiting) {
            if !fd.revents().is_empty() {
                exited[i] = Some(now);
            }
        }
        if start.elapsed() >= timeout {
            break;
        }
    }
    exited
}

impl std::fmt::Display for SignalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignalError::Gone => f.write_str("no such process"),
            SignalError::PermissionDenied => f.write_str("permission denied"),
            SignalError::Other(e) => write!(f, "{e}"),
        }
    }
}

/// A process to stop: its pid and its start time (clock ticks) when it was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Victim {
    /// Pid.
    pub pid: u32,
    /// Start time when chosen; `None` when it was already gone then.
    pub start_ticks: Option<u64>,
}

/// How [`stop`] goes about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopPlan {
    /// The first signal.
    pub first: Sig,
    /// How long to wait for exits after it.
    pub timeout: Duration,
    /// Send SIGKILL to what is still running then.
    pub escalate: bool,
    /// How long to wait after SIGKILL.
    pub kill_wait: Duration,
}

/// What [`stop`] saw happen to one process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// It exited `after` the first signal.
    Exited {
        /// Time from the signal to the exit.
        after: Duration,
    },
    /// It ignored the first signal for `ignored` and exited `after` SIGKILL.
    Killed {
        /// How long it outlived the first signal.
        ignored: Duration,
        /// Time from SIGKILL to the exit.
        after: Duration,
    },
    /// It was gone before any signal.
    AlreadyExited {
        /// Its pid now names another, younger process (left alone).
        reused: bool,
    },
    /// The kernel refused to signal it (EPERM: another user's process).
    PermissionDenied,
    /// It still runs.
    StillRunning {
        /// The last signal it was sent.
        last: Sig,
        /// How long it has been running since.
        waited: Duration,
        /// A signal that failed for another reason.
        error: Option<String>,
    },
}

/// One process's result from [`stop`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    /// What happened.
    pub result: Stopped,
    /// It was stopped (SIGSTOP, Ctrl-Z), so SIGCONT followed the first signal.
    pub resumed: bool,
}

/// One signal [`stop`] sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sent {
    /// To whom.
    pub pid: u32,
    /// Which.
    pub signal: Sig,
    /// Seconds after the first signal of the run.
    pub at_s: f64,
}

/// Open a victim's pidfd, then make sure its pid still names the process chosen (same start
/// time): from then on the handle cannot reach anyone else. `Ok(stopped)` says whether it is
/// stopped by a signal.
fn arm(v: &Victim) -> Result<(Handle, bool), Stopped> {
    let gone = Stopped::AlreadyExited { reused: false };
    let ticks = v.start_ticks.ok_or(gone.clone())?;
    let handle = open(v.pid).map_err(|e| match e {
        SignalError::Gone => gone.clone(),
        SignalError::PermissionDenied => Stopped::PermissionDenied,
        SignalError::Other(e) => Stopped::StillRunning {
            last: Sig::Cont,
            waited: Duration::ZERO,
            error: Some(format!("pidfd_open failed: {e}")),
        },
    })?;
    match stat(v.pid) {
        Some(st) if st.start_ticks != ticks => Err(Stopped::AlreadyExited { reused: true }),
        // A zombie has exited already: it holds nothing; do not wait on it.
        Some(st) if !st.is_zombie() => Ok((handle, st.is_stopped())),
        _ => Err(gone),
    }
}

/// Stop processes: send the first signal to all (with SIGCONT after it to stopped ones, so
/// they can act on it), wait up to `timeout` for them to exit, then SIGKILL what remains
/// (when `escalate`) and wait `kill_wait` more. Results are in `victims` order.
pub fn stop(victims: &[Victim], how: &StopPlan) -> (Vec<Stop>, Vec<Sent>) {
    let start = Instant::now();
    let mut sent = Vec::new();
    // Record a signal; returns when it was sent.
    let note = |pid: u32, signal: Sig, sent: &mut Vec<Sent>| {
        let now = Instant::now();
        sent.push(Sent {
            pid,
            signal,
            at_s: millis(now.duration_since(start)),
        });
        now
    };
    let mut results = Vec::with_capacity(victims.len());
    let mut live: Vec<(usize, Handle, Instant)> = Vec::new();
    for (i, v) in victims.iter().enumerate() {
        let mut r = Stop {
            result: Stopped::AlreadyExited { reused: false },
            resumed: false,
        };
        match arm(v) {
            Err(s) => r.result = s,
            Ok((h, stopped)) => match h.send(how.first) {
                Ok(()) => {
                    let at = note(v.pid, how.first, &mut sent);
                    if stopped && how.first != Sig::Kill && h.send(Sig::Cont).is_ok() {
                        note(v.pid, Sig::Cont, &mut sent);
                        r.resumed = true;
                    }
                    live.push((i, h, at));
                }
                Err(SignalError::Gone) => {}
                Err(SignalError::PermissionDenied) => r.result = Stopped::PermissionDenied,
                Err(e) => {
                    r.result = Stopped::StillRunning {
                        last: how.first,
                        waited: Duration::ZERO,
                        error: Some(format!("SIG{} failed: {e}", how.first.name())),
                    }
                }
            },
        }
        results.push(r);
    }
    let waiting = Instant::now();
    let handles: Vec<&Handle> = live.iter().map(|(_, h, _)| h).collect();
    let exits = wait_exits(&handles, how.timeout);
    let mut killed: Vec<(usize, &Handle, Duration, Instant)> = Vec::new();
    for ((i, h, at), t) in live.iter().zip(exits) {
        let ignored = at.elapsed();
        results[*i].result = match t {
            Some(d) => Stopped::Exited {
                after: (waiting + d).saturating_duration_since(*at),
            },
            None if !how.escalate || how.first == Sig::Kill => Stopped::StillRunning {
                last: how.first,
                waited: ignored,
                error: None,
            },
            None => match h.send(Sig::Kill) {
                Ok(()) => {
                    let kill_at = note(h.pid(), Sig::Kill, &mut sent);
                    killed.push((*i, h, ignored, kill_at));
                    continue;
                }
                Err(SignalError::Gone) => Stopped::Exited { after: ignored },
                Err(e) => Stopped::StillRunning {
                    last: how.first,
                    waited: ignored,
                    error: Some(format!("SIGKILL failed: {e}")),
                },
            },
        };
    }
    let waiting = Instant::now();
    let handles: Vec<&Handle> = killed.iter().map(|(_, h, _, _)| *h).collect();
    for ((i, _, ignored, at), t) in killed.iter().zip(wait_exits(&handles, how.kill_wait)) {
        results[*i].result = match t {
            Some(d) => Stopped::Killed {
                ignored: *ignored,
                after: (waiting + d).saturating_duration_since(*at),
            },
            None => Stopped::StillRunning {
                last: Sig::Kill,
                waited: at.elapsed(),
                error: None,
            },
        };
    }
    (results, sent)
}

/// Seconds, rounded to the millisecond (for reports).
fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn own_lineage_reaches_the_parent() {
        let me = own_lineage();
        assert_eq!(me.pid, std::process::id());
        assert_eq!(
            me.ancestors.first().copied(),
            Some(std::os::unix::process::parent_id())
        );
        assert!(!me.ancestors.contains(&me.pid));
    }

    #[test]
    fn a_child_is_signalled_and_seen_exiting() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        let st = stat(pid).unwrap();
        assert!(!st.kernel_thread && !st.is_zombie());
        let h = open(pid).unwrap();
        assert!(wait_exits(&[&h], Duration::from_millis(50))[0].is_none());
        h.send(Sig::Term).unwrap();
        let t = wait_exits(&[&h], Duration::from_secs(5))[0];
        assert!(t.is_some(), "sleep did not exit on SIGTERM");
        // Exited but not reaped (a zombie): the pidfd stays readable.
        assert!(wait_exits(&[&h], Duration::ZERO)[0].is_some());
        assert!(stat(pid).unwrap().is_zombie());
        child.wait().unwrap();
        assert!(matches!(h.send(Sig::Term), Err(SignalError::Gone)));
    }

    #[test]
    fn kernel_threads_are_flagged() {
        // kthreadd is pid 2 in the initial pid namespace; inside a container it may not exist.
        if let Some(st) = stat(2).filter(|s| s.ppid == 0 && s.pgrp == 0) {
            assert!(st.kernel_thread);
        }
        assert!(!stat(std::process::id()).unwrap().kernel_thread);
    }
}
