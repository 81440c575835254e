//! Real container engines for the tests, started by the tests themselves (root only): one
//! `dockerd` and one `podman system service` per test binary, each on a private socket with
//! its own data directory (vfs storage, nothing shared with an engine the machine may run),
//! and an image built offline from a busybox-static root filesystem. Each daemon runs under
//! a watchdog shell that waits for this test binary to exit, then stops it and removes its
//! directory (and dockerd's bridge), however the tests ended.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::harness::{
    Run, TempDir, find_tool, needs, needs_installed, output, require_root, spawn_env,
};

/// The image every test container runs: `/bin/busybox` and links to it (`httpd`, `sh`).
pub const IMAGE: &str = "local/bb:1";

/// A running engine: its socket, and how to call its command-line client.
pub struct Engine {
    /// `docker` or `podman`.
    pub kind: &'static str,
    /// The API socket.
    pub socket: PathBuf,
    /// The client and the global flags that point it at this engine's storage and socket.
    client: Vec<String>,
    /// Where the engine keeps everything (removed when the test binary exits).
    pub dir: PathBuf,
}

impl Engine {
    /// `unix://SOCKET`, for `DOCKER_HOST`/`CONTAINER_HOST`.
    pub fn url(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The engine's client with `args`; the output, whatever the exit code.
    pub fn client(&self, args: &[&str]) -> Run {
        output(
            Command::new(&self.client[0])
                .args(&self.client[1..])
                .args(args),
        )
    }

    /// Let group `gid` open the engine's socket (as Docker lets its `docker` group).
    pub fn open_to_gid(&self, gid: u32) {
        let gid = rustix::fs::Gid::from_raw(gid);
        rustix::fs::chown(&self.socket, None, Some(gid)).unwrap();
    }

    /// The client with `args`, which must succeed; its stdout, trimmed.
    pub fn ok(&self, args: &[&str]) -> String {
        let r = self.client(args);
        assert_eq!(r.code, 0, "{} {args:?}: {r:?}", self.kind);
        r.stdout.trim().to_string()
    }

    /// `run -d --name NAME FLAGS… IMAGE COMMAND…`, which must succeed; removed on drop.
    pub fn run_detached(&self, name: &str, flags: &[&str], command: &[&str]) -> Container<'_> {
        let r = self.client(&self.run_args(name, flags, command));
        assert_eq!(r.code, 0, "{} run: {r:?}", self.kind);
        Container {
            engine: self,
            name: name.to_string(),
        }
    }

    /// The arguments of `run -d` (with the limits podman needs on this kernel: its defaults
    /// are above what its runtime accepts here).
    fn run_args<'a>(&self, name: &'a str, flags: &[&'a str], command: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec!["run", "-d", "--name", name];
        if self.kind == "podman" {
            args.extend([
                "--ulimit",
                "nofile=1024:1024",
                "--ulimit",
                "nproc=1024:1024",
            ]);
        }
        args.extend(flags);
        args.push(IMAGE);
        args.extend(command);
        args
    }

    /// [`IMAGE`] serving HTTP on port 80 with busybox's `httpd` (so the process inside is
    /// named `httpd`), published on 127.0.0.1 at a port picked free now (tried again, up to
    /// five times, if another program takes it first), answering when this returns. `extra`
    /// are more flags (labels). `HTTPD` is the container's first process, or, with
    /// [`Init::Shell`], a child of a shell that is. Removed on drop.
    pub fn web(&self, name: &str, extra: &[&str], init: Init) -> (u16, Container<'_>) {
        let command: &[&str] = match init {
            Init::Httpd => &["/bin/httpd", "-f", "-p", "80", "-h", "/www"],
            Init::Shell => &["/bin/sh", "-c", "/bin/httpd -f -p 80 -h /www & wait"],
        };
        let what = format!("{} run -p", self.kind);
        let (port, ()) = on_a_free_port(&what, |port| {
            let publish = format!("127.0.0.1:{port}:80");
            let flags = [&["-p", publish.as_str()], extra].concat();
            let r = self.client(&self.run_args(name, &flags, command));
            if r.code == 0 {
                return Some(());
            }
            let _ = self.client(&["rm", "-f", name]);
            let busy = ["already allocated", "address already in use", "bind"];
            assert!(busy.iter().any(|b| r.stderr.contains(b)), "{what}: {r:?}");
            None
        });
        wait_http(port);
        let c = Container {
            engine: self,
            name: name.to_string(),
        };
        (port, c)
    }
}

