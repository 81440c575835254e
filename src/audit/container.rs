//! Rule family: container services reachable from the network. A port published with
//! `docker run -p PORT:CPORT` is held on the host by `docker-proxy` on every interface, and
//! Docker's own iptables rules let it past ufw and firewalld; a container on the host network
//! listens on the host's interfaces directly.

use crate::knowledge::addr_class::Exposure;
use crate::model::{Process, Severity};

use super::{AuditFinding, Context, Listener, finding};

/// Whether `p` holds ports on behalf of containers (`docker-proxy`, rootless port forwarders).
pub fn is_port_proxy(p: &Process) -> bool {
    crate::knowledge::containers::is_port_forwarder(&p.comm)
}

/// AUD-CONTAINER-PUBLISHED and AUD-CONTAINER-HOST-NETWORK.
pub fn check(ctx: &Context) -> Vec<AuditFinding> {
    let mut out = Vec::new();
    for l in ctx
        .listeners
        .iter()
        .filter(|l| l.exposure() != Exposure::Loopback)
    {
        let Some(owner) = ctx.owner(l) else {
            continue;
        };
        if is_port_proxy(owner) {
            out.push(published(ctx, l, owner));
        } else if let Some(id) = &owner.origin.container_id
            && ctx.own_container.as_ref() != Some(id)
        {
            out.push(host_network(ctx, l, owner, id));
        }
    }
    out
}

/// The value after `flag` on a command line (`-container-port 80`).
fn arg_after<'a>(p: &'a Process, flag: &str) -> Option<&'a str> {
    let at = p.cmdline.iter().position(|a| a == flag)?;
    p.cmdline.get(at + 1).map(String::as_str)
}

/// Parsed `docker-proxy -container-ip … -container-port …`.
pub fn container_port(p: &Process) -> Option<u16> {
    arg_after(p, "-container-port")?.parse().ok()
}

fn published(ctx: &Context, l: &Listener, proxy: &Process) -> AuditFinding {
    let port = l.port;
    let cport = container_port(proxy);
    let cip = arg_after(proxy, "-container-ip");
    let inside = match (cip, cport) {
        (Some(ip), Some(p)) => format!("container port {ip}:{p}"),
        _ => "a container port".to_string(),
    };
    let mut evidence = vec![
        format!(
            "{} listening, held by {}",
            l.sockets_text(),
            ctx.owner_label(l)
        ),
        format!(
            "{}[{}] command line: {}",
            proxy.comm,
            proxy.pid,
            crate::text::command_line(&proxy.cmdline)
        ),
    ];
    for side in cport
        .and_then(|p| ctx.container_sides.get(&p))
        .into_iter()
        .flatten()
    {
        evidence.push(format!(
            "in network namespace {} (of pid {}{}): {} in state LISTEN",
            side.netns,
            side.pid,
            side.comm
                .as_deref()
                .map(|c| format!(", {c}"))
                .unwrap_or_default(),
            side.local
        ));
    }
    evidence.push(
        "Docker's iptables rules (DNAT in the nat table, FORWARD) let published ports past ufw and firewalld INPUT rules"
            .into(),
    );
    let cport_text = cport.map_or_else(|| "CONTAINER_PORT".to_string(), |p| p.to_string());
    finding(
        "AUD-CONTAINER-PUBLISHED",
        Severity::Warning,
        format!(
            "{inside} is published {} by {}[{}]: reachable from the network, past the host firewall",
            l.where_text(),
            proxy.comm,
            proxy.pid
        ),
        evidence,
        vec![
            format!(
                "publish it on loopback: docker run -p 127.0.0.1:{port}:{cport_text} … (compose: ports: [\"127.0.0.1:{port}:{cport_text}\"])"
            ),
            "or make loopback the default for every published port: \"ip\": \"127.0.0.1\" in /etc/docker/daemon.json, then restart dockerd".into(),
            format!(
                "or filter it where Docker's rules look: sudo iptables -I DOCKER-USER -i EXT_IF -p {} -m conntrack --ctorigdstport {port} -j DROP   # EXT_IF: the outside interface",
                l.proto.as_str()
            ),
        ],
        ctx.subject(l),
    )
}

fn host_network(ctx: &Context, l: &Listener, p: &Process, id: &str) -> AuditFinding {
    let short: String = id.chars().take(12).collect();
    let runtime = p.origin.container_runtime.as_deref().unwrap_or("container");
    let mut evidence = vec![format!(
        "{} listening, held by {}",
        l.sockets_text(),
        ctx.owner_label(l)
    )];
    if let Some(cgroup) = &p.origin.cgroup {
        evidence.push(format!("/proc/{}/cgroup: {cgroup}", p.pid));
    }
    evidence.push(
        "the socket is in this machine's network namespace: the container runs with the host's network (--network host)"
            .into(),
    );
    finding(
        "AUD-CONTAINER-HOST-NETWORK",
        Severity::Warning,
        format!(
            "{}[{}] of {runtime} container {short} listens {}: the container shares the host's network",
            p.comm,
            p.pid,
            l.where_text()
        ),
        evidence,
        vec![
            format!(
                "run the container on its own network and publish only what is needed: docker run -p 127.0.0.1:{port}:{port} … (no --network host)",
                port = l.port
            ),
            "or bind the service to 127.0.0.1 inside the container".into(),
        ],
        ctx.subject(l),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::audit::ForeignSide;
    use crate::audit::tests::{codes_on, listener, process, with};

    #[test]
    fn a_published_port_and_a_host_network_container_are_found() {
        let mut proxy = process(30, "docker-proxy", 0);
        proxy.cmdline = [
            "/usr/bin/docker-proxy",
            "-proto",
            "tcp",
            "-host-ip",
            "0.0.0.0",
            "-host-port",
            "8080",
            "-container-ip",
            "172.17.0.2",
            "-container-port",
            "80",
        ]
        .map(String::from)
        .to_vec();
        let mut nginx = process(31, "nginx", 0);
        let id = "a".repeat(64);
        nginx.origin.container_id = Some(id.clone());
        nginx.origin.container_runtime = Some("docker".into());
        let mut ctx = with(vec![proxy, nginx]);
        ctx.container_sides.insert(
            80,
            vec![ForeignSide {
                netns: 4026532300,
                pid: 900,
                comm: Some("nginx".into()),
                local: "0.0.0.0:80".into(),
            }],
        );
        ctx.listeners = vec![
            listener("0.0.0.0", 8080, &[30]),
            listener("127.0.0.1", 8081, &[30]),
            listener("0.0.0.0", 9000, &[31]),
        ];
        let found = check(&ctx);
        assert_eq!(codes_on(&found, 8080), ["AUD-CONTAINER-PUBLISHED"]);
        assert_eq!(codes_on(&found, 9000), ["AUD-CONTAINER-HOST-NETWORK"]);
        assert_eq!(found.len(), 2);
        let f = &found[0].finding;
        assert!(f.title.contains("172.17.0.2:80"), "{}", f.title);
        assert!(f.fix[0].contains("-p 127.0.0.1:8080:80"), "{:?}", f.fix);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.contains("(of pid 900, nginx): 0.0.0.0:80 in state LISTEN")),
            "{:?}",
            f.evidence
        );

        // portscope in the same container: its neighbours are not another container.
        ctx.own_container = Some(id);
        assert!(codes_on(&check(&ctx), 9000).is_empty());
    }
}
