//! Starting a server and knowing it is up: a free port, the server's own log, waiting for a
//! line or for a listener that belongs to its process group, and the helpers they share.

use super::*;

/// Start `cmd` in its own process group, stdin closed, stdout and stderr appended to
/// `DIR/<log>.log` (a file, not a pipe: a chatty server never blocks on a full pipe).
pub(super) fn start(name: &str, dir: &TempDir, log: &str, cmd: &mut Command) -> Spawned {
    let file = fs::File::create(dir.path().join(format!("{log}.log"))).unwrap();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("start {name} ({cmd:?}): {e}"));
    Spawned {
        pid: child.id(),
        child,
        words: Vec::new(),
    }
}

/// Every `*.log` in `dir`, concatenated.
pub(super) fn read_logs(dir: &Path) -> String {
    let mut names: Vec<PathBuf> = fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    names.retain(|p| p.extension().is_some_and(|e| e == "log"));
    names.sort();
    let mut all = String::new();
    for p in names {
        let text = fs::read_to_string(&p).unwrap_or_default();
        if !text.is_empty() {
            all.push_str(&format!("--- {}\n{text}", p.display()));
        }
    }
    all
}

/// Wait until a line of the server's output gives `find` a value. Fails with the output when
/// the server exits first or `timeout` passes.
pub(super) fn wait_for_line<T>(
    name: &str,
    proc: &mut Spawned,
    dir: &TempDir,
    timeout: Duration,
    find: impl Fn(&str) -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        let text = read_logs(dir.path());
        if let Some(v) = text.lines().find_map(&find) {
            return v;
        }
        if let Ok(Some(status)) = proc.child.try_wait() {
            panic!("{name} exited ({status}) before it was ready; its output:\n{text}");
        }
        assert!(
            Instant::now() < deadline,
            "{name} not ready after {timeout:?}; its output:\n{text}"
        );
        std::thread::sleep(POLL);
    }
}

/// Start a server that needs a port number on a free port (see the module doc for why this
/// is acceptable): `make(port)` builds the command (and may write a config). Ready = our
/// process group has a socket in LISTEN state on the port (the kernel completes connections
/// from then on) and — when given — the server printed `ready_line`. Read from `/proc` rather
/// than by connecting: for some servers a connection is an event (the JDWP agent closes its
/// listener for the session, then listens anew; sshd forks; postgres may log). A server that exits saying its port is in use lost a race:
/// tried again on a new port, [`PORT_ATTEMPTS`] times in all.
pub(super) fn on_free_port(
    name: &str,
    dir: &TempDir,
    ready_line: Option<&str>,
    mut make: impl FnMut(u16) -> Command,
) -> (Spawned, u16) {
    let timeout = if ready_line.is_some() {
        SLOW_READY_TIMEOUT
    } else {
        READY_TIMEOUT
    };
    let mut lost = Vec::new();
    for attempt in 0..PORT_ATTEMPTS {
        let port = free_port();
        let mut proc = start(
            name,
            dir,
            &format!("{attempt}-port-{port}"),
            &mut make(port),
        );
        match wait_listening(name, &mut proc, dir, port, ready_line, timeout) {
            Ok(()) => return (proc, port),
            Err(why) => lost.push(format!("port {port}: {why}")),
        }
    }
    panic!(
        "{name}: lost the race for a free port {PORT_ATTEMPTS} times:\n{}",
        lost.join("\n")
    );
}

/// A port nobody listens on right now.
pub(super) fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// `Ok` when ready; `Err` when the server lost the port to someone else; panics on any other
/// failure, with the server's output.
pub(super) fn wait_listening(
    name: &str,
    proc: &mut Spawned,
    dir: &TempDir,
    port: u16,
    ready_line: Option<&str>,
    timeout: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = proc.child.try_wait() {
            let text = read_logs(dir.path());
            let last = text.lines().last().unwrap_or("").to_string();
            if text.contains("in use") {
                return Err(last);
            }
            panic!("{name} exited ({status}) before it was ready; its output:\n{text}");
        }
        let listening = group_listens(proc.pid, port);
        let printed = ready_line.is_none_or(|l| read_logs(dir.path()).contains(l));
        if listening && printed {
            return Ok(());
        }
        assert!(
            Instant::now() < deadline,
            "{name} not listening on 127.0.0.1:{port} after {timeout:?} \
             (listening: {listening}, printed {ready_line:?}: {printed}); its output:\n{}",
            read_logs(dir.path())
        );
        std::thread::sleep(POLL);
    }
}

/// Whether a process of process group `pgid` holds a TCP socket listening on `port`.
pub(super) fn group_listens(pgid: u32, port: u16) -> bool {
    let inodes = listening_inodes(port);
    if inodes.is_empty() {
        return false;
    }
    let Ok(procs) = fs::read_dir("/proc") else {
        return false;
    };
    for entry in procs.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if process_group(pid) != Some(pgid) {
            continue;
        }
        let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            let Ok(link) = fs::read_link(fd.path()) else {
                continue;
            };
            let link = link.to_string_lossy();
            let inode = link
                .strip_prefix("socket:[")
                .and_then(|s| s.strip_suffix(']'))
                .and_then(|s| s.parse::<u64>().ok());
            if inode.is_some_and(|i| inodes.contains(&i)) {
                return true;
            }
        }
    }
    false
}

/// Inodes of the TCP sockets in LISTEN state on local port `port` (IPv4 and IPv6).
pub(super) fn listening_inodes(port: u16) -> Vec<u64> {
    let mut out = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 || f[3] != "0A" {
                continue;
            }
            let local_port = f[1]
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
            if local_port == Some(port) {
                out.extend(f[9].parse::<u64>().ok());
            }
        }
    }
    out
}

/// Field 5 of `/proc/PID/stat` (after the parenthesised comm, which may hold spaces).
pub(super) fn process_group(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(2)?.parse().ok()
}

/// Run a setup command to completion; fail with its output if it fails.
pub(super) fn check_output(what: &str, cmd: &mut Command) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The binary, or `None` after one line saying the running test is skipped (a failure
/// instead under `PORTSCOPE_REQUIRE_ROOT=1`): [`harness::needs`].
pub(super) fn need(binary: &str, package: &str) -> Option<PathBuf> {
    harness::needs(&harness::current_test(), binary, package)
}

/// Uid and gid of `user`, from `/etc/passwd`.
pub(super) fn user_ids(user: &str) -> Option<(u32, u32)> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() > 3 && f[0] == user {
            Some((f[2].parse().ok()?, f[3].parse().ok()?))
        } else {
            None
        }
    })
}

// ---------------------------------------------------------------------------------------------
// The servers themselves: each comes up on its port, and leaves nothing behind when dropped.
