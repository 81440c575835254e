//! Ports published through NAT with no socket on the host, with a real engine: the tests'
//! NAT dockerd (`engines::dockerd_nat`: iptables on, userland proxy off, in a network
//! namespace of its own). Docker 20.10 still keeps such a port bound in dockerd itself; the
//! tests destroy that socket (`ss -K`), leaving what engines that never bind on the host
//! leave: the engine's list and the DNAT rule. `ls` and `who` must show the port held by the
//! container (exit 0 for `who`, `published` in JSON), and, with the engine unreachable, by
//! the NAT rule alone.

use std::process::Command;

use serde_json::Value;

use crate::engines::{Container, NatEngine, dockerd_nat, on_a_free_port, unique};
use crate::harness::{Run, output};

/// portscope `args` in the NAT engine's namespace, its engine at `docker` (`DOCKER_HOST`),
/// no Podman.
pub fn in_ns(nat: &NatEngine, docker: &str, args: &[&str]) -> Run {
    output(
        Command::new("ip")
            .args(["netns", "exec", &nat.netns, env!("CARGO_BIN_EXE_portscope")])
            .args(args)
            .env("NO_COLOR", "1")
            .env("DOCKER_HOST", docker)
            .env("CONTAINER_HOST", "unix:///nonexistent/podman.sock")
            .env_remove("XDG_RUNTIME_DIR"),
    )
}

/// `command…` (busybox) in a container of the NAT engine published on `host_ip`:P:80, P
/// picked free; dockerd's own socket on P destroyed, so that only NAT publishes it.
pub fn published<'a>(
    nat: &'a NatEngine,
    prefix: &str,
    host_ip: &str,
    command: &[&str],
) -> (u16, Container<'a>) {
    let (port, c) = publish(nat, prefix, host_ip, command);
    let sport = format!("sport = :{port}");
    let r =
        output(Command::new("ip").args(["netns", "exec", &nat.netns, "ss", "-K", "-tln", &sport]));
    assert_eq!(r.code, 0, "ss -K: {r:?}");
    (port, c)
}

/// `command…` (busybox) in a container of the NAT engine published on `host_ip`:P:80, P
/// picked free (dockerd keeps P bound itself).
fn publish<'a>(
    nat: &'a NatEngine,
    prefix: &str,
    host_ip: &str,
    command: &[&str],
) -> (u16, Container<'a>) {
    let name = unique(prefix);
    on_a_free_port("docker run -p (NAT)", |port| {
        let publish = format!("{host_ip}:{port}:80");
        let r = nat.engine.client(
            &[
                &[
                    "run",
                    "-d",
                    "--name",
                    &name,
                    "-p",
                    &publish,
                    crate::engines::IMAGE,
                ],
                command,
            ]
            .concat(),
        );
        if r.code != 0 {
            let _ = nat.engine.client(&["rm", "-f", &name]);
            return None;
        }
        Some(Container::of(&nat.engine, &name))
    })
}

const HTTPD: &[&str] = &["/bin/httpd", "-f", "-p", "80", "-h", "/www"];

#[test]
fn ls_and_who_show_a_port_published_through_nat_alone() {
    let Some(nat) = dockerd_nat("ls_and_who_show_a_port_published_through_nat_alone") else {
        return;
    };
    let (port, web) = published(nat, "natweb", "127.0.0.1", HTTPD);
    let url = nat.engine.url();
    let p = port.to_string();
    let who = in_ns(nat, &url, &["who", &p]);
    assert_eq!(who.code, 0, "held through NAT: {who:?}");
    for w in [
        "published (NAT)",
        "docker (NAT)",
        &web.name,
        "httpd",
        "DNAT --to-destination",
    ] {
        assert!(who.stdout.contains(w), "lacks {w:?}:\n{}", who.stdout);
    }
    let json: Value =
        serde_json::from_str(&in_ns(nat, &url, &["who", &p, "--json"]).stdout).unwrap();
    assert_eq!(json["held"], true);
    let row = &json["published"][0];
    assert_eq!(row["port"], port);
    assert_eq!(row["host_ip"], "127.0.0.1");
    assert_eq!(row["source"], "engine");
    assert_eq!(row["container"]["name"], web.name.as_str());
    assert_eq!(row["container"]["inner"]["comm"], "httpd");
    assert!(row["to"].as_str().unwrap().ends_with(":80"), "{row}");
    let ls = in_ns(nat, &url, &["ls", "--tcp"]);
    let line = ls
        .stdout
        .lines()
        .find(|l| l.starts_with(&format!("{port} ")))
        .unwrap_or_else(|| panic!("no row for {port}:\n{}", ls.stdout));
    for w in ["docker (NAT)", web.name.as_str(), "loopback only"] {
        assert!(line.contains(w), "{w:?} not in {line:?}");
    }
    let ls: Value = serde_json::from_str(&in_ns(nat, &url, &["ls", "--json"]).stdout).unwrap();
    assert!(
        ls["published"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["port"] == port),
        "{ls}"
    );
    // `ls --udp` lists no TCP publish.
    let udp: Value =
        serde_json::from_str(&in_ns(nat, &url, &["ls", "--udp", "--json"]).stdout).unwrap();
    assert!(udp.get("published").is_none(), "{udp}");
}

#[test]
fn without_the_engine_the_nat_rule_names_the_port() {
    let Some(nat) = dockerd_nat("without_the_engine_the_nat_rule_names_the_port") else {
        return;
    };
    let (port, _web) = published(nat, "natrule", "0.0.0.0", HTTPD);
    let p = port.to_string();
    let who = in_ns(nat, "unix:///nonexistent/docker.sock", &["who", &p]);
    assert_eq!(who.code, 0, "{who:?}");
    for w in [
        "NAT rule",
        "container unknown",
        "-A DOCKER -p tcp -m tcp --dport",
    ] {
        assert!(who.stdout.contains(w), "lacks {w:?}:\n{}", who.stdout);
    }
    let json: Value = serde_json::from_str(
        &in_ns(
            nat,
            "unix:///nonexistent/docker.sock",
            &["who", &p, "--json"],
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(json["published"][0]["source"], "nat-rule");
    assert!(json["published"][0].get("container").is_none());
    // A port nothing publishes stays free.
    let free = crate::engines::free_port().to_string();
    let r = in_ns(nat, "unix:///nonexistent/docker.sock", &["who", &free]);
    assert_eq!(r.code, 1, "{r:?}");
}

#[test]
fn dockerd_holding_a_published_port_is_named_for_its_container() {
    let Some(nat) = dockerd_nat("dockerd_holding_a_published_port_is_named_for_its_container")
    else {
        return;
    };
    let (port, c) = publish(nat, "natheld", "127.0.0.1", HTTPD);
    let name = &c.name;
    let who = in_ns(nat, &nat.engine.url(), &["who", &port.to_string()]);
    assert_eq!(who.code, 0, "{who:?}");
    assert!(
        who.stdout.contains(&format!("dockerd → {name}")),
        "{}",
        who.stdout
    );
}
