//! Where this process's threads run. Some kernels start a new thread on its parent's CPU and
//! leave it queued there while the parent keeps working, for milliseconds, however idle the
//! other CPUs are (measured on this project's 2-core VM: 1.3–3.8 ms, with the parent busy in
//! a netlink dump); work split over two threads then takes as long as on one. [`hold_here`]
//! and [`Leave::go`] let a new thread start at once elsewhere: the parent is held on its CPU
//! while the child, which starts there, moves itself to another one the process may use and
//! then lets itself go anywhere again. Both masks end as they began.

use rustix::thread::{CpuSet, sched_getaffinity, sched_getcpu, sched_setaffinity};

/// The calling thread held on its CPU until dropped (its own mask then given back).
pub struct Held {
    leave: Leave,
}

/// What a thread started on a held CPU needs to leave it: that CPU, and the CPUs the process
/// may use.
#[derive(Clone, Copy)]
pub struct Leave {
    cpu: usize,
    allowed: CpuSet,
}

/// Hold the calling thread on the CPU it runs on; `None` when it may use one CPU only or the
/// kernel refuses.
pub fn hold_here() -> Option<Held> {
    let allowed = sched_getaffinity(None).ok()?;
    if allowed.count() < 2 {
        return None;
    }
    let cpu = sched_getcpu();
    let mut only = CpuSet::new();
    only.set(cpu);
    sched_setaffinity(None, &only).ok()?;
    Some(Held {
        leave: Leave { cpu, allowed },
    })
}

impl Held {
    /// What a thread started now needs to leave this CPU (see [`Leave::go`]).
    pub fn leave(&self) -> Leave {
        self.leave
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let _ = sched_setaffinity(None, &self.leave.allowed);
    }
}

impl Leave {
    /// Move the calling thread (started on the held CPU) to another allowed CPU, then let it
    /// run on any allowed CPU again: the kernel does not move a running thread back to a
    /// busier CPU.
    pub fn go(self) {
        let mut elsewhere = self.allowed;
        elsewhere.unset(self.cpu);
        let _ = sched_setaffinity(None, &elsewhere);
        let _ = sched_setaffinity(None, &self.allowed);
    }
}

/// The CPUs the calling thread may use (for tests of the callers).
#[cfg(test)]
pub(crate) fn allowed() -> Option<CpuSet> {
    sched_getaffinity(None).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_leaving_a_held_cpu_runs_elsewhere_and_every_mask_comes_back() {
        let before = sched_getaffinity(None).unwrap();
        let Some(held) = hold_here() else {
            assert!(before.count() < 2, "two CPUs allowed, yet nothing held");
            eprintln!("skipped sched apart: needs two CPUs (this process may use one)");
            return;
        };
        let here = sched_getcpu();
        let only = sched_getaffinity(None).unwrap();
        assert_eq!(
            (only.count(), only.is_set(here)),
            (1, true),
            "held on its CPU"
        );
        let leave = held.leave();
        let (there, child_mask) = std::thread::scope(|s| {
            s.spawn(move || {
                leave.go();
                (sched_getcpu(), sched_getaffinity(None).unwrap())
            })
            .join()
            .unwrap()
        });
        drop(held);
        assert_ne!(there, here, "the child moved off the held CPU");
        assert!(child_mask == before, "the child may run anywhere again");
        assert!(
            sched_getaffinity(None).unwrap() == before,
            "the parent's mask is back"
        );
    }
}
