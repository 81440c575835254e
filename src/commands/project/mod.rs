//! `check-config` and `env`: a project's `ports.toml` against the registry of reservations
//! and what listens now. `check-config` only reads (the registry file is read without
//! taking its lock or creating anything); `env` reserves ports for the services that
//! declare none, under `<project>/<service>`, and says which port each service has.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Serialize, Serializer};

use crate::commands::{Report, Ui};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::model::{Finding, Hidden, Proto, Severity, Snapshot, SockState};
use crate::project::{self, Binding, Project, Service};
use crate::snapshot::{self, Owners, Request};
use crate::store::registry::{self, Data, Registry, Reservation};
use crate::sys::procfs::Detail;
use crate::sys::{SocketQuery, sysctl};

use super::{pick, reserve};

mod rules;
use rules::*;

/// The project a report is about.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectInfo {
    /// Its name (`[project] name`, else the directory's name).
    pub name: String,
    /// The `ports.toml` read.
    pub file: PathBuf,
    /// The project directory.
    pub dir: PathBuf,
}

impl ProjectInfo {
    fn of(p: &Project) -> ProjectInfo {
        ProjectInfo {
            name: p.name.clone(),
            file: p.file.clone(),
            dir: p.dir.clone(),
        }
    }
}

/// Where a service's port comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PortFrom {
    /// `port = N` in `ports.toml`.
    Declared,
    /// No port declared: the registry's reservation `<project>/<service>`.
    Reserved,
    /// No port declared and none reserved yet (`env` reserves one).
    Unassigned,
}

/// A service's state in one word (details in the findings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// No port yet (`env` reserves one).
    Unassigned,
    /// Nothing listens on it and nothing collides with it.
    Free,
    /// A process started from the project directory listens on it.
    Running,
    /// Only warnings (ephemeral range, privileged port).
    Warning,
    /// It collides with another declaration or reservation.
    Conflict,
    /// A process from elsewhere (or one portscope may not inspect) listens on it.
    InUse,
}

/// A process listening on a service's port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holder {
    /// Process id.
    pub pid: u32,
    /// Short command name.
    pub comm: String,
    /// Its working directory, when readable.
    pub cwd: Option<String>,
    /// The working directory is inside the project directory: probably the project's own
    /// service, running.
    pub from_project: bool,
    /// Where it listens (`127.0.0.1:3000`).
    pub local: String,
}

/// One declared service and what was found about its port.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceRow {
    /// The service name.
    pub name: String,
    /// Its `env` variable (`WORKER_METRICS_PORT`).
    pub env_var: String,
    /// Its port: declared, or reserved; `null` when unassigned.
    pub port: Option<u16>,
    /// `tcp` or `udp`.
    pub proto: Proto,
    /// The address it binds, when declared.
    pub host: Option<IpAddr>,
    /// The line of its table in `ports.toml`.
    pub line: usize,
    /// Where the port comes from.
    pub port_from: PortFrom,
    /// The registry name its reservation has (or would have): `<project>/<service>`.
    pub reservation: String,
    /// Another registry name that reserves the port (not this project's), if any.
    pub reserved_for: Option<String>,
    /// The state in one word.
    pub status: Status,
    /// Processes listening on the port now (on an address that overlaps `host`).
    pub holders: Vec<Holder>,
    /// Something listens on the port but no owner was seen: a process portscope may not
    /// inspect, or none it can see.
    pub owner_hidden: bool,
    /// Of those, a socket that no process holds right now (its process exiting, or its
    /// descriptor in flight): no permission would show an owner. Present only when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ownerless: bool,
    /// Codes of the findings about this service.
    pub codes: Vec<&'static str>,
}

/// What `check-config` found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The project.
    pub project: ProjectInfo,
    /// The registry file consulted (it may not exist yet).
    pub registry: PathBuf,
    /// The services, in file order.
    pub services: Vec<ServiceRow>,
    /// Collisions and warnings, most serious first.
    pub findings: Vec<Finding>,
    /// The kernel's ephemeral port range, when readable.
    pub ephemeral: Option<(u16, u16)>,
    /// The lowest port any user may bind, when readable.
    pub unprivileged_port_start: Option<u16>,
    /// Listening sockets whose owner could not be inspected.
    pub hidden: Hidden,
}

