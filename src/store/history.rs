//! The history store: listener open/close events in SQLite (WAL), written by one recorder
//! at a time and read by `history`, `who`, `explain` and `doctor`.
//!
//! STUB: the API below is the contract; the implementation is being written.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::Proto;
use crate::watch::{Ending, Event, Listener, Tracked};

/// The database file's name inside the state directory.
pub const FILE: &str = "history.db";

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
    /// heartbeat after a crash); `None` for a new store.
    pub last_alive: Option<f64>,
}

/// The store, open for writing by this recorder (holds `history.lock` until dropped).
#[derive(Debug)]
pub struct Writer {
    path: PathBuf,
}

impl Writer {
    /// Open (creating it and the directory if needed) and lock the store in `dir`. Fails with
    /// a message naming the other recorder's pid when one already records there.
    pub fn open(dir: &Path, retention: Retention) -> Result<(Writer, Resumed)> {
        let _ = retention;
        Err(Error::Unsupported {
            what: format!("the history store {}", dir.join(FILE).display()),
            why: "not implemented yet".into(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Record events in one transaction: when this returns they survive a crash of the
    /// recorder (not necessarily of the machine: synchronous=NORMAL in WAL mode).
    pub fn record(&mut self, events: &[Event]) -> Result<()> {
        let _ = events;
        Ok(())
    }

    /// Note that the recorder is alive at `now` (cheap; call every ~30 s).
    pub fn heartbeat(&mut self, now: f64) -> Result<()> {
        let _ = now;
        Ok(())
    }

    /// Forget what retention says to forget; returns how many events were deleted.
    pub fn prune(&mut self, now: f64) -> Result<u64> {
        let _ = now;
        Ok(0)
    }

    /// Note a clean stop at `now` (the recorder is exiting).
    pub fn stopped(&mut self, now: f64) -> Result<()> {
        let _ = now;
        Ok(())
    }
}

/// The store, open for reading (no lock: WAL readers never block the writer).
#[derive(Debug)]
pub struct Reader {
    path: PathBuf,
}

/// What to select.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// Only this inclusive port range.
    pub ports: Option<(u16, u16)>,
    /// Only this protocol.
    pub proto: Option<Proto>,
    /// Only what happened (or was open) at or after this time (Unix seconds).
    pub since: Option<f64>,
    /// Only what happened (or was open) at or before this time.
    pub until: Option<f64>,
    /// Only listeners of processes with this name (comm, or the file name of argv\[0\]).
    pub process: Option<String>,
    /// At most this many rows (the newest).
    pub limit: usize,
}

/// One listener's stay: from its open to its close (or still open).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stay {
    /// The listener and its owner when it opened.
    pub listener: Listener,
    /// When it was first seen (Unix seconds).
    pub opened_at: f64,
    /// When it was seen gone; `None` while still open (as far as the store knows).
    pub closed_at: Option<f64>,
    /// For a close noticed on a recorder's restart: it happened after this time.
    pub closed_after: Option<f64>,
    /// How it ended.
    pub ending: Option<Ending>,
}

/// One recorded event, as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stored {
    /// Row id (increasing in recording order).
    pub id: i64,
    /// The event.
    #[serde(flatten)]
    pub event: Event,
}

impl Reader {
    /// Open the store at `path` read-only; `Ok(None)` when there is no such file.
    pub fn open(path: &Path) -> Result<Option<Reader>> {
        if !path.exists() {
            return Ok(None);
        }
        Ok(Some(Reader {
            path: path.to_path_buf(),
        }))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stays matching `q`, oldest first (the newest `q.limit`).
    pub fn stays(&self, q: &Query) -> Result<Vec<Stay>> {
        let _ = q;
        Ok(Vec::new())
    }

    /// Events matching `q`, oldest first (the newest `q.limit`).
    pub fn events(&self, q: &Query) -> Result<Vec<Stored>> {
        let _ = q;
        Ok(Vec::new())
    }

    /// The most recent stay that ended on `port` (any address), of `proto` when given.
    pub fn last_holder(&self, port: u16, proto: Option<Proto>) -> Result<Option<Stay>> {
        let _ = (port, proto);
        Ok(None)
    }

    /// The time range the store covers: the first recorder start and the last moment a
    /// recorder was known alive (`None` for an empty store).
    pub fn coverage(&self) -> Result<Option<(f64, f64)>> {
        Ok(None)
    }
}

/// The store readers should use: `--state-dir`/`PORTSCOPE_STATE_DIR`/XDG's, else the system
/// recorder's in [`SYSTEM_DIR`]. `None` when neither has one.
pub fn find(given: Option<&Path>) -> Option<PathBuf> {
    let own = super::registry::state_dir(given).ok().map(|d| d.join(FILE));
    if let Some(p) = own.filter(|p| p.exists()) {
        return Some(p);
    }
    if given.is_some() {
        return None;
    }
    Some(Path::new(SYSTEM_DIR).join(FILE)).filter(|p| p.exists())
}
