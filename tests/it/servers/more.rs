//! The daemons of `probe::more`: the rsync daemon, beanstalkd, git daemon, epmd (with an
//! Erlang node registered) and gdbserver, each on a port picked at run time like the others.

use super::*;

/// `rsync --daemon --no-detach` on a config of its own with one read-only module.
pub fn rsyncd() -> Option<Server> {
    let bin = need("rsync", "rsync")?;
    let dir = TempDir::new("rsyncd");
    let conf = dir.join("rsyncd.conf");
    let module = dir.join("");
    fs::write(
        &conf,
        format!("use chroot = no\n[portscope]\n  path = {module}\n  read only = yes\n"),
    )
    .unwrap();
    let (proc, port) = on_free_port("rsync --daemon", &dir, None, |port| {
        let mut cmd = Command::new(&bin);
        cmd.args(["--daemon", "--no-detach", "--address", "127.0.0.1"])
            .args(["--port", &port.to_string(), "--config", &conf]);
        cmd
    });
    Some(Server::new("rsync --daemon", port, proc, dir))
}

/// `beanstalkd -l 127.0.0.1 -p PORT` (no binlog: nothing written).
pub fn beanstalkd() -> Option<Server> {
    let bin = need("beanstalkd", "beanstalkd")?;
    let dir = TempDir::new("beanstalkd");
    let (proc, port) = on_free_port("beanstalkd", &dir, None, |port| {
        let mut cmd = Command::new(&bin);
        cmd.args(["-l", "127.0.0.1", "-p", &port.to_string()]);
        cmd
    });
    Some(Server::new("beanstalkd", port, proc, dir))
}

/// `git daemon --export-all` on an empty base path of its own.
pub fn git_daemon() -> Option<Server> {
    let bin = need("git", "git")?;
    let dir = TempDir::new("git-daemon");
    let base = dir.join("");
    let (proc, port) = on_free_port("git daemon", &dir, None, |port| {
        let mut cmd = Command::new(&bin);
        cmd.args([
            "daemon",
            "--export-all",
            "--reuseaddr",
            "--listen=127.0.0.1",
        ])
        .arg(format!("--port={port}"))
        .arg(format!("--base-path={base}"));
        cmd
    });
    Some(Server::new("git daemon", port, proc, dir))
}

/// `epmd -port PORT -address 127.0.0.1`, and an Erlang node (`erl -sname`, `-start_epmd
/// false`: it never starts an epmd of its own) registered with it. The node is dropped after
/// the server.
pub fn epmd_with_node() -> Option<(Server, Spawned)> {
    let bin = need("epmd", "erlang-base")?;
    let erl = need("erl", "erlang-base")?;
    let dir = TempDir::new("epmd");
    let (proc, port) = on_free_port("epmd", &dir, None, |port| {
        let mut cmd = Command::new(&bin);
        cmd.args(["-port", &port.to_string(), "-address", "127.0.0.1"]);
        cmd
    });
    let mut cmd = Command::new(erl);
    cmd.args(["-sname", NODE, "-setcookie", "portscope-test", "-noshell"])
        .args(["-start_epmd", "false", "-eval", "timer:sleep(120000)"])
        .env("ERL_EPMD_PORT", port.to_string())
        .env("HOME", dir.join(""))
        .current_dir(dir.path());
    let node = start("erl", &dir, "erl", &mut cmd);
    let deadline = Instant::now() + SLOW_READY_TIMEOUT;
    while !epmd_names(port).contains(&format!("name {NODE} at port ")) {
        assert!(
            Instant::now() < deadline,
            "node {NODE} not registered with epmd on {port}: {}",
            read_logs(dir.path())
        );
        std::thread::sleep(POLL);
    }
    Some((Server::new("epmd", port, proc, dir), node))
}

/// The node name [`epmd_with_node`] registers.
pub const NODE: &str = "portscope_probe";

/// What epmd answers to `NAMES_REQ`, after its 4-byte port.
pub(super) fn epmd_names(port: u16) -> String {
    use std::io::{Read, Write};
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let mut out = Vec::new();
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"\x00\x01n").is_ok() {
        let _ = s.read_to_end(&mut out);
    }
    String::from_utf8_lossy(out.get(4..).unwrap_or_default()).into_owned()
}

