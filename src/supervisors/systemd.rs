//! The systemd side of a supervisor: the unit's `Restart=`/`TriggeredBy=` and the `.socket`
//! unit listening on an address, asked through `sys::systemd` once per unit and report, and
//! the sentences every face (who, explain, kill, doctor) says about a supervisor.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::{Kind, ManagerRef, Supervisor, service_unit};
use crate::knowledge::supervisors as know;
use crate::model::{Process, Proto, Socket};
use crate::sys::systemd::{self, Manager, Properties};

/// Asks systemd, each question once: whether it runs, each unit's properties, each
/// manager's socket units.
#[derive(Debug, Default)]
pub struct Asker {
    running: Option<bool>,
    services: HashMap<(Manager, String), Result<Properties, String>>,
    sockets: HashMap<Manager, Result<Vec<Properties>, String>>,
}

/// Why systemd was not asked, when it is not the running init.
const NOT_RUNNING: &str =
    "systemd is not the running init here (no /run/systemd/system), so it could not be asked";

impl Asker {
    /// Whether systemd is the running init (read once).
    pub fn systemd_running(&mut self) -> bool {
        *self.running.get_or_insert_with(systemd::running)
    }

    fn service(&mut self, m: Manager, unit: &str) -> Result<Properties, String> {
        self.services
            .entry((m, unit.to_string()))
            .or_insert_with(|| {
                let mut got = systemd::show(m, &[unit], systemd::SERVICE_PROPS)?;
                if got.is_empty() {
                    return Err(format!("systemctl show {unit} printed nothing"));
                }
                Ok(got.swap_remove(0))
            })
            .clone()
    }

    fn socket_units(&mut self, m: Manager) -> Result<Vec<Properties>, String> {
        self.sockets
            .entry(m)
            .or_insert_with(|| systemd::show(m, &["*.socket"], systemd::SOCKET_PROPS))
            .clone()
    }

    /// Add what systemd says of the `.service` unit `p` runs in (if it runs in one): its
    /// `Restart=`, type, state and the sockets that start it; when it comes back after a
    /// kill, the units to stop instead.
    pub fn fill_unit(&mut self, sup: &mut Supervisor, p: &Process) {
        let Some(unit) = service_unit(p) else {
            return;
        };
        let cgroup = p.origin.cgroup.as_deref().unwrap_or("");
        let uid = know::user_manager(cgroup, unit);
        let m = uid.map_or(Manager::System, Manager::User);
        sup.unit = Some(unit.to_string());
        sup.user_manager = uid;
        if !self.systemd_running() {
            sup.kill_frees = None;
            sup.note = Some(format!(
                "{NOT_RUNNING} whether {unit} restarts on exit (its Restart=)"
            ));
            return;
        }
        let props = match self.service(m, unit) {
            Ok(props) => props,
            Err(e) => {
                sup.kill_frees = None;
                sup.note = Some(e);
                return;
            }
        };
        sup.restart = props.get("Restart").map(str::to_string);
        sup.unit_type = props.get("Type").map(str::to_string);
        sup.active_state = props.get("ActiveState").map(str::to_string);
        sup.triggered_by = props.words("TriggeredBy");
        let restarts = sup
            .restart
            .as_deref()
            .and_then(know::restarts_after_kill)
            .is_some();
        if restarts || !sup.triggered_by.is_empty() {
            sup.kill_frees = Some(false);
            sup.stop_units = sup.triggered_by.clone();
            sup.stop_units.push(unit.to_string());
            sup.stop = Some(m.command("stop", &sup.stop_units));
        }
    }

    /// The `.socket` unit systemd (`sd`, else pid 1 unseen) holds `s` for.
    pub fn socket_unit(&mut self, s: &Socket, sd: Option<&Process>) -> Supervisor {
        let mut sup = Supervisor::new(Kind::SystemdSocket);
        sup.kill_frees = Some(false);
        let (pid, comm, m) = match sd {
            Some(p) if p.pid != 1 => (p.pid, p.comm.clone(), Manager::User(p.uid)),
            Some(p) => (p.pid, p.comm.clone(), Manager::System),
            None => (1, "systemd".to_string(), Manager::System),
        };
        sup.manager = Some(ManagerRef { pid, comm });
        if let Manager::User(uid) = m {
            sup.user_manager = Some(uid);
        }
        if !self.systemd_running() {
            sup.note = Some(format!(
                "{NOT_RUNNING} which .socket unit this is (systemctl list-sockets names it)"
            ));
            return sup;
        }
        let units = match self.socket_units(m) {
            Ok(units) => units,
            Err(e) => {
                sup.note = Some(e);
                return sup;
            }
        };
        let Some(unit) = units.iter().find(|u| {
            u.all("Listen").iter().any(|l| {
                systemd::parse_listen(l).is_some_and(|(addr, kind)| listens_on(addr, kind, s))
            })
        }) else {
            sup.note = Some(format!(
                "no .socket unit lists {} (systemd may keep the descriptor for a service: FileDescriptorStoreMax=)",
                s.local
            ));
            return sup;
        };
        sup.socket_unit = unit.get("Id").map(str::to_string);
        sup.activates = unit.words("Triggers");
        sup.per_connection = unit.get("Accept").map(|a| a == "yes");
        sup.active_state = unit.get("ActiveState").map(str::to_string);
        sup.stop_units = sup.socket_unit.iter().cloned().collect();
        sup.stop_units.extend(sup.activates.iter().cloned());
        sup.stop = Some(m.command("stop", &sup.stop_units));
        sup
    }
}

