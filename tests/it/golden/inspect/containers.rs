//! `who` and `ls` with containers pinned: a port published by Docker (docker-proxy → the
//! container, its compose project and service, the mapping, the `httpd` inside), one by
//! Podman (conmon), a container on the host's network, one behind a holder the user may not
//! inspect, and the note when no engine answers.

use std::collections::BTreeMap;

use portscope::commands::Report;
use portscope::commands::ls::{LsReport, LsRow};
use portscope::containers::{ContainerRef, Inner, Published};
use portscope::knowledge::addr_class::Exposure;
use portscope::model::{Hidden, Process, Proto};

use super::{
    ANY6, LO4, basic, full, hidden, hidden_owner, listen, pin, processes, who_listener, who_report,
};

const WEB_ID: &str = "f13ea9134cc661f2a8d51c9d39897165a2f0e182599d9ad0113b087233b4762d";
const PWEB_ID: &str = "8f9fa229eeca9b8b64f2988f40a75517a4a6f658926d28f25b8688de14644085";
const CACHE_ID: &str = "0b6e2c7d9a1f4e3b8c5d6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d";

/// docker-proxy as dockerd starts it for `-p 127.0.0.1:8080:80`.
fn docker_proxy() -> Process {
    let mut p = full(
        2073,
        "docker-proxy",
        &[
            "/usr/sbin/docker-proxy",
            "-proto",
            "tcp",
            "-host-ip",
            "127.0.0.1",
            "-host-port",
            "8080",
            "-container-ip",
            "172.17.0.2",
            "-container-port",
            "80",
        ],
        "/usr/sbin/docker-proxy",
        &[(812, "dockerd"), (1, "systemd")],
    );
    p.uid = 0;
    p.user = Some("root".into());
    p.cwd = Some("/".into());
    p.origin.cgroup = Some("/system.slice/docker.service".into());
    p.origin.systemd_unit = Some("docker.service".into());
    p
}

/// The container `web1` of compose project `shop`, published as 127.0.0.1:8080 → 80/tcp,
/// busybox's httpd listening inside.
fn web1() -> ContainerRef {
    ContainerRef {
        engine: "docker",
        engine_socket: "/var/run/docker.sock".into(),
        name: "web1".into(),
        id: WEB_ID.into(),
        image: "local/bb:1".into(),
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
            pid: 2177,
            comm: "httpd".into(),
            cmdline: ["/bin/httpd", "-f", "-p", "80", "-h", "/www"]
                .map(String::from)
                .to_vec(),
            addr: ANY6,
            port: 80,
        }),
    }
}

/// Podman's `pweb` (no compose labels), published as 127.0.0.1:8081 → 80/tcp.
fn pweb() -> ContainerRef {
    ContainerRef {
        engine: "podman",
        engine_socket: "/run/podman/podman.sock".into(),
        name: "pweb".into(),
        id: PWEB_ID.into(),
        image: "localhost/local/bb:1".into(),
        compose_project: None,
        compose_service: None,
        published: Some(Published {
            host_ip: "127.0.0.1".into(),
            host_port: 8081,
            container_port: 80,
            proto: "tcp".into(),
        }),
        inner: None,
        ..web1()
    }
}

/// `who 8080`: docker-proxy holds it for `web1`.
#[test]
fn docker_proxy_for_a_compose_service() {
    let mut s = who_listener(
        Exposure::Loopback,
        listen(Proto::Tcp, LO4, 8080, 4_602_609, 0, &[2073]),
    );
    s.container = Some(web1());
    let report = who_report("8080", vec![s], vec![docker_proxy()], Hidden::default());
    pin("inspect-who-container", &Report::Who(Box::new(report)));
}

/// `who 8080` with no engine to ask: the proxy as before, and the one note.
#[test]
fn docker_proxy_without_an_engine() {
    let s = who_listener(
        Exposure::Loopback,
        listen(Proto::Tcp, LO4, 8080, 4_602_609, 0, &[2073]),
    );
    let mut report = who_report("8080", vec![s], vec![docker_proxy()], Hidden::default());
    report.container_note = Some(
        "container details are missing for 127.0.0.1:8080 (held by docker-proxy[2073]): no \
         container engine answered (docker at /var/run/docker.sock: permission denied; podman \
         at /run/podman/podman.sock: no such socket); run portscope as root, or as a member of \
         the engine's group (docker)"
            .into(),
    );
    pin(
        "inspect-who-container-no-engine",
        &Report::Who(Box::new(report)),
    );
}

/// `who 8080` as a user who may not inspect root's docker-proxy but may ask Docker: the
/// engine names the container from the address and port.
#[test]
fn a_hidden_holder_for_a_container() {
    let mut s = who_listener(
        Exposure::Loopback,
        hidden_owner(listen(Proto::Tcp, LO4, 8080, 4_602_609, 0, &[])),
    );
    s.container = Some(ContainerRef {
        inner: None,
        ..web1()
    });
    let report = who_report("8080", vec![s], vec![], hidden(1, 84));
    pin(
        "inspect-who-container-hidden",
        &Report::Who(Box::new(report)),
    );
}

/// `ls`: Docker's and Podman's published ports, a container on the host's network (redis,
/// held by its own process), and a listener of no container beside them.
#[test]
fn listing_with_containers() {
    let mut conmon = basic(16075, "conmon", &["/usr/bin/conmon", "--api-version", "1"]);
    conmon.uid = 0;
    conmon.user = Some("root".into());
    let mut proxy = basic(2073, "docker-proxy", &["/usr/sbin/docker-proxy"]);
    proxy.uid = 0;
    proxy.user = Some("root".into());
    let mut redis = basic(3301, "redis-server", &["redis-server", "*:6379"]);
    redis.uid = 999;
    redis.user = None;
    let node = basic(4242, "node", super::NEXT_DEV);
    let procs = processes(vec![conmon, proxy, redis, node]);
    let cache = ContainerRef {
        name: "cache".into(),
        id: CACHE_ID.into(),
        image: "redis:7".into(),
        compose_service: Some("cache".into()),
        published: None,
        inner: None,
        ..web1()
    };
    let rows = vec![
        row(
            listen(Proto::Tcp, LO4, 3000, 91_402, 1000, &[4242]),
            &procs,
            None,
        ),
        row(
            listen(Proto::Tcp, ANY6, 6379, 70_310, 999, &[3301]),
            &procs,
            Some(cache),
        ),
        row(
            listen(Proto::Tcp, LO4, 8080, 4_602_609, 0, &[2073]),
            &procs,
            Some(web1()),
        ),
        row(
            listen(Proto::Tcp, LO4, 8081, 4_603_101, 0, &[16075]),
            &procs,
            Some(pweb()),
        ),
    ];
    let report = LsReport {
        all_states: false,
        sockets: rows,
        processes: procs,
        owners_looked_up: true,
        hidden: Hidden::default(),
        container_note: None,
        published: Vec::new(),
    };
    pin("inspect-ls-containers", &Report::Ls(Box::new(report)));
}

/// An `ls` row with its first owner's names and `container`.
fn row(
    socket: portscope::model::Socket,
    procs: &BTreeMap<u32, Process>,
    container: Option<ContainerRef>,
) -> LsRow {
    let first = socket.pids.first().and_then(|p| procs.get(p));
    LsRow {
        exposure: socket
            .local
            .ip()
            .map(portscope::knowledge::addr_class::exposure),
        service: None,
        process: first.map(|p| p.comm.as_str().into()),
        user: first.map(|p| p.user.clone().unwrap_or_else(|| p.uid.to_string()).into()),
        container: container.map(Box::new),
        socket,
    }
}
