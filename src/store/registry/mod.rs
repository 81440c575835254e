//! The registry of reserved names and short-lived picks: one small JSON file, read and
//! written only under an exclusive `flock` on a separate lock file, replaced atomically
//! (write a temporary file, fsync it, rename it over the old one, fsync the directory).
//!
//! Why a JSON file and not SQLite: the registry holds tens to hundreds of entries, is read
//! whole by every command that uses it, and people read (and version) it. The lock makes
//! every read-modify-write a transaction; the rename makes a crash at any instant leave
//! either the old or the new file, never a torn one. A corrupt or unreadable file is
//! reported with its path and never overwritten.
//!
//! Because people edit it by hand, a read checks what JSON cannot say (no two reservations
//! of one name or one port: `checks.rs`), refuses a file that is not regular or is larger than
//! [`MAX_BYTES`], and keeps fields it does not know (at the top level and in each entry)
//! through every rewrite.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::sys::bounded::{read_regular_bounded, size_text};

mod checks;

/// The file name of the registry inside the state directory.
pub const FILE: &str = "registry.json";
const LOCK: &str = "registry.lock";
const TEMP: &str = "registry.json.tmp";
/// How long to wait for another portscope holding the lock.
const LOCK_WAIT: Duration = Duration::from_secs(30);
/// The largest registry read: 16 MiB, over a hundred thousand entries — more than there are
/// ports. A bigger file is refused (exit 2) before a byte of it is read.
pub const MAX_BYTES: u64 = 16 << 20;

/// A name's port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// The name (project, service, worktree).
    pub name: String,
    /// Its port.
    pub port: u16,
    /// The owner directory; `reserve --prune` forgets the name once it is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// When it was reserved (Unix seconds).
    pub created: i64,
    /// Fields portscope does not know (added by hand, or by a newer portscope): kept as they
    /// are when the registry is rewritten.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Reservation {
    /// A reservation with no extra fields.
    pub fn new(name: impl Into<String>, port: u16, dir: Option<PathBuf>, created: i64) -> Self {
        Reservation {
            name: name.into(),
            port,
            dir,
            created,
            extra: Map::new(),
        }
    }
}

/// A port handed out by `pick`, held for a short while so no other caller gets it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lease {
    /// The port.
    pub port: u16,
    /// The pid of the portscope that picked it.
    pub pid: u32,
    /// When the lease ends (Unix seconds); earlier once something listens on the port.
    pub expires: f64,
    /// Fields portscope does not know: kept as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The registry's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Data {
    /// Bumped when the layout changes incompatibly.
    pub schema_version: u32,
    /// Reserved names, sorted by name.
    #[serde(default)]
    pub reservations: Vec<Reservation>,
    /// Live picks.
    #[serde(default)]
    pub leases: Vec<Lease>,
    /// Top-level fields portscope does not know: kept as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Default for Data {
    fn default() -> Data {
        Data {
            schema_version: 1,
            reservations: Vec::new(),
            leases: Vec::new(),
            extra: Map::new(),
        }
    }
}

impl Data {
    /// The reservation of `name`.
    pub fn reservation(&self, name: &str) -> Option<&Reservation> {
        self.reservations.iter().find(|r| r.name == name)
    }

    /// Who reserved `port`.
    pub fn reserved_by(&self, port: u16) -> Option<&Reservation> {
        self.reservations.iter().find(|r| r.port == port)
    }

    /// Whether a live lease (at `now`) holds `port`.
    pub fn leased(&self, port: u16, now: f64) -> bool {
        self.leases
            .iter()
            .any(|l| l.port == port && l.expires > now)
    }

    /// Add (or replace) a reservation, keeping the list sorted by name.
    pub fn insert(&mut self, r: Reservation) {
        self.reservations.retain(|x| x.name != r.name);
        let at = self.reservations.partition_point(|x| x.name < r.name);
        self.reservations.insert(at, r);
    }

    /// Add many reservations (each replacing one of the same name), keeping the list sorted
    /// by name: one sort, where [`Data::insert`] for each would shift the list each time.
    pub fn add_all(&mut self, new: impl IntoIterator<Item = Reservation>) {
        let new: Vec<Reservation> = new.into_iter().collect();
        let names: std::collections::HashSet<&str> = new.iter().map(|r| r.name.as_str()).collect();
        self.reservations
            .retain(|r| !names.contains(r.name.as_str()));
        self.reservations.extend(new);
        self.reservations.sort_by(|a, b| a.name.cmp(&b.name));
    }

