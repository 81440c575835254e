//! `reserve` and `release`: a stable port per name, recorded in the registry. The same name
//! always gets the same port; a new name starts its search at a hash of the name, so it
//! tends to get the same port on every machine too.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::commands::{Report, Ui};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::store::registry::{self, Registry, Reservation};
use crate::text::terminal;

use super::pick;

/// What `reserve`/`release` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A new reservation was made.
    Reserved,
    /// The name already had this port.
    Existing,
    /// `reserve --list`.
    List,
    /// `reserve --prune`: these reservations were forgotten.
    Pruned,
    /// `release`: this reservation was forgotten.
    Released,
    /// `release` of a name that has no reservation.
    NotFound,
}

/// One reservation as reported.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The reservation.
    #[serde(flatten)]
    pub reservation: Reservation,
    /// Something listens on the port now (TCP LISTEN or bound UDP).
    pub listening: bool,
    /// The owner directory still exists (`null` when none was recorded).
    pub dir_exists: Option<bool>,
}

/// The report of `reserve`, `reserve --list`, `reserve --prune` and `release`.
#[derive(Debug, Clone, Serialize)]
pub struct ReserveReport {
    /// What happened.
    pub action: Action,
    /// The name asked about (`reserve NAME`, `release NAME`).
    pub name: Option<String>,
    /// The reservations concerned: the one made or found, every one (`--list`), the ones
    /// forgotten (`--prune`, `release`).
    pub reservations: Vec<Row>,
    /// Things worth knowing (the port is in the ephemeral range, something listens on it…).
    pub notes: Vec<String>,
    /// The registry file.
    pub registry: PathBuf,
}

impl ReserveReport {
    /// The verb, for the JSON envelope.
    pub fn command(&self) -> &'static str {
        match self.action {
            Action::Released | Action::NotFound => "release",
            _ => "reserve",
        }
    }
}

/// Check a reservation name: 1-128 of letters, digits and `. _ - / : @ +`, starting with a
/// letter or digit.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:@+".contains(c));
    if ok {
        return Ok(());
    }
    Err(Error::bad_input(
        format!(
            "'{}' is not a valid reservation name",
            crate::text::echo(name)
        ),
        "expected 1-128 letters, digits and . _ - / : @ +, starting with a letter or digit, e.g. myapp or shop/api",
    ))
}

/// FNV-1a: a stable hash of the name (the same on every machine and every release).
pub fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The reservation of `name` in `reg`, made if missing (the registry is saved then).
/// `port` insists on a port; `range` bounds a new choice. Returns the reservation and
/// whether it was new.
pub fn ensure(
    reg: &mut Registry,
    name: &str,
    port: Option<u16>,
    range: Option<(u16, u16)>,
    dir: Option<&Path>,
) -> Result<(Reservation, bool)> {
    check_name(name)?;
    if let Some(existing) = reg.data.reservation(name).cloned() {
        if let Some(p) = port.filter(|&p| p != existing.port) {
            return Err(Error::bad_input(
                format!(
                    "'{name}' is already reserved on port {}, not {p}",
                    existing.port
                ),
                format!(
                    "use port {0}, or `portscope release {name}` first to move it to {p}",
                    existing.port
                ),
            ));
        }
        return Ok((existing, false));
    }
    let port = match port {
        Some(p) => {
            if let Some(other) = reg.data.reserved_by(p) {
                return Err(Error::bad_input(
                    format!(
                        "port {p} is already reserved for '{}'",
                        terminal(&other.name)
                    ),
                    format!(
                        "choose another port, omit --port to get a free one, or `portscope release {}` first",
                        terminal(&other.name)
                    ),
                ));
            }
            p
        }
        None => {
            let spec = pick::spec(range, None, false, false, name_hash(name))?;
            let survey = pick::survey()?;
            reg.data
                .expire_leases(crate::time::now(), |p| survey.listening.contains(&p));
            pick::choose_in(&reg.data, &spec, &survey, 1)?.0[0]
        }
    };
    let r = Reservation::new(
        name,
        port,
        dir.map(Path::to_path_buf),
        crate::time::now() as i64,
    );
    reg.data.insert(r.clone());
    reg.save()?;
    Ok((r, true))
}

fn rows(list: &[Reservation]) -> Result<Vec<Row>> {
    let listening = pick::listening_ports()?;
    Ok(list
        .iter()
        .map(|r| Row {
            // Fields added by hand stay in the registry, out of the report's schema.
            reservation: Reservation {
                extra: serde_json::Map::new(),
                ..r.clone()
            },
            listening: listening.contains(&r.port),
            dir_exists: r.dir.as_deref().map(Path::is_dir),
        })
        .collect())
}

