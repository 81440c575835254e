//! Unit tests of the plan rules and the docker-proxy parser.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn me() -> Lineage {
    Lineage {
        pid: 500,
        ancestors: vec![400, 300, 1],
        pgrp: 400,
    }
}

#[test]
fn refusals() {
    let me = me();
    assert_eq!(refusal(1, "init", false, &me, false), Some(Refused::Pid1));
    assert_eq!(refusal(1, "init", false, &me, true), Some(Refused::Pid1));
    assert_eq!(
        refusal(500, "portscope", false, &me, false),
        Some(Refused::Portscope)
    );
    assert_eq!(
        refusal(400, "bash", false, &me, false),
        Some(Refused::Parent)
    );
    assert_eq!(
        refusal(300, "sshd", false, &me, true),
        Some(Refused::Ancestor)
    );
    assert_eq!(
        refusal(2, "kthreadd", true, &me, false),
        Some(Refused::KernelThread)
    );
    assert_eq!(
        refusal(900, "docker-proxy", false, &me, false),
        Some(Refused::DockerProxy)
    );
    assert_eq!(refusal(900, "docker-proxy", false, &me, true), None);
    assert_eq!(refusal(901, "python3", false, &me, false), None);
}

#[test]
fn docker_proxy_command_lines() {
    let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    let want = DockerMapping {
        proto: Some("tcp".into()),
        host_ip: Some("0.0.0.0".into()),
        host_port: Some(8080),
        container_ip: Some("172.17.0.2".into()),
        container_port: Some(80),
    };
    let classic = "/usr/bin/docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 8080 -container-ip 172.17.0.2 -container-port 80";
    assert_eq!(parse_docker_proxy(&args(classic)), Some(want.clone()));
    let shuffled = "docker-proxy -container-port 80 --host-port=8080 -use-listen-fd -container-ip=172.17.0.2 -host-ip 0.0.0.0 -proto tcp";
    assert_eq!(parse_docker_proxy(&args(shuffled)), Some(want));
    assert_eq!(parse_docker_proxy(&args("python3 -m http.server")), None);
    let cut = parse_docker_proxy(&args("docker-proxy -host-port")).unwrap_or_default();
    assert_eq!(cut, DockerMapping::default());
}

fn planned(pid: u32, ports: Vec<u16>, why: Vec<Why>) -> Planned {
    Planned {
        process: Process::fixture(pid, "x"),
        ports,
        why,
        start_ticks: Some(1),
    }
}

fn listen(port: u16) -> Why {
    Why::Socket {
        proto: Proto::Tcp,
        state: SockState::Listen,
        local: Endpoint::inet(IpAddr::from([0, 0, 0, 0]), port),
        remote: None,
        inode: u64::from(port),
    }
}

#[test]
fn a_refused_holder_blocks_the_other_holders_of_its_port_only() {
    let parent = planned(400, vec![8080], vec![listen(8080)]);
    let mut refused = vec![refuse(
        &parent.process,
        vec![8080],
        vec![listen(8080)],
        Refused::Parent,
        None,
    )];
    let mut stop = vec![
        planned(600, vec![8080], vec![listen(8080)]),
        planned(601, vec![8080, 9090], vec![listen(8080), listen(9090)]),
        planned(602, vec![8080], vec![Why::Descendant { of: 600 }]),
    ];
    block_useless(&mut stop, &mut refused);
    let left: Vec<u32> = stop.iter().map(|p| p.process.pid).collect();
    assert_eq!(left, vec![601]);
    assert_eq!(refused.len(), 3);
    assert!(
        refused[1..]
            .iter()
            .all(|r| r.reason == Refused::PortStaysHeld)
    );
    assert!(
        refused[1]
            .message
            .contains("port 8080 stays held by pid 400")
    );
}

#[test]
fn what_holds_a_port() {
    assert!(holds(Proto::Tcp, SockState::Listen));
    assert!(holds(Proto::Tcp, SockState::Close));
    assert!(holds(Proto::Udp, SockState::Close));
    assert!(holds(Proto::Udp, SockState::Established));
    assert!(!holds(Proto::Tcp, SockState::Established));
    assert!(!holds(Proto::Tcp, SockState::TimeWait));
}

#[test]
fn tree_members_are_stopped_for_their_holders_ports() {
    let mut why = BTreeMap::new();
    why.insert(10, vec![listen(8080)]);
    why.insert(11, vec![Why::Descendant { of: 10 }]);
    why.insert(12, vec![Why::ProcessGroup { pgid: 10, of: 10 }]);
    let ports = ports_of(&why);
    assert_eq!(ports[&11], vec![8080]);
    assert_eq!(ports[&12], vec![8080]);
}

