//! `who` pinned: a listener and the process at the other end of its connection, a stopped
//! process in a container beside a hidden owner, a port nothing holds, and a systemd service
//! that restarts on exit.

use portscope::commands::Report;
use portscope::commands::who::{Peer, WhoSocket};
use portscope::knowledge::addr_class::Exposure;
use portscope::model::{Endpoint, Hidden, ProcState, Proto};
use portscope::supervisors::{Kind, Supervisor};

use super::{
    ANY4, CURL_HEALTH, LO4, LO6, NEXT_DEV, connected, full, hidden, hidden_owner, listen, pin,
    who_free, who_listener, who_report,
};

/// `who 3000`: the listener and a loopback connection with the process at the other end,
/// each process in full.
#[test]
fn listener_and_peer() {
    let node = full(
        4242,
        "node",
        NEXT_DEV,
        "/usr/bin/node",
        &[(4200, "npm"), (4100, "bash"), (1, "systemd")],
    );
    let curl = full(
        4300,
        "curl",
        CURL_HEALTH,
        "/usr/bin/curl",
        &[(4101, "bash"), (1, "systemd")],
    );
    let report = who_report(
        "3000",
        vec![
            who_listener(
                Exposure::Loopback,
                listen(Proto::Tcp, LO4, 3000, 91_402, 1000, &[4242]),
            ),
            WhoSocket {
                exposure: None,
                peer: Some(Peer {
                    endpoint: Endpoint::inet(LO4, 51514),
                    inode: 91_949,
                    pids: vec![4300],
                    owner_hidden: false,
                }),
                container: None,
                supervisor: None,
                socket: connected((LO4, 3000), (LO4, 51514), 91_950, 1000, &[4242]),
            },
        ],
        vec![node, curl],
        Hidden::default(),
    );
    pin("inspect-who-3000", &Report::Who(Box::new(report)));
}

/// `who 5432`: a listener whose process is stopped (Ctrl-Z) and runs in a container, a
/// second listener whose owner is hidden, and the hidden footer.
#[test]
fn stopped_in_container() {
    let mut pg = full(
        5120,
        "postgres",
        &["postgres", "-D", "/var/lib/postgresql/data"],
        "/usr/lib/postgresql/16/bin/postgres",
        &[(5101, "containerd-shim"), (1, "systemd")],
    );
    pg.uid = 999;
    pg.user = None;
    pg.cwd = Some("/var/lib/postgresql/data".into());
    pg.state = ProcState::Stopped;
    pg.origin.systemd_unit = None;
    pg.origin.container_id =
        Some("3f9a1c2b7d4e5f60718293a4b5c6d7e8f9012345678901234567890abcdef12".into());
    pg.origin.container_runtime = Some("docker".into());
    pg.origin.cgroup = Some(
        "/system.slice/docker-3f9a1c2b7d4e5f60718293a4b5c6d7e8f9012345678901234567890abcdef12.scope"
            .into(),
    );
    let report = who_report(
        "5432",
        vec![
            who_listener(
                Exposure::AllInterfaces,
                listen(Proto::Tcp, ANY4, 5432, 70_110, 999, &[5120]),
            ),
            who_listener(
                Exposure::Loopback,
                hidden_owner(listen(Proto::Tcp, LO6, 5432, 70_230, 0, &[])),
            ),
        ],
        vec![pg],
        hidden(1, 2),
    );
    pin("inspect-who-stopped", &Report::Who(Box::new(report)));
}

/// `who 8080/udp`: nothing holds it.
#[test]
fn nothing() {
    pin(
        "inspect-who-nothing",
        &Report::Who(Box::new(who_free("8080/udp"))),
    );
}

/// `who 8080` on a systemd machine: nginx.service holds it and has `Restart=always`, so a
/// kill would not free it; the supervisor says what to stop.
#[test]
fn restarting_unit() {
    let mut nginx = full(
        812,
        "nginx",
        &["nginx: master process /usr/sbin/nginx -g daemon on; master_process on;"],
        "/usr/sbin/nginx",
        &[(1, "systemd")],
    );
    nginx.uid = 0;
    nginx.user = Some("root".into());
    nginx.cwd = Some("/".into());
    nginx.origin.cgroup = Some("/system.slice/nginx.service".into());
    nginx.origin.systemd_unit = Some("nginx.service".into());
    let mut sup = Supervisor::new(Kind::SystemdService);
    sup.unit = Some("nginx.service".into());
    sup.restart = Some("always".into());
    sup.unit_type = Some("forking".into());
    sup.active_state = Some("active".into());
    sup.kill_frees = Some(false);
    sup.stop_units = vec!["nginx.service".into()];
    sup.stop = Some("systemctl stop nginx.service".into());
    let mut sock = who_listener(
        Exposure::AllInterfaces,
        listen(Proto::Tcp, ANY4, 8080, 70_310, 0, &[812]),
    );
    sock.supervisor = Some(sup);
    let report = who_report("8080", vec![sock], vec![nginx], Hidden::default());
    pin(
        "inspect-who-restarting-unit",
        &Report::Who(Box::new(report)),
    );
}