    /// Remove `name`'s reservation, returning it.
    pub fn remove(&mut self, name: &str) -> Option<Reservation> {
        let at = self.reservations.iter().position(|r| r.name == name)?;
        Some(self.reservations.remove(at))
    }

    /// Drop leases that ended at `now` or whose port `listening` says is now in use.
    pub fn expire_leases(&mut self, now: f64, listening: impl Fn(u16) -> bool) {
        self.leases
            .retain(|l| l.expires > now && !listening(l.port));
    }
}

/// The registry, open and locked: every change is made under the lock and saved atomically.
/// The lock is released when this value is dropped.
#[derive(Debug)]
pub struct Registry {
    dir: PathBuf,
    /// What the file holds now (change it, then [`Registry::save`]).
    pub data: Data,
    _lock: File,
}

impl Registry {
    /// Open (creating the directory if needed) and lock the registry in `dir`, waiting for
    /// another portscope that holds the lock.
    pub fn open(dir: &Path) -> Result<Registry> {
        std::fs::create_dir_all(dir).map_err(|e| unusable(dir, "cannot create", &e))?;
        let lock_path = dir.join(LOCK);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&lock_path)
            .map_err(|e| unusable(&lock_path, "cannot open", &e))?;
        lock_within(&lock, &lock_path, LOCK_WAIT)?;
        // A writer killed between writing the temporary file and renaming it leaves it
        // behind; under the lock nobody else is writing it.
        let _ = std::fs::remove_file(dir.join(TEMP));
        let data = read(&dir.join(FILE))?;
        Ok(Registry {
            dir: dir.to_path_buf(),
            data,
            _lock: lock,
        })
    }

    /// The registry file's path.
    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE)
    }

    /// Write the data atomically: after this returns, a crash keeps it; a crash before the
    /// rename keeps the previous content.
    pub fn save(&self) -> Result<()> {
        let mut text = serde_json::to_string_pretty(&self.data)
            .map_err(|e| Error::io("serialising the registry", io::Error::other(e)))?;
        text.push('\n');
        let temp = self.dir.join(TEMP);
        let path = self.path();
        let write = || -> io::Result<()> {
            let mut f = File::create(&temp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            drop(f);
            std::fs::rename(&temp, &path)?;
            File::open(&self.dir)?.sync_all()
        };
        write().map_err(|e| Error::io(format!("writing the registry {}", path.display()), e))
    }
}

/// Read the registry file at `path` without the lock and without creating anything, for
/// commands that only look (writers replace the file atomically, so a read sees a whole
/// version). A missing file is an empty registry.
pub fn read_unlocked(path: &Path) -> Result<Data> {
    read(path)
}

/// The registry file at `path`, parsed and checked: a regular file of at most
/// [`MAX_BYTES`]; a missing one is an empty registry. Anything else is bad input naming it.
fn read(path: &Path) -> Result<Data> {
    match read_regular_bounded(path, MAX_BYTES) {
        Ok(bytes) => parse(&bytes, path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Data::default()),
        Err(e) => Err(Error::unreadable_file(
            "the registry",
            path,
            &e,
            format!(
                "the registry is a regular file of at most {}; it was left untouched: fix its \
                 permissions or move it aside (mv {1} {1}.bad), or pass --state-dir DIR (or set \
                 PORTSCOPE_STATE_DIR) to use another directory",
                size_text(MAX_BYTES),
                path.display()
            ),
        )),
    }
}

/// Take an exclusive lock on `file`, waiting at most `wait`. The wait blocks in the kernel
/// (a helper thread holds a duplicate of the descriptor), so the lock passes to a waiter
/// the moment it is released — no polling gaps for a crowd of concurrent pickers to fall in.
fn lock_within(file: &File, path: &Path, wait: Duration) -> Result<()> {
    let failed = |e: io::Error| Error::io(format!("locking {}", path.display()), e);
    match file.try_lock() {
        Ok(()) => return Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => {}
        Err(std::fs::TryLockError::Error(e)) => return Err(failed(e)),
    }
    let dup = file.try_clone().map_err(failed)?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // flock belongs to the open file description, which `dup` shares with `file`.
        let _ = tx.send(dup.lock());
    });
    match rx.recv_timeout(wait) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(failed(e)),
        Err(_) => Err(Error::io(
            format!(
                "waiting {} s for the registry lock {} (another portscope holds it)",
                wait.as_secs(),
                path.display()
            ),
            io::Error::from(io::ErrorKind::TimedOut),
        )),
    }
}

