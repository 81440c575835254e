//! A progress bar on standard error for work that takes longer than a second (probing many
//! ports). Hidden when stderr is not a terminal, and for the first second.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Shows progress once the work has taken more than a second.
pub struct Progress {
    start: Instant,
    bar: Mutex<Option<ProgressBar>>,
    enabled: bool,
}

impl Progress {
    /// A progress reporter; `enabled` = stderr is a terminal and output is for people.
    pub fn new(enabled: bool) -> Progress {
        Progress {
            start: Instant::now(),
            bar: Mutex::new(None),
            enabled,
        }
    }

    /// `done` of `total` items are finished.
    pub fn tick(&self, done: usize, total: usize) {
        if !self.enabled || self.start.elapsed() < Duration::from_secs(1) {
            return;
        }
        let Ok(mut slot) = self.bar.lock() else {
            return;
        };
        let bar = slot.get_or_insert_with(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} probing {pos}/{len} ports [{elapsed}] {wide_bar}",
            ) {
                bar.set_style(style);
            }
            bar
        });
        bar.set_position(done as u64);
        if done >= total {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Ok(mut slot) = self.bar.lock()
            && let Some(bar) = slot.take()
        {
            bar.finish_and_clear();
        }
    }
}