/// A TCP port free on 127.0.0.1 now (bound, then let go: another program may take it before
/// the caller does; [`on_a_free_port`] tries again).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `start` on a port picked free now: `Some` when it took it; on `None` (another program took
/// the port first) again on another, five times at most.
pub fn on_a_free_port<T>(what: &str, mut start: impl FnMut(u16) -> Option<T>) -> (u16, T) {
    for _ in 0..5 {
        let port = free_port();
        if let Some(it) = start(port) {
            return (port, it);
        }
    }
    panic!("{what} did not start on a free port in 5 tries");
}

/// What a test container runs first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// `httpd` itself.
    Httpd,
    /// A shell that starts `httpd` and waits for it.
    Shell,
}

/// Wait (10 s at most) until an HTTP server answers on 127.0.0.1:`port` (a forwarder accepts
/// before the program behind it listens).
pub fn wait_http(port: u16) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let mut answer = Vec::new();
            if s.write_all(b"GET / HTTP/1.0\r\n\r\n").is_ok()
                && s.read_to_end(&mut answer).is_ok()
                && answer.starts_with(b"HTTP/1.")
            {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing answered HTTP on 127.0.0.1:{port} within 10 s");
}

/// A container of a test, removed (`rm -f`) on drop.
pub struct Container<'a> {
    engine: &'a Engine,
    pub name: String,
}

impl<'a> Container<'a> {
    /// The container `name` of `engine`, removed on drop.
    pub fn of(engine: &'a Engine, name: &str) -> Container<'a> {
        Container {
            engine,
            name: name.to_string(),
        }
    }

    /// `inspect -f FORMAT` of the container.
    pub fn inspect(&self, format: &str) -> String {
        self.engine.ok(&["inspect", "-f", format, &self.name])
    }
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        let _ = self.engine.client(&["rm", "-f", &self.name]);
    }
}

/// A name no other test run uses: `PREFIX-PID-NANOS`.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{prefix}-{}-{nanos:x}", std::process::id())
}

/// The test binary's dockerd, started on first use; `None` (one skip line) when not root or
/// without docker.io or busybox-static.
pub fn dockerd(test: &str) -> Option<&'static Engine> {
    static DOCKERD: OnceLock<Option<Engine>> = OnceLock::new();
    if !require_root(test, "starts dockerd") {
        return None;
    }
    let tools = (
        needs(test, "dockerd", "docker.io")?,
        needs(test, "docker", "docker.io")?,
        needs(test, "ip", "iproute2")?,
        static_busybox(test)?,
    );
    DOCKERD.get_or_init(|| Some(start_dockerd(tools))).as_ref()
}

/// A dockerd that publishes through NAT: iptables on, userland proxy off, in a network
/// namespace of its own (`netns`), so that its rules, bridge and addresses never touch the
/// host's and go with the namespace. Run portscope there with `ip netns exec NETNS`.
pub struct NatEngine {
    /// The engine.
    pub engine: Engine,
    /// The `ip netns` name of its network namespace.
    pub netns: String,
}

/// The test binary's NAT dockerd, started on first use; `None` (one skip line) when not root
/// or without docker.io, iptables, nsenter or busybox-static.
pub fn dockerd_nat(test: &str) -> Option<&'static NatEngine> {
    static NAT: OnceLock<Option<NatEngine>> = OnceLock::new();
    if !require_root(test, "starts dockerd in a network namespace") {
        return None;
    }
    let tools = (
        needs(test, "dockerd", "docker.io")?,
        needs(test, "docker", "docker.io")?,
        needs(test, "ip", "iproute2")?,
        needs(test, "nsenter", "util-linux")?,
        needs(test, "iptables-save", "iptables")?,
        static_busybox(test)?,
    );
    NAT.get_or_init(|| Some(start_dockerd_nat(tools))).as_ref()
}

