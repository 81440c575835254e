//! Golden tests of `kill`: ports freed, refused (pid 1), held by a hidden owner, a dry run,
//! a container stopped through its engine (plan and outcome), a respawn, and systemd units
//! stopped instead of signals (a restarting service, a `.socket` unit). Refusal messages are
//! copied into the fixtures, because the function that writes them
//! (`refusal_message`) is private to the kill command.

use std::net::IpAddr;

use portscope::commands::Report;
use portscope::commands::kill::{
    ContainerFate, ContainerOutcome, DockerMapping, DockerNote, Fate, HiddenUser, KillPlan,
    KillReport, Outcome, Owner, Planned, PlannedContainer, PortState, Refusal, Refused, Respawn,
    Respawner, SupervisorNote, UnitStop, Why,
};
use portscope::containers::{ContainerRef, Inner, Published};
use portscope::model::{
    Ancestor, Endpoint, Family, Origin, ProcState, Process, Proto, SockState, Socket,
};
use portscope::supervisors::{Kind, ManagerRef, Supervisor};
use portscope::sys::signal::{Sent, Sig};
use portscope::target::Target;

use super::{strings, v4};
use crate::golden::pin;

fn port(port: u16) -> Target {
    Target::Port { port, proto: None }
}

/// A TCP listener on `addr:port` held by `pids` (empty and `hidden`: an owner portscope may
/// not inspect).
fn listener(addr: IpAddr, port: u16, inode: u64, uid: u32, pids: &[u32]) -> Socket {
    Socket {
        proto: Proto::Tcp,
        family: Family::Ipv4,
        state: SockState::Listen,
        local: Endpoint::inet(addr, port),
        remote: None,
        inode,
        peer_inode: None,
        uid,
        recv_q: 0,
        send_q: 128,
        netns: Some(4_026_531_840),
        pids: pids.to_vec(),
        owner_hidden: pids.is_empty(),
        ownerless: false,
    }
}

fn holds(s: &Socket) -> Why {
    Why::Socket {
        proto: s.proto,
        state: s.state,
        local: s.local.clone(),
        remote: s.remote.clone(),
        inode: s.inode,
    }
}

/// A process as `who` reads it, started at `start_time` (seconds since the epoch).
fn process(pid: u32, comm: &str, cmdline: &[&str], start_time: u64) -> Process {
    Process {
        pid,
        ppid: 4100,
        pgid: Some(pid),
        comm: comm.into(),
        cmdline: strings(cmdline),
        exe: Some("/usr/bin/python3.12".into()),
        cwd: Some("/home/dev/app".into()),
        uid: 1000,
        user: Some("dev".into()),
        start_time: Some(start_time),
        state: ProcState::Sleeping,
        ancestry: vec![
            Ancestor {
                pid: 4100,
                comm: "bash".into(),
            },
            Ancestor {
                pid: 1,
                comm: "systemd".into(),
            },
        ],
        origin: Origin {
            cgroup: Some("/user.slice/user-1000.slice/session-3.scope".into()),
            systemd_unit: Some("session-3.scope".into()),
            container_id: None,
            container_runtime: None,
        },
        netns: Some(4_026_531_840),
    }
}

fn planned(p: Process, sockets: &[&Socket]) -> Planned {
    Planned {
        ports: sockets.iter().filter_map(|s| s.port()).collect(),
        why: sockets.iter().map(|s| holds(s)).collect(),
        start_ticks: Some(123_456),
        process: p,
    }
}

fn state(target: Target, sockets: Vec<Socket>, owners: &[(u32, &str)]) -> PortState {
    PortState {
        target,
        free: sockets.is_empty(),
        sockets,
        owners: owners
            .iter()
            .map(|(pid, comm)| Owner {
                pid: *pid,
                comm: (*comm).into(),
            })
            .collect(),
        connections: 0,
        time_wait: 0,
        hidden: 0,
        hidden_users: vec![],
        ownerless: 0,
        clients: vec![],
        published: vec![],
    }
}

fn plan(targets: Vec<Target>, found: Vec<PortState>, stop: Vec<Planned>, euid: u32) -> KillPlan {
    KillPlan {
        targets,
        signal: Sig::Term,
        timeout_ms: 5000,
        escalate: true,
        tree: false,
        connections: false,
        euid,
        found,
        stop,
        stop_containers: vec![],
        refused: vec![],
        docker: vec![],
        notes: vec![],
        supervisors: vec![],
    }
}

