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

/// True when the tests run as root.
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

// ---------------------------------------------------------------------------------------------
// What a test needs — root, a program, a browser — and the one decision when it is missing:
// skip with one visible line, or fail where skipping is forbidden (CI sets
// `PORTSCOPE_REQUIRE_ROOT=1` and `PORTSCOPE_REQUIRE_BROWSER=1`, runs as root and installs
// every package).

/// Where a program is looked for after `PATH`: a normal user's `PATH` on Debian lacks the sbin
/// directories, where `ip`, `nft`, `sshd` and `dnsmasq` live.
const SBIN: [&str; 3] = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/// For tests that need root: true to go on. When not root, writes one line saying the test
/// was skipped and why — or fails, when `PORTSCOPE_REQUIRE_ROOT=1` (CI runs as root).
pub fn require_root(test: &str, why: &str) -> bool {
    let needs = format!("root ({why})");
    let required = required("PORTSCOPE_REQUIRE_ROOT");
    or_skip(
        is_root().then_some(()),
        required,
        test,
        &needs,
        "CI runs the tests as root",
    )
    .is_some()
}

/// For a test that runs `tool` (from Debian package `package`): its path, to go on. When it is
/// missing, writes one line `skipped TEST: needs TOOL (Debian package PACKAGE)` and returns
/// `None` — or fails, when `PORTSCOPE_REQUIRE_ROOT=1` (CI: `.ci/run` installs the package).
/// `tool` is looked up as [`find_tool`] does.
pub fn needs(test: &str, tool: &str, package: &str) -> Option<PathBuf> {
    let needs = format!("{tool} (Debian package {package})");
    let required = required("PORTSCOPE_REQUIRE_ROOT");
    or_skip(
        find_tool(tool),
        required,
        test,
        &needs,
        ".ci/run installs it",
    )
}

/// For a test that needs something a Debian package installs that is not a program (a file,
/// an NSS module): `found`, to go on. When not found, writes one line `skipped TEST: needs
/// NEEDS` — or fails, when `PORTSCOPE_REQUIRE_ROOT=1` (CI: `.ci/run` installs the package).
pub fn needs_installed(test: &str, found: bool, needs: &str) -> bool {
    let required = required("PORTSCOPE_REQUIRE_ROOT");
    or_skip(
        found.then_some(()),
        required,
        test,
        needs,
        ".ci/run installs it",
    )
    .is_some()
}

/// For a browser test: `(chromium, chromedriver)`, to go on. When either is missing, writes one
/// line saying the test was skipped — or fails, when `PORTSCOPE_REQUIRE_BROWSER=1` (CI:
/// `.ci/run` installs both).
pub fn needs_browser(test: &str) -> Option<(PathBuf, PathBuf)> {
    let found = find_tool("chromium").zip(find_tool("chromedriver"));
    let needs = "chromium and chromedriver (Debian packages chromium chromium-driver)";
    let required = required("PORTSCOPE_REQUIRE_BROWSER");
    or_skip(found, required, test, needs, ".ci/run installs them")
}

/// For a test that needs systemd as the running init (`/run/systemd/system`): true to go on.
/// Otherwise writes one line saying the test was skipped — or fails, when
/// `PORTSCOPE_REQUIRE_SYSTEMD=1` (CI's containers run no systemd, so `.ci/run` leaves it unset;
/// set it on a machine booted with systemd).
pub fn needs_systemd(test: &str) -> bool {
    let found = Path::new("/run/systemd/system").is_dir();
    let needs = "systemd as the running init (pid 1, /run/systemd/system)";
    let fix = "run the tests on a machine booted with systemd, or unset PORTSCOPE_REQUIRE_SYSTEMD";
    or_skip(
        found.then_some(()),
        required("PORTSCOPE_REQUIRE_SYSTEMD"),
        test,
        needs,
        fix,
    )
    .is_some()
}

/// Writes `skipped TEST: WHY` as one line on the process's standard error — once per test:
/// a test that starts several missing servers says so once. TEST is the running test's name
/// as libtest knows it (what `cargo test NAME` takes), `test` off a test thread. Not
/// `eprintln!`: libtest captures that for every test that passes, so a skip would go unseen in
/// a plain `cargo test`; a write on `std::io::stderr()` itself is not captured.
pub fn skipped(test: &str, why: &str) {
    let test = test_name(test);
    if first_skip_of(&test) {
        let _ = writeln!(std::io::stderr().lock(), "skipped {test}: {why}");
    }
}

/// The running test's name (`probe::redis_is_named`).
pub fn current_test() -> String {
    test_name("an unnamed test")
}

/// The running test's name — libtest names each test's thread so — else `fallback`.
fn test_name(fallback: &str) -> String {
    match std::thread::current().name() {
        Some(name) if name != "main" => name.to_string(),
        _ => fallback.to_string(),
    }
}

/// True the first time it is asked for `test`.
fn first_skip_of(test: &str) -> bool {
    use std::collections::BTreeSet;
    use std::sync::Mutex;
    static SKIPPED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    SKIPPED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(test.to_string())
}

