//! Container engines, asked over their unix sockets: Docker's Engine API and Podman's
//! Docker-compatible API (the same two calls answer on both). Which sockets to ask
//! ([`sockets`]: `DOCKER_HOST`, `CONTAINER_HOST`, the default and rootless paths), the running
//! containers with their published ports ([`list`]) and a container's init pid ([`init_pid`]),
//! each call bounded in time and size; and the one call that changes something, [`stop`]
//! (for `kill`, after the person agreed), bounded by its grace period and a margin. What an engine says is data only: nothing it answers is
//! run or trusted beyond what it names.

#[cfg(feature = "engines")]
pub mod http;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// How long one call to an engine may take, connect to last byte. A local engine answers its
/// list in a few milliseconds; one that takes longer is busy or stuck, and portscope does not
/// wait for it.
pub const CALL_TIMEOUT: Duration = Duration::from_millis(300);

/// The most a container list may weigh (about 1 KiB a container).
const LIST_LIMIT: usize = 8 << 20;

/// The most one container's inspection may weigh.
const INSPECT_LIMIT: usize = 2 << 20;

/// Why an engine gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EngineError {
    /// No socket at the path.
    NoSocket,
    /// The socket may not be opened by this user.
    PermissionDenied,
    /// Nothing accepts on the socket (the engine is not running).
    Refused,
    /// No whole answer within [`CALL_TIMEOUT`].
    Timeout,
    /// The answer was longer than this many bytes.
    TooLarge(usize),
    /// `DOCKER_HOST`/`CONTAINER_HOST` names something other than a unix socket.
    NotUnix(String),
    /// The engine answered with this HTTP status.
    Status(u16),
    /// The answer was not what the API says.
    Malformed(String),
    /// Another I/O error.
    Io(String),
    /// portscope was built without the `engines` feature.
    Unsupported,
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineError::NoSocket => f.write_str("no such socket"),
            EngineError::PermissionDenied => f.write_str("permission denied"),
            EngineError::Refused => f.write_str("connection refused (the engine is not running)"),
            EngineError::Timeout => write!(f, "no answer within {} ms", CALL_TIMEOUT.as_millis()),
            EngineError::TooLarge(n) => write!(f, "answer longer than {n} bytes"),
            EngineError::NotUnix(url) => write!(
                f,
                "{url} is not a unix socket (portscope asks only local engines, over unix://)"
            ),
            EngineError::Status(code) => write!(f, "HTTP status {code}"),
            EngineError::Malformed(what) => write!(f, "unexpected answer: {what}"),
            EngineError::Io(what) => f.write_str(what),
            EngineError::Unsupported => {
                f.write_str("this portscope was built without the `engines` feature")
            }
        }
    }
}

/// Which engine a socket is expected to lead to (the answer's `Server` header decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Docker (dockerd), rootful or rootless.
    Docker,
    /// Podman's API service (`podman system service`), rootful or rootless.
    Podman,
}

impl Kind {
    /// `docker` or `podman`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Docker => "docker",
            Kind::Podman => "podman",
        }
    }
}

/// A socket to ask, and why it is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineSocket {
    /// The engine expected there.
    pub kind: Kind,
    /// Where the socket is; a `DOCKER_HOST` that is not `unix://` keeps its URL here.
    pub path: PathBuf,
    /// Where the path came from: `DOCKER_HOST`, `CONTAINER_HOST`, `default`, `rootless`.
    pub from: &'static str,
    /// Set when the socket cannot be asked at all (a `tcp://` `DOCKER_HOST`).
    pub unusable: Option<EngineError>,
}