#[test]
fn process_targets_are_refused() {
    for t in [Target::Pid(12), Target::Process("node".into())] {
        let e = check_targets(&[t]).unwrap_err().to_string();
        assert!(
            e.contains("kill frees ports: give PORT, HOST:PORT or LOW-HIGH"),
            "{e}"
        );
    }
    let udp = Target::Port {
        port: 8080,
        proto: Some(Proto::Udp),
    };
    assert!(check_targets(&[udp]).is_ok());
}

fn link(pid: u32, start_ticks: u64) -> respawn::Link {
    respawn::Link { pid, start_ticks }
}

#[test]
fn the_respawner_is_the_nearest_shared_ancestor() {
    use respawn::common_ancestor;
    // old python3 → bash loop 40 → tmux 30 → 1; new python3 → bash loop 40 → …
    let old = [link(40, 7), link(30, 5), link(1, 1)];
    let new = [link(40, 7), link(30, 5), link(1, 1)];
    assert_eq!(common_ancestor(&old, &new), Some(link(40, 7)));
    // A new holder under a subshell of the loop: still the loop.
    let deeper = [link(41, 9), link(40, 7), link(30, 5), link(1, 1)];
    assert_eq!(common_ancestor(&old, &deeper), Some(link(40, 7)));
    // Same pid, another process (the pid was reused): not shared.
    let reused = [link(40, 8), link(30, 5), link(1, 1)];
    assert_eq!(common_ancestor(&old, &reused), Some(link(30, 5)));
    assert_eq!(common_ancestor(&old, &[]), None);
}

#[test]
fn only_a_live_parent_that_could_start_it_again_is_watched() {
    use respawn::may_respawn;
    let me = me();
    let none = BTreeSet::new();
    let parent = link(40, 7);
    assert!(may_respawn(parent, Some((7, false)), "bash", &me, &none));
    // Gone, a zombie, or its pid reused.
    assert!(!may_respawn(parent, None, "bash", &me, &none));
    assert!(!may_respawn(parent, Some((7, true)), "bash", &me, &none));
    assert!(!may_respawn(parent, Some((8, false)), "bash", &me, &none));
    // pid 1, portscope's own shell chain, a one-shot init, a parent stopped too.
    assert!(!may_respawn(
        link(1, 1),
        Some((1, false)),
        "systemd",
        &me,
        &none
    ));
    assert!(!may_respawn(
        link(400, 3),
        Some((3, false)),
        "bash",
        &me,
        &none
    ));
    assert!(!may_respawn(parent, Some((7, false)), "tini", &me, &none));
    assert!(!may_respawn(
        parent,
        Some((7, false)),
        "dumb-init",
        &me,
        &none
    ));
    let stopped = BTreeSet::from([40]);
    assert!(!may_respawn(
        parent,
        Some((7, false)),
        "bash",
        &me,
        &stopped
    ));
}

#[test]
fn grace_is_whole_seconds_rounded_up() {
    assert_eq!(engine::grace_s(Duration::from_secs(5)), 5);
    assert_eq!(engine::grace_s(Duration::from_millis(500)), 1);
    assert_eq!(engine::grace_s(Duration::from_millis(1001)), 2);
    assert_eq!(engine::grace_s(Duration::ZERO), 0);
}

fn held(inode: u64, port: u16, pids: &[u32]) -> Socket {
    Socket {
        proto: Proto::Tcp,
        family: crate::model::Family::Ipv4,
        state: SockState::Listen,
        local: Endpoint::inet(IpAddr::from([127, 0, 0, 1]), port),
        remote: None,
        inode,
        peer_inode: None,
        uid: 0,
        recv_q: 0,
        send_q: 16,
        netns: None,
        pids: pids.to_vec(),
        owner_hidden: false,
        ownerless: false,
    }
}

fn container(id: &str) -> crate::containers::ContainerRef {
    crate::containers::ContainerRef {
        engine: "docker",
        engine_socket: "/var/run/docker.sock".into(),
        name: "web1".into(),
        id: id.into(),
        image: "nginx:1.27".into(),
        state: "running".into(),
        compose_project: None,
        compose_service: None,
        published: None,
        inner: None,
    }
}

fn socket_why(s: &Socket) -> Why {
    Why::socket(s)
}

