//! How container engines show up on a host: the programs that hold a published port for a
//! container (Docker's `docker-proxy`, Podman's `conmon` and `rootlessport`, the rootless
//! network helpers `slirp4netns` and `pasta`), and the labels Docker Compose puts on the
//! containers it starts. Facts about the engines, not read from this machine.

/// Programs (their `comm`) that hold host ports on behalf of containers: Docker's userland
/// proxy, Podman's monitor (which keeps a rootful container's published ports bound), and the
/// port forwarders of rootless engines. `pasta.avx2` is the name pasta runs under on CPUs with
/// AVX2.
pub const PORT_FORWARDERS: &[&str] = &[
    "docker-proxy",
    "rootlessport",
    "conmon",
    "slirp4netns",
    "pasta",
    "pasta.avx2",
];

/// Whether a process named `comm` holds ports for containers (see [`PORT_FORWARDERS`]).
pub fn is_port_forwarder(comm: &str) -> bool {
    PORT_FORWARDERS.contains(&comm)
}

/// The label Docker Compose (and podman-compose) puts on a container: its project.
pub const COMPOSE_PROJECT: &str = "com.docker.compose.project";

/// The label Docker Compose puts on a container: its service in the project.
pub const COMPOSE_SERVICE: &str = "com.docker.compose.service";