/// The sockets to ask, in order: for Docker `DOCKER_HOST` if set, else `/var/run/docker.sock`
/// and `$XDG_RUNTIME_DIR/docker.sock`; for Podman `CONTAINER_HOST` if set, else
/// `/run/podman/podman.sock` and `$XDG_RUNTIME_DIR/podman/podman.sock`; and the rootless
/// sockets of `uids` (the users whose forwarders hold a port: `/run/user/UID/…`). The default
/// rootful paths are always listed (a missing one says why an answer is missing); rootless
/// ones only when they exist. One path is listed once.
pub fn sockets(uids: &[u32]) -> Vec<EngineSocket> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let runtime = env("XDG_RUNTIME_DIR").map(PathBuf::from);
    let mut rootless: Vec<PathBuf> = runtime.into_iter().collect();
    rootless.extend(
        uids.iter()
            .filter(|&&u| u != 0)
            .map(|u| PathBuf::from(format!("/run/user/{u}"))),
    );
    let mut out = Vec::new();
    let engines = [
        (
            Kind::Docker,
            "DOCKER_HOST",
            "/var/run/docker.sock",
            "docker.sock",
        ),
        (
            Kind::Podman,
            "CONTAINER_HOST",
            "/run/podman/podman.sock",
            "podman/podman.sock",
        ),
    ];
    for (kind, var, default, under_runtime) in engines {
        if let Some(url) = env(var) {
            out.push(from_url(kind, var, &url));
            continue;
        }
        out.push(EngineSocket {
            kind,
            path: PathBuf::from(default),
            from: "default",
            unusable: None,
        });
        for dir in &rootless {
            let path = dir.join(under_runtime);
            if path.exists() {
                out.push(EngineSocket {
                    kind,
                    path,
                    from: "rootless",
                    unusable: None,
                });
            }
        }
    }
    let mut seen = Vec::new();
    out.retain(|s| {
        let key = std::fs::canonicalize(&s.path).unwrap_or_else(|_| s.path.clone());
        let fresh = !seen.contains(&key);
        seen.push(key);
        fresh
    });
    out
}

/// The socket a `DOCKER_HOST`-style URL names (`unix:///path`, or a bare absolute path).
fn from_url(kind: Kind, var: &'static str, url: &str) -> EngineSocket {
    let path = url
        .strip_prefix("unix://")
        .or_else(|| url.starts_with('/').then_some(url));
    EngineSocket {
        kind,
        path: PathBuf::from(path.unwrap_or(url)),
        from: var,
        unusable: match path {
            Some(p) if !p.is_empty() => None,
            _ => Some(EngineError::NotUnix(format!("{var}={url}"))),
        },
    }
}

/// One published port of a container (`-p HOST_IP:HOST_PORT:PORT/PROTO`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Port {
    /// The host address (`0.0.0.0`, `::`, `127.0.0.1`; empty or absent: every address).
    #[serde(rename = "IP", default)]
    pub ip: Option<String>,
    /// The port inside the container.
    #[serde(rename = "PrivatePort", default)]
    pub private_port: u16,
    /// The port on the host; absent for an exposed port that is not published.
    #[serde(rename = "PublicPort", default)]
    pub public_port: Option<u16>,
    /// `tcp`, `udp` or `sctp`.
    #[serde(rename = "Type", default)]
    pub proto: String,
}

/// A running container as the list call names it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Container {
    /// The full id (64 hex digits).
    #[serde(rename = "Id")]
    pub id: String,
    /// Its names, each with a leading `/` (`/web1`).
    #[serde(rename = "Names", default)]
    pub names: Vec<String>,
    /// The image as it was asked for (`local/bb:1`, `nginx:latest`).
    #[serde(rename = "Image", default)]
    pub image: String,
    /// Labels (`com.docker.compose.project` …); null counts as none.
    #[serde(rename = "Labels", default, deserialize_with = "null_as_empty")]
    pub labels: BTreeMap<String, String>,
    /// `running`, `paused`, `restarting` …
    #[serde(rename = "State", default)]
    pub state: String,
    /// Its exposed and published ports; null counts as none.
    #[serde(rename = "Ports", default, deserialize_with = "null_as_empty")]
    pub ports: Vec<Port>,
}

impl Container {
    /// Its first name without the leading `/` (the id's first 12 digits when it has none).
    pub fn name(&self) -> String {
        self.names
            .first()
            .map(|n| n.trim_start_matches('/').to_string())
            .unwrap_or_else(|| self.id.get(..12).unwrap_or(&self.id).to_string())
    }
}

/// Deserialize a JSON `null` as the type's empty value.
fn null_as_empty<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// What an engine answered to the list call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The engine that answered (from its `Server` header; the socket's expectation when it
    /// sent none).
    pub kind: Kind,
    /// The running containers.
    pub containers: Vec<Container>,
}

/// The running containers of the engine at `socket` (`GET /containers/json`).
pub fn list(socket: &EngineSocket) -> Result<Listing, EngineError> {
    if let Some(e) = &socket.unusable {
        return Err(e.clone());
    }
    let (server, body) = call(&socket.path, "/containers/json", LIST_LIMIT)?;
    let kind = match server.as_deref() {
        Some(s) if s.starts_with("Libpod") => Kind::Podman,
        Some(s) if s.starts_with("Docker") => Kind::Docker,
        _ => socket.kind,
    };
    Ok(Listing {
        kind,
        containers: parse_list(&body)?,
    })
}

