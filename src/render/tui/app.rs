//! The live view's state, without a terminal: the rows (open listeners, new ones marked for a
//! few refreshes, closed ones lingering), the filter, the sort, the selection, and what each
//! key does. The loop in `mod.rs` feeds it frames and keys and carries out its [`Action`]s;
//! `draw.rs` only reads it. Everything here is unit-tested with made-up frames.

use std::path::PathBuf;
use std::time::Duration;

use crate::commands::kill::KillReport;
use crate::commands::watch::Frame;
use crate::model::Hidden;
use crate::watch::observe::StateCounts;
use crate::watch::{EventKind, Key as ListenerKey, Listener};

use super::free;
pub use super::rows::{Mark, Row, SortBy};
use super::rows::{Seen, compare};

/// How long a status line stays (seconds).
const STATUS_SECS: f64 = 6.0;

/// A key, as the view understands it (the loop translates terminal events into these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A printable character.
    Char(char),
    /// Enter.
    Enter,
    /// Escape.
    Esc,
    /// Backspace.
    Backspace,
    /// Arrow up.
    Up,
    /// Arrow down.
    Down,
    /// Page up.
    PageUp,
    /// Page down.
    PageDown,
    /// Home.
    Home,
    /// End.
    End,
    /// Ctrl+C (in raw mode it is a key, not a signal).
    Interrupt,
}

/// What the loop should do after a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Nothing beyond redrawing.
    Redraw,
    /// End the view.
    Quit,
    /// Ask the feed what freeing this listener's port would do (a dry run).
    PlanKill(Listener),
    /// The person confirmed: free this listener's port.
    Kill(Listener),
}

/// The status line's tone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Information (working on it, cancelled).
    Info,
    /// It worked.
    Good,
    /// It did not, or was refused.
    Bad,
}

/// A one-line message in the footer, for a few seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// The text.
    pub text: String,
    /// Its tone.
    pub tone: Tone,
    until: f64,
}

/// The confirmation shown after `k`.
#[derive(Debug, Clone)]
pub struct Confirm {
    /// The listener whose port would be freed.
    pub listener: Listener,
    /// The dry run: what would be stopped, what is refused.
    pub plan: KillReport,
}

/// What keys currently do.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Moving around the table.
    Browse,
    /// Typing a filter.
    Filter,
    /// Asking whether to free a port.
    Confirm(Box<Confirm>),
}

/// The whole state of the view.
#[derive(Debug)]
pub struct App {
    rows: Vec<Row>,
    /// Indices into `rows` of the rows shown, in order.
    visible: Vec<usize>,
    refreshes: u64,
    /// The latest frame's time (Unix seconds).
    pub now: f64,
    /// When the watcher started (Unix seconds).
    pub started_at: f64,
    /// Time between refreshes.
    pub interval: Duration,
    /// Sockets by protocol and state.
    pub states: StateCounts,
    /// Listeners whose owners could not be seen.
    pub hidden: Hidden,
    /// The history store, when recording.
    pub recording: Option<PathBuf>,
    /// Listeners opened since the view started.
    pub opened: usize,
    /// Listeners closed since the view started.
    pub closed: usize,
    filter: String,
    mode: Mode,
    sort: SortBy,
    selected: usize,
    selected_key: Option<ListenerKey>,
    offset: usize,
    page: usize,
    status: Option<Status>,
}

impl App {
    /// An empty view; the first [`App::apply`] fills it.
    pub fn new(interval: Duration) -> App {
        App {
            rows: Vec::new(),
            visible: Vec::new(),
            refreshes: 0,
            now: 0.0,
            started_at: 0.0,
            interval,
            states: StateCounts::default(),
            hidden: Hidden::default(),
            recording: None,
            opened: 0,
            closed: 0,
            filter: String::new(),
            mode: Mode::Browse,
            sort: SortBy::Port,
            selected: 0,
            selected_key: None,
            offset: 0,
            page: 10,
            status: None,
        }
    }

