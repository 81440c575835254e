//! The recorder's side of the store: one writer at a time (an exclusive `flock`), one
//! transaction per batch of events, heartbeats, and retention.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, TransactionBehavior, params};

use super::schema::{self, COLUMNS, INSERT, Row, sql_error};
use super::{FILE, LOCK, Resumed, Retention};
use crate::error::{Error, Result};
use crate::watch::{Ending, Event, EventKind, Key, Tracked};

/// How long to try for the lock before saying another recorder holds it (a reader checking
/// whether a recorder runs holds it, shared, for a moment).
const LOCK_WAIT: Duration = Duration::from_millis(1_000);

/// Rows deleted per step when the store is over its size cap.
const SIZE_CHUNK_MIN: i64 = 500;

/// An open listener's row, for linking its close to it.
#[derive(Debug, Clone, Copy)]
struct OpenRow {
    id: i64,
    found_open: bool,
    opened_after: Option<f64>,
}

/// The store, open for writing by this recorder (holds `history.lock` until dropped).
#[derive(Debug)]
pub struct Writer {
    path: PathBuf,
    conn: Connection,
    session: i64,
    retention: Retention,
    /// The previous recorder's last moment alive.
    prev_alive: Option<f64>,
    /// Open listeners' rows.
    open: HashMap<Key, OpenRow>,
    /// No batch recorded yet: the first is the start-up diff (what changed while nothing
    /// recorded).
    first_batch: bool,
    _lock: File,
}