/// The pid (in portscope's pid namespace) of a container's first process
/// (`GET /containers/ID/json`, `State.Pid`); `None` when the engine gives none (0).
pub fn init_pid(socket: &Path, id: &str) -> Result<Option<u32>, EngineError> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(EngineError::Malformed(format!("container id {id:?}")));
    }
    let (_, body) = call(socket, &format!("/containers/{id}/json"), INSPECT_LIMIT)?;
    parse_init_pid(&body)
}

/// How much longer than its grace period a stop may take: after the grace the engine sends
/// SIGKILL, waits for the exit and tears the container's network down before it answers.
pub const STOP_MARGIN: Duration = Duration::from_secs(10);

/// The most a stop call's answer may weigh (none, or an error message).
const STOP_LIMIT: usize = 64 << 10;

/// What an engine answered to a stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopAnswer {
    /// 204: it was running and is stopped now.
    Stopped,
    /// 304: it was not running.
    AlreadyStopped,
    /// Another status, with the engine's message (`No such container: …`).
    Refused {
        /// The HTTP status.
        status: u16,
        /// The engine's `message`, or the body as text.
        message: String,
    },
}

/// Stop a container (`POST /containers/ID/stop?t=GRACE`, which Docker and Podman's compatible
/// API both accept): the engine sends the container's stop signal, then SIGKILL after
/// `grace_s` seconds, and answers once it is down. The call may take `grace_s` +
/// [`STOP_MARGIN`].
pub fn stop(socket: &Path, id: &str, grace_s: u64) -> Result<StopAnswer, EngineError> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(EngineError::Malformed(format!("container id {id:?}")));
    }
    let timeout = Duration::from_secs(grace_s).saturating_add(STOP_MARGIN);
    let (status, body) = post(
        socket,
        &format!("/containers/{id}/stop?t={grace_s}"),
        STOP_LIMIT,
        timeout,
    )?;
    Ok(stop_answer(status, &body))
}

/// What a stop's status and body mean.
pub fn stop_answer(status: u16, body: &[u8]) -> StopAnswer {
    #[derive(Deserialize)]
    struct Message {
        message: String,
    }
    match status {
        204 => StopAnswer::Stopped,
        304 => StopAnswer::AlreadyStopped,
        _ => StopAnswer::Refused {
            status,
            message: serde_json::from_slice::<Message>(body)
                .map(|m| m.message)
                .unwrap_or_else(|_| String::from_utf8_lossy(body).trim().to_string()),
        },
    }
}

/// A bodiless `POST`: the status and the body, whatever the status.
#[cfg(feature = "engines")]
fn post(
    socket: &Path,
    target: &str,
    limit: usize,
    timeout: Duration,
) -> Result<(u16, Vec<u8>), EngineError> {
    let r = http::post(socket, target, limit, timeout)?;
    Ok((r.status, r.body))
}

/// Without the `engines` feature no engine is asked.
#[cfg(not(feature = "engines"))]
fn post(
    _socket: &Path,
    _target: &str,
    _limit: usize,
    _timeout: Duration,
) -> Result<(u16, Vec<u8>), EngineError> {
    Err(EngineError::Unsupported)
}

/// A call whose status must be 200: the `Server` header and the body.
#[cfg(feature = "engines")]
fn call(
    socket: &Path,
    target: &str,
    limit: usize,
) -> Result<(Option<String>, Vec<u8>), EngineError> {
    let r = http::get(socket, target, limit, CALL_TIMEOUT)?;
    if r.status != 200 {
        return Err(EngineError::Status(r.status));
    }
    Ok((r.server, r.body))
}

/// Without the `engines` feature no engine is asked.
#[cfg(not(feature = "engines"))]
fn call(
    _socket: &Path,
    _target: &str,
    _limit: usize,
) -> Result<(Option<String>, Vec<u8>), EngineError> {
    Err(EngineError::Unsupported)
}

/// Parse the list call's body.
pub fn parse_list(body: &[u8]) -> Result<Vec<Container>, EngineError> {
    serde_json::from_slice(body).map_err(|e| EngineError::Malformed(format!("container list: {e}")))
}