/// Whether a socket unit's `Listen=` address (`[::]:22`, `127.0.0.1:8080`, `0.0.0.0:53`)
/// and kind (`Stream`, `Datagram`) is socket `s`.
pub(super) fn listens_on(addr: &str, kind: &str, s: &Socket) -> bool {
    let want = match s.proto {
        Proto::Tcp => "Stream",
        Proto::Udp => "Datagram",
        Proto::Unix => return false,
    };
    let addr = addr.split('%').next().unwrap_or(addr);
    let (Ok(a), Some(ip), Some(port)) = (addr.parse::<SocketAddr>(), s.local.ip(), s.port()) else {
        return false;
    };
    kind == want
        && a.port() == port
        && (a.ip() == ip || a.ip().is_unspecified() && ip.is_unspecified())
}

/// `` `python3 -m http.server` ``: a command as people read it.
fn quoted(cmd: &[String]) -> String {
    format!("`{}`", crate::text::command_line(cmd))
}

/// What stopping the holders does, as the end of a manager's sentence.
fn tail(sup: &Supervisor) -> String {
    let unit = sup.unit.as_deref().unwrap_or("its unit");
    match sup.kill_frees {
        Some(true) => "; stopping it frees the port".into(),
        Some(false) => format!("; {unit} starts it again after a kill, so stop the unit"),
        None => String::new(),
    }
}

