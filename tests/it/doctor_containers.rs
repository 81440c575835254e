//! `doctor` names the container cases, with real engines: an app bound to its container's
//! loopback behind a published port (behind Docker's userland proxy, and behind NAT alone),
//! a `docker-proxy` whose container is gone (started by hand, as dockerd starts it), a port
//! published on another address than the client dials, a client inside a container dialling
//! `localhost` for a host service (`--from-container`), and `--bind` on a port published
//! through NAT.

use crate::engines::{Container, IMAGE, dockerd, dockerd_nat, free_port, on_a_free_port, unique};
use crate::harness::{Run, needs, output, portscope};
use crate::nat_published::{in_ns, published};

/// portscope `args` with Docker at `docker`, no Podman.
fn with_docker(docker: &str, args: &[&str]) -> Run {
    output(
        portscope()
            .env("DOCKER_HOST", docker)
            .env("CONTAINER_HOST", "unix:///nonexistent/podman.sock")
            .env_remove("XDG_RUNTIME_DIR")
            .args(args),
    )
}

fn says(r: &Run, wanted: &[&str]) {
    for w in wanted {
        assert!(
            r.stdout.contains(w),
            "lacks {w:?}:\n{}\n{}",
            r.stdout,
            r.stderr
        );
    }
}

/// httpd on the container's 127.0.0.1:80 only.
const LOOPBACK_HTTPD: &[&str] = &["/bin/httpd", "-f", "-p", "127.0.0.1:80", "-h", "/www"];