fn kill_report(plan: KillPlan, ports: Vec<PortState>) -> KillReport {
    KillReport {
        all_free: ports.iter().all(|p| p.free),
        plan,
        dry_run: false,
        declined: false,
        outcomes: vec![],
        signals_sent: vec![],
        containers: vec![],
        unit_stops: vec![],
        respawned: vec![],
        respawn_watch_ms: 0,
        watchers: vec![],
        ports,
    }
}

fn outcome(pid: u32, fate: Fate, signal: Sig, after_s: f64, ignored_s: Option<f64>) -> Outcome {
    Outcome {
        pid,
        comm: "python3".into(),
        user: "dev".into(),
        ports: vec![8080],
        outcome: fate,
        signal: Some(signal),
        after_s: Some(after_s),
        ignored_s,
        resumed: false,
        detail: None,
    }
}

/// `kill 8080 --yes`: a forked server; the worker exits on SIGTERM, the master ignores it
/// and gets SIGKILL; the port is free, with TIME_WAIT leftovers.
#[test]
fn kill_freed() {
    let sock = listener(v4(0, 0, 0, 0), 8080, 91_011, 1000, &[4242, 4243]);
    let found = state(
        port(8080),
        vec![sock.clone()],
        &[(4242, "python3"), (4243, "python3")],
    );
    let master = process(4242, "python3", &["python3", "server.py"], 1_795_300_000);
    let worker = process(4243, "python3", &["python3", "server.py"], 1_795_300_001);
    let plan = plan(
        vec![port(8080)],
        vec![found],
        vec![planned(master, &[&sock]), planned(worker, &[&sock])],
        1000,
    );
    let mut after = state(port(8080), vec![], &[]);
    after.time_wait = 2;
    let mut report = kill_report(plan, vec![after]);
    report.outcomes = vec![
        outcome(4243, Fate::ExitedAfterSignal, Sig::Term, 0.004, None),
        outcome(4242, Fate::Killed, Sig::Kill, 0.012, Some(5.0)),
    ];
    report.signals_sent = vec![
        Sent {
            pid: 4242,
            signal: Sig::Term,
            at_s: 0.0,
        },
        Sent {
            pid: 4243,
            signal: Sig::Term,
            at_s: 0.0,
        },
        Sent {
            pid: 4242,
            signal: Sig::Kill,
            at_s: 5.001,
        },
    ];
    pin("lifecycle-kill-freed", &Report::Kill(Box::new(report)));
}

/// `kill 8080 --yes`: pid 1 (systemd socket activation) holds the port with the service it
/// started; pid 1 is refused, so the service is left alone too, and the port stays held.
#[test]
fn kill_refused_pid1() {
    let sock = listener(v4(0, 0, 0, 0), 8080, 91_020, 0, &[1, 4242]);
    let found = state(
        port(8080),
        vec![sock.clone()],
        &[(1, "systemd"), (4242, "python3")],
    );
    let mut plan = plan(vec![port(8080)], vec![found.clone()], vec![], 0);
    plan.refused = vec![
        Refusal {
            pid: 1,
            comm: "systemd".into(),
            cmdline: strings(&["/sbin/init"]),
            uid: 0,
            user: Some("root".into()),
            ports: vec![8080],
            why: vec![holds(&sock)],
            reason: Refused::Pid1,
            message: "it is pid 1, the init of this system or container: stopping it stops everything in it".into(),
        },
        Refusal {
            pid: 4242,
            comm: "python3".into(),
            cmdline: strings(&["/usr/bin/python3", "/home/dev/app/serve.py"]),
            uid: 1000,
            user: Some("dev".into()),
            ports: vec![8080],
            why: vec![holds(&sock)],
            reason: Refused::PortStaysHeld,
            message: "port 8080 stays held by pid 1, which is not stopped: stopping this one would not free it".into(),
        },
    ];
    let report = kill_report(plan, vec![found]);
    pin(
        "lifecycle-kill-refused-pid1",
        &Report::Kill(Box::new(report)),
    );
}

/// `kill 8080 --yes` as an unprivileged user: root's server holds 8080 and cannot be seen,
/// so nothing is stopped and the port is not called free.
#[test]
fn kill_hidden_holder() {
    let sock = listener(v4(0, 0, 0, 0), 8080, 91_030, 0, &[]);
    let mut found = state(port(8080), vec![sock], &[]);
    found.hidden = 1;
    found.hidden_users = vec![HiddenUser {
        uid: 0,
        user: Some("root".into()),
    }];
    let plan = plan(vec![port(8080)], vec![found.clone()], vec![], 1000);
    let report = kill_report(plan, vec![found]);
    pin("lifecycle-kill-hidden", &Report::Kill(Box::new(report)));
}

