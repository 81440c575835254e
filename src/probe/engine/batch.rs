//! Many addresses at once: a work queue of addresses shared by at most `concurrency` threads,
//! each address probed by [`super::probe`] on a fresh connection, progress told after each
//! and a stop asked for before each (an MCP client cancelling `probe` or `audit`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Context, Limits, PortProbe, probe};

/// Who hears how far a batch of probes is, and whether it should go on.
#[derive(Clone, Copy)]
pub struct Watch<'a> {
    /// `(done, total)` after each address, and `(0, total)` at the start.
    pub progress: &'a (dyn Fn(usize, usize) + Sync),
    /// Asked before each address is started: `true` starts no more, and the batch returns
    /// the ones already done (those in flight end within their deadline).
    pub stop: &'a (dyn Fn() -> bool + Sync),
}

impl<'a> Watch<'a> {
    /// Progress told to `progress`; never stopped.
    pub fn progress(progress: &'a (dyn Fn(usize, usize) + Sync)) -> Watch<'a> {
        Watch {
            progress,
            stop: &|| false,
        }
    }

    /// Nobody listens; never stopped.
    pub fn quiet() -> Watch<'static> {
        Watch {
            progress: &|_, _| {},
            stop: &|| false,
        }
    }
}

/// Probe many addresses with at most `concurrency` at a time, telling `watch` after each.
/// The results are in the jobs' order; when `watch` stops the batch they are the first ones
/// only (addresses are started in order, and each started one is finished).
pub fn probe_all(
    jobs: &[(SocketAddr, Context)],
    limits: &Limits,
    concurrency: usize,
    watch: Watch,
) -> Vec<PortProbe> {
    let progress = watch.progress;
    // Started: a progress display can show the total before the first port is done.
    progress(0, jobs.len());
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let workers = concurrency.clamp(1, 64).min(jobs.len().max(1));
    let mut results: Vec<(usize, PortProbe)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        if (watch.stop)() {
                            break;
                        }
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((addr, ctx)) = jobs.get(i) else {
                            break;
                        };
                        mine.push((i, probe(*addr, ctx, limits)));
                        progress(done.fetch_add(1, Ordering::Relaxed) + 1, jobs.len());
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(crate::threads::joined)
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}