    /// Take in a refresh. The first frame is the baseline: its listeners were there before the
    /// view started, and its events (a recorder catching up) are not shown as marks.
    pub fn apply(&mut self, frame: Frame) {
        let first = self.refreshes == 0;
        self.refreshes += 1;
        let now = frame.time;
        let seen = Seen {
            refresh: self.refreshes,
            time: now,
        };
        let mut previous: std::collections::HashMap<ListenerKey, Row> =
            self.rows.drain(..).map(|r| (r.listener.key(), r)).collect();
        let mut opened_now = std::collections::HashSet::new();
        let mut rows = Vec::with_capacity(frame.listeners.len());
        if !first {
            for e in &frame.events {
                match e.kind {
                    EventKind::Opened => {
                        self.opened += 1;
                        opened_now.insert(e.listener.key());
                    }
                    EventKind::Closed => {
                        self.closed += 1;
                        let key = e.listener.key();
                        let opened_at = previous
                            .remove(&key)
                            .map_or(e.opened_at.unwrap_or(now), |r| r.opened_at);
                        let mark = Mark::Closed {
                            ending: e.ending,
                            seen,
                        };
                        rows.push(Row::new(e.listener.clone(), opened_at, mark));
                    }
                }
            }
        }
        for t in frame.listeners {
            let key = t.listener.key();
            let mark = match previous.remove(&key).map(|r| r.mark) {
                _ if opened_now.contains(&key) => Mark::New(seen),
                Some(Mark::New(s)) if !s.expired(self.refreshes, now) => Mark::New(s),
                _ => Mark::Steady,
            };
            rows.push(Row::new(t.listener, t.opened_at, mark));
        }
        // Closed rows from earlier refreshes linger a while.
        for (_, r) in previous {
            if let Mark::Closed { seen: s, .. } = r.mark
                && !s.expired(self.refreshes, now)
            {
                rows.push(r);
            }
        }
        self.rows = rows;
        self.now = now;
        self.started_at = frame.started_at;
        self.states = frame.states;
        self.hidden = frame.hidden;
        self.recording = frame.recording;
        if self.status.as_ref().is_some_and(|s| now >= s.until) {
            self.status = None;
        }
        self.relist();
    }

    /// Recompute which rows show, in which order, and keep the selection on the same
    /// listener when it is still shown.
    fn relist(&mut self) {
        let needle = self.filter.to_lowercase();
        let mut visible: Vec<usize> = (0..self.rows.len())
            .filter(|&i| {
                self.rows
                    .get(i)
                    .is_some_and(|r| needle.is_empty() || r.haystack.contains(&needle))
            })
            .collect();
        let rows = &self.rows;
        let sort = self.sort;
        visible.sort_by(|&a, &b| match (rows.get(a), rows.get(b)) {
            (Some(a), Some(b)) => compare(sort, a, b),
            _ => std::cmp::Ordering::Equal,
        });
        self.visible = visible;
        let found = self
            .selected_key
            .and_then(|key| self.visible_rows().position(|r| r.listener.key() == key));
        if let Some(i) = found {
            self.selected = i;
        }
        self.select(self.selected as isize);
    }

    /// Select the `i`th shown row (clamped), and scroll so it is in view.
    fn select(&mut self, i: isize) {
        let last = self.visible.len().saturating_sub(1) as isize;
        self.selected = i.clamp(0, last.max(0)) as usize;
        self.selected_key = self.selected_row().map(|r| r.listener.key());
        let page = self.page.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + page {
            self.offset = self.selected + 1 - page;
        }
        self.offset = self.offset.min(self.visible.len().saturating_sub(page));
    }

    /// Tell the state how many rows fit (for PgUp/PgDn and scrolling).
    pub fn set_page(&mut self, rows: usize) {
        if rows != self.page {
            self.page = rows.max(1);
            self.select(self.selected as isize);
        }
    }

    /// Handle a key.
    pub fn key(&mut self, key: Key) -> Action {
        if key == Key::Interrupt {
            return Action::Quit;
        }
        match &self.mode {
            Mode::Browse => self.browse_key(key),
            Mode::Filter => self.filter_key(key),
            Mode::Confirm(c) => {
                let listener = c.listener.clone();
                self.confirm_key(key, listener)
            }
        }
    }

    fn browse_key(&mut self, key: Key) -> Action {
        match key {
            Key::Char('q') => return Action::Quit,
            Key::Esc if self.filter.is_empty() => return Action::Quit,
            Key::Esc => self.set_filter(String::new()),
            Key::Char('/') => self.mode = Mode::Filter,
            Key::Char('s') => {
                self.sort = self.sort.next();
                self.relist();
            }
            Key::Char('k') => return self.free_selected(),
            _ => self.movement(key),
        }
        Action::Redraw
    }

    fn filter_key(&mut self, key: Key) -> Action {
        match key {
            Key::Enter => self.mode = Mode::Browse,
            Key::Esc => {
                self.mode = Mode::Browse;
                self.set_filter(String::new());
            }
            Key::Backspace => {
                let mut f = self.filter.clone();
                f.pop();
                self.set_filter(f);
            }
            Key::Char(c) if !c.is_control() => {
                let mut f = self.filter.clone();
                f.push(c);
                self.set_filter(f);
            }
            _ => self.movement(key),
        }
        Action::Redraw
    }