/// One service's line of `env`.
#[derive(Debug, Clone, Serialize)]
pub struct EnvService {
    /// The service name.
    pub name: String,
    /// The variable (`WEB_PORT`).
    pub env_var: String,
    /// Its port.
    pub port: u16,
    /// `tcp` or `udp`.
    pub proto: Proto,
    /// `declared` or `reserved`.
    pub port_from: PortFrom,
    /// The reservation was made by this run.
    pub newly_reserved: bool,
}

/// The variables of `env`, in file order; serialised as a JSON object.
#[derive(Debug, Clone, Default)]
pub struct Vars(pub Vec<(String, u16)>);

impl Serialize for Vars {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// The `NAME_PORT=…` lines of `env`.
#[derive(Debug, Clone, Serialize)]
pub struct EnvReport {
    /// The project.
    pub project: ProjectInfo,
    /// The registry file.
    pub registry: PathBuf,
    /// `{"WEB_PORT": 3000, …}`, in file order.
    pub vars: Vars,
    /// Each service's port and where it came from.
    pub services: Vec<EnvService>,
}

/// Which project `check-config` and `env` are about, and where the registry is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The project file, or a directory holding `ports.toml` (`None`: `ports.toml` in the
    /// current directory or the nearest parent).
    pub config: Option<PathBuf>,
    /// portscope's state directory (`None`: the default one).
    pub state_dir: Option<PathBuf>,
}

/// Find and parse the project file `opts` points at (or the nearest `ports.toml`).
fn load(opts: &Options) -> Result<Project> {
    let cwd = std::env::current_dir().map_err(|e| Error::io("reading the current directory", e))?;
    let path = project::locate(opts.config.as_deref(), &cwd)?;
    project::load(&path)
}

/// Run `check-config`: exit 1 when a finding is a warning or worse, else 0.
pub fn check(opts: &Options, _ui: &dyn Ui) -> Result<(Report, Exit)> {
    check_report(opts).map(|(r, code)| (Report::CheckConfig(Box::new(r)), code))
}

/// [`check`], with the report as `check-config`'s own type.
fn check_report(opts: &Options) -> Result<(CheckReport, Exit)> {
    let project = load(opts)?;
    let state = registry::state_dir(opts.state_dir.as_deref())?;
    let registry = state.join(registry::FILE);
    let data = registry::read_unlocked(&registry)?;
    let sysctls = sysctl::port_sysctls();
    let mut rows: Vec<ServiceRow> = project
        .services
        .iter()
        .map(|s| row(&project, s, &data))
        .collect();
    let snap = listeners(&rows)?;
    let mut found = Vec::new();
    // The snapshot spans the lowest to the highest port: count only hidden owners (and
    // listeners no process holds) on the services' ports.
    let (mut hidden_sockets, mut ownerless) = (0, 0);
    for row in &mut rows {
        let (hidden, none) = listened(row, &snap, &project.dir);
        hidden_sockets += hidden;
        ownerless += none;
    }
    let hidden = Hidden {
        sockets: hidden_sockets,
        ownerless,
        ..snap.hidden
    };
    duplicates(&rows, &mut found);
    for (i, row) in rows.iter().enumerate() {
        reserved_elsewhere(&project, row, &data, &registry, &mut found, i);
        in_use(row, &mut found, i);
        kernel_ranges(row, &sysctls, &mut found, i);
    }
    own_reservations(&project, &rows, &data, &registry, &mut found);
    let mut findings = Vec::with_capacity(found.len());
    for (concerned, f) in found {
        for i in concerned {
            if let Some(r) = rows.get_mut(i) {
                r.codes.push(f.code);
            }
        }
        findings.push(f);
    }
    for r in &mut rows {
        r.status = status(r);
    }
    // Most serious first; the order found breaks ties.
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let exit = if findings.iter().any(|f| f.severity >= Severity::Warning) {
        Exit::Nothing
    } else {
        Exit::Success
    };
    Ok((
        CheckReport {
            project: ProjectInfo::of(&project),
            registry,
            services: rows,
            findings,
            ephemeral: sysctls.ephemeral,
            unprivileged_port_start: sysctls.unprivileged_port_start,
            hidden,
        },
        exit,
    ))
}