#[test]
fn a_container_takes_over_the_holders_that_go_with_it() {
    let id = "f13ea9134cc661f2a8d51c9d39897165a2f0e182599d9ad0113b087233b4762d";
    // docker-proxy (10) holds 8080 for the container; python3 (20) holds 9090 and 8081 on the
    // host; nginx (30) runs in the container on the host's network and holds 8081 too.
    let proxy = held(1, 8080, &[10]);
    let mixed = held(2, 8081, &[20, 30]);
    let host = held(3, 9090, &[20]);
    let mut procs = BTreeMap::new();
    procs.insert(10, Process::fixture(10, "docker-proxy"));
    procs.insert(20, Process::fixture(20, "python3"));
    let mut inner = Process::fixture(30, "nginx");
    inner.origin.container_id = Some(id.into());
    procs.insert(30, inner);
    let mut why = BTreeMap::new();
    why.insert(10, vec![socket_why(&proxy)]);
    why.insert(20, vec![socket_why(&mixed), socket_why(&host)]);
    why.insert(30, vec![socket_why(&mixed)]);
    why.insert(31, vec![Why::Descendant { of: 30 }]);
    why.insert(21, vec![Why::Descendant { of: 20 }]);
    let by_inode: HashMap<u64, crate::containers::ContainerRef> =
        [(1, container(id)), (2, container(id))].into();
    let found = engine::decide(&[proxy, mixed, host], &procs, &why, &by_inode, 5);
    assert_eq!(found.planned.len(), 1);
    let c = &found.planned[0];
    assert_eq!(c.ports, vec![8080, 8081]);
    let holders: Vec<u32> = c.holders.iter().map(|h| h.pid).collect();
    assert_eq!(holders, vec![10, 30]);
    assert_eq!(c.grace_s, 5);
    // python3 is not in the container: it is still signalled, and so is its descendant.
    assert_eq!(found.handled, BTreeSet::from([10, 30, 31]));
}

#[test]
fn no_container_named_means_no_takeover() {
    let proxy = held(1, 8080, &[10]);
    let mut procs = BTreeMap::new();
    procs.insert(10, Process::fixture(10, "docker-proxy"));
    let why = BTreeMap::from([(10, vec![socket_why(&proxy)])]);
    let found = engine::decide(&[proxy], &procs, &why, &HashMap::new(), 5);
    assert!(found.planned.is_empty());
    assert!(found.handled.is_empty());
}

#[test]
fn watchers_are_known_by_their_command_lines() {
    let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    assert!(respawn::is_watcher(&args(
        "node /app/node_modules/.bin/nodemon server.js"
    )));
    assert!(respawn::is_watcher(&args("cargo watch -x run")));
    assert!(respawn::is_watcher(&args("/usr/bin/dotnet watch run")));
    assert!(respawn::is_watcher(&args(
        "python3 -m uvicorn app:app --reload"
    )));
    assert!(respawn::is_watcher(&args("node --watch server.js")));
    assert!(!respawn::is_watcher(&args("bash -c sleep 60")));
    assert!(!respawn::is_watcher(&args("node server.js --watchdog")));
}

#[test]
fn a_socket_unit_is_stopped_by_systemd_or_named_in_the_refusal() {
    use crate::supervisors::{Kind, Supervisor};
    let init = planned(1, vec![22], vec![listen(22)]);
    let sshd = planned(700, vec![22], vec![listen(22)]);
    let fresh = || {
        let mut refused = vec![refuse(
            &init.process,
            vec![22],
            vec![listen(22)],
            Refused::Pid1,
            None,
        )];
        let mut stop = vec![sshd.clone(), planned(800, vec![9090], vec![listen(9090)])];
        block_useless(&mut stop, &mut refused);
        (stop, refused)
    };
    // systemd answered: the units are stopped, pid 1 and the service leave both lists.
    let mut sup = Supervisor::new(Kind::SystemdSocket);
    sup.socket_unit = Some("ssh.socket".into());
    sup.stop_units = vec!["ssh.socket".into(), "ssh.service".into()];
    let note = units::SupervisorNote {
        ports: vec![22],
        pids: vec![1, 700],
        supervisor: sup.clone(),
    };
    let (mut stop, mut refused) = fresh();
    assert_eq!(refused.len(), 2, "sshd is blocked by pid 1 first");
    let mut notes = Vec::new();
    units::apply(
        std::slice::from_ref(&note),
        &mut stop,
        &mut refused,
        &mut notes,
    );
    assert!(refused.is_empty(), "{refused:?}");
    let left: Vec<u32> = stop.iter().map(|p| p.process.pid).collect();
    assert_eq!(left, vec![800]);
    // systemd could not be asked: pid 1 stays refused, and the refusal says what to stop.
    let mut unasked = note;
    unasked.supervisor.stop_units.clear();
    unasked.supervisor.note = Some("systemd could not be asked".into());
    let (mut stop, mut refused) = fresh();
    units::apply(&[unasked], &mut stop, &mut refused, &mut notes);
    assert_eq!(refused.len(), 2);
    assert!(
        refused[0].message.contains(
            "stop that unit and the service it starts (systemctl stop NAME.socket NAME.service"
        ),
        "{}",
        refused[0].message
    );
}
