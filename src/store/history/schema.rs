//! The store's SQL: the schema (version 1), opening a file and checking it is a history store
//! this portscope knows, errors that name the file, and the mapping between rows and events.

use std::io;
use std::net::IpAddr;
use std::path::Path;

use rusqlite::types::Type;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::error::{Error, Result};
use crate::model::Proto;
use crate::watch::{Ending, Event, EventKind, Listener, Owner};

/// The schema this portscope writes and reads.
pub(super) const VERSION: i64 = 1;

/// How long a connection waits for a lock held by another (WAL recovery, a checkpoint).
pub(super) const BUSY_MS: u64 = 2_000;

/// Version 1. `events` is append-only (retention deletes its oldest rows); a close row
/// repeats the listener and owner of its open, so retention may drop an open row whose
/// listener closed and the stay is still whole. `open_now` lists the open rows of
/// listeners open as of the recorder's last look; retention never deletes those.
const CREATE: &str = "
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    pid INTEGER NOT NULL,
    started_at REAL NOT NULL,
    last_alive REAL NOT NULL,
    stopped_at REAL
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session INTEGER NOT NULL,
    time REAL NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('listen-opened', 'listen-closed')),
    proto TEXT NOT NULL,
    address TEXT NOT NULL,
    port INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    owner_hidden INTEGER NOT NULL,
    pid INTEGER,
    process TEXT,
    program TEXT,
    cmdline TEXT,
    user TEXT,
    owner_uid INTEGER,
    cwd TEXT,
    container TEXT,
    unit TEXT,
    start_time INTEGER,
    others TEXT,
    found_open INTEGER NOT NULL DEFAULT 0,
    opened_after REAL,
    open_id INTEGER,
    opened_at REAL,
    ending TEXT,
    closed_after REAL
);
CREATE INDEX events_port_time ON events (port, time);
CREATE INDEX events_time ON events (time);
CREATE INDEX events_process_time ON events (process, time);
CREATE INDEX events_program_time ON events (program, time);
CREATE INDEX events_pid_time ON events (pid, time);
CREATE TABLE open_now (
    event_id INTEGER PRIMARY KEY
);
";

/// The columns [`row_event`] reads, in its order (`e` is the events table's alias).
pub(super) const COLUMNS: &str = "e.id, e.time, e.kind, e.proto, e.address, e.port, e.inode, \
     e.uid, e.owner_hidden, e.pid, e.process, e.cmdline, e.user, e.owner_uid, e.cwd, \
     e.container, e.unit, e.start_time, e.others, e.found_open, e.opened_after, e.open_id, \
     e.opened_at, e.ending, e.closed_after";

/// Insert one event (`?1`…`?26`).
pub(super) const INSERT: &str = "INSERT INTO events (session, time, kind, proto, address, \
     port, inode, uid, owner_hidden, pid, process, program, cmdline, user, owner_uid, cwd, \
     container, unit, start_time, others, found_open, opened_after, open_id, opened_at, \
     ending, closed_after) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, \
     ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)";

/// An error from SQLite, said with the file and what portscope was doing. A file that is
/// not a database (or a damaged one) is bad input: it is named, and left as it is.
pub(super) fn sql_error(path: &Path, doing: &str, e: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => Error::bad_input(
            format!("{} is not a usable history store ({e})", path.display()),
            untouched(path),
        ),
        Some(ErrorCode::PermissionDenied | ErrorCode::ReadOnly) => Error::PermissionDenied {
            what: format!("{doing} {}", path.display()),
            hint: READ_HINT.into(),
        },
        Some(ErrorCode::CannotOpen) => match std::fs::File::open(path) {
            Err(io) if io.kind() == io::ErrorKind::PermissionDenied => Error::PermissionDenied {
                what: format!("{doing} {}", path.display()),
                hint: READ_HINT.into(),
            },
            Err(io) => Error::io(format!("{doing} {}", path.display()), io),
            Ok(_) => Error::io(
                format!("{doing} {}", path.display()),
                io::Error::other(e.to_string()),
            ),
        },
        _ => Error::io(
            format!("{doing} {}", path.display()),
            io::Error::other(e.to_string()),
        ),
    }
}

/// How to get to read a store another user's recorder writes.
pub(super) const READ_HINT: &str = "use it as its owner or a member of its group (the \
     system recorder's store is readable by its unit's group), or with sudo; or pass \
     --state-dir DIR for a store of your own";

/// What was done with a file portscope refused to use, and what the person can do.
pub(super) fn untouched(path: &Path) -> String {
    format!(
        "it was left untouched: move it aside (mv {0} {0}.bad) to start a new store, or pass --state-dir DIR to use another",
        path.display()
    )
}

/// What a database file holds, as far as the store is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Found {
    /// No table at all: a new (or empty) file.
    Empty,
    /// A history store of this version.
    Current,
}

/// Check that `conn` is a history store this portscope can use: an empty database, or one
/// with a `meta` table whose schema version is at most [`VERSION`]. Reads only.
pub(super) fn check(conn: &Connection, path: &Path) -> Result<Found> {
    let err = |e| sql_error(path, "reading the history store", e);
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(err)?;
    if tables == 0 {
        return Ok(Found::Empty);
    }
    let has_meta: bool = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
            [],
            |r| r.get::<_, i64>(0).map(|n| n > 0),
        )
        .map_err(err)?;
    let version: Option<String> = if has_meta {
        conn.query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(err)?
    } else {
        None
    };
    let Some(version) = version else {
        return Err(Error::bad_input(
            format!(
                "{} is an SQLite database but not a portscope history store",
                path.display()
            ),
            untouched(path),
        ));
    };
    match version.parse::<i64>() {
        Ok(VERSION) => Ok(Found::Current),
        Ok(v) if v > VERSION => Err(Error::bad_input(
            format!(
                "the history store {} has schema version {v}, newer than this portscope knows ({VERSION})",
                path.display()
            ),
            "it was left untouched: use the portscope that wrote it, or pass --state-dir DIR to use another store",
        )),
        _ => Err(Error::bad_input(
            format!(
                "the history store {} has an unknown schema version {version:?}",
                path.display()
            ),
            untouched(path),
        )),
    }
}

