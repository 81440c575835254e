//! docker-proxy's command line: the published port it forwards to a container.

use serde::Serialize;

/// The mapping a docker-proxy serves (`-proto tcp -host-ip 0.0.0.0 -host-port 8080
/// -container-ip 172.17.0.2 -container-port 80`, flags in any order).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DockerMapping {
    /// `tcp`, `udp` or `sctp`.
    pub proto: Option<String>,
    /// The host address it listens on.
    pub host_ip: Option<String>,
    /// The published port.
    pub host_port: Option<u16>,
    /// The container's address.
    pub container_ip: Option<String>,
    /// The port inside the container.
    pub container_port: Option<u16>,
}

/// Read the mapping from docker-proxy's arguments (`-flag value`, `--flag value`,
/// `-flag=value`); `None` when no mapping flag is there.
pub fn parse_docker_proxy(args: &[String]) -> Option<DockerMapping> {
    let mut m = DockerMapping::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let Some(flag) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
            continue;
        };
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag, None),
        };
        let known = [
            "proto",
            "host-ip",
            "host-port",
            "container-ip",
            "container-port",
        ];
        if !known.contains(&name) {
            continue;
        }
        let Some(value) = inline.or_else(|| it.next().cloned()) else {
            break;
        };
        match name {
            "proto" => m.proto = Some(value),
            "host-ip" => m.host_ip = Some(value),
            "host-port" => m.host_port = value.parse().ok(),
            "container-ip" => m.container_ip = Some(value),
            _ => m.container_port = value.parse().ok(),
        }
    }
    (m != DockerMapping::default()).then_some(m)
}