/// A service's row before anything listening is known.
fn row(project: &Project, s: &Service, data: &Data) -> ServiceRow {
    let reservation = project.reservation_name(&s.name);
    let (port, port_from) = match (s.port, data.reservation(&reservation)) {
        (Some(p), _) => (Some(p), PortFrom::Declared),
        (None, Some(r)) => (Some(r.port), PortFrom::Reserved),
        (None, None) => (None, PortFrom::Unassigned),
    };
    ServiceRow {
        name: s.name.clone(),
        env_var: s.env_var(),
        port,
        proto: s.proto,
        host: s.host,
        line: s.line,
        port_from,
        reserved_for: port
            .and_then(|p| data.reserved_by(p))
            .filter(|r| project.service_of(&r.name).is_none())
            .map(|r| r.name.clone()),
        reservation,
        status: Status::Free,
        holders: Vec::new(),
        owner_hidden: false,
        ownerless: false,
        codes: Vec::new(),
    }
}

/// Listening sockets on the services' ports, owners in full (their cwd says whether they
/// belong to the project).
fn listeners(rows: &[ServiceRow]) -> Result<Snapshot> {
    let ports = rows.iter().filter_map(|r| r.port);
    let (Some(lo), Some(hi)) = (ports.clone().min(), ports.max()) else {
        return Ok(Snapshot::default());
    };
    snapshot::take(&Request {
        sockets: SocketQuery {
            states: (1 << SockState::Listen.kernel_number())
                | (1 << SockState::Close.kernel_number()),
            port_range: Some((lo, hi)),
            ..SocketQuery::default()
        },
        owners: Owners::Targeted,
        detail: Detail::Full,
        threads: 0,
    })
}

/// Fill `holders` and `owner_hidden` from the listeners on the row's port; returns how
/// many of them have an owner hidden from portscope, and how many no process holds.
fn listened(row: &mut ServiceRow, snap: &Snapshot, dir: &Path) -> (usize, usize) {
    let Some(port) = row.port else { return (0, 0) };
    let (mut hidden, mut ownerless) = (0, 0);
    for s in &snap.sockets {
        let clash = s.is_listening()
            && s.proto == row.proto
            && s.port() == Some(port)
            && project::overlaps(row.host, s.local.ip());
        if !clash {
            continue;
        }
        hidden += usize::from(s.owner_hidden);
        ownerless += usize::from(s.ownerless);
        // No owner seen: hidden from portscope, or held by no process it can see (a kernel
        // socket, another pid namespace). Either way the port is taken.
        row.owner_hidden |= s.pids.is_empty();
        row.ownerless |= s.ownerless;
        for &pid in &s.pids {
            if row.holders.iter().any(|h| h.pid == pid) {
                continue;
            }
            let p = snap.process(pid);
            let cwd = p.and_then(|p| p.cwd.clone());
            row.holders.push(Holder {
                pid,
                comm: p.map_or_else(|| "?".into(), |p| p.comm.clone()),
                from_project: cwd
                    .as_deref()
                    .is_some_and(|c| Path::new(c).starts_with(dir)),
                cwd,
                local: s.local.to_string(),
            });
        }
    }
    (hidden, ownerless)
}

