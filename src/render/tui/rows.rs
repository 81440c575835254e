//! The table's rows: one per listener open now or closed a moment ago, with its mark (new,
//! closed), the text the filter searches, and the orders `s` cycles through.

use crate::watch::{Ending, Listener};

/// How many refreshes a new listener stays highlighted and a closed one stays listed…
const LINGER_REFRESHES: u64 = 3;
/// …and for at least this many seconds, so that a fast `--interval` leaves time to see them.
const LINGER_SECS: f64 = 3.0;

/// The row order, cycled with `s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    /// Port, then protocol and address.
    Port,
    /// Process name, then port.
    Process,
    /// Pid, then port.
    Pid,
    /// First seen, newest first.
    Since,
    /// Address, then port.
    Address,
}

impl SortBy {
    /// The next order in the cycle.
    pub fn next(self) -> SortBy {
        match self {
            SortBy::Port => SortBy::Process,
            SortBy::Process => SortBy::Pid,
            SortBy::Pid => SortBy::Since,
            SortBy::Since => SortBy::Address,
            SortBy::Address => SortBy::Port,
        }
    }

    /// Its name in the footer.
    pub fn label(self) -> &'static str {
        match self {
            SortBy::Port => "port",
            SortBy::Process => "process",
            SortBy::Pid => "pid",
            SortBy::Since => "since (newest first)",
            SortBy::Address => "address",
        }
    }
}

/// When something was seen: a refresh number and a time, for lingering.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seen {
    /// The refresh it was seen at (the view's count, from 1).
    pub refresh: u64,
    /// Its time (Unix seconds).
    pub time: f64,
}

impl Seen {
    /// Whether its mark is over, at refresh `refresh` and time `now`.
    pub fn expired(self, refresh: u64, now: f64) -> bool {
        refresh >= self.refresh + LINGER_REFRESHES && now >= self.time + LINGER_SECS
    }
}

/// How a row is shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mark {
    /// Open, and not new.
    Steady,
    /// Opened while the view ran, a moment ago.
    New(Seen),
    /// Closed a moment ago; `ending` says how.
    Closed {
        /// How it ended, when known.
        ending: Option<Ending>,
        /// When the close was seen.
        seen: Seen,
    },
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The listener.
    pub listener: Listener,
    /// When it was first seen (Unix seconds).
    pub opened_at: f64,
    /// New, closed or neither.
    pub mark: Mark,
    /// Lower-cased text the filter searches.
    pub haystack: String,
}

impl Row {
    /// A row for `listener`, first seen at `opened_at`.
    pub fn new(listener: Listener, opened_at: f64, mark: Mark) -> Row {
        let haystack = haystack(&listener);
        Row {
            listener,
            opened_at,
            mark,
            haystack,
        }
    }

    /// True while the row stands for a listener that is still open.
    pub fn is_open(&self) -> bool {
        !matches!(self.mark, Mark::Closed { .. })
    }
}

/// Every field the filter looks at, lower-cased, separated by a character no one types.
fn haystack(l: &Listener) -> String {
    let mut parts = vec![
        l.proto.as_str().to_string(),
        l.address.to_string(),
        l.port.to_string(),
    ];
    if let Some(o) = &l.owner {
        parts.push(o.pid.to_string());
        parts.push(o.process.clone());
        parts.push(o.user.clone().unwrap_or_else(|| o.uid.to_string()));
        parts.push(o.cmdline.join(" "));
    }
    parts.join("\u{1f}").to_lowercase()
}

/// Row order for `sort`; ties fall back to protocol, address, port and inode.
pub fn compare(sort: SortBy, a: &Row, b: &Row) -> std::cmp::Ordering {
    let (la, lb) = (&a.listener, &b.listener);
    let name = |l: &Listener| l.owner.as_ref().map(|o| o.process.to_lowercase());
    let pid = |l: &Listener| l.owner.as_ref().map_or(u32::MAX, |o| o.pid);
    let first = match sort {
        SortBy::Port => la.port.cmp(&lb.port),
        // Listeners without a known owner go last.
        SortBy::Process => match (name(la), name(lb)) {
            (Some(x), Some(y)) => x.cmp(&y),
            (x, y) => x.is_none().cmp(&y.is_none()),
        }
        .then(la.port.cmp(&lb.port)),
        SortBy::Pid => pid(la).cmp(&pid(lb)).then(la.port.cmp(&lb.port)),
        SortBy::Since => b
            .opened_at
            .total_cmp(&a.opened_at)
            .then(la.port.cmp(&lb.port)),
        SortBy::Address => la.address.cmp(&lb.address).then(la.port.cmp(&lb.port)),
    };
    first.then_with(|| la.key().cmp(&lb.key()))
}