/// What `reserve` is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Reserve a port for a name (or show the one it has).
    Name {
        /// The name: letters, digits and `. _ - / : @ +`.
        name: String,
        /// This port (refused when another name holds it).
        port: Option<u16>,
        /// Choose from this range (`None`: as `pick` does).
        range: Option<(u16, u16)>,
        /// The owner directory recorded with the name (`None`: the current directory).
        dir: Option<PathBuf>,
    },
    /// List the reservations.
    List,
    /// Forget reservations whose owner directory no longer exists.
    Prune,
}

/// What `reserve` is asked for, and where the registry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Reserve, list or prune.
    pub request: Request,
    /// portscope's state directory (`None`: the default one).
    pub state_dir: Option<PathBuf>,
}

/// What `release` is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseOptions {
    /// The reserved name to forget.
    pub name: String,
    /// portscope's state directory (`None`: the default one).
    pub state_dir: Option<PathBuf>,
}

/// Run `reserve` (and `--list`, `--prune`): exit 0.
pub fn run(opts: &Options, _ui: &dyn Ui) -> Result<(Report, Exit)> {
    reserve(opts).map(|(r, code)| (Report::Reserve(Box::new(r)), code))
}

/// [`run`], with the report as `reserve`'s own type.
fn reserve(opts: &Options) -> Result<(ReserveReport, Exit)> {
    if let Request::Name { name, .. } = &opts.request {
        check_name(name)?;
    }
    let state = registry::state_dir(opts.state_dir.as_deref())?;
    let mut reg = Registry::open(&state)?;
    let registry = reg.path();
    let (name, port, range, dir) = match &opts.request {
        Request::Name {
            name,
            port,
            range,
            dir,
        } => (name, *port, *range, dir),
        Request::List => {
            return Ok((
                ReserveReport {
                    action: Action::List,
                    name: None,
                    reservations: rows(&reg.data.reservations)?,
                    notes: Vec::new(),
                    registry,
                },
                Exit::Success,
            ));
        }
        Request::Prune => {
            let (gone, kept): (Vec<_>, Vec<_>) = reg
                .data
                .reservations
                .drain(..)
                .partition(|r| r.dir.as_deref().is_some_and(|d| !d.is_dir()));
            reg.data.reservations = kept;
            if !gone.is_empty() {
                reg.save()?;
            }
            return Ok((
                ReserveReport {
                    action: Action::Pruned,
                    name: None,
                    reservations: rows(&gone)?,
                    notes: Vec::new(),
                    registry,
                },
                Exit::Success,
            ));
        }
    };
    let owner = match dir {
        Some(d) => Some(std::path::absolute(d).map_err(|e| {
            Error::bad_input(
                format!("--dir {}: {e}", crate::text::echo(&d.to_string_lossy())),
                "expected a directory path",
            )
        })?),
        None => std::env::current_dir().ok(),
    };
    let (r, new) = ensure(&mut reg, name, port, range, owner.as_deref())?;
    let rows = rows(std::slice::from_ref(&r))?;
    let mut notes = Vec::new();
    if rows.first().is_some_and(|row| row.listening) {
        notes.push(format!(
            "something listens on port {} now: `portscope who {}` shows who",
            r.port, r.port
        ));
    }
    if let Some((a, b)) = crate::sys::sysctl::port_sysctls().ephemeral
        && (a..=b).contains(&r.port)
    {
        notes.push(format!(
            "port {} is in this machine's ephemeral range {a}-{b}: an outgoing connection may take it while your service is down",
            r.port
        ));
    }
    Ok((
        ReserveReport {
            action: if new {
                Action::Reserved
            } else {
                Action::Existing
            },
            name: Some(name.to_string()),
            reservations: rows,
            notes,
            registry,
        },
        Exit::Success,
    ))
}

/// Run `release`: exit 0 when the name was reserved, 1 when it was not.
pub fn release(opts: &ReleaseOptions, _ui: &dyn Ui) -> Result<(Report, Exit)> {
    check_name(&opts.name)?;
    let dir = registry::state_dir(opts.state_dir.as_deref())?;
    let mut reg = Registry::open(&dir)?;
    let registry = reg.path();
    let removed = reg.data.remove(&opts.name);
    if removed.is_some() {
        reg.save()?;
    }
    let found = removed.is_some();
    let report = ReserveReport {
        action: if found {
            Action::Released
        } else {
            Action::NotFound
        },
        name: Some(opts.name.clone()),
        reservations: rows(removed.as_slice())?,
        notes: Vec::new(),
        registry,
    };
    let code = if found { Exit::Success } else { Exit::Nothing };
    Ok((Report::Reserve(Box::new(report)), code))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["myapp", "shop/api", "a", "x.y-z_1:2@3+4"] {
            check_name(ok).unwrap();
        }
        for bad in ["", "-x", ".hidden", "a b", "é", "a;rm", &"x".repeat(129)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hash_is_stable() {
        // Fixed values: changing the hash would move every new name's first choice.
        assert_eq!(name_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(name_hash("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