impl Writer {
    /// Open (creating it and the directory if needed) and lock the store in `dir`. Fails with
    /// a message naming the other recorder's pid when one already records there.
    pub fn open(dir: &Path, retention: Retention) -> Result<(Writer, Resumed)> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating the state directory {}", dir.display()), e))?;
        let path = dir.join(FILE);
        let lock = take_lock(&dir.join(LOCK), &path)?;
        let now = crate::time::now();
        let conn = schema::open_rw(&path, now)?;
        let err = |e| sql_error(&path, "opening the history store", e);
        let prev_alive: Option<f64> = conn
            .query_row("SELECT max(last_alive) FROM sessions", [], |r| r.get(0))
            .map_err(err)?;
        let rows: Vec<Row> = conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM open_now o JOIN events e ON e.id = o.event_id ORDER BY e.id"
            ))
            .and_then(|mut s| {
                s.query_map([], schema::row_event)?
                    .collect::<rusqlite::Result<Vec<Row>>>()
            })
            .map_err(err)?;
        conn.execute(
            "INSERT INTO sessions (pid, started_at, last_alive) VALUES (?1, ?2, ?2)",
            params![std::process::id(), now],
        )
        .map_err(err)?;
        let session = conn.last_insert_rowid();
        let mut open = HashMap::with_capacity(rows.len());
        let mut tracked = Vec::with_capacity(rows.len());
        for row in rows {
            open.insert(
                row.event.listener.key(),
                OpenRow {
                    id: row.id,
                    found_open: row.found_open,
                    opened_after: row.opened_after,
                },
            );
            tracked.push(Tracked {
                listener: row.event.listener,
                opened_at: row.event.time,
            });
        }
        let writer = Writer {
            path,
            conn,
            session,
            retention,
            prev_alive,
            open,
            first_batch: true,
            _lock: lock,
        };
        Ok((
            writer,
            Resumed {
                open: tracked,
                last_alive: prev_alive,
            },
        ))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Record events in one transaction: when this returns they survive a crash of the
    /// recorder (not necessarily of the machine: synchronous=NORMAL in WAL mode).
    ///
    /// The first call after [`Writer::open`] carries the start-up diff: its opens are marked
    /// found open (they opened while nothing recorded, or before recording began), and its
    /// closes ending [`Ending::WhileNotRecording`] get the previous recorder's last moment
    /// alive as `closed_after`.
    pub fn record(&mut self, events: &[Event]) -> Result<()> {
        let first = std::mem::replace(&mut self.first_batch, false);
        if events.is_empty() {
            return Ok(());
        }
        let mut touched: HashMap<Key, Option<OpenRow>> = HashMap::new();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_error(&self.path, "recording into", e))?;
        let mut latest = f64::MIN;
        {
            let mut insert = tx
                .prepare_cached(INSERT)
                .map_err(|e| sql_error(&self.path, "recording into", e))?;
            for e in events {
                latest = latest.max(e.time);
                let key = e.listener.key();
                let known = match touched.get(&key) {
                    Some(t) => *t,
                    None => self.open.get(&key).copied(),
                };
                let (link, found_open, opened_after, closed_after) = match e.kind {
                    EventKind::Opened => (
                        None,
                        first,
                        if first { self.prev_alive } else { None },
                        None,
                    ),
                    EventKind::Closed => (
                        known,
                        known.is_some_and(|k| k.found_open),
                        known.and_then(|k| k.opened_after),
                        (e.ending == Some(Ending::WhileNotRecording))
                            .then_some(self.prev_alive)
                            .flatten(),
                    ),
                };
                insert_event(
                    &mut insert,
                    self.session,
                    e,
                    found_open,
                    opened_after,
                    link.map(|l| l.id),
                    closed_after,
                )
                .map_err(|err| sql_error(&self.path, "recording into", err))?;
                let id = tx.last_insert_rowid();
                let linked = match e.kind {
                    EventKind::Opened => {
                        touched.insert(
                            key,
                            Some(OpenRow {
                                id,
                                found_open,
                                opened_after,
                            }),
                        );
                        tx.execute(
                            "INSERT OR REPLACE INTO open_now (event_id) VALUES (?1)",
                            [id],
                        )
                    }
                    EventKind::Closed => {
                        touched.insert(key, None);
                        match link {
                            Some(l) => {
                                tx.execute("DELETE FROM open_now WHERE event_id = ?1", [l.id])
                            }
                            None => Ok(0),
                        }
                    }
                };
                linked.map_err(|err| sql_error(&self.path, "recording into", err))?;
            }
        }
        tx.execute(
            "UPDATE sessions SET last_alive = max(last_alive, ?1) WHERE id = ?2",
            params![latest, self.session],
        )
        .and_then(|_| tx.commit())
        .map_err(|e| sql_error(&self.path, "recording into", e))?;
        for (key, row) in touched {
            match row {
                Some(r) => self.open.insert(key, r),
                None => self.open.remove(&key),
            };
        }
        Ok(())
    }

    /// Note that the recorder is alive at `now` (cheap; call every ~30 s).
    pub fn heartbeat(&mut self, now: f64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE sessions SET last_alive = max(last_alive, ?1) WHERE id = ?2",
                params![now, self.session],
            )
            .map(|_| ())
            .map_err(|e| sql_error(&self.path, "recording into", e))
    }

    /// Forget what retention says to forget; returns how many events were deleted.
    ///
    /// Events older than `keep_s` go first; then, while the database's pages in use exceed
    /// `max_bytes`, the oldest events in chunks. The open rows of listeners still open are
    /// never deleted. `meta.pruned_before` records the time before which events may be
    /// missing, so readers never take "forgotten" for "nothing listened".
    pub fn prune(&mut self, now: f64) -> Result<u64> {
        let err = |e| sql_error(&self.path, "applying retention to", e);
        let cutoff = now - self.retention.keep_s;
        let mut deleted = self
            .conn
            .execute(
                "DELETE FROM events WHERE time < ?1 AND id NOT IN (SELECT event_id FROM open_now)",
                [cutoff],
            )
            .map_err(err)? as u64;
        let mut forgotten_before = cutoff;
        for _ in 0..200 {
            if self.used_bytes().map_err(err)? <= self.retention.max_bytes {
                break;
            }
            let (n, newest) = self.delete_oldest().map_err(err)?;
            if n == 0 {
                break;
            }
            deleted += n;
            forgotten_before = forgotten_before.max(newest);
        }
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('pruned_before', ?1) \
             ON CONFLICT (key) DO UPDATE SET value = \
             CAST(max(CAST(value AS REAL), CAST(excluded.value AS REAL)) AS TEXT)",
            [forgotten_before.to_string()],
        )
        .map_err(err)?;
        tx.execute(
            "DELETE FROM sessions WHERE last_alive < ?1 AND id <> ?2",
            params![forgotten_before, self.session],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        if deleted > 0 {
            // Give the freed pages back to the file system (auto_vacuum=INCREMENTAL), and
            // fold the WAL into the file so that it shrinks now.
            // Each step of incremental_vacuum frees one page: run it to the end.
            self.conn
                .prepare("PRAGMA incremental_vacuum")
                .and_then(|mut s| {
                    let mut rows = s.query([])?;
                    while rows.next()?.is_some() {}
                    Ok(())
                })
                .map_err(err)?;
            self.conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .map_err(err)?;
        }
        Ok(deleted)
    }

    /// Note a clean stop at `now` (the recorder is exiting).
    pub fn stopped(&mut self, now: f64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE sessions SET stopped_at = ?1, last_alive = max(last_alive, ?1) WHERE id = ?2",
                params![now, self.session],
            )
            .map(|_| ())
            .map_err(|e| sql_error(&self.path, "recording into", e))
    }

    /// Bytes of the database's pages in use (free pages excluded).
    fn used_bytes(&self) -> rusqlite::Result<u64> {
        let q = |p: &str| -> rusqlite::Result<i64> {
            self.conn
                .query_row(&format!("PRAGMA {p}"), [], |r| r.get(0))
        };
        let pages = q("page_count")? - q("freelist_count")?;
        Ok(u64::try_from(pages.max(0) * q("page_size")?).unwrap_or(0))
    }

    /// Delete the oldest events (a twentieth of them, at least [`SIZE_CHUNK_MIN`]), never
    /// an open listener's open row; returns how many and the newest deleted time.
    fn delete_oldest(&self) -> rusqlite::Result<(u64, f64)> {
        let total: i64 = self
            .conn
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
        let chunk = (total / 20).max(SIZE_CHUNK_MIN);
        let tx = self.conn.unchecked_transaction()?;
        let newest: Option<f64> = tx.query_row(
            "SELECT max(time) FROM (SELECT time FROM events \
             WHERE id NOT IN (SELECT event_id FROM open_now) ORDER BY id LIMIT ?1)",
            [chunk],
            |r| r.get(0),
        )?;
        let n = tx.execute(
            "DELETE FROM events WHERE id IN (SELECT id FROM events \
             WHERE id NOT IN (SELECT event_id FROM open_now) ORDER BY id LIMIT ?1)",
            [chunk],
        )?;
        tx.commit()?;
        Ok((n as u64, newest.unwrap_or(f64::MIN)))
    }
}

