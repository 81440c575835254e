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
    units::apply(&[note.clone()], &mut stop, &mut refused, &mut notes);
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
