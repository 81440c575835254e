//! Rule: a unix socket of a root daemon that every user may write to (mode `o+w`, every
//! directory above it searchable by others): any local user then talks to a process running
//! as root — and for a container engine's socket that *is* root.
//!
//! Sockets designed for every user, whose daemons check the caller (`SO_PEERCRED`, polkit) —
//! the D-Bus system bus, journald, systemd's varlink services, nscd, CUPS, snapd… — are not
//! reported.

use crate::model::{Process, Severity};

use super::{AuditFinding, Context, Subject, UnixListener, finding};

/// Paths (or directories, ending in `/`) of sockets meant for every local user.
const DESIGNED_PUBLIC: &[&str] = &[
    "/run/systemd/",
    "/run/dbus/",
    "/var/run/dbus/",
    "/run/nscd/",
    "/var/run/nscd/",
    "/run/avahi-daemon/",
    "/run/cups/",
    "/var/run/cups/",
    "/run/snapd.socket",
    "/run/snapd-snap.socket",
    "/run/uuidd/",
    "/run/acpid.socket",
    "/run/libvirt/",
    "/tmp/.X11-unix/",
    "/run/gssproxy.sock",
    "/run/pcscd/",
    "/var/lib/sss/pipes/",
];

/// Socket names of APIs that are root on the host for whoever may connect.
const ROOT_EQUIVALENT: &[&str] = &[
    "docker.sock",
    "containerd.sock",
    "podman.sock",
    "crio.sock",
    "buildkitd.sock",
    "cri-dockerd.sock",
];

/// AUD-UNIX-WORLD-WRITABLE: one finding per such socket.
pub fn check(ctx: &Context) -> Vec<AuditFinding> {
    ctx.unix
        .iter()
        .filter_map(|u| world_writable(ctx, u))
        .collect()
}

fn designed_public(path: &str) -> bool {
    DESIGNED_PUBLIC.iter().any(|p| {
        if p.ends_with('/') {
            path.starts_with(p)
        } else {
            path == *p
        }
    })
}

/// The root process that serves the socket: a holder running as root other than pid 1
/// (systemd holds socket-activated sockets for the service it starts), else pid 1 alone.
fn root_holder<'a>(ctx: &'a Context, u: &UnixListener) -> Option<Option<&'a Process>> {
    let holders: Vec<&Process> = u.pids.iter().filter_map(|p| ctx.processes.get(p)).collect();
    if holders.is_empty() {
        return (u.owner_hidden && u.uid == 0).then_some(None);
    }
    let services: Vec<&&Process> = holders.iter().filter(|p| p.pid != 1).collect();
    if services.is_empty() {
        return holders.iter().find(|p| p.uid == 0).map(|p| Some(*p));
    }
    services.iter().find(|p| p.uid == 0).map(|p| Some(**p))
}