/// Parse the file's bytes and check them (no name or port reserved twice); anything else is
/// reported with the path and left as it is.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Data> {
    let data: Data = serde_json::from_slice(bytes).map_err(|e| {
        Error::bad_input(
            format!(
                "the registry {} is corrupt (line {}, column {}: {})",
                path.display(),
                e.line(),
                e.column(),
                first_clause(&e.to_string())
            ),
            format!(
                "it was left untouched: repair it, or move it aside (mv {0} {0}.bad) to start an empty one",
                path.display()
            ),
        )
    })?;
    if data.schema_version != 1 {
        return Err(Error::bad_input(
            format!(
                "the registry {} has schema_version {}, which this portscope does not know",
                path.display(),
                data.schema_version
            ),
            "it was left untouched: use the portscope that wrote it, or pass --state-dir DIR to use another registry",
        ));
    }
    checks::no_duplicates(&data, bytes, path)?;
    Ok(data)
}

/// serde_json's message without its " at line L column C" suffix (given separately).
fn first_clause(msg: &str) -> &str {
    msg.split(" at line ").next().unwrap_or(msg)
}

/// A registry file or directory that cannot be used: said with its path, exit 2.
fn unusable(path: &Path, what: &str, e: &io::Error) -> Error {
    Error::bad_input(
        format!("{what} {}: {e}", crate::text::echo(&path.to_string_lossy())),
        "the registry was left untouched: fix the permissions, or pass --state-dir DIR (or set PORTSCOPE_STATE_DIR) to use another directory",
    )
}

/// The state directory: `--state-dir`, else `$XDG_STATE_HOME/portscope`, else
/// `~/.local/state/portscope`.
pub fn state_dir(given: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = given {
        return Ok(dir.to_path_buf());
    }
    let nonempty = |v: &str| {
        std::env::var_os(v)
            .filter(|x| !x.is_empty())
            .map(PathBuf::from)
    };
    if let Some(xdg) = nonempty("XDG_STATE_HOME").filter(|p| p.is_absolute()) {
        return Ok(xdg.join("portscope"));
    }
    match nonempty("HOME") {
        Some(home) => Ok(home.join(".local/state/portscope")),
        None => Err(Error::bad_input(
            "no state directory: neither XDG_STATE_HOME nor HOME is set",
            "pass --state-dir DIR or set PORTSCOPE_STATE_DIR",
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("portscope-reg-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn round_trip_and_sorted() {
        let dir = temp_dir("rt");
        let mut reg = Registry::open(&dir).unwrap();
        assert_eq!(reg.data, Data::default());
        for (name, port) in [("web", 4100), ("api", 4200)] {
            reg.data.insert(Reservation::new(name, port, None, 1));
        }
        reg.save().unwrap();
        drop(reg);
        let reg = Registry::open(&dir).unwrap();
        let names: Vec<_> = reg.data.reservations.iter().map(|r| &r.name).collect();
        assert_eq!(names, ["api", "web"]);
        assert_eq!(
            reg.data.reserved_by(4100).map(|r| r.name.as_str()),
            Some("web")
        );
        drop(reg);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn corrupt_file_is_reported_and_kept() {
        let dir = temp_dir("bad");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(FILE);
        std::fs::write(&path, b"{\"schema_version\": 1, \"reservations\": [").unwrap();
        let err = Registry::open(&dir).unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(
            err.contains("corrupt") && err.contains("untouched"),
            "{err}"
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"{\"schema_version\": 1, \"reservations\": ["
        );
        std::fs::write(&path, b"{\"schema_version\": 9}").unwrap();
        let err = Registry::open(&dir).unwrap_err().to_string();
        assert!(err.contains("schema_version 9"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn leases_expire_and_end_when_listened() {
        let mut d = Data::default();
        for (port, expires) in [(5000, 10.0), (5001, 100.0), (5002, 100.0)] {
            d.leases.push(Lease {
                port,
                pid: 1,
                expires,
                extra: Map::new(),
            });
        }
        assert!(d.leased(5001, 50.0) && !d.leased(5000, 50.0));
        d.expire_leases(50.0, |p| p == 5002);
        assert_eq!(d.leases.len(), 1);
        assert_eq!(d.leases[0].port, 5001);
    }

    #[test]
    fn lock_is_exclusive() {
        let dir = temp_dir("lock");
        let held = Registry::open(&dir).unwrap();
        let lock_path = dir.join(LOCK);
        let other = OpenOptions::new().write(true).open(&lock_path).unwrap();
        let err = lock_within(&other, &lock_path, Duration::from_millis(50)).unwrap_err();
        assert!(err.to_string().contains("another portscope"), "{err}");
        drop(held);
        lock_within(&other, &lock_path, Duration::from_millis(50)).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
