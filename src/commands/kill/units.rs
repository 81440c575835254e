//! Supervisors in `kill`'s plan: a holder whose systemd unit restarts it, or a listener pid 1
//! keeps for a `.socket` unit, is not freed by signals — the plan stops the units instead
//! (`systemctl stop SOCKET SERVICE`, through `sys::systemd`) and leaves their processes to
//! systemd. A socket-activation manager (`systemd-socket-activate`, inetd, `socat …,fork`)
//! holds the listener itself, so signalling it frees the port: the plan says what it is and
//! what it starts. When systemd cannot be asked, the plan says what to stop by hand.

use super::*;
use crate::supervisors::{self, Asker, Kind, Supervisor};

/// A supervisor behind holders of a target port, as the plan shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SupervisorNote {
    /// The target ports it keeps.
    pub ports: Vec<u16>,
    /// The processes holding those sockets.
    pub pids: Vec<u32>,
    /// The supervisor (as in `who`). When its `stop_units` is not empty, `kill` runs
    /// `systemctl stop` on them instead of signalling `pids`.
    pub supervisor: Supervisor,
}

/// What `systemctl stop` did.
#[derive(Debug, Clone, Serialize)]
pub struct UnitStop {
    /// The command run (`systemctl stop ssh.socket ssh.service`).
    pub command: String,
    /// The units stopped.
    pub units: Vec<String>,
    /// It exited 0.
    pub ok: bool,
    /// Why not, in a sentence.
    pub error: Option<String>,
    /// Seconds it took.
    pub after_s: f64,
}

/// How long `systemctl stop` may take (a service's own stop timeout is 90 s by default;
/// beyond this the port is reported still held).
const STOP_WAIT: Duration = Duration::from_secs(30);

/// The supervisors of the holding sockets in `mine` (each once, with every port and pid it
/// keeps).
pub(super) fn collect(
    mine: &[&Socket],
    snap: &crate::model::Snapshot,
    asker: &mut Asker,
    into: &mut Vec<SupervisorNote>,
) {
    for s in mine.iter().filter(|s| holds(s.proto, s.state)) {
        let Some(sup) = supervisors::of_socket(s, &snap.processes, asker) else {
            continue;
        };
        let note = match into.iter_mut().find(|n| n.supervisor == sup) {
            Some(n) => n,
            None => {
                into.push(SupervisorNote {
                    ports: Vec::new(),
                    pids: Vec::new(),
                    supervisor: sup,
                });
                let last = into.len() - 1;
                &mut into[last]
            }
        };
        note.ports.extend(s.port());
        note.pids.extend(s.pids.iter().copied());
        note.ports.sort_unstable();
        note.ports.dedup();
        note.pids.sort_unstable();
        note.pids.dedup();
    }
}

/// Let systemd stop what its units keep: their holders leave `stop` and `refused` (pid 1
/// too); where systemd could not be asked, say in the plan what to stop by hand.
pub(super) fn apply(
    sups: &[SupervisorNote],
    stop: &mut Vec<Planned>,
    refused: &mut Vec<Refusal>,
    notes: &mut Vec<String>,
) {
    for n in sups {
        let sup = &n.supervisor;
        if !sup.stop_units.is_empty() {
            stop.retain(|p| !n.pids.contains(&p.process.pid));
            refused.retain(|r| !n.pids.contains(&r.pid));
            continue;
        }
        let unit = sup.unit.as_deref().unwrap_or("its unit");
        match (sup.kind, sup.kill_frees) {
            (Kind::SystemdSocket, _) => {
                for r in refused.iter_mut().filter(|r| r.reason == Refused::Pid1) {
                    r.message.push_str(&format!(
                        "; systemd holds this listener for a .socket unit, so stop that unit and the service it starts (systemctl stop NAME.socket NAME.service; systemctl list-sockets names it): {}",
                        sup.note.as_deref().unwrap_or("")
                    ));
                }
            }
            (_, None) if sup.unit.is_some() => notes.push(format!(
                "pid {} runs in the systemd unit {unit}: {}; if the port is taken again after the kill, stop the unit: systemctl stop {unit}",
                join(&n.pids),
                sup.note.as_deref().unwrap_or("whether it restarts is unknown")
            )),
            _ => {}
        }
    }
}

fn join(pids: &[u32]) -> String {
    pids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the plan stops some unit.
pub(super) fn any(plan: &KillPlan) -> bool {
    plan.supervisors
        .iter()
        .any(|n| !n.supervisor.stop_units.is_empty())
}

/// Run `systemctl stop` for each supervisor that needs it (each set of units once).
pub(super) fn stop_units(plan: &KillPlan) -> Vec<UnitStop> {
    let mut out: Vec<UnitStop> = Vec::new();
    for n in &plan.supervisors {
        let sup = &n.supervisor;
        if sup.stop_units.is_empty() || out.iter().any(|u| u.units == sup.stop_units) {
            continue;
        }
        let m = sup
            .user_manager
            .map_or(crate::sys::systemd::Manager::System, |uid| {
                crate::sys::systemd::Manager::User(uid)
            });
        let t = Instant::now();
        let result = crate::sys::systemd::stop(m, &sup.stop_units, STOP_WAIT);
        out.push(UnitStop {
            command: m.command("stop", &sup.stop_units),
            units: sup.stop_units.clone(),
            ok: result.is_ok(),
            error: result.err(),
            after_s: secs(t.elapsed()),
        });
    }
    out
}