fn world_writable(ctx: &Context, u: &UnixListener) -> Option<AuditFinding> {
    let file = u.file.as_ref()?;
    if !file.open_to_everyone() || file.uid != 0 || designed_public(&u.path) {
        return None;
    }
    let holder = root_holder(ctx, u)?;
    let name = u.path.rsplit('/').next().unwrap_or_default();
    let engine = ROOT_EQUIVALENT.contains(&name);
    let label = ctx.holder_label(
        &holder.map(|p| vec![p.pid]).unwrap_or_default(),
        u.owner_hidden,
        u.uid,
    );
    let severity = if engine {
        Severity::Critical
    } else {
        Severity::Warning
    };
    let title = if engine {
        format!(
            "{}: the container engine's socket is writable by every user, which makes every local user root ({label})",
            u.path
        )
    } else {
        format!(
            "{}: a unix socket of a root process ({label}) is writable by every user",
            u.path
        )
    };
    let mut evidence = vec![
        format!(
            "stat {}: socket, mode {:04o} ({}), owner uid {}, group gid {}",
            file.examined,
            file.mode,
            mode_text(file.mode),
            file.uid,
            file.gid
        ),
        "every directory above it is searchable by others (o+x)".to_string(),
        format!("listening, held by {label}"),
    ];
    if holder.is_some_and(|p| p.pid == 1) {
        evidence.push(
            "held by pid 1 alone (systemd socket activation): the service it starts on the first connection serves it"
                .into(),
        );
    }
    let fix = vec![
        format!(
            "sudo chmod 660 {path} && sudo chgrp GROUP {path}   # only GROUP's members may connect",
            path = u.path
        ),
        "make it last: the daemon's own socket-mode option, or in its systemd socket unit SocketMode=0660 and SocketGroup=GROUP (else it comes back on restart)".into(),
    ];
    let pid = holder.map(|p| p.pid).or(u.pids.first().copied());
    Some(finding(
        "AUD-UNIX-WORLD-WRITABLE",
        severity,
        title,
        evidence,
        fix,
        Subject {
            port: None,
            proto: Some("unix".into()),
            address: Some(u.path.clone()),
            pid,
            process: holder.map(|p| p.comm.clone()),
        },
    ))
}

/// `srwxrwxrwx` for a socket's permission bits.
fn mode_text(mode: u32) -> String {
    let mut s = String::from("s");
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::audit::SocketFile;
    use crate::audit::tests::{process, with};

    fn unix(path: &str, pids: &[u32], mode: u32, owner: u32) -> UnixListener {
        UnixListener {
            path: path.into(),
            pids: pids.to_vec(),
            owner_hidden: false,
            uid: owner,
            file: Some(SocketFile {
                examined: format!("/proc/{}/root{path}", pids.first().copied().unwrap_or(1)),
                is_socket: true,
                mode,
                uid: owner,
                gid: 0,
                closed_by: None,
            }),
        }
    }

    #[test]
    fn a_world_writable_socket_of_root_is_found() {
        let mut ctx = with(vec![
            process(1, "systemd", 0),
            process(50, "python3", 0),
            process(60, "app", 1000),
        ]);
        ctx.unix = vec![
            unix("/tmp/t/s.sock", &[50], 0o777, 0),
            unix("/tmp/t/private.sock", &[50], 0o770, 0),
            unix("/tmp/t/user.sock", &[60], 0o777, 1000),
            unix("/run/systemd/journal/stdout", &[1], 0o666, 0),
            unix("/run/docker.sock", &[1, 50], 0o666, 0),
        ];
        let found = check(&ctx);
        let paths: Vec<&str> = found
            .iter()
            .map(|f| f.subject.address.as_deref().unwrap())
            .collect();
        assert_eq!(paths, ["/tmp/t/s.sock", "/run/docker.sock"], "{found:?}");
        assert_eq!(found[0].finding.severity, Severity::Warning);
        assert_eq!(found[1].finding.severity, Severity::Critical);
        assert!(
            found[0].finding.evidence[0].contains("mode 0777 (srwxrwxrwx)"),
            "{:?}",
            found[0].finding.evidence
        );
        assert_eq!(found[0].subject.proto.as_deref(), Some("unix"));
        assert_eq!(found[0].subject.process.as_deref(), Some("python3"));
        assert_eq!(found[1].subject.pid, Some(50), "the service, not systemd");
    }

    #[test]
    fn a_closed_directory_or_a_non_root_service_is_fine() {
        let mut ctx = with(vec![
            process(1, "systemd", 0),
            process(70, "dbus-daemon", 101),
        ]);
        let mut closed = unix("/srv/x/s.sock", &[1], 0o777, 0);
        if let Some(f) = closed.file.as_mut() {
            f.closed_by = Some(("/srv/x".into(), 0o700));
        }
        ctx.unix = vec![closed, unix("/srv/bus.sock", &[1, 70], 0o666, 0)];
        assert!(check(&ctx).is_empty());
    }
}
