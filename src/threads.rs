//! Scoped threads joined without losing what they did: a thread that panicked carries its
//! panic on to the one that joins it, rather than its share of the work (owners found,
//! processes read, probes run) being dropped from the result without a word. And started on
//! another CPU than their parent's where the work is split to run side by side.

use std::thread::{Scope, ScopedJoinHandle};

use crate::sys::sched;

/// Start `f` on a scoped thread running on another CPU than the caller (where the process may
/// use more than one), returning once it runs there: a kernel may otherwise queue it behind its
/// parent for milliseconds (see [`crate::sys::sched`]), which is the whole of a short split.
pub fn spawn_apart<'scope, T, F>(
    scope: &'scope Scope<'scope, '_>,
    f: F,
) -> ScopedJoinHandle<'scope, T>
where
    F: FnOnce() -> T + Send + 'scope,
    T: Send + 'scope,
{
    let Some(held) = sched::hold_here() else {
        return scope.spawn(f);
    };
    let leave = held.leave();
    let (moved, elsewhere) = std::sync::mpsc::sync_channel::<()>(1);
    let handle = scope.spawn(move || {
        leave.go();
        let _ = moved.send(());
        f()
    });
    // Waiting lets the child start on this CPU at once; an error means it ended (panicked).
    let _ = elsewhere.recv();
    drop(held);
    handle
}

/// What the thread returned; its panic, resumed here, if it panicked.
pub fn joined<T>(handle: ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_threads_panic_reaches_the_one_that_joins_it() {
        assert_eq!(std::thread::scope(|s| joined(s.spawn(|| 7))), 7);
        let lost = std::panic::catch_unwind(|| {
            std::thread::scope(|s| joined(s.spawn(|| -> u32 { panic!("a walk thread failed") })))
        });
        let panic = lost
            .err()
            .and_then(|p| p.downcast_ref::<&str>().map(|s| s.to_string()));
        assert_eq!(panic.as_deref(), Some("a walk thread failed"));
    }

    #[test]
    fn a_thread_spawned_apart_does_its_work_and_the_callers_mask_is_kept() {
        let before = sched::allowed();
        let got = std::thread::scope(|s| joined(spawn_apart(s, || 6 * 7)));
        assert_eq!(got, 42);
        assert!(sched::allowed() == before);
        let lost = std::panic::catch_unwind(|| {
            std::thread::scope(|s| joined(spawn_apart(s, || -> u32 { panic!("apart") })))
        });
        assert!(
            lost.is_err(),
            "a panic before or after the move reaches the caller"
        );
        assert!(sched::allowed() == before);
    }
}