/// Start [`NatEngine`]: a namespace `psnat-PID` with `lo` up, dockerd entered into it with
/// `nsenter --net` (not `ip netns exec`, whose fresh /sys hides the cgroups dockerd needs).
fn start_dockerd_nat(
    (dockerd, docker, ip, nsenter, _, busybox): (
        PathBuf,
        PathBuf,
        PathBuf,
        PathBuf,
        PathBuf,
        PathBuf,
    ),
) -> NatEngine {
    let dir = engine_dir("dockerd-nat");
    let netns = format!("psnat-{}", std::process::id());
    for args in [
        vec!["netns", "add", netns.as_str()],
        vec!["-n", netns.as_str(), "link", "set", "lo", "up"],
    ] {
        assert!(
            Command::new(&ip).args(&args).status().unwrap().success(),
            "ip {args:?}"
        );
    }
    let prefix = [
        nsenter.display().to_string(),
        format!("--net=/run/netns/{netns}"),
    ];
    let flags = [
        "--iptables=true",
        "--userland-proxy=false",
        "--ip-forward=false",
    ];
    let cleanup = format!("{} netns del {netns}; {}", ip.display(), remove(&dir));
    let engine = run_dockerd(
        (&dockerd, &docker, &busybox),
        &prefix,
        &flags.map(String::from),
        dir,
        ("docker.log", &cleanup),
    );
    NatEngine { engine, netns }
}

/// The test binary's Podman API service, started on first use; `None` (one skip line) when
/// not root or without podman or busybox-static.
pub fn podman(test: &str) -> Option<&'static Engine> {
    static PODMAN: OnceLock<Option<Engine>> = OnceLock::new();
    if !require_root(test, "runs rootful podman") {
        return None;
    }
    let tools = (needs(test, "podman", "podman")?, static_busybox(test)?);
    PODMAN.get_or_init(|| Some(start_podman(tools))).as_ref()
}

/// `/bin/busybox`, when it is the static one (a dynamic one cannot run in an image without
/// libc).
fn static_busybox(test: &str) -> Option<PathBuf> {
    let bin = find_tool("busybox");
    // A dynamic executable names its loader (`/lib64/ld-linux-x86-64.so.2`).
    let is_static = bin.as_ref().is_some_and(|b| {
        std::fs::read(b).is_ok_and(|bytes| !bytes.windows(8).any(|w| w == b"/ld-linu"))
    });
    needs_installed(
        test,
        is_static,
        "a static busybox (Debian package busybox-static)",
    )
    .then_some(bin)
    .flatten()
}

/// A fresh directory for an engine, kept after this function (the watchdog removes it).
fn engine_dir(name: &str) -> PathBuf {
    let dir = TempDir::new(name);
    let path = dir.path().to_path_buf();
    std::mem::forget(dir);
    path
}

/// Start dockerd on a private socket, data root and bridge (vfs storage; no iptables rules,
/// no IP forwarding: the host's firewall and sysctls stay as they are, and docker-proxy
/// forwards published ports by itself), wait for its API, import the image.
fn start_dockerd((dockerd, docker, ip, busybox): (PathBuf, PathBuf, PathBuf, PathBuf)) -> Engine {
    let dir = engine_dir("dockerd");
    // A bridge of its own (at most 15 bytes), on a /24 no address of this machine is in.
    let bridge = format!("psdk{}", std::process::id() % 100_000_000);
    let net = crate::doctor_docker::free_net(&ip, "10.201");
    let ip_ok = |args: &[&str]| {
        assert!(
            Command::new(&ip).args(args).status().unwrap().success(),
            "ip {args:?}"
        );
    };
    ip_ok(&["link", "add", &bridge, "type", "bridge"]);
    ip_ok(&["addr", "add", &format!("{net}.1/24"), "dev", &bridge]);
    ip_ok(&["link", "set", &bridge, "up"]);
    let flags = [
        format!("--bridge={bridge}"),
        "--iptables=false".into(),
        "--ip-forward=false".into(),
        "--ip-masq=false".into(),
    ];
    let cleanup = format!("{} link del {bridge}; {}", ip.display(), remove(&dir));
    run_dockerd(
        (&dockerd, &docker, &busybox),
        &[],
        &flags,
        dir,
        ("dockerd.log", &cleanup),
    )
}

