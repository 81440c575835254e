//! The readers' side of the store: stays and events for `history`, the covered time range,
//! and whether a recorder is running. Readers never write (a read-only connection) and take
//! no lock that could hold a recorder up.

use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params_from_iter};
use serde::Serialize;

use super::schema::{self, COLUMNS, Found, Row, sql_error};
use super::{LOCK, Query, Stay, Stored, serving_addresses};
use crate::error::{Error, Result};
use crate::model::Proto;
use crate::watch::EventKind;

/// The store, open for reading (no lock: WAL readers never block the writer).
#[derive(Debug)]
pub struct Reader {
    path: PathBuf,
    conn: Connection,
    /// A database without tables yet (a recorder creating it right now): reads as empty.
    empty: bool,
}

/// One recorder run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Session {
    /// The recorder's pid.
    pub pid: u32,
    /// When it started (Unix seconds).
    pub started_at: f64,
    /// The last moment it was known alive (a heartbeat, a commit, or its stop).
    pub last_alive: f64,
    /// When it stopped cleanly; `None` while it runs, or when it died (crash, SIGKILL).
    pub stopped_at: Option<f64>,
}

/// Whether a recorder holds the store now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Recorder {
    /// A recorder holds the lock (its pid, when it wrote one).
    Running {
        /// Its pid.
        pid: Option<u32>,
    },
    /// Nobody records into this store now.
    NotRunning,
    /// The lock file could not be read.
    Unknown,
}

