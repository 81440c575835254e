//! The [`Ui`] a verb sees while it runs for a tool call: its progress goes to the server (a
//! progress notification when the client asked for them), the client's cancellation comes
//! back as [`Ui::cancelled`], and nothing is ever asked or drawn — there is no person, and
//! standard output is the protocol's.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use crate::commands::watch::{LiveFeed, Started};
use crate::commands::{Ui, kill::KillPlan, run::RunNotice};
use crate::error::{Error, Result};
use crate::watch::Event;

/// How far a call is: progress so far, the total when known, and what it is doing.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// Progress so far (items done, or milliseconds waited).
    pub progress: f64,
    /// The total, when known.
    pub total: Option<f64>,
    /// What is being done, for people.
    pub message: String,
}

/// A tool call's side of the [`Ui`].
pub struct McpUi {
    ticks: UnboundedSender<Tick>,
    cancelled: Arc<AtomicBool>,
}

impl McpUi {
    /// Progress goes to `ticks`; `cancelled` is set by the server when the client cancels.
    pub fn new(ticks: UnboundedSender<Tick>, cancelled: Arc<AtomicBool>) -> McpUi {
        McpUi { ticks, cancelled }
    }

    fn tick(&self, progress: f64, total: Option<f64>, message: String) {
        // The server has stopped listening once the call ended or was cancelled.
        let _ = self.ticks.send(Tick {
            progress,
            total,
            message,
        });
    }
}

impl Ui for McpUi {
    fn progress(&self, done: usize, total: usize) {
        self.tick(
            done as f64,
            Some(total as f64),
            format!("{done} of {total} done"),
        );
    }

    fn step(&self, what: &'static str, done: usize, total: usize) {
        let message = format!("{what} (step {} of {total})", done + 1);
        self.tick(done as f64, Some(total as f64), message);
    }

    fn waiting(&self, looks: u32, elapsed: Duration, timeout: Duration) {
        let message = format!(
            "not yet after {looks} look{} ({:.1}s of {:.1}s)",
            if looks == 1 { "" } else { "s" },
            elapsed.as_secs_f64(),
            timeout.as_secs_f64()
        );
        self.tick(
            elapsed.as_millis() as f64,
            Some(timeout.as_millis() as f64),
            message,
        );
    }

    fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    fn can_ask(&self) -> bool {
        false
    }

    fn confirm_kill(&self, _plan: &KillPlan) -> bool {
        false
    }

    fn run_notice(&self, _notice: &RunNotice) {}

    fn can_view(&self) -> bool {
        false
    }

    fn watch_started(&self, _started: &Started) {}

    fn watch_event(&self, _event: &Event) {}

    fn live_view(&self, _feed: &mut dyn LiveFeed) -> Result<()> {
        Err(Error::bad_input(
            "the live view needs a terminal",
            "the tools answer once; `portscope watch` runs in a terminal",
        ))
    }

    fn traffic(&self, _line: &crate::traffic::Line) {}

    fn notice(&self, _line: &str) {}

    fn output_closed(&self) -> bool {
        self.cancelled()
    }
}