/// Run dockerd (after `prefix`, e.g. `nsenter --net=…`) on a private socket, config, data and
/// exec root in `dir`, with vfs storage and `flags`, under the watchdog (`log`: its log file
/// in `dir`, and the cleanup the watchdog runs after it exits); wait for its API and import
/// the image.
fn run_dockerd(
    (dockerd, docker, busybox): (&Path, &Path, &Path),
    prefix: &[String],
    flags: &[String],
    dir: PathBuf,
    log: (&str, &str),
) -> Engine {
    let socket = dir.join("docker.sock");
    std::fs::write(dir.join("daemon.json"), "{}").unwrap();
    let d = |p: &str| dir.join(p).display().to_string();
    let mut argv: Vec<String> = prefix.to_vec();
    argv.extend([
        dockerd.display().to_string(),
        format!("--host=unix://{}", socket.display()),
        format!("--config-file={}", d("daemon.json")),
        format!("--data-root={}", d("data")),
        format!("--exec-root={}", d("exec")),
        format!("--pidfile={}", d("dockerd.pid")),
        "--storage-driver=vfs".into(),
    ]);
    argv.extend(flags.iter().cloned());
    daemon_until_exit(&argv, &dir.join(log.0), log.1);
    let engine = Engine {
        kind: "docker",
        client: vec![
            docker.display().to_string(),
            format!("--host=unix://{}", socket.display()),
        ],
        socket,
        dir,
    };
    wait_for_api(&engine);
    import_image(&engine, busybox);
    engine
}

/// Start Podman's API service on a private socket, with its own storage (vfs), run root and
/// temporary directory, wait for its API, import the image.
fn start_podman((podman, busybox): (PathBuf, PathBuf)) -> Engine {
    let dir = engine_dir("podman");
    let socket = dir.join("podman.sock");
    let d = |p: &str| dir.join(p).display().to_string();
    let client = vec![
        podman.display().to_string(),
        format!("--root={}", d("root")),
        format!("--runroot={}", d("run")),
        format!("--tmpdir={}", d("tmp")),
        "--storage-driver=vfs".into(),
        "--cgroup-manager=cgroupfs".into(),
        "--events-backend=file".into(),
    ];
    let mut argv = client.clone();
    argv.extend([
        "system".into(),
        "service".into(),
        "--time=0".into(),
        format!("unix://{}", socket.display()),
    ]);
    let cleanup = format!("{}; {}", remove(&dir), cni_cleanup());
    daemon_until_exit(&argv, &dir.join("podman.log"), &cleanup);
    let engine = Engine {
        kind: "podman",
        client,
        socket,
        dir,
    };
    wait_for_api(&engine);
    import_image(&engine, &busybox);
    engine
}

/// Shell that removes what rootful podman's CNI plugins leave once its containers are gone —
/// the `cni-podman0` bridge and the standing `CNI-*` iptables chains and their jumps — when
/// none of it was there before the tests (so a machine's own podman keeps its own).
fn cni_cleanup() -> String {
    let Some(iptables) = find_tool("iptables") else {
        return String::new();
    };
    let ipt = iptables.display();
    let had_chains = Command::new(&iptables)
        .args(["-S", "CNI-FORWARD"])
        .output()
        .is_ok_and(|o| o.status.success());
    let had_bridge = Path::new("/sys/class/net/cni-podman0").exists();
    if had_chains || had_bridge {
        return String::new();
    }
    let dnat = "-m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT";
    format!(
        "{ipt} -D FORWARD -m comment --comment 'CNI firewall plugin rules' -j CNI-FORWARD; \
         {ipt} -F CNI-FORWARD; {ipt} -F CNI-ADMIN; {ipt} -X CNI-FORWARD; {ipt} -X CNI-ADMIN; \
         {ipt} -t nat -D PREROUTING {dnat}; {ipt} -t nat -D OUTPUT {dnat}; \
         {ipt} -t nat -D POSTROUTING -m comment --comment 'CNI portfwd requiring masquerade' \
           -j CNI-HOSTPORT-MASQ; \
         for c in CNI-HOSTPORT-DNAT CNI-HOSTPORT-MASQ CNI-HOSTPORT-SETMARK; do \
           {ipt} -t nat -F $c; {ipt} -t nat -X $c; done; \
         ip link del cni-podman0"
    )
}

