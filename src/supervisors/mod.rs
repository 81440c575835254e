//! Who really keeps a port: the supervisor behind the process that holds it. Stopping a
//! process frees its port unless something starts it again or holds the socket for it: a
//! systemd service whose `Restart=` brings it back, a systemd `.socket` unit (pid 1 holds the
//! listener and starts the service on a connection), or a socket-activation manager —
//! `systemd-socket-activate`, inetd/xinetd, `socat …,fork EXEC:…` — that holds the listener
//! and starts a program for it. This module names that supervisor for a socket, says whether
//! killing the holders frees the port, and what to stop instead (`systemctl stop UNIT`).
//!
//! It is told from what the processes already read show (command line, cgroup unit, parent),
//! then — only for the holders of the sockets asked about — the environment a socket-activated
//! program received (`LISTEN_PID`, `LISTEN_FDS`) and, when systemd is the running init,
//! `systemctl show` for the unit (each unit asked once per report, with a deadline). Nothing is
//! guessed: what could not be asked is said in [`Supervisor::note`].

mod systemd;

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::knowledge::supervisors as know;
use crate::model::{Process, Socket};

pub use systemd::Asker;

/// What kind of supervisor keeps the port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The holder runs in a systemd `.service` (its cgroup says so).
    SystemdService,
    /// systemd itself holds the listener for a `.socket` unit, and starts a service on it.
    SystemdSocket,
    /// `systemd-socket-activate` holds the listener and starts a command on it.
    SocketActivate,
    /// The holder was handed its listener by socket activation (`LISTEN_PID` is its pid) and
    /// no manager holds it any more: `systemd-socket-activate` execs into what it starts.
    Activated,
    /// The holder was started for one connection by a manager (its parent) that keeps the
    /// listener: `systemd-socket-activate --accept`, inetd, `socat …,fork`.
    Spawned,
    /// An inetd-style super-server (inetd, xinetd) holds the listener.
    Inetd,
    /// `socat` holds the listener and runs a program for connections.
    Socat,
}

/// A process that manages the socket for a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManagerRef {
    /// Its pid.
    pub pid: u32,
    /// Its short name.
    pub comm: String,
}

/// The supervisor behind a socket, and what frees the port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Supervisor {
    /// What kind it is.
    pub kind: Kind,
    /// The process that holds the listener and starts the service (pid 1 for a `.socket`
    /// unit); `None` when no manager holds it.
    pub manager: Option<ManagerRef>,
    /// The systemd `.service` unit the holder (or the manager) runs in, from its cgroup.
    pub unit: Option<String>,
    /// For a unit of a user's own systemd (`systemctl --user`): that user's uid.
    pub user_manager: Option<u32>,
    /// The `.socket` unit that listens (systemd socket activation).
    pub socket_unit: Option<String>,
    /// The units that socket starts (its `Triggers=`).
    pub activates: Vec<String>,
    /// The command the manager starts (or, for [`Kind::Activated`], the holder's own).
    pub command: Vec<String>,
    /// One process per connection (`--accept`, `Accept=yes`, socat's `fork`); `false`: one
    /// process takes over the listener; `None`: unknown (inetd's per-service `wait`).
    pub per_connection: Option<bool>,
    /// The unit's `Restart=`, when systemd was asked.
    pub restart: Option<String>,
    /// The unit's `Type=`.
    pub unit_type: Option<String>,
    /// The unit's `ActiveState=`.
    pub active_state: Option<String>,
    /// The `.socket` units that start the service (its `TriggeredBy=`).
    pub triggered_by: Vec<String>,
    /// Whether stopping the socket's holding processes (pid 1 never is) frees the port:
    /// `false` when systemd starts the service again or pid 1 holds the listener; `None`
    /// when it could not be told (systemd could not be asked).
    pub kill_frees: Option<bool>,
    /// The systemd units to stop, in this order, when a kill does not free the port.
    pub stop_units: Vec<String>,
    /// The command that stops them (`systemctl stop ssh.socket ssh.service`).
    pub stop: Option<String>,
    /// What could not be told, and why (systemd not running, systemctl failed…).
    pub note: Option<String>,
}

impl Supervisor {
    /// A supervisor of `kind` and nothing else known yet (stopping the holders frees the
    /// port until something says otherwise).
    pub fn new(kind: Kind) -> Supervisor {
        Supervisor {
            kind,
            manager: None,
            unit: None,
            user_manager: None,
            socket_unit: None,
            activates: Vec::new(),
            command: Vec::new(),
            per_connection: None,
            restart: None,
            unit_type: None,
            active_state: None,
            triggered_by: Vec::new(),
            kill_frees: Some(true),
            stop_units: Vec::new(),
            stop: None,
            note: None,
        }
    }

    fn managed_by(mut self, p: &Process) -> Supervisor {
        self.manager = Some(ManagerRef {
            pid: p.pid,
            comm: p.comm.clone(),
        });
        self
    }
}