    fn confirm_key(&mut self, key: Key, listener: Listener) -> Action {
        match key {
            Key::Char('y' | 'Y') => {
                self.mode = Mode::Browse;
                // The port may have changed hands while the question was up: what was shown
                // is what may be stopped, so a listener gone since is not chased.
                let key = listener.key();
                if !self
                    .rows
                    .iter()
                    .any(|r| r.is_open() && r.listener.key() == key)
                {
                    self.set_status(
                        format!(
                            "{} closed while asking; nothing was stopped",
                            free::port_label(&listener)
                        ),
                        Tone::Bad,
                    );
                    return Action::Redraw;
                }
                self.set_status(
                    format!("freeing {}…", free::port_label(&listener)),
                    Tone::Info,
                );
                Action::Kill(listener)
            }
            Key::Char('n' | 'N' | 'q') | Key::Esc => {
                self.mode = Mode::Browse;
                self.set_status(
                    format!(
                        "nothing was stopped; {} left alone",
                        free::port_label(&listener)
                    ),
                    Tone::Info,
                );
                Action::Redraw
            }
            _ => Action::Redraw,
        }
    }

    fn movement(&mut self, key: Key) {
        let page = self.page.max(1) as isize;
        let at = self.selected as isize;
        match key {
            Key::Up => self.select(at - 1),
            Key::Down | Key::Char('j') => self.select(at + 1),
            Key::PageUp => self.select(at - page),
            Key::PageDown => self.select(at + page),
            Key::Home => self.select(0),
            Key::End => self.select(isize::MAX),
            _ => {}
        }
    }

    fn set_filter(&mut self, filter: String) {
        self.filter = filter;
        self.relist();
    }

    fn free_selected(&mut self) -> Action {
        match self.selected_row() {
            None => {
                self.set_status("no listener is selected".into(), Tone::Bad);
                Action::Redraw
            }
            Some(r) if !r.is_open() => {
                let text = format!("{} is already closed", free::port_label(&r.listener));
                self.set_status(text, Tone::Bad);
                Action::Redraw
            }
            Some(r) => Action::PlanKill(r.listener.clone()),
        }
    }

    /// The dry run for `k` came back: ask, or say why there is nothing to ask.
    pub fn planned(&mut self, listener: Listener, plan: crate::error::Result<KillReport>) {
        match plan {
            Err(e) => self.set_status(
                format!("cannot free {}: {e}", free::port_label(&listener)),
                Tone::Bad,
            ),
            Ok(plan) => match free::nothing_to_ask(&listener, &plan) {
                Some(why) => self.set_status(why, Tone::Bad),
                None => self.mode = Mode::Confirm(Box::new(Confirm { listener, plan })),
            },
        }
    }

    /// The kill came back: say how it went.
    pub fn killed(&mut self, listener: &Listener, report: crate::error::Result<KillReport>) {
        match report {
            Err(e) => self.set_status(
                format!("could not free {}: {e}", free::port_label(listener)),
                Tone::Bad,
            ),
            Ok(r) => {
                let (text, good) = free::outcome(listener, &r);
                self.set_status(text, if good { Tone::Good } else { Tone::Bad });
            }
        }
    }

    fn set_status(&mut self, text: String, tone: Tone) {
        let until = self.now + STATUS_SECS.max(self.interval.as_secs_f64() * 2.0);
        self.status = Some(Status { text, tone, until });
    }

    /// The rows shown, in order.
    pub fn visible_rows(&self) -> impl Iterator<Item = &Row> {
        self.visible.iter().filter_map(|&i| self.rows.get(i))
    }

    /// How many rows are shown.
    pub fn shown(&self) -> usize {
        self.visible.len()
    }

    /// How many rows there are, filter aside (open and lingering closed).
    pub fn total(&self) -> usize {
        self.rows.len()
    }

    /// How many listeners are open.
    pub fn open_count(&self) -> usize {
        self.rows.iter().filter(|r| r.is_open()).count()
    }

    /// The selected row, if any row is shown.
    pub fn selected_row(&self) -> Option<&Row> {
        self.visible
            .get(self.selected)
            .and_then(|&i| self.rows.get(i))
    }

    /// Index of the selected row among those shown.
    pub fn selected(&self) -> usize {
        self.selected
    }

    /// The first row shown on screen (scrolling).
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The filter text (applied or being typed).
    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// What keys currently do.
    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    /// The row order.
    pub fn sort(&self) -> SortBy {
        self.sort
    }

    /// The status line, while it lasts.
    pub fn status(&self) -> Option<&Status> {
        self.status.as_ref()
    }
}

#[cfg(test)]
#[path = "app_tests.rs"]
mod tests;
