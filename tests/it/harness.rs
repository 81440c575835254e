//! Test harness: run the built binary, spawn real listeners (python3, bound to port 0) in
//! child processes, and clean them up however a test ends. Also the one place that decides
//! whether a test has what it needs — root, a program from a Debian package, a browser — and
//! skips it with one visible line, or fails it in CI ([`needs`], [`require_root`]); and a copy
//! of the binary that other users can run wherever the checkout lives
//! ([`binary_for_other_users`]).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub use crate::reports::{codes, finding, on_port, pids};

/// What a run of portscope produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The proxy variables HTTP clients read: removed from every run so that doctor judges the
/// test's URLs the same on a machine behind a proxy (tests that need them set them).
pub const PROXY_VARS: [&str; 8] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

/// The built binary with a clean, colourless environment.
pub fn portscope() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_portscope"));
    c.env("NO_COLOR", "1").env_remove("RUST_BACKTRACE");
    for var in PROXY_VARS {
        c.env_remove(var);
    }
    c
}

/// Run portscope with `args`.
pub fn run(args: &[&str]) -> Run {
    output(portscope().args(args))
}

/// Run a prepared command and collect its output.
pub fn output(cmd: &mut Command) -> Run {
    // A binary copied for other users moments ago can be busy: another test thread forked
    // while the copy's write descriptor was open, and its child has not exec'd yet.
    let mut tries = 0;
    let out = loop {
        match cmd.output() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 50 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => break other.expect("run portscope"),
        }
    };
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

/// A copy of the built binary that any user can run, in a fresh directory (mode 0755) under
/// the system temp dir: the checkout, and so the built binary, may live in a directory only
/// its owner can enter (a `mktemp -d` is mode 0700). Removed on drop.
pub struct SharedBinary {
    dir: TempDir,
    bin: PathBuf,
}

/// The built binary, copied where every user can reach and run it. For tests that run
/// portscope as another user (uid 65534); as root, with [`require_root`].
pub fn binary_for_other_users() -> SharedBinary {
    use std::os::unix::fs::PermissionsExt;
    let base = std::env::temp_dir();
    // A private TMPDIR (mode 0700 somewhere on the way) would hide the copy again.
    let base = if reachable_by_all(&base) {
        base
    } else {
        PathBuf::from("/tmp")
    };
    let dir = TempDir::new_in(&base, "shared-bin");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = dir.path().join("portscope");
    std::fs::copy(env!("CARGO_BIN_EXE_portscope"), &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    SharedBinary { dir, bin }
}

impl SharedBinary {
    /// The copy of the binary as a string, for command lines.
    pub fn arg(&self) -> &str {
        self.bin.to_str().expect("a UTF-8 temp path")
    }

    /// Its directory (mode 0755, owned by the test's user): every user can enter and read it.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The copy, to run as uid and gid 65534 (nobody): colourless like [`portscope`], in
    /// [`SharedBinary::dir`] (the test's own working directory may be out of its reach).
    pub fn as_nobody(&self) -> Command {
        use std::os::unix::process::CommandExt;
        let mut c = Command::new(&self.bin);
        c.env("NO_COLOR", "1")
            .env_remove("RUST_BACKTRACE")
            .current_dir(self.dir())
            .uid(65534)
            .gid(65534);
        c
    }

    /// Run the copy with `args` as uid and gid 65534 (nobody).
    pub fn run_as_nobody(&self, args: &[&str]) -> Run {
        output(self.as_nobody().args(args))
    }
}

/// True when every user may enter `dir` and each directory above it.
fn reachable_by_all(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    dir.is_absolute()
        && dir.ancestors().all(|d| {
            std::fs::metadata(d).is_ok_and(|m| m.is_dir() && m.permissions().mode() & 0o001 != 0)
        })
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

/// A Python interpreter that runs `import` (a line such as `import grpc, fakeredis`): the
/// virtual environment `.ci/run` makes for PyPI packages (`PORTSCOPE_PYPI_PYTHON`), else
/// `python3`. When neither can, one skip line naming `needs` (or a failure in CI).
pub fn pypi_python(import: &str, needs: &str) -> Option<PathBuf> {
    let candidates = std::env::var_os("PORTSCOPE_PYPI_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain(find_tool("python3"));
    let found = candidates.into_iter().find(|python| {
        Command::new(python)
            .args(["-c", import])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    needs_installed(&current_test(), found.is_some(), needs).then_some(found)?
}

/// True when the tests run as root.
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

pub use crate::skips::{
    current_test, find_tool, needs, needs_browser, needs_installed, needs_npm, needs_systemd,
    require_root, skipped,
};

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
        TempDir::new_in(&std::env::temp_dir(), name)
    }

    /// [`TempDir::new`] in `base`.
    fn new_in(base: &Path, name: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path = base.join(format!("portscope-it-{name}-{}-{n}", std::process::id()));
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
/// exec again and lose argv[0]. PYTHONHOME pins its standard library: Python looks for its
/// home from argv[0], so with a real `redis-server` in /usr/bin a pyenv interpreter named so
/// would take Debian's library, and fail to import `socket`.
pub fn named_listener(name: &str) -> Spawned {
    use std::os::unix::process::CommandExt;
    let python = output(Command::new("python3").args([
        "-c",
        "import sys; print(sys.executable); print(sys.prefix + ':' + sys.exec_prefix)",
    ]));
    let mut lines = python.stdout.lines();
    let (Some(executable), Some(home)) = (lines.next(), lines.next()) else {
        panic!("python3 did not say where it lives: {python:?}");
    };
    let mut child = Command::new(executable)
        .env("PYTHONHOME", home)
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

/// Python for a quiet HTTP server on `[::1]` port 0 that prints `PORT PID` (run it with
/// [`python`], or inside a namespace).
pub const HTTP_ON_IPV6_LOOPBACK: &str = "import http.server,socket,os\n\
    class S(http.server.HTTPServer): address_family=socket.AF_INET6\n\
    class H(http.server.SimpleHTTPRequestHandler):\n\
    \x20   def log_message(self,*a): pass\n\
    s=S(('::1',0), H)\n\
    print(s.server_address[1], os.getpid(), flush=True)\n\
    s.serve_forever()\n";