#[test]
fn app_on_the_containers_loopback_behind_docker_proxy() {
    let Some(e) = dockerd("app_on_the_containers_loopback_behind_docker_proxy") else {
        return;
    };
    let name = unique("lo");
    let (port, _c) = on_a_free_port("docker run -p", |port| {
        let publish = format!("127.0.0.1:{port}:80");
        let r = e.client(
            &[
                &["run", "-d", "--name", &name, "-p", &publish, IMAGE],
                LOOPBACK_HTTPD,
            ]
            .concat(),
        );
        if r.code != 0 {
            let _ = e.client(&["rm", "-f", &name]);
        }
        (r.code == 0).then(|| Container::of(e, &name))
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    let r = with_docker(&e.url(), &["doctor", &port.to_string()]);
    assert_eq!(r.code, 1, "{r:?}");
    says(
        &r,
        &[
            "DOC-CONTAINER-LOOPBACK-ONLY",
            &format!("to container {name}"),
            "httpd",
            "listens on 127.0.0.1:80 only",
            &format!("docker exec {name} ss -ltn"),
        ],
    );
}

#[test]
fn app_on_the_containers_loopback_behind_nat() {
    let Some(nat) = dockerd_nat("app_on_the_containers_loopback_behind_nat") else {
        return;
    };
    let (port, c) = published(nat, "natlo", "127.0.0.1", LOOPBACK_HTTPD);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let r = in_ns(nat, &nat.engine.url(), &["doctor", &port.to_string()]);
    assert_eq!(r.code, 1, "{r:?}");
    says(
        &r,
        &[
            "DOC-CONTAINER-LOOPBACK-ONLY",
            &format!("container {} publishes port {port}", c.name),
            "inside it httpd listens on 127.0.0.1 only",
            "make the program listen on 0.0.0.0 inside the container",
        ],
    );
}

#[test]
fn a_leftover_docker_proxy_is_named_with_the_fix() {
    let Some(e) = dockerd("a_leftover_docker_proxy_is_named_with_the_fix") else {
        return;
    };
    let Some(bin) = needs(
        "a_leftover_docker_proxy_is_named_with_the_fix",
        "docker-proxy",
        "docker.io",
    ) else {
        return;
    };
    // An address on the engine's bridge where no container is.
    let (port, _proxy) = crate::doctor_docker::docker_proxy(&bin, "10.201.0.250", "80");
    let p = port.to_string();
    let r = with_docker(&e.url(), &["doctor", &p, "--timeout", "300"]);
    assert_eq!(r.code, 1, "{r:?}");
    says(
        &r,
        &[
            "DOC-DOCKER-PROXY-LEFTOVER",
            "leftover docker-proxy pid",
            "from a removed container",
            "no running container publishes port",
            "sudo systemctl restart docker",
            &format!("portscope kill --force {p}"),
        ],
    );
    let who = with_docker(&e.url(), &["who", &p]);
    assert_eq!(who.code, 0, "{who:?}");
    says(
        &who,
        &[
            "left over from a removed container",
            &format!("portscope kill --force {p}"),
        ],
    );
}

#[test]
fn a_port_published_on_another_address() {
    let Some(e) = dockerd("a_port_published_on_another_address") else {
        return;
    };
    // Behind docker-proxy: the proxy listens on 127.0.0.2 only.
    let name = unique("el");
    let (port, _c) = on_a_free_port("docker run -p 127.0.0.2", |port| {
        let publish = format!("127.0.0.2:{port}:80");
        let r = e.client(
            &[
                &["run", "-d", "--name", &name, "-p", &publish, IMAGE],
                &["/bin/httpd", "-f", "-p", "80", "-h", "/www"][..],
            ]
            .concat(),
        );
        if r.code != 0 {
            let _ = e.client(&["rm", "-f", &name]);
        }
        (r.code == 0).then(|| Container::of(e, &name))
    });
    let r = with_docker(&e.url(), &["doctor", &format!("127.0.0.1:{port}")]);
    assert_eq!(r.code, 1, "{r:?}");
    says(
        &r,
        &[
            "DOC-OTHER-LOOPBACK-ADDRESS",
            &format!("(for container {name})"),
            &format!("published on 127.0.0.2:{port}"),
            &format!("docker run -p 127.0.0.1:{port}:80"),
        ],
    );
    // Through NAT alone.
    let Some(nat) = dockerd_nat("a_port_published_on_another_address") else {
        return;
    };
    let (port, c) = published(
        nat,
        "natel",
        "127.0.0.2",
        &["/bin/httpd", "-f", "-p", "80", "-h", "/www"],
    );
    let r = in_ns(
        nat,
        &nat.engine.url(),
        &["doctor", &format!("127.0.0.1:{port}")],
    );
    assert_eq!(r.code, 1, "{r:?}");
    says(
        &r,
        &[
            "DOC-PUBLISHED-ELSEWHERE",
            &format!(
                "container {} (docker) publishes port {port} on 127.0.0.2 only",
                c.name
            ),
            &format!("connect to 127.0.0.2:{port} instead"),
        ],
    );
}

#[test]
fn a_client_in_a_container_dialling_localhost_for_the_host() {
    let test = "a_client_in_a_container_dialling_localhost_for_the_host";
    let Some(e) = dockerd(test) else {
        return;
    };
    let (_, web) = e.web(&unique("client"), &[], crate::engines::Init::Httpd);
    let host = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = host.local_addr().unwrap().port().to_string();
    let gateway = web.inspect("{{range .NetworkSettings.Networks}}{{.Gateway}}{{end}}");
    let r = with_docker(
        &e.url(),
        &[
            "doctor",
            &format!("localhost:{port}"),
            "--from-container",
            &web.name,
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    says(
        &r,
        &[
            "DOC-CONTAINER-LOCALHOST",
            &format!(
                "inside container {}, localhost:{port} is the container's own loopback",
                web.name
            ),
            &format!("the container's default gateway is {gateway}"),
            &format!("dial {gateway}:{port} from the container"),
            "it listens on loopback only",
            "--add-host=host.docker.internal:host-gateway",
            "--network host",
        ],
    );
    // No such container: one line, exit 2.
    let r = with_docker(
        &e.url(),
        &["doctor", &port, "--from-container", "no-such-container-x"],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("no running container named"), "{r:?}");
    drop(host);
    let _ = free_port();
}

#[test]
fn bind_on_a_port_published_through_nat() {
    let Some(nat) = dockerd_nat("bind_on_a_port_published_through_nat") else {
        return;
    };
    let (port, c) = published(
        nat,
        "natbind",
        "0.0.0.0",
        &["/bin/httpd", "-f", "-p", "80", "-h", "/www"],
    );
    let r = in_ns(
        nat,
        &nat.engine.url(),
        &["doctor", "--bind", &port.to_string()],
    );
    assert_eq!(r.code, 1, "{r:?}");
    says(
        &r,
        &[
            "DOC-BIND-PUBLISHED-NAT",
            &format!(
                "container {} (docker) publishes port {port} through NAT",
                c.name
            ),
            &format!("docker stop {}", c.name),
        ],
    );
}