/// True when the environment variable `gate` is `1`: skipping is forbidden.
fn required(gate: &str) -> bool {
    std::env::var(gate).as_deref() == Ok("1")
}

/// `found`, or — when it is `None` — a failure if `required`, else one skip line on stderr.
fn or_skip<T>(found: Option<T>, required: bool, test: &str, needs: &str, fix: &str) -> Option<T> {
    if found.is_none() {
        assert!(!required, "{}", missing(&test_name(test), needs, fix));
        skipped(test, &format!("needs {needs}"));
    }
    found
}

/// The failure message when skipping is forbidden.
fn missing(test: &str, needs: &str, fix: &str) -> String {
    format!("{test} needs {needs}, which is missing here, and skipping is forbidden: {fix}")
}

/// The program `tool`, found as a shell would (the first `PATH` directory that holds it), then
/// in `/usr/local/sbin`, `/usr/sbin`, `/sbin`. An absolute path is taken as it is; an absolute
/// path with one `*` component (`/usr/lib/postgresql/*/bin/postgres`) is the match with the
/// highest version. Found only if it is a regular file with an execute bit. Prints nothing.
pub fn find_tool(tool: &str) -> Option<PathBuf> {
    if tool.starts_with('/') {
        return if tool.contains('*') {
            newest_match(Path::new(tool))
        } else {
            Some(PathBuf::from(tool)).filter(|p| is_executable(p))
        };
    }
    if tool.contains('/') {
        return None; // relative paths would depend on where the tests run
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .filter(|d| d.is_absolute())
        .chain(SBIN.map(PathBuf::from))
        .map(|d| d.join(tool))
        .find(|p| is_executable(p))
}

/// A regular file (symlinks followed) with at least one execute bit.
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The executable match of `pattern` (one component holds `*`) whose `*` part is the highest
/// version: `16` above `9`, `16.2` above `16`.
fn newest_match(pattern: &Path) -> Option<PathBuf> {
    let parts: Vec<&str> = pattern.iter().filter_map(|c| c.to_str()).collect();
    let star = parts.iter().position(|c| c.contains('*'))?;
    if parts[star + 1..].iter().any(|c| c.contains('*')) {
        return None;
    }
    let parent: PathBuf = parts[..star].iter().collect();
    let rest: PathBuf = parts[star + 1..].iter().collect();
    let (prefix, suffix) = parts[star].split_once('*')?;
    let mut found: Vec<(Vec<u64>, String, PathBuf)> = std::fs::read_dir(&parent)
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let middle = name.strip_prefix(prefix)?.strip_suffix(suffix)?.to_string();
            let path = entry.path().join(&rest);
            is_executable(&path).then(|| (version_key(&middle), middle, path))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, _, path)| path)
}

/// The numbers in `text`, in order, to compare versions (`9` < `16` < `16.2`).
fn version_key(text: &str) -> Vec<u64> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect()
}

#[test]
fn a_missing_tool_is_skipped_once_where_skipping_is_allowed() {
    assert_eq!(find_tool("portscope-no-such-tool"), None);
    let test = test_name("unused");
    assert_eq!(
        test,
        "harness::a_missing_tool_is_skipped_once_where_skipping_is_allowed"
    );
    assert!(first_skip_of(&test), "this test has not skipped yet");
    assert!(
        !first_skip_of(&test),
        "a second skip line would be one too many"
    );
    assert_eq!(
        missing("t", "nft (Debian package nftables)", ".ci/run installs it"),
        "t needs nft (Debian package nftables), which is missing here, and skipping is \
         forbidden: .ci/run installs it"
    );
}

#[test]
#[should_panic(
    expected = "harness::a_missing_tool_fails_where_skipping_is_forbidden needs nft \
                           (Debian package nftables), which is missing here"
)]
fn a_missing_tool_fails_where_skipping_is_forbidden() {
    or_skip(
        None::<PathBuf>,
        true,
        "t",
        "nft (Debian package nftables)",
        "",
    );
}

#[test]
fn tools_are_found_on_path_by_absolute_path_and_by_pattern() {
    use std::os::unix::fs::PermissionsExt;
    let sh = find_tool("sh").expect("sh on PATH");
    assert!(sh.is_absolute() && sh.ends_with("sh"), "{}", sh.display());
    assert_eq!(find_tool(sh.to_str().unwrap()), Some(sh));
    assert_eq!(find_tool("/"), None, "a directory is not a program");
    assert_eq!(
        find_tool("bin/sh"),
        None,
        "relative paths are not looked up"
    );
    let dir = TempDir::new("find-tool");
    for (version, mode) in [("9", 0o755), ("16", 0o755), ("16.2", 0o755), ("17", 0o644)] {
        let bin = dir.path().join(version).join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(bin.join("server"), "").unwrap();
        std::fs::set_permissions(bin.join("server"), std::fs::Permissions::from_mode(mode))
            .unwrap();
    }
    assert_eq!(
        find_tool(&dir.join("*/bin/server")),
        Some(dir.path().join("16.2/bin/server")),
        "the highest version with an execute bit"
    );
    assert_eq!(find_tool(&dir.join("*/bin/other")), None);
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