/// The `Restart=` sentence of a unit, when there is one to say.
fn restart_line(sup: &Supervisor) -> Option<String> {
    let unit = sup.unit.as_deref()?;
    let Some(r) = sup.restart.as_deref() else {
        return sup.note.clone();
    };
    let how: Vec<&str> = [sup.unit_type.as_deref(), sup.active_state.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let how = if how.is_empty() {
        String::new()
    } else {
        format!(" ({})", how.join(", "))
    };
    let mut text = match know::restarts_after_kill(r) {
        Some(when) => format!(
            "Restart={r}{how}: systemd starts {unit} again {when}, so a kill will not free the port"
        ),
        None => format!("Restart={r}{how}: once stopped, {unit} stays down"),
    };
    if !sup.triggered_by.is_empty() {
        text.push_str(&format!(
            "; {} starts it again on the next connection",
            sup.triggered_by.join(", ")
        ));
    }
    Some(text)
}

/// See [`super::lines`].
pub(super) fn lines(sup: &Supervisor) -> Vec<(&'static str, String)> {
    let t = |s: &str| crate::text::terminal(s).into_owned();
    let mgr = sup.manager.as_ref().map_or_else(String::new, |m| {
        // comm is cut at 15 bytes: `systemd-socket-`.
        let name = if m.comm.starts_with("systemd-socket") {
            "systemd-socket-activate"
        } else {
            &m.comm
        };
        format!("{}[{}]", t(name), m.pid)
    });
    let mut out = Vec::new();
    match sup.kind {
        Kind::SystemdService => {}
        Kind::SystemdSocket => {
            let text = match &sup.socket_unit {
                Some(unit) => {
                    let starts = if sup.activates.is_empty() {
                        format!("an instance of {}@.service", unit.trim_end_matches(".socket"))
                    } else {
                        sup.activates.join(", ")
                    };
                    let when = if sup.per_connection == Some(true) {
                        "for each connection (Accept=yes)"
                    } else {
                        "on the first connection"
                    };
                    format!(
                        "{} (socket activation): {mgr} listens here and starts {} {when}; a kill will not free the port",
                        t(unit),
                        t(&starts)
                    )
                }
                None => format!(
                    "{mgr} holds it for a .socket unit (socket activation) and starts a service on a connection; {}",
                    sup.note.as_deref().unwrap_or("")
                ),
            };
            out.push(("socket", text));
        }
        Kind::SocketActivate => {
            let cmd = quoted(&sup.command);
            let how = if sup.per_connection == Some(true) {
                format!("starts {cmd} for each connection (--accept); the listener stays with it")
            } else {
                format!(
                    "starts {cmd} on the first connection, becoming it (it execs: same pid, the listener passes on)"
                )
            };
            out.push((
                "manager",
                format!("{mgr} (socket activation) listens here and {how}{}", tail(sup)),
            ));
        }
        Kind::Activated => out.push((
            "activated",
            format!(
                "started by socket activation ({}) and now holds the listener alone: no manager keeps the port (systemd-socket-activate execs into what it starts){}",
                sup.note.as_deref().unwrap_or("LISTEN_PID"),
                tail(sup)
            ),
        )),
        Kind::Spawned => {
            let pid = sup.manager.as_ref().map_or(0, |m| m.pid);
            out.push((
                "spawned",
                format!("by {mgr} for this connection; the listener stays with pid {pid}"),
            ));
        }
        Kind::Inetd => out.push((
            "manager",
            format!(
                "{mgr} is an inetd-style super-server: it listens here and starts a service for connections ({}){}",
                sup.note.as_deref().unwrap_or(""),
                tail(sup)
            ),
        )),
        Kind::Socat => {
            let each = if sup.per_connection == Some(true) {
                "each connection (fork)"
            } else {
                "one connection, then exits"
            };
            out.push((
                "manager",
                format!(
                    "{mgr} listens here and runs `{}` for {each}{}",
                    sup.command.first().map_or(String::new(), |c| t(c)),
                    tail(sup)
                ),
            ));
        }
    }
    if let Some(line) = restart_line(sup) {
        out.push(("restarts", line));
    }
    if let Some(stop) = &sup.stop {
        out.push(("stop", t(stop)));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Family, SockState};

    fn sock(proto: Proto, ip: &str, port: u16) -> Socket {
        let ip: std::net::IpAddr = ip.parse().unwrap();
        Socket {
            proto,
            family: if ip.is_ipv4() {
                Family::Ipv4
            } else {
                Family::Ipv6
            },
            state: if proto == Proto::Udp {
                SockState::Close
            } else {
                SockState::Listen
            },
            local: Endpoint::inet(ip, port),
            remote: None,
            inode: 1,
            peer_inode: None,
            uid: 0,
            recv_q: 0,
            send_q: 0,
            netns: None,
            pids: vec![1],
            owner_hidden: false,
            ownerless: false,
        }
    }

    #[test]
    fn listen_addresses_match_sockets() {
        assert!(listens_on("[::]:22", "Stream", &sock(Proto::Tcp, "::", 22)));
        assert!(listens_on(
            "127.0.0.1:8080",
            "Stream",
            &sock(Proto::Tcp, "127.0.0.1", 8080)
        ));
        assert!(!listens_on(
            "127.0.0.1:8080",
            "Stream",
            &sock(Proto::Tcp, "127.0.0.2", 8080)
        ));
        assert!(!listens_on(
            "[::]:22",
            "Datagram",
            &sock(Proto::Tcp, "::", 22)
        ));
        assert!(listens_on(
            "0.0.0.0:53",
            "Datagram",
            &sock(Proto::Udp, "0.0.0.0", 53)
        ));
        assert!(listens_on(
            "[::]:53",
            "Datagram",
            &sock(Proto::Udp, "0.0.0.0", 53)
        ));
        assert!(!listens_on(
            "/run/x.sock",
            "Stream",
            &sock(Proto::Tcp, "::", 22)
        ));
    }

    #[test]
    fn restart_sentences() {
        let mut sup = Supervisor::new(Kind::SystemdService);
        sup.unit = Some("nginx.service".into());
        sup.restart = Some("always".into());
        sup.unit_type = Some("forking".into());
        sup.active_state = Some("active".into());
        sup.stop = Some("systemctl stop nginx.service".into());
        sup.kill_frees = Some(false);
        let l = lines(&sup);
        assert_eq!(
            l[0],
            (
                "restarts",
                "Restart=always (forking, active): systemd starts nginx.service again after any exit, so a kill will not free the port".to_string()
            )
        );
        assert_eq!(l[1], ("stop", "systemctl stop nginx.service".to_string()));
        sup.restart = Some("no".into());
        assert!(
            lines(&sup)[0]
                .1
                .contains("once stopped, nginx.service stays down")
        );
    }
}