/// Open `path` for writing: check it, then create the schema in a new file or bring an
/// older one up to date, and set the connection up (WAL, synchronous=NORMAL).
pub(super) fn open_rw(path: &Path, now: f64) -> Result<Connection> {
    let err = |doing: &'static str| move |e| sql_error(path, doing, e);
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn =
        Connection::open_with_flags(path, flags).map_err(err("opening the history store"))?;
    conn.busy_timeout(std::time::Duration::from_millis(BUSY_MS))
        .map_err(err("opening the history store"))?;
    let found = check(&conn, path)?;
    if found == Found::Empty {
        // Before the first table: auto_vacuum can only be chosen for an empty file.
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")
            .map_err(err("creating the history store"))?;
    }
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(err("opening the history store"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::io(
            format!("opening the history store {}", path.display()),
            io::Error::other(format!("SQLite refused WAL mode (journal_mode is {mode})")),
        ));
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(err("opening the history store"))?;
    if found == Found::Empty {
        let sql = format!(
            "BEGIN IMMEDIATE;{CREATE}\
             INSERT INTO meta (key, value) VALUES ('schema_version', '{VERSION}');\
             INSERT INTO meta (key, value) VALUES ('created_at', '{now}');\
             COMMIT;"
        );
        if let Err(e) = conn.execute_batch(&sql) {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(sql_error(path, "creating the history store", e));
        }
    }
    Ok(conn)
}

/// A stored event row: the event and what only the store knows about it.
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub id: i64,
    pub event: Event,
    pub found_open: bool,
    pub opened_after: Option<f64>,
    pub open_id: Option<i64>,
    pub closed_after: Option<f64>,
}

fn bad(col: usize, what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, Type::Text, what.into())
}

fn int<T: TryFrom<i64>>(r: &rusqlite::Row<'_>, col: usize) -> rusqlite::Result<T> {
    let v: i64 = r.get(col)?;
    T::try_from(v).map_err(|_| bad(col, format!("{v} is out of range")))
}

fn opt_int<T: TryFrom<i64>>(r: &rusqlite::Row<'_>, col: usize) -> rusqlite::Result<Option<T>> {
    match r.get::<_, Option<i64>>(col)? {
        None => Ok(None),
        Some(v) => T::try_from(v)
            .map(Some)
            .map_err(|_| bad(col, format!("{v} is out of range"))),
    }
}

fn json_list<T: serde::de::DeserializeOwned>(
    r: &rusqlite::Row<'_>,
    col: usize,
) -> rusqlite::Result<Vec<T>> {
    match r.get::<_, Option<String>>(col)? {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(&text).map_err(|e| bad(col, e.to_string())),
    }
}

/// The row read with [`COLUMNS`] (starting at column 0).
pub(super) fn row_event(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    let kind = match r.get_ref(2)?.as_str()? {
        "listen-opened" => EventKind::Opened,
        "listen-closed" => EventKind::Closed,
        other => return Err(bad(2, format!("unknown event kind {other:?}"))),
    };
    let proto = match r.get_ref(3)?.as_str()? {
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        other => return Err(bad(3, format!("unknown protocol {other:?}"))),
    };
    let address: IpAddr = r
        .get_ref(4)?
        .as_str()?
        .parse()
        .map_err(|e: std::net::AddrParseError| bad(4, e.to_string()))?;
    let inode: i64 = r.get(6)?;
    let uid: u32 = int(r, 7)?;
    let owner = match opt_int::<u32>(r, 9)? {
        None => None,
        Some(pid) => Some(Owner {
            pid,
            process: r.get::<_, Option<String>>(10)?.unwrap_or_default(),
            cmdline: json_list(r, 11)?,
            user: r.get(12)?,
            uid: opt_int(r, 13)?.unwrap_or(uid),
            cwd: r.get(14)?,
            container: r.get(15)?,
            unit: r.get(16)?,
            start_time: opt_int(r, 17)?,
            others: json_list(r, 18)?,
        }),
    };
    let ending = match r.get_ref(23)?.as_str_or_null()? {
        None => None,
        Some(text) => {
            Some(Ending::parse(text).ok_or_else(|| bad(23, format!("unknown ending {text:?}")))?)
        }
    };
    Ok(Row {
        id: r.get(0)?,
        event: Event {
            kind,
            time: r.get(1)?,
            listener: Listener {
                proto,
                address,
                port: int(r, 5)?,
                inode: inode.cast_unsigned(),
                uid,
                owner,
                owner_hidden: r.get(8)?,
            },
            opened_at: r.get(22)?,
            ending,
        },
        found_open: r.get(19)?,
        opened_after: r.get(20)?,
        open_id: r.get(21)?,
        closed_after: r.get(24)?,
    })
}

/// The file name of argv\[0\] (what `--process` also matches).
pub(super) fn program(cmdline: &[String]) -> Option<&str> {
    let first = cmdline.first()?;
    first.rsplit('/').next().filter(|s| !s.is_empty())
}