/// 2026-12-04 16:00:00 UTC: when the dry run's server started.
const DRY_RUN_STARTED: u64 = 1_796_400_000;

/// `kill 3000 --dry-run`: the plan, the signals that would be sent, nothing changed.
#[test]
fn kill_dry_run() {
    let sock = listener(v4(127, 0, 0, 1), 3000, 91_040, 1000, &[4242]);
    let found = state(port(3000), vec![sock.clone()], &[(4242, "python3")]);
    let p = process(
        4242,
        "python3",
        &[
            "python3",
            "-m",
            "http.server",
            "3000",
            "--bind",
            "127.0.0.1",
        ],
        DRY_RUN_STARTED,
    );
    let plan = plan(
        vec![port(3000)],
        vec![found.clone()],
        vec![planned(p, &[&sock])],
        1000,
    );
    let mut report = kill_report(plan, vec![found]);
    report.dry_run = true;
    pin("lifecycle-kill-dry-run", &Report::Kill(Box::new(report)));
}

/// The container behind 127.0.0.1:8080: web1 of compose project shop, nginx inside.
fn web1() -> ContainerRef {
    ContainerRef {
        engine: "docker",
        engine_socket: "/var/run/docker.sock".into(),
        name: "shop-web-1".into(),
        id: "f13ea9134cc661f2a8d51c9d39897165a2f0e182599d9ad0113b087233b4762d".into(),
        image: "nginx:1.27".into(),
        state: "running".into(),
        compose_project: Some("shop".into()),
        compose_service: Some("web".into()),
        published: Some(Published {
            host_ip: "127.0.0.1".into(),
            host_port: 8080,
            container_port: 80,
            proto: "tcp".into(),
        }),
        inner: Some(Inner {
            pid: 5120,
            comm: "nginx".into(),
            cmdline: strings(&["nginx: master process nginx -g daemon off;"]),
            addr: v4(0, 0, 0, 0),
            port: 80,
        }),
    }
}

/// `kill 8080` on a port docker-proxy publishes for shop-web-1: the plan stops the container
/// through Docker's API and leaves docker-proxy to it.
fn container_plan() -> (KillPlan, PortState) {
    let sock = listener(v4(127, 0, 0, 1), 8080, 91_050, 0, &[5101]);
    let found = state(port(8080), vec![sock], &[(5101, "docker-proxy")]);
    let mut plan = plan(vec![port(8080)], vec![found.clone()], vec![], 0);
    plan.stop_containers = vec![PlannedContainer {
        container: web1(),
        ports: vec![8080],
        holders: vec![Owner {
            pid: 5101,
            comm: "docker-proxy".into(),
        }],
        grace_s: 5,
    }];
    plan.docker = vec![DockerNote {
        pid: 5101,
        mapping: DockerMapping {
            proto: Some("tcp".into()),
            host_ip: Some("127.0.0.1".into()),
            host_port: Some(8080),
            container_ip: Some("172.17.0.2".into()),
            container_port: Some(80),
        },
        forced: false,
        leftover: false,
    }];
    (plan, found)
}

/// `kill 8080 --dry-run` on a container's port.
#[test]
fn kill_container_dry_run() {
    let (plan, found) = container_plan();
    let mut report = kill_report(plan, vec![found]);
    report.dry_run = true;
    pin(
        "lifecycle-kill-container-dry-run",
        &Report::Kill(Box::new(report)),
    );
}

/// `kill 8080 --yes` on a container's port: stopped through the engine, the port is free.
#[test]
fn kill_container_stopped() {
    let (plan, _) = container_plan();
    let mut report = kill_report(plan, vec![state(port(8080), vec![], &[])]);
    let c = web1();
    report.containers = vec![ContainerOutcome {
        engine: c.engine,
        engine_socket: c.engine_socket,
        name: c.name,
        id: c.id,
        image: c.image,
        ports: vec![8080],
        outcome: ContainerFate::Stopped,
        message: None,
        after_s: 0.412,
    }];
    pin(
        "lifecycle-kill-container-stopped",
        &Report::Kill(Box::new(report)),
    );
}