/// Shell that removes `dir` once its engine stopped: first what is still mounted below it
/// (dockerd leaves the host's network namespace bound under its exec root), deepest first.
fn remove(dir: &Path) -> String {
    let dir = dir.display();
    format!(
        "awk -v d='{dir}/' 'index($2, d) == 1 {{ print $2 }}' /proc/self/mounts | sort -r | \
         while read -r m; do umount -l \"$m\"; done; rm -rf '{dir}'"
    )
}

/// Run `argv` detached (its own process group) under a shell that waits for this test binary
/// to exit, then stops it (SIGTERM; SIGKILL after 20 s) and runs `cleanup`. Its output goes
/// to `log`.
fn daemon_until_exit(argv: &[String], log: &Path, cleanup: &str) {
    let script = r#"
        "$@" >"$LOG" 2>&1 </dev/null &
        d=$!
        echo "$d"
        exec >/dev/null 2>&1
        while kill -0 "$WATCH"; do sleep 1; done
        kill "$d"
        i=0
        while kill -0 "$d" && [ "$i" -lt 40 ]; do sleep 0.5; i=$((i + 1)); done
        kill -9 "$d"
        eval "$CLEANUP"
    "#;
    let args: Vec<&str> = ["-c", script, "engine-watchdog"]
        .into_iter()
        .chain(argv.iter().map(String::as_str))
        .collect();
    let (log, watch) = (log.display().to_string(), std::process::id().to_string());
    let env = [
        ("LOG", log.as_str()),
        ("WATCH", &watch),
        ("CLEANUP", cleanup),
    ];
    // Its first line is the daemon's pid. Not killed nor waited for: it outlives this binary.
    std::mem::forget(spawn_env("sh", &args, &env));
}

/// Wait (30 s at most) until the engine answers `GET /_ping` on its socket.
fn wait_for_api(e: &Engine) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if ping(&e.socket) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = std::fs::read_to_string(e.dir.join(format!("{}.log", e.kind))).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(15).collect();
    panic!(
        "{} did not answer on {} within 30 s; its log ends:\n{}",
        e.kind,
        e.socket.display(),
        tail.join("\n")
    );
}

/// One `GET /_ping` over the socket: true for an `OK`.
fn ping(socket: &Path) -> bool {
    let Ok(mut s) = std::os::unix::net::UnixStream::connect(socket) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let mut answer = String::new();
    s.write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
        .is_ok()
        && s.read_to_string(&mut answer).is_ok()
        && answer.starts_with("HTTP/1.")
        && answer.ends_with("OK")
}

/// Build [`IMAGE`] offline: a root filesystem of `/bin/busybox` with `httpd` and `sh` linked
/// to it and a page in `/www`, as a tar `import`ed by the engine.
fn import_image(e: &Engine, busybox: &Path) {
    let rootfs = e.dir.join("rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).unwrap();
    std::fs::create_dir_all(rootfs.join("www")).unwrap();
    std::fs::copy(busybox, rootfs.join("bin/busybox")).unwrap();
    for link in ["httpd", "sh"] {
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(link)).unwrap();
    }
    std::fs::write(rootfs.join("www/index.html"), "portscope\n").unwrap();
    let import = "dir=$1; shift; tar -C \"$dir\" -c . | \"$@\"";
    let mut args = vec![rootfs.display().to_string()];
    args.extend(e.client.iter().cloned());
    args.extend(["import".into(), "-".into(), IMAGE.into()]);
    let r = output(
        Command::new("sh")
            .args(["-c", import, "import-image"])
            .args(&args),
    );
    assert_eq!(r.code, 0, "{} import: {r:?}", e.kind);
}