/// Insert one event row.
fn insert_event(
    insert: &mut rusqlite::CachedStatement<'_>,
    session: i64,
    e: &Event,
    found_open: bool,
    opened_after: Option<f64>,
    open_id: Option<i64>,
    closed_after: Option<f64>,
) -> rusqlite::Result<usize> {
    let l = &e.listener;
    let o = l.owner.as_ref();
    insert.execute(params![
        session,
        e.time,
        e.kind.as_str(),
        l.proto.as_str(),
        l.address.to_string(),
        l.port,
        l.inode.cast_signed(),
        l.uid,
        l.owner_hidden,
        o.map(|o| o.pid),
        o.map(|o| o.process.as_str()),
        o.and_then(|o| schema::program(&o.cmdline)),
        o.and_then(|o| serde_json::to_string(&o.cmdline).ok()),
        o.and_then(|o| o.user.as_deref()),
        o.map(|o| o.uid),
        o.and_then(|o| o.cwd.as_deref()),
        o.and_then(|o| o.container.as_deref()),
        o.and_then(|o| o.unit.as_deref()),
        o.and_then(|o| o.start_time).map(u64::cast_signed),
        o.filter(|o| !o.others.is_empty())
            .and_then(|o| serde_json::to_string(&o.others).ok()),
        found_open,
        opened_after,
        open_id,
        e.opened_at,
        e.ending.map(Ending::as_str),
        closed_after,
    ])
}

/// Take the recorder's lock, waiting up to [`LOCK_WAIT`]; then write our pid into it.
fn take_lock(lock_path: &Path, db: &Path) -> Result<File> {
    let failed = |e: io::Error| {
        if e.kind() == io::ErrorKind::PermissionDenied {
            return Error::PermissionDenied {
                what: format!("recording into {}", db.display()),
                hint: "record as the store's owner (root for the system store), or pass \
                       --state-dir DIR to record into a store of your own"
                    .into(),
            };
        }
        Error::io(format!("locking {}", lock_path.display()), e)
    };
    let mut lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(lock_path)
        .map_err(failed)?;
    let start = Instant::now();
    loop {
        match lock.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < LOCK_WAIT => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let who = match holder_pid(&mut lock) {
                    Some(pid) => format!("another recorder (pid {pid})"),
                    None => "another recorder".to_string(),
                };
                return Err(Error::bad_input(
                    format!("{who} is recording into {}", db.display()),
                    "stop it first, or pass --state-dir DIR to record into another store",
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(failed(e)),
        }
    }
    let write = |lock: &mut File| -> io::Result<()> {
        lock.set_len(0)?;
        lock.rewind()?;
        writeln!(lock, "{}", std::process::id())?;
        lock.flush()
    };
    write(&mut lock).map_err(failed)?;
    Ok(lock)
}

/// The pid a recorder wrote into its lock file.
pub(super) fn holder_pid(lock: &mut File) -> Option<u32> {
    let mut text = String::new();
    lock.rewind().ok()?;
    lock.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}