/// `gdbserver 127.0.0.1:PORT /bin/sleep 120` (without `--once`: it listens again after each
/// client). gdbserver puts its inferior in a process group of its own, so the inferior is
/// killed by pid, after gdbserver, when this is dropped.
pub struct GdbServer {
    pub server: Server,
    inferior: u32,
}

impl Drop for GdbServer {
    fn drop(&mut self) {
        if let Some(pid) = rustix::process::Pid::from_raw(self.inferior as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
        }
    }
}

impl GdbServer {
    /// Pid of the program gdbserver runs.
    pub fn inferior(&self) -> u32 {
        self.inferior
    }
}

/// [`GdbServer`]; with `once`, `gdbserver --once` (its session, and the inferior, end when
/// the first client leaves).
pub fn gdbserver(once: bool) -> Option<GdbServer> {
    let bin = need("gdbserver", "gdbserver")?;
    let dir = TempDir::new("gdbserver");
    let (mut proc, port) = on_free_port("gdbserver", &dir, None, |port| {
        let mut cmd = Command::new(&bin);
        if once {
            cmd.arg("--once");
        }
        cmd.arg(format!("127.0.0.1:{port}"))
            .args(["/bin/sleep", "120"]);
        cmd
    });
    let inferior = wait_for_line("gdbserver", &mut proc, &dir, READY_TIMEOUT, |l| {
        l.strip_prefix("Process /bin/sleep created; pid = ")?
            .trim()
            .parse()
            .ok()
    });
    let server = Server::new("gdbserver", port, proc, dir);
    Some(GdbServer { server, inferior })
}

/// TigerVNC's `Xvnc` (no security types, no X11 TCP listener) on a free RFB port, on the first
/// display number from 150 without a lock file.
pub fn xvnc() -> Option<Server> {
    let bin = need("Xvnc", "tigervnc-standalone-server")?;
    let dir = TempDir::new("xvnc");
    let free = |n: &u32| {
        !Path::new(&format!("/tmp/.X{n}-lock")).exists()
            && !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
    };
    let display = (150..250)
        .find(free)
        .expect("a free X display number in 150..250");
    let (proc, port) = on_free_port("Xvnc", &dir, None, |port| {
        let mut cmd = Command::new(&bin);
        cmd.arg(format!(":{display}"))
            .args(["-rfbport", &port.to_string(), "-interface", "127.0.0.1"])
            .args(["-SecurityTypes", "None", "-nolisten", "tcp"]);
        cmd
    });
    Some(Server::new("Xvnc", port, proc, dir))
}

/// A VNC server that greets late: `RFB 003.008` 200 ms after each accept, on the first free
/// port of 5900–5999 (VNC's own range). It prints `received N` for the bytes each client sent
/// it within a second of the greeting.
pub fn late_vnc_greeter() -> Option<Server> {
    let python = need("python3", "python3")?;
    let dir = TempDir::new("late-vnc");
    let mut cmd = Command::new(python);
    cmd.args([
        "-u",
        "-c",
        "import socket,time\n\
         s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
         for p in range(5900, 6000):\n\
         \x20   try: s.bind(('127.0.0.1', p)); break\n\
         \x20   except OSError: pass\n\
         s.listen(16); print('port', s.getsockname()[1], flush=True)\n\
         s.settimeout(1.0); end=time.time()+120\n\
         while time.time()<end:\n\
         \x20   try: c,_=s.accept()\n\
         \x20   except OSError: continue\n\
         \x20   got=b''\n\
         \x20   try:\n\
         \x20       c.settimeout(0.2)\n\
         \x20       try: got+=c.recv(4096)\n\
         \x20       except socket.timeout: pass\n\
         \x20       c.sendall(b'RFB 003.008\\n'); c.settimeout(1.0)\n\
         \x20       got+=c.recv(4096)\n\
         \x20   except OSError: pass\n\
         \x20   print('received', len(got), flush=True); c.close()\n",
    ]);
    let mut proc = start("late VNC greeter", &dir, "out", &mut cmd);
    let port = wait_for_line("late VNC greeter", &mut proc, &dir, READY_TIMEOUT, |l| {
        l.strip_prefix("port ")?.trim().parse().ok()
    });
    Some(Server::new("late VNC greeter", port, proc, dir))
}