impl Reader {
    /// Open the store at `path` read-only; `Ok(None)` when there is no such file.
    pub fn open(path: &Path) -> Result<Option<Reader>> {
        match std::fs::metadata(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Err(Error::PermissionDenied {
                    what: format!("reading the history store {}", path.display()),
                    hint: schema::READ_HINT.into(),
                });
            }
            Err(e) => {
                return Err(Error::io(
                    format!("reading the history store {}", path.display()),
                    e,
                ));
            }
        }
        let ro = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let found = open_with(path, path.as_os_str(), ro)
            .or_else(|first| {
                // A read-only connection to a WAL database needs its -shm file, and makes it
                // when the directory lets it. When no recorder runs there is no -wal (the
                // last one to close folded it in), so the file alone is the whole store:
                // read it as immutable, which needs no -shm (a reader of the system store in
                // a directory it may not write to).
                if wal_of(path).exists() {
                    return Err(first);
                }
                let uri = immutable_uri(path);
                open_with(path, uri.as_ref(), ro | OpenFlags::SQLITE_OPEN_URI).map_err(|_| first)
            })
            .or_else(|first| {
                // Last: a read-write connection told to write nothing (when allowed at all).
                let rw = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                match open_with(path, path.as_os_str(), rw) {
                    Ok((conn, found)) => conn
                        .pragma_update(None, "query_only", true)
                        .map(|()| (conn, found))
                        .map_err(|e| sql_error(path, "opening the history store", e)),
                    Err(_) => Err(first),
                }
            });
        match found {
            Ok((conn, found)) => Ok(Some(Reader {
                path: path.to_path_buf(),
                conn,
                empty: found == Found::Empty,
            })),
            // Removed between the check and the open: no store.
            Err(_) if !path.exists() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stays matching `q`, oldest first (the newest `q.limit`).
    pub fn stays(&self, q: &Query) -> Result<Vec<Stay>> {
        if self.empty {
            return Ok(Vec::new());
        }
        let (inner, params) = stays_sql(q);
        let sql = format!(
            "SELECT * FROM ({inner}) ORDER BY stay_from DESC, stay_key DESC{}",
            limit(q)
        );
        let mut rows = self.rows(&sql, params)?;
        rows.reverse();
        Ok(rows.into_iter().map(stay).collect())
    }

    /// How many stays match `q`, without its limit.
    pub fn count_stays(&self, q: &Query) -> Result<usize> {
        let (inner, params) = stays_sql(q);
        self.count(&inner, params)
    }

    /// Events matching `q`, oldest first by time, then recording order (the newest
    /// `q.limit`).
    pub fn events(&self, q: &Query) -> Result<Vec<Stored>> {
        if self.empty {
            return Ok(Vec::new());
        }
        let (inner, params) = events_sql(q);
        let sql = format!("{inner} ORDER BY e.time DESC, e.id DESC{}", limit(q));
        let mut rows = self.rows(&sql, params)?;
        rows.reverse();
        Ok(rows
            .into_iter()
            .map(|r| Stored {
                id: r.id,
                event: r.event,
                found_open: r.found_open,
                opened_after: r.opened_after,
                closed_after: r.closed_after,
                open_id: r.open_id,
            })
            .collect())
    }

    /// How many events match `q`, without its limit.
    pub fn count_events(&self, q: &Query) -> Result<usize> {
        let (inner, params) = events_sql(q);
        self.count(&inner, params)
    }

    /// The most recent stay that ended on `port` (any address), of `proto` when given.
    pub fn last_holder(&self, port: u16, proto: Option<Proto>) -> Result<Option<Stay>> {
        if self.empty {
            return Ok(None);
        }
        let mut params = vec![Value::from(i64::from(port))];
        let mut sql =
            format!("SELECT {COLUMNS} FROM events e WHERE e.kind = 'listen-closed' AND e.port = ?");
        if let Some(p) = proto {
            sql.push_str(" AND e.proto = ?");
            params.push(Value::from(p.as_str().to_string()));
        }
        sql.push_str(" ORDER BY e.time DESC, e.id DESC LIMIT 1");
        Ok(self.rows(&sql, params)?.pop().map(stay))
    }

    /// The time range the store covers: the first recorder start (or the time before which
    /// retention forgot events, when later) and the last moment a recorder was known alive
    /// (`None` for an empty store).
    pub fn coverage(&self) -> Result<Option<(f64, f64)>> {
        if self.empty {
            return Ok(None);
        }
        let err = |e| sql_error(&self.path, "reading the history store", e);
        let span: (Option<f64>, Option<f64>) = self
            .conn
            .query_row(
                "SELECT min(started_at), max(last_alive) FROM sessions",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(err)?;
        let pruned: Option<f64> = self
            .conn
            .query_row(
                "SELECT CAST(value AS REAL) FROM meta WHERE key = 'pruned_before'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        Ok(match span {
            (Some(from), Some(to)) => {
                let from = pruned.map_or(from, |p| from.max(p).min(to));
                Some((from, to))
            }
            _ => None,
        })
    }

    /// Every recorder run the store remembers, oldest first.
    pub fn sessions(&self) -> Result<Vec<Session>> {
        if self.empty {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare(
                "SELECT pid, started_at, last_alive, stopped_at FROM sessions ORDER BY started_at, id",
            )
            .map_err(|e| sql_error(&self.path, "reading the history store", e))?;
        stmt.query_map([], |r| {
            Ok(Session {
                pid: r.get(0)?,
                started_at: r.get(1)?,
                last_alive: r.get(2)?,
                stopped_at: r.get(3)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| sql_error(&self.path, "reading the history store", e))
    }

    /// Whether a recorder holds this store's lock now (a shared lock tried and released at
    /// once; a recorder starting at that instant retries).
    pub fn recorder(&self) -> Recorder {
        let Some(dir) = self.path.parent() else {
            return Recorder::Unknown;
        };
        let mut file = match File::open(dir.join(LOCK)) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Recorder::NotRunning,
            Err(_) => return Recorder::Unknown,
        };
        match file.try_lock_shared() {
            Ok(()) => {
                let _ = file.unlock();
                Recorder::NotRunning
            }
            Err(std::fs::TryLockError::WouldBlock) => Recorder::Running {
                pid: super::writer::holder_pid(&mut file),
            },
            Err(std::fs::TryLockError::Error(_)) => Recorder::Unknown,
        }
    }

    fn rows(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>> {
        let err = |e| sql_error(&self.path, "reading the history store", e);
        let mut stmt = self.conn.prepare(sql).map_err(err)?;
        stmt.query_map(params_from_iter(params), schema::row_event)
            .and_then(|rows| rows.collect())
            .map_err(err)
    }

    fn count(&self, inner: &str, params: Vec<Value>) -> Result<usize> {
        if self.empty {
            return Ok(0);
        }
        let n: i64 = self
            .conn
            .query_row(
                &format!("SELECT count(*) FROM ({inner})"),
                params_from_iter(params),
                |r| r.get(0),
            )
            .map_err(|e| sql_error(&self.path, "reading the history store", e))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}

/// Open `target` (the path, or a URI for it) and check it; the connection waits for a
/// writer's brief locks. Errors name `path`.
pub(super) fn open_with(
    path: &Path,
    target: &std::ffi::OsStr,
    flags: OpenFlags,
) -> Result<(Connection, Found)> {
    let conn = Connection::open_with_flags(target, flags)
        .map_err(|e| sql_error(path, "opening the history store", e))?;
    conn.busy_timeout(std::time::Duration::from_millis(schema::BUSY_MS))
        .map_err(|e| sql_error(path, "opening the history store", e))?;
    let found = schema::check(&conn, path)?;
    Ok((conn, found))
}

/// `history.db-wal` beside `history.db`.
fn wal_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push("-wal");
    PathBuf::from(name)
}

/// `file:/path?immutable=1`, the path percent-encoded where a URI needs it.
pub(super) fn immutable_uri(path: &Path) -> std::ffi::OsString {
    use std::os::unix::ffi::OsStrExt;
    let mut uri = String::from("file:");
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?immutable=1");
    uri.into()
}

/// ` LIMIT n`, or nothing for no limit.
fn limit(q: &Query) -> String {
    if q.limit == 0 {
        String::new()
    } else {
        format!(" LIMIT {}", q.limit)
    }
}

/// The conditions every query shares (each starts with ` AND`), and their parameters.
fn common(q: &Query) -> (String, Vec<Value>) {
    let mut sql = String::new();
    let mut params = Vec::new();
    if let Some((lo, hi)) = q.ports {
        sql.push_str(" AND e.port BETWEEN ? AND ?");
        params.extend([Value::from(i64::from(lo)), Value::from(i64::from(hi))]);
    }
    if let Some(p) = q.proto {
        sql.push_str(" AND e.proto = ?");
        params.push(Value::from(p.as_str().to_string()));
    }
    if let Some(addrs) = &q.addresses {
        let set = serving_addresses(addrs);
        let marks = vec!["?"; set.len()].join(", ");
        sql.push_str(&format!(" AND e.address IN ({marks})"));
        params.extend(set.iter().map(|a| Value::from(a.to_string())));
    }
    if let Some(name) = &q.process {
        sql.push_str(" AND (e.process = ? OR e.program = ?)");
        params.extend([Value::from(name.clone()), Value::from(name.clone())]);
    }
    if let Some(pid) = q.pid {
        sql.push_str(" AND e.pid = ?");
        params.push(Value::from(i64::from(pid)));
    }
    (sql, params)
}

/// Stays: closes (each carries its whole stay) and the open rows of listeners still open.
/// A stay matches when it overlaps `[since, until]`.
fn stays_sql(q: &Query) -> (String, Vec<Value>) {
    let (cond, common_params) = common(q);
    let mut params = common_params.clone();
    let mut closed = format!(
        "SELECT {COLUMNS}, COALESCE(e.opened_at, e.time) AS stay_from, \
         COALESCE(e.open_id, e.id) AS stay_key FROM events e \
         WHERE e.kind = 'listen-closed'{cond}"
    );
    if let Some(since) = q.since {
        closed.push_str(" AND e.time >= ?");
        params.push(Value::from(since));
    }
    if let Some(until) = q.until {
        closed.push_str(" AND COALESCE(e.opened_at, e.time) <= ?");
        params.push(Value::from(until));
    }
    let mut open = format!(
        "SELECT {COLUMNS}, e.time AS stay_from, e.id AS stay_key FROM open_now o JOIN events e ON e.id = o.event_id \
         WHERE e.kind = 'listen-opened'{cond}"
    );
    params.extend(common_params);
    if let Some(until) = q.until {
        open.push_str(" AND e.time <= ?");
        params.push(Value::from(until));
    }
    (format!("{closed} UNION ALL {open}"), params)
}

/// Events in `[since, until]`.
fn events_sql(q: &Query) -> (String, Vec<Value>) {
    let (cond, mut params) = common(q);
    let mut sql = format!("SELECT {COLUMNS} FROM events e WHERE 1{cond}");
    if let Some(since) = q.since {
        sql.push_str(" AND e.time >= ?");
        params.push(Value::from(since));
    }
    if let Some(until) = q.until {
        sql.push_str(" AND e.time <= ?");
        params.push(Value::from(until));
    }
    (sql, params)
}

/// A row as a stay: a close row is a whole stay; an open row is a stay still open.
fn stay(r: Row) -> Stay {
    let closed = r.event.kind == EventKind::Closed;
    Stay {
        opened_at: if closed {
            r.event.opened_at.unwrap_or(r.event.time)
        } else {
            r.event.time
        },
        closed_at: closed.then_some(r.event.time),
        closed_after: r.closed_after,
        ending: r.event.ending,
        found_open: r.found_open,
        opened_after: r.opened_after,
        listener: r.event.listener,
    }
}