/// The one-word state from the codes of the findings about the row.
fn status(row: &ServiceRow) -> Status {
    let has = |code: &str| row.codes.contains(&code);
    if row.port.is_none() {
        Status::Unassigned
    } else if has("CFG-IN-USE") {
        Status::InUse
    } else if has("CFG-DUPLICATE-PORT")
        || has("CFG-RESERVED-ELSEWHERE")
        || has("CFG-SHARED-RESERVATION")
    {
        Status::Conflict
    } else if has("CFG-EPHEMERAL") || has("CFG-PRIVILEGED") {
        Status::Warning
    } else if has("CFG-RUNNING") {
        Status::Running
    } else {
        Status::Free
    }
}

/// Run `env`: reserve a port for each service without one, and report every service's
/// (exit 0).
pub fn env(opts: &Options, _ui: &dyn Ui) -> Result<(Report, Exit)> {
    let project = load(opts)?;
    let state = registry::state_dir(opts.state_dir.as_deref())?;
    let mut reg = Registry::open(&state)?;
    let new = reserve_missing(&mut reg, &project)?;
    let reserved: HashMap<&str, u16> = reg
        .data
        .reservations
        .iter()
        .map(|r| (r.name.as_str(), r.port))
        .collect();
    let mut services = Vec::with_capacity(project.services.len());
    for s in &project.services {
        let (port, port_from, newly_reserved) = match s.port {
            Some(p) => (p, PortFrom::Declared, false),
            None => {
                let name = project.reservation_name(&s.name);
                let Some(&port) = reserved.get(name.as_str()) else {
                    return Err(Error::io(
                        format!("reserving {name}"),
                        std::io::Error::other("the reservation made is not in the registry"),
                    ));
                };
                (port, PortFrom::Reserved, new.contains(&name))
            }
        };
        services.push(EnvService {
            name: s.name.clone(),
            env_var: s.env_var(),
            port,
            proto: s.proto,
            port_from,
            newly_reserved,
        });
    }
    let report = EnvReport {
        project: ProjectInfo::of(&project),
        registry: reg.path(),
        vars: Vars(
            services
                .iter()
                .map(|s| (s.env_var.clone(), s.port))
                .collect(),
        ),
        services,
    };
    Ok((Report::Env(Box::new(report)), Exit::Success))
}

/// Reserve a port for every service that declares none and has no reservation yet, in one
/// batch under the registry lock: one socket survey, one pass over the port range, one save
/// (one fsync) — not one of each per service. Each port is chosen as `reserve` chooses
/// (starting at a hash of the name, so it is stable), never one of the project's declared
/// ports, free on the service's protocol and address; recorded with the project directory
/// as owner. Returns the names reserved.
fn reserve_missing(reg: &mut Registry, project: &Project) -> Result<HashSet<String>> {
    let existing: HashSet<&str> = reg
        .data
        .reservations
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    let missing: Vec<(&Service, String)> = project
        .services
        .iter()
        .filter(|s| s.port.is_none())
        .map(|s| (s, project.reservation_name(&s.name)))
        .filter(|(_, name)| !existing.contains(name.as_str()))
        .collect();
    if missing.is_empty() {
        return Ok(HashSet::new());
    }
    let specs = missing
        .iter()
        .map(|(s, name)| {
            reserve::check_name(name)?;
            pick::spec(
                None,
                s.host,
                s.proto == Proto::Udp,
                false,
                reserve::name_hash(name),
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let survey = pick::survey()?;
    let now = crate::time::now();
    reg.data
        .expire_leases(now, |p| survey.listening.contains(&p));
    // The declared ports count as taken: a copy of the registry that reserves them.
    let mut view = reg.data.clone();
    view.reservations.extend(
        project
            .services
            .iter()
            .filter_map(|s| s.port)
            .map(|port| Reservation::new(format!("\u{0}declared/{port}"), port, None, 0)),
    );
    let ports = pick::choose_each(&view, &specs, &survey)?;
    let made: HashSet<String> = missing.iter().map(|(_, name)| name.clone()).collect();
    reg.data
        .add_all(missing.into_iter().zip(ports).map(|((_, name), port)| {
            Reservation::new(name, port, Some(project.dir.clone()), now as i64)
        }));
    reg.save()?;
    Ok(made)
}