/// Parse the inspect call's body for `State.Pid`.
pub fn parse_init_pid(body: &[u8]) -> Result<Option<u32>, EngineError> {
    #[derive(Deserialize)]
    struct Inspect {
        #[serde(rename = "State")]
        state: State,
    }
    #[derive(Deserialize)]
    struct State {
        #[serde(rename = "Pid", default)]
        pid: u32,
    }
    let i: Inspect = serde_json::from_slice(body)
        .map_err(|e| EngineError::Malformed(format!("container inspection: {e}")))?;
    Ok(Some(i.state.pid).filter(|&p| p != 0))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// `GET /containers/json` from Docker 20.10.24 (one container, compose labels).
    const DOCKER_LIST: &str = r#"[{"Id":"f13ea9134cc661f2a8d51c9d39897165a2f0e182599d9ad0113b087233b4762d","Names":["/web1"],"Image":"local/bb:1","ImageID":"sha256:9fd5","Command":"/bin/busybox httpd -f -p 80 -h /www","Created":1796452777,"Ports":[{"IP":"127.0.0.1","PrivatePort":80,"PublicPort":23080,"Type":"tcp"}],"Labels":{"com.docker.compose.project":"shop","com.docker.compose.service":"web"},"State":"running","Status":"Up 2 seconds","HostConfig":{"NetworkMode":"default"},"NetworkSettings":{"Networks":{}},"Mounts":[]}]"#;

    /// The same call answered by Podman 4.3.1 (fields Docker does not send; `Labels` null).
    const PODMAN_LIST: &str = r#"[{"Id":"8f9fa229eeca9b8b64f2988f40a75517a4a6f658926d28f25b8688de14644085","Names":["/pweb"],"Image":"localhost/local/bb:1","Ports":[{"IP":"127.0.0.1","PrivatePort":80,"PublicPort":23081,"Type":"tcp"},{"PrivatePort":443,"Type":"tcp"}],"Labels":null,"State":"running","Status":"Up 3 seconds","Name":"","Config":null,"AdjustCPUShares":false}]"#;

    #[test]
    fn docker_and_podman_lists() {
        let d = parse_list(DOCKER_LIST.as_bytes()).unwrap();
        assert_eq!(d[0].name(), "web1");
        assert_eq!(d[0].image, "local/bb:1");
        assert_eq!(d[0].labels["com.docker.compose.service"], "web");
        assert_eq!(d[0].ports[0].public_port, Some(23080));
        assert_eq!(d[0].ports[0].ip.as_deref(), Some("127.0.0.1"));
        let p = parse_list(PODMAN_LIST.as_bytes()).unwrap();
        assert_eq!(p[0].name(), "pweb");
        assert!(p[0].labels.is_empty());
        assert_eq!(p[0].ports[1].public_port, None);
        assert_eq!(p[0].ports[1].ip, None);
        assert!(parse_list(b"{\"message\":\"page not found\"}").is_err());
        assert_eq!(parse_list(b"[]").unwrap(), vec![]);
    }

    #[test]
    fn init_pids() {
        let body =
            br#"{"Id":"f1","State":{"Status":"running","Running":true,"Pid":2177,"ExitCode":0}}"#;
        assert_eq!(parse_init_pid(body).unwrap(), Some(2177));
        let exited = br#"{"State":{"Status":"exited","Pid":0}}"#;
        assert_eq!(parse_init_pid(exited).unwrap(), None);
        assert!(parse_init_pid(b"[]").is_err());
    }

    #[test]
    fn stop_answers() {
        assert_eq!(stop_answer(204, b""), StopAnswer::Stopped);
        assert_eq!(stop_answer(304, b""), StopAnswer::AlreadyStopped);
        // Docker 20.10 and Podman 4.3 for an id that names nothing.
        let body = br#"{"message":"No such container: 0123abcd"}"#;
        assert_eq!(
            stop_answer(404, body),
            StopAnswer::Refused {
                status: 404,
                message: "No such container: 0123abcd".into()
            }
        );
        assert_eq!(
            stop_answer(500, b"oops\n"),
            StopAnswer::Refused {
                status: 500,
                message: "oops".into()
            }
        );
        assert!(stop(Path::new("/nonexistent.sock"), "../x", 1).is_err());
    }

    #[test]
    fn urls_that_are_not_unix_sockets_are_named() {
        let s = from_url(Kind::Docker, "DOCKER_HOST", "unix:///tmp/d.sock");
        assert_eq!((s.path, s.unusable), (PathBuf::from("/tmp/d.sock"), None));
        let s = from_url(Kind::Docker, "DOCKER_HOST", "/run/d.sock");
        assert_eq!(s.unusable, None);
        let s = from_url(Kind::Docker, "DOCKER_HOST", "tcp://10.0.0.1:2375");
        assert_eq!(
            s.unusable,
            Some(EngineError::NotUnix(
                "DOCKER_HOST=tcp://10.0.0.1:2375".into()
            ))
        );
        let s = from_url(Kind::Podman, "CONTAINER_HOST", "unix://");
        assert!(s.unusable.is_some());
    }
}
