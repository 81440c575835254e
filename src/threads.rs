//! Scoped threads joined without losing what they did: a thread that panicked carries its
//! panic on to the one that joins it, rather than its share of the work (owners found,
//! processes read, probes run) being dropped from the result without a word.

use std::thread::ScopedJoinHandle;

/// What the thread returned; its panic, resumed here, if it panicked.
pub fn joined<T>(handle: ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

#[cfg(test)]
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
}
