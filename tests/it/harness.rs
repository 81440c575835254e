//! Test harness: run the built binary, spawn real listeners (python3, bound to port 0) in
//! child processes, and clean them up however a test ends.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// What a run of portscope produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The built binary with a clean, colourless environment.
pub fn portscope() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_portscope"));
    c.env("NO_COLOR", "1").env_remove("RUST_BACKTRACE");
    c
}

/// Run portscope with `args`.
pub fn run(args: &[&str]) -> Run {
    output(portscope().args(args))
}

/// Run a prepared command and collect its output.
pub fn output(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("run portscope");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Run `cmd` with stdin, stdout and stderr piped, feed it `input` (then close its stdin), and
/// collect what it printed.
pub fn output_with_stdin(cmd: &mut Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// A copy of the built binary at `dir/portscope` that uid 65534 can run wherever the checkout
/// lives (`dir` is created, mode 0755; the caller removes it).
pub fn binary_for_nobody(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = dir.join("portscope");
    std::fs::copy(env!("CARGO_BIN_EXE_portscope"), &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

/// Run `bin` with `args` as uid and gid 65534 (nobody), colourless.
pub fn run_as_nobody(bin: &Path, args: &[&str]) -> Run {
    use std::os::unix::process::CommandExt;
    let mut c = Command::new(bin);
    c.args(args).env("NO_COLOR", "1").uid(65534).gid(65534);
    output(&mut c)
}

/// Run portscope with `--json` and parse the output.
pub fn json(args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.push("--json");
    let r = run(&all);
    assert!(r.stderr.is_empty(), "stderr of {args:?}: {}", r.stderr);
    serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("bad JSON from {args:?}: {e}\n{}", r.stdout))
}

/// A child process tree (its own process group), killed on drop.
pub struct Spawned {
    pub child: Child,
    /// Pid of the direct child.
    pub pid: u32,
    /// The whitespace-separated words of the first line it printed.
    pub words: Vec<String>,
}

impl Spawned {
    /// Word `i` of the ready line as a number.
    pub fn num(&self, i: usize) -> u32 {
        self.words[i].parse().expect("a number in the ready line")
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Some(pid) = rustix::process::Pid::from_raw(self.pid as i32) {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::CONT);
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
        let _ = self.child.wait();
    }
}

/// Start `program args…` in its own process group and wait for its first stdout line.
pub fn spawn(program: &str, args: &[&str]) -> Spawned {
    spawn_env(program, args, &[])
}

/// [`spawn`] with extra environment variables.
pub fn spawn_env(program: &str, args: &[&str], env: &[(&str, &str)]) -> Spawned {
    use std::os::unix::process::CommandExt;
    let mut child = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {program}: {e}"));
    let pid = child.id();
    let mut line = String::new();
    let stdout = child.stdout.take().expect("piped stdout");
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read ready line");
    assert!(!line.is_empty(), "{program} exited before it was ready");
    Spawned {
        child,
        pid,
        words: line.split_whitespace().map(str::to_string).collect(),
    }
}

/// Run a python3 script (`-c`). Scripts print one ready line, then sleep at most 120 s.
pub fn python(script: &str) -> Spawned {
    spawn("python3", &["-c", script])
}

/// A TCP listener on `addr` port 0; prints `PORT PID`.
pub fn tcp_listener(addr: &str) -> Spawned {
    let family = if addr.contains(':') {
        "socket.AF_INET6"
    } else {
        "socket.AF_INET"
    };
    python(&format!(
        "import socket,os,time\n\
         s=socket.socket({family}); s.bind(('{addr}',0)); s.listen(16)\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         time.sleep(120)\n"
    ))
}

/// A python listener on 127.0.0.1 port 0 that forks after listening: parent and child both
/// hold the socket. Prints `PORT PARENT_PID CHILD_PID`.
pub fn forked_listener() -> Spawned {
    python(
        "import socket,os,time\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(16)\n\
         pid=os.fork()\n\
         if pid==0:\n    time.sleep(120); os._exit(0)\n\
         print(s.getsockname()[1], os.getpid(), pid, flush=True)\n\
         time.sleep(120)\n",
    )
}

/// True when the tests run as root.
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// For tests that need root: true to go on. When not root, prints one line saying the test
/// was skipped and why — or fails, when `PORTSCOPE_REQUIRE_ROOT=1` (CI runs as root).
pub fn require_root(test: &str, why: &str) -> bool {
    if is_root() {
        return true;
    }
    assert!(
        std::env::var("PORTSCOPE_REQUIRE_ROOT").as_deref() != Ok("1"),
        "{test} needs root ({why}) and PORTSCOPE_REQUIRE_ROOT=1 forbids skipping it"
    );
    eprintln!("skipped {test}: needs root ({why})");
    false
}

/// The sockets of a JSON report whose local port is `port`.
pub fn on_port(report: &serde_json::Value, port: u32) -> Vec<serde_json::Value> {
    report["sockets"]
        .as_array()
        .expect("sockets array")
        .iter()
        .filter(|s| s["local"]["port"].as_u64() == Some(u64::from(port)))
        .cloned()
        .collect()
}

/// The `pids` array of a socket as numbers.
pub fn pids(socket: &serde_json::Value) -> Vec<u32> {
    socket["pids"]
        .as_array()
        .expect("pids array")
        .iter()
        .map(|p| p.as_u64().expect("pid") as u32)
        .collect()
}

/// Unix time now, in seconds (to compare with the times portscope reports).
pub fn now_s() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// A directory under the system temp dir, removed with everything in it on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh, empty directory whose name carries `name`, this process's pid and a counter.
    pub fn new(name: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("portscope-it-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path); // a leftover of a crashed run with our pid
        std::fs::create_dir(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        TempDir(path)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The directory as a string, for command lines.
    pub fn arg(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temp path")
    }

    /// `path/name` as a string, for command lines and config files.
    pub fn join(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A python listener whose argv[0] and comm are `name` (argv[0] set by exec, comm by
/// `prctl(PR_SET_NAME)`). The real interpreter is exec'd directly: a pyenv shim would
/// exec again and lose argv[0].
pub fn named_listener(name: &str) -> Spawned {
    use std::os::unix::process::CommandExt;
    let python = output(Command::new("python3").args(["-c", "import sys; print(sys.executable)"]));
    let mut child = Command::new(python.stdout.trim())
        .arg0(name)
        .args([
            "-c",
            "import socket,os,sys,time,ctypes\n\
             ctypes.CDLL(None).prctl(15, sys.argv[1].encode(), 0, 0, 0)\n\
             s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(4)\n\
             print(s.getsockname()[1], os.getpid(), flush=True)\n\
             time.sleep(120)\n",
            name,
        ])
        .stdout(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    Spawned {
        pid: child.id(),
        child,
        words: line.split_whitespace().map(str::to_string).collect(),
    }
}