/// The supervisors behind `sockets` (their holders are in `processes`), by socket inode.
/// systemd is asked at most once per unit, and only when it is the running init.
pub fn attach<'a>(
    sockets: impl IntoIterator<Item = &'a Socket>,
    processes: &BTreeMap<u32, Process>,
) -> HashMap<u64, Supervisor> {
    let mut asker = Asker::default();
    sockets
        .into_iter()
        .filter_map(|s| Some((s.inode, of_socket(s, processes, &mut asker)?)))
        .collect()
}

/// The supervisor behind one socket, if any.
pub fn of_socket(
    s: &Socket,
    processes: &BTreeMap<u32, Process>,
    asker: &mut Asker,
) -> Option<Supervisor> {
    let holders: Vec<&Process> = s.pids.iter().filter_map(|p| processes.get(p)).collect();
    if s.remote.is_none() {
        listener(s, &holders, asker)
    } else {
        holders.iter().find_map(|p| spawned(p))
    }
}

/// Whether `p` is a systemd manager: pid 1's `systemd`, or a user's `systemd --user`.
fn is_systemd(p: &Process) -> bool {
    p.comm == "systemd"
}

/// The supervisor of a listening or bound socket.
fn listener(s: &Socket, holders: &[&Process], asker: &mut Asker) -> Option<Supervisor> {
    if let Some(sd) = holders.iter().find(|p| is_systemd(p)) {
        return Some(asker.socket_unit(s, Some(sd)));
    }
    if holders.is_empty() && (s.owner_hidden || s.ownerless) && asker.systemd_running() {
        // pid 1 may refuse to show its descriptors; its socket units still name the address.
        let sup = asker.socket_unit(s, None);
        return sup.socket_unit.is_some().then_some(sup);
    }
    for p in holders {
        if let Some(mut sup) = manager(p) {
            asker.fill_unit(&mut sup, p);
            return Some(sup);
        }
    }
    for p in holders {
        if service_unit(p).is_some() {
            let mut sup = Supervisor::new(Kind::SystemdService);
            asker.fill_unit(&mut sup, p);
            return Some(sup);
        }
    }
    holders.iter().find_map(|p| activated(p))
}

/// The `.service` unit in `p`'s cgroup.
fn service_unit(p: &Process) -> Option<&str> {
    p.origin
        .systemd_unit
        .as_deref()
        .filter(|u| u.ends_with(".service"))
}

/// A socket-activation manager holding the listener itself.
fn manager(p: &Process) -> Option<Supervisor> {
    if let Some(sa) = know::socket_activate(&p.cmdline) {
        let mut sup = Supervisor::new(Kind::SocketActivate).managed_by(p);
        sup.command = sa.command;
        sup.per_connection = Some(sa.accept);
        return Some(sup);
    }
    if let Some(conf) = know::inetd(&p.comm) {
        let mut sup = Supervisor::new(Kind::Inetd).managed_by(p);
        sup.note = Some(format!("the services it starts are configured in {conf}"));
        return Some(sup);
    }
    let sf = know::socat(&p.cmdline)?;
    let mut sup = Supervisor::new(Kind::Socat).managed_by(p);
    sup.command = vec![sf.command];
    sup.per_connection = Some(sf.fork);
    Some(sup)
}

/// A holder started by socket activation that holds its listener alone: `LISTEN_PID` in its
/// environment is its own pid (read only when nothing else explained the socket).
fn activated(p: &Process) -> Option<Supervisor> {
    let env = crate::sys::environ::of_pid(p.pid).ok()?;
    let var = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let listen_pid: u32 = var("LISTEN_PID")?.parse().ok()?;
    let fds = var("LISTEN_FDS")?;
    if listen_pid != p.pid {
        return None;
    }
    let mut sup = Supervisor::new(Kind::Activated);
    sup.command = p.cmdline.clone();
    sup.per_connection = Some(false);
    sup.note = Some(format!(
        "LISTEN_PID={listen_pid}, LISTEN_FDS={fds} in its environment"
    ));
    Some(sup)
}

/// A connection's holder started for it by a manager that keeps the listener (its parent).
fn spawned(p: &Process) -> Option<Supervisor> {
    let parent = p.ancestry.first()?;
    let accepts = parent.comm.starts_with("systemd-socket")
        || know::inetd(&parent.comm).is_some()
        || parent.comm == "socat";
    if !accepts || parent.pid <= 1 {
        return None;
    }
    let mut sup = Supervisor::new(Kind::Spawned);
    sup.manager = Some(ManagerRef {
        pid: parent.pid,
        comm: parent.comm.clone(),
    });
    sup.command = p.cmdline.clone();
    sup.per_connection = Some(true);
    sup.kill_frees = None;
    Some(sup)
}

/// One sentence (without the key) for each thing a report says of `sup`, as `(key, text)`:
/// the manager and what it starts, the unit and its `Restart=`, what to stop.
pub fn lines(sup: &Supervisor) -> Vec<(&'static str, String)> {
    systemd::lines(sup)
}

/// The supervisor in one sentence (for `explain` and `doctor`).
pub fn sentence(sup: &Supervisor) -> String {
    lines(sup)
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join("; ")
}