/// `kill 8080 --yes` on a server a shell loop starts again: the port is taken 0.3 s later by
/// a new python3 whose parent is the loop; it is not free.
#[test]
fn kill_respawned() {
    let sock = listener(v4(127, 0, 0, 1), 8080, 91_060, 1000, &[4242]);
    let found = state(port(8080), vec![sock.clone()], &[(4242, "python3")]);
    let p = process(
        4242,
        "python3",
        &[
            "python3",
            "-m",
            "http.server",
            "8080",
            "--bind",
            "127.0.0.1",
        ],
        DRY_RUN_STARTED,
    );
    let plan = plan(
        vec![port(8080)],
        vec![found],
        vec![planned(p, &[&sock])],
        1000,
    );
    let again = listener(v4(127, 0, 0, 1), 8080, 91_061, 1000, &[4250]);
    let after = state(port(8080), vec![again], &[(4250, "python3")]);
    let mut report = kill_report(plan, vec![after]);
    report.outcomes = vec![outcome(
        4242,
        Fate::ExitedAfterSignal,
        Sig::Term,
        0.003,
        None,
    )];
    report.signals_sent = vec![Sent {
        pid: 4242,
        signal: Sig::Term,
        at_s: 0.0,
    }];
    report.respawned = vec![Respawn {
        port: 8080,
        pid: 4250,
        comm: "python3".into(),
        cmdline: strings(&[
            "python3",
            "-m",
            "http.server",
            "8080",
            "--bind",
            "127.0.0.1",
        ]),
        after_ms: 312,
        replaced: vec![4242],
        respawner: Some(Respawner {
            pid: 4100,
            comm: "bash".into(),
            cmdline: strings(&[
                "bash",
                "-c",
                "while true; do python3 -m http.server 8080 --bind 127.0.0.1; done",
            ]),
        }),
    }];
    report.respawn_watch_ms = 312;
    report.all_free = false;
    pin("lifecycle-kill-respawned", &Report::Kill(Box::new(report)));
}
/// `kill 8080 --yes`: nginx.service has `Restart=always`, so signals would not free the
/// port; kill runs `systemctl stop nginx.service` instead, and the port is free.
#[test]
fn kill_restarting_unit() {
    let sock = listener(v4(0, 0, 0, 0), 8080, 91_050, 0, &[812, 813]);
    let found = state(port(8080), vec![sock], &[(812, "nginx"), (813, "nginx")]);
    let mut plan = plan(vec![port(8080)], vec![found], vec![], 0);
    let mut sup = Supervisor::new(Kind::SystemdService);
    sup.unit = Some("nginx.service".into());
    sup.restart = Some("always".into());
    sup.unit_type = Some("forking".into());
    sup.active_state = Some("active".into());
    sup.kill_frees = Some(false);
    sup.stop_units = strings(&["nginx.service"]);
    sup.stop = Some("systemctl stop nginx.service".into());
    plan.supervisors = vec![SupervisorNote {
        ports: vec![8080],
        pids: vec![812, 813],
        supervisor: sup,
    }];
    let mut report = kill_report(plan, vec![state(port(8080), vec![], &[])]);
    report.unit_stops = vec![UnitStop {
        command: "systemctl stop nginx.service".into(),
        units: strings(&["nginx.service"]),
        ok: true,
        error: None,
        after_s: 0.214,
    }];
    pin(
        "lifecycle-kill-restarting-unit",
        &Report::Kill(Box::new(report)),
    );
}

/// `kill 22 --dry-run`: pid 1 listens on [::]:22 for ssh.socket, which starts ssh.service;
/// kill would stop both units (pid 1 is not refused: systemd lets go of the listener).
#[test]
fn kill_socket_unit_dry_run() {
    let mut sock = listener(v4(0, 0, 0, 0), 22, 91_060, 0, &[1]);
    sock.family = Family::Ipv6;
    sock.local = Endpoint::inet("::".parse().unwrap(), 22);
    let found = state(port(22), vec![sock], &[(1, "systemd")]);
    let mut plan = plan(vec![port(22)], vec![found.clone()], vec![], 0);
    let mut sup = Supervisor::new(Kind::SystemdSocket);
    sup.manager = Some(ManagerRef {
        pid: 1,
        comm: "systemd".into(),
    });
    sup.socket_unit = Some("ssh.socket".into());
    sup.activates = strings(&["ssh.service"]);
    sup.per_connection = Some(false);
    sup.active_state = Some("active".into());
    sup.kill_frees = Some(false);
    sup.stop_units = strings(&["ssh.socket", "ssh.service"]);
    sup.stop = Some("systemctl stop ssh.socket ssh.service".into());
    plan.supervisors = vec![SupervisorNote {
        ports: vec![22],
        pids: vec![1],
        supervisor: sup,
    }];
    let mut report = kill_report(plan, vec![found]);
    report.dry_run = true;
    pin(
        "lifecycle-kill-socket-unit-dry-run",
        &Report::Kill(Box::new(report)),
    );
}
