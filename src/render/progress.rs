//! A progress bar on standard error for work that takes longer than a second (probing many
//! ports, an audit, `who --probe`). Hidden when stderr is not a terminal, and for the first
//! second. The work says `(0, total)` when it starts; a drawing thread then shows the bar
//! after one second even while no item has finished yet (a silent port takes a second to give
//! up on), and refreshes it until the work is done. A task of named steps (a slow `doctor`)
//! shows the step it is on instead of a count of ports.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long work runs before its progress is shown.
const QUIET: Duration = Duration::from_secs(1);

/// How often the bar is redrawn from the latest counts.
const REFRESH: Duration = Duration::from_millis(100);

/// Items done, items in all, and what the current step does (`None`: items are ports).
type Counts = (usize, usize, Option<&'static str>);

/// Shows progress once the work has taken more than a second.
pub struct Progress {
    enabled: bool,
    /// `(done, total)` as last told, and the step's name for a task of steps.
    counts: Arc<Mutex<Counts>>,
    stop: Arc<AtomicBool>,
    drawer: Mutex<Option<JoinHandle<()>>>,
}

impl Progress {
    /// A progress reporter; `enabled` = stderr is a terminal and output is for people.
    pub fn new(enabled: bool) -> Progress {
        Progress {
            enabled,
            counts: Arc::new(Mutex::new((0, 0, None))),
            stop: Arc::new(AtomicBool::new(false)),
            drawer: Mutex::new(None),
        }
    }

    /// `done` of `total` items are finished (`(0, total)` when the work starts).
    pub fn tick(&self, done: usize, total: usize) {
        self.update((done, total, None));
    }

    /// Step `done` of `total` has begun, doing `what`.
    pub fn step(&self, what: &'static str, done: usize, total: usize) {
        self.update((done, total, Some(what)));
    }

    fn update(&self, counts: Counts) {
        let (done, total, _) = counts;
        if !self.enabled {
            return;
        }
        if let Ok(mut c) = self.counts.lock() {
            *c = counts;
        }
        let Ok(mut drawer) = self.drawer.lock() else {
            return;
        };
        if drawer.is_none() && done < total {
            let (counts, stop) = (Arc::clone(&self.counts), Arc::clone(&self.stop));
            *drawer = Some(std::thread::spawn(move || draw(&counts, &stop)));
        }
    }
}

/// The drawing thread: quiet for a second, then the bar until the work is done or dropped.
fn draw(counts: &Mutex<Counts>, stop: &AtomicBool) {
    let start = Instant::now();
    let current = || counts.lock().map_or((0, 0, None), |c| *c);
    let finished = || {
        let (done, total, _) = current();
        stop.load(Ordering::Relaxed) || done >= total
    };
    while start.elapsed() < QUIET {
        if finished() {
            return;
        }
        std::thread::sleep(REFRESH);
    }
    let bar = ProgressBar::with_draw_target(Some(current().1 as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{elapsed}] {wide_bar}") {
        bar.set_style(style);
    }
    while !finished() {
        let (done, total, what) = current();
        bar.set_length(total as u64);
        bar.set_position(done as u64);
        bar.set_message(match what {
            Some(what) => format!("{what} (step {} of {total})", done + 1),
            None => format!("probing {done}/{total} ports"),
        });
        bar.tick();
        std::thread::sleep(REFRESH);
    }
    bar.finish_and_clear();
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Ok(mut drawer) = self.drawer.lock()
            && let Some(handle) = drawer.take()
        {
            let _ = handle.join();
        }
    }
}
