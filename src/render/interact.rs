//! The terminal side of [`Ui`]: progress bars, the question `kill` asks, and the notices
//! `run` gives while its child runs — all on standard error, so standard output stays the
//! report (or the child's own output).

use std::io::{BufRead, IsTerminal, Write};

use crate::commands::watch::{LiveFeed, Started};
use crate::commands::{Ui, kill::KillPlan, run::RunNotice};
use crate::config::Config;
use crate::error::Result;
use crate::watch::Event;

use super::progress::Progress;
use super::style::Palette;

/// A person at a terminal (or a script: then nothing is asked and nothing is drawn).
pub struct Terminal {
    progress: Progress,
    pal: Palette,
    json: bool,
    /// Colour in the live view (it draws on standard output).
    view_color: bool,
    /// Colours for live lines on standard output.
    out_pal: Palette,
}

impl Terminal {
    /// The interaction settings `cfg` allows.
    pub fn new(cfg: &Config) -> Terminal {
        Terminal {
            progress: Progress::new(cfg.progress),
            pal: Palette::new(cfg.color && std::io::stderr().is_terminal()),
            json: cfg.json,
            view_color: cfg.color,
            out_pal: Palette::new(cfg.color),
        }
    }

    fn say(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(text.as_bytes());
        let _ = err.flush();
    }
}

impl Ui for Terminal {
    fn progress(&self, done: usize, total: usize) {
        self.progress.tick(done, total);
    }

    fn step(&self, what: &'static str, done: usize, total: usize) {
        self.progress.step(what, done, total);
    }

    fn can_ask(&self) -> bool {
        std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
    }

    fn confirm_kill(&self, plan: &KillPlan) -> bool {
        if !self.can_ask() {
            return false;
        }
        self.say(&super::kill::plan(plan, &self.pal));
        self.say(&super::kill::question(plan, &self.pal));
        let mut answer = String::new();
        if std::io::stdin().lock().read_line(&mut answer).is_err() {
            return false;
        }
        matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
    }

    fn run_notice(&self, notice: &RunNotice) {
        if self.json {
            if let Ok(line) = serde_json::to_string(notice) {
                self.say(&format!("{line}\n"));
            }
            return;
        }
        self.say(&super::run::notice(notice, &self.pal));
    }

    fn can_view(&self) -> bool {
        std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
    }

    fn watch_started(&self, started: &Started) {
        super::events::print_line(&super::events::StartedLine::new(started));
    }

    fn watch_event(&self, event: &Event) {
        super::events::print_line(&super::events::EventLine::new(event));
    }

    fn live_view(&self, feed: &mut dyn LiveFeed) -> Result<()> {
        super::tui::run_with(feed, self.view_color)
    }

    fn traffic(&self, line: &crate::traffic::Line) {
        super::traffic::print(line, self.json, &self.out_pal);
    }

    fn output_closed(&self) -> bool {
        crate::sys::output::stdout_closed()
    }

    fn notice(&self, line: &str) {
        // A server runs for days: these lines are its log, and a closed standard error must
        // not bring it down.
        super::prometheus::notice(line);
    }
}
