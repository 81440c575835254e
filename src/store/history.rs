//! The history store: listener open/close events in SQLite (WAL), written by one recorder
//! at a time and read by `history`, and by `who`, `explain` and `doctor` for a free port's
//! last holder.
//!
//! Layout (`schema.rs` has the SQL): an append-only `events` table (one row per open or close,
//! each carrying the listener and its owner in full, so a close row alone tells a whole stay),
//! `open_now` (the rows of listeners open as of the recorder's last look), `sessions` (one
//! row per recorder run: start, last moment known alive, clean stop) and `meta` (schema
//! version, and the time before which retention forgot events).
//!
//! Durability: every [`Writer::record`] is one transaction in WAL mode with
//! `synchronous=NORMAL`, so a committed batch survives a crash of the recorder (SIGKILL,
//! OOM) at any instant; a power cut may lose the last batches, never corrupt the file.
//! One recorder at a time: `history.lock` beside the database is `flock`ed exclusively (it
//! holds the recorder's pid). Readers take no lock: WAL readers never block the writer.

mod json;
mod last;
mod reader;
mod schema;
mod writer;

#[cfg(test)]
mod tests;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

pub use json::{Stamp, When};
pub use last::{PastHolder, last_recorded, past_sentence};
pub use reader::{Reader, Recorder, Session};
pub use writer::Writer;

use crate::model::Proto;
use crate::watch::{Ending, Event, Listener, Tracked};

/// The database file's name inside the state directory.
pub const FILE: &str = "history.db";

/// The recorder's lock file beside the database (it holds the recorder's pid).
pub const LOCK: &str = "history.lock";

/// Where a system-wide recorder (the unit in `contrib/`) keeps its store; readers fall back
/// to it when the user's own state directory has none.
pub const SYSTEM_DIR: &str = "/var/lib/portscope";

/// How much the store keeps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retention {
    /// Forget events older than this many seconds.
    pub keep_s: f64,
    /// Keep the database file under this many bytes, forgetting the oldest events first.
    pub max_bytes: u64,
}

/// What a recorder found when it opened the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Resumed {
    /// Listeners recorded as open (opened, never closed), to seed the tracker with.
    pub open: Vec<Tracked>,
    /// The last moment the previous recorder was known alive (its stop, or its last
    /// heartbeat or commit after a crash); `None` for a new store.
    pub last_alive: Option<f64>,
}

/// What to select.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// Only this inclusive port range.
    pub ports: Option<(u16, u16)>,
    /// Only this protocol.
    pub proto: Option<Proto>,
    /// Only listeners that receive connections for one of these addresses (a wildcard
    /// `0.0.0.0`/`::` bind serves them all, `::` and `::ffff:a.b.c.d` serve IPv4 too).
    pub addresses: Option<Vec<IpAddr>>,
    /// Only what happened (or was open) at or after this time (Unix seconds).
    pub since: Option<f64>,
    /// Only what happened (or was open) at or before this time.
    pub until: Option<f64>,
    /// Only listeners of processes with this name (comm, or the file name of argv\[0\]).
    pub process: Option<String>,
    /// Only listeners of this process id.
    pub pid: Option<u32>,
    /// At most this many rows (the newest); 0 means no limit.
    pub limit: usize,
}

/// One listener's stay: from its open to its close (or still open). In JSON (see
/// `docs/json.md`, `history`): the listener and owner flattened, moments as [`When`].
#[derive(Debug, Clone, PartialEq)]
pub struct Stay {
    /// The listener and its owner when it opened.
    pub listener: Listener,
    /// When it was first seen (Unix seconds).
    pub opened_at: f64,
    /// True when it was already open when a recorder started: it opened at or before
    /// `opened_at` (after `opened_after`, when that is known), not between two looks.
    pub found_open: bool,
    /// For a listener found open by a recorder that resumed a store: it opened after this
    /// time (the previous recorder's last look).
    pub opened_after: Option<f64>,
    /// When it was seen gone; `None` while still open (as far as the store knows).
    pub closed_at: Option<f64>,
    /// For a close noticed on a recorder's restart: it happened after this time.
    pub closed_after: Option<f64>,
    /// How it ended.
    pub ending: Option<Ending>,
}

/// One recorded event, as stored. In JSON: a `daemon --events` line plus `id` and what only
/// the store knows.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// Row id (increasing in recording order).
    pub id: i64,
    /// The event.
    pub event: Event,
    /// Opens: already open when a recorder started (see [`Stay::found_open`]).
    pub found_open: bool,
    /// Opens found open on a resumed store: opened after this time.
    pub opened_after: Option<f64>,
    /// Closes noticed on a recorder's restart: closed after this time.
    pub closed_after: Option<f64>,
    /// Closes: the row id of the listener's open (it may have been forgotten by retention).
    pub open_id: Option<i64>,
}

/// The store readers should use: `--state-dir`/`PORTSCOPE_STATE_DIR`/XDG's, else the system
/// recorder's in [`SYSTEM_DIR`]. `None` when neither has one.
pub fn find(given: Option<&Path>) -> Option<PathBuf> {
    let own = super::registry::state_dir(given).ok().map(|d| d.join(FILE));
    if let Some(p) = own.filter(|p| present(p)) {
        return Some(p);
    }
    if given.is_some() {
        return None;
    }
    Some(Path::new(SYSTEM_DIR).join(FILE)).filter(|p| present(p))
}

/// Whether something may be at `path`: it exists, or it cannot be looked at (a directory
/// this user may not search), which [`Reader::open`] then says rather than "no store".
fn present(path: &Path) -> bool {
    match std::fs::metadata(path) {
        Ok(_) => true,
        Err(e) => e.kind() != std::io::ErrorKind::NotFound,
    }
}

/// Where [`find`] looks, in order (for saying so when it finds nothing).
pub fn search_path(given: Option<&Path>) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = super::registry::state_dir(given)
        .ok()
        .map(|d| d.join(FILE))
        .into_iter()
        .collect();
    if given.is_none() {
        v.push(Path::new(SYSTEM_DIR).join(FILE));
    }
    v
}

/// The bound addresses whose listeners receive connections for `wanted` (the inverse of
/// [`crate::knowledge::addr_class::receives_for`], as a finite set for an SQL `IN`).
pub fn serving_addresses(wanted: &[IpAddr]) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = Vec::new();
    let mut add = |a: IpAddr| {
        if !out.contains(&a) {
            out.push(a);
        }
    };
    for w in wanted {
        add(*w);
        add(IpAddr::from(std::net::Ipv6Addr::UNSPECIFIED));
        if let IpAddr::V4(v4) = w {
            add(IpAddr::from(std::net::Ipv4Addr::UNSPECIFIED));
            add(IpAddr::V6(v4.to_ipv6_mapped()));
        }
    }
    out
}
