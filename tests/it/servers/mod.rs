//! Real servers from Debian packages for the `probe` tests, each on a port picked at run time,
//! in a temp dir of its own, its whole process group killed and the dir removed on drop —
//! however the test ends.
//!
//! Ports. Servers that can bind port 0 and say which port they got do so: python's
//! http.server, `openssl s_server` and node's inspector. The others (redis, memcached,
//! mosquitto, sshd, postgres, nginx) take a port number and nothing else — and the JVM's JDWP
//! agent should not get port 0 (see [`jdwp_jvm`]) — so [`on_free_port`] asks the kernel for one (bind 127.0.0.1:0, read the port, close) and
//! starts the server on it. Another process may take the port in between; that is acceptable
//! here only because these servers cannot take port 0 themselves, and because the race is
//! caught rather than hoped away: the server then fails to bind and exits saying "in use", and
//! readiness means "a listener on the port that belongs to *our* process group" (read from
//! `/proc`), never merely "something answers". A lost race is retried on a new port, 3 times.
//!
//! Skipping. A test whose server is not installed is skipped through [`harness::needs`]: one
//! line naming the test and the Debian package — except under `PORTSCOPE_REQUIRE_ROOT=1` (CI),
//! where a missing server fails the test: CI installs them all.

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{self, Spawned, TempDir};

/// How long a server may take to come up.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long postgres may take (initdb is separate; a cold start on a busy CI machine is slow).
const SLOW_READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How often readiness is polled.
const POLL: Duration = Duration::from_millis(20);
/// Attempts at a free port before giving up (see the module doc).
const PORT_ATTEMPTS: usize = 3;

/// A running server. Dropping it stops the server (its process group) and removes its dir.
pub struct Server {
    /// What runs, for messages (`redis`, `nginx`…).
    pub name: &'static str,
    /// The TCP port it listens on, on 127.0.0.1.
    pub port: u16,
    /// The subject CN of its certificate (TLS servers only).
    pub cn: Option<String>,
    /// Signal for a clean stop before the process group is killed (postgres: SIGINT, so that
    /// it removes its shared memory). `None`: killed straight away.
    stop: Option<rustix::process::Signal>,
    /// Declared before `dir`: fields drop in order, so the server dies before its dir goes.
    proc: Spawned,
    dir: TempDir,
}

impl Server {
    /// `127.0.0.1:PORT`.
    pub fn target(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Pid of the process portscope should name as the owner (the one we started).
    pub fn pid(&self) -> u32 {
        self.proc.pid
    }

    /// Everything the server has printed so far (stdout and stderr), for assertion messages.
    pub fn log(&self) -> String {
        read_logs(self.dir.path())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let Some(sig) = self.stop else { return };
        let Some(pid) = rustix::process::Pid::from_raw(self.proc.pid as i32) else {
            return;
        };
        if rustix::process::kill_process(pid, sig).is_ok() {
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if matches!(self.proc.child.try_wait(), Ok(Some(_))) {
                    break;
                }
                std::thread::sleep(POLL);
            }
        }
        // `proc` drops next: whatever is left of the group is killed.
    }
}

// ---------------------------------------------------------------------------------------------
// The servers

/// `python3 -m http.server 0 --bind 127.0.0.1`; port from `Serving HTTP on … port N`.
pub fn http_server() -> Option<Server> {
    let python = need("python3", "python3")?;
    let dir = TempDir::new("http");
    fs::write(dir.path().join("index.html"), "<title>portscope</title>\n").unwrap();
    let mut cmd = Command::new(python);
    cmd.args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1"])
        .current_dir(dir.path());
    let mut proc = start("http.server", &dir, "out", &mut cmd);
    let port = wait_for_line("http.server", &mut proc, &dir, READY_TIMEOUT, |l| {
        let rest = l.strip_prefix("Serving HTTP on ")?;
        let (_, after) = rest.split_once(" port ")?;
        after.split_whitespace().next()?.parse().ok()
    });
    Some(Server::new("http.server", port, proc, dir))
}

/// The CN of [`tls_server`]'s certificate.
pub const TLS_CN: &str = "portscope-test";

/// `openssl s_server -www` on a self-signed certificate (CN [`TLS_CN`], SAN localhost and
/// 127.0.0.1, valid 2 days) made in its dir; port from its `ACCEPT 127.0.0.1:N` line.
pub fn tls_server() -> Option<Server> {
    let openssl = need("openssl", "openssl")?;
    let dir = TempDir::new("tls");
    let (cert, key) = certificate(&dir)?;
    let mut s = s_server(&openssl, dir, &cert, &key);
    s.cn = Some(TLS_CN.to_string());
    Some(s)
}

/// A self-signed certificate for CN [`TLS_CN`] (SAN localhost, 127.0.0.1, valid 2 days) in
/// `dir`: `(cert.pem, key.pem)`, the key readable by the daemons' unprivileged users.
fn certificate(dir: &TempDir) -> Option<(String, String)> {
    let openssl = need("openssl", "openssl")?;
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let names = "subjectAltName=DNS:localhost,IP:127.0.0.1";
    self_signed(&openssl, &format!("/CN={TLS_CN}"), &[names], &key, &cert);
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
    Some((cert, key))
}

/// `openssl req -x509`: a self-signed certificate for `subject` (with `-addext` for each of
/// `extensions`), valid 2 days, its key in `key` and itself in `cert`.
fn self_signed(openssl: &Path, subject: &str, extensions: &[&str], key: &str, cert: &str) {
    let mut args = vec![
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", subject,
    ];
    for e in extensions {
        args.extend(["-addext", e]);
    }
    args.extend(["-days", "2", "-keyout", key, "-out", cert]);
    check_output("openssl req -x509", Command::new(openssl).args(&args));
}

/// `openssl s_server -www` on a certificate for localhost and 127.0.0.1 issued by a CA of
/// its own (what `mkcert` makes): the server, and the CA's PEM file, which a client trusts
/// through `SSL_CERT_FILE` or `--cacert`.
pub fn tls_server_with_ca() -> Option<(Server, String)> {
    let openssl = need("openssl", "openssl")?;
    let dir = TempDir::new("tls-ca");
    let f = |n: &str| dir.join(n);
    let run = |what: &str, args: &[&str]| check_output(what, Command::new(&openssl).args(args));
    let (ca, ca_key) = (f("ca.pem"), f("ca.key"));
    let (leaf, leaf_key, csr, ext) = (f("leaf.pem"), f("leaf.key"), f("leaf.csr"), f("ext"));
    self_signed(&openssl, "/CN=portscope test CA", &[], &ca_key, &ca);
    run(
        "openssl req (leaf)",
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            &format!("/CN={TLS_CN}"),
            "-keyout",
            &leaf_key,
            "-out",
            &csr,
        ],
    );
    fs::write(
        &ext,
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .expect("write the extensions file");
    run(
        "openssl x509 (sign)",
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &leaf,
        ],
    );
    let server = s_server(&openssl, dir, &leaf, &leaf_key);
    Some((server, ca))
}

/// `openssl s_server -www` with `cert` and `key` on 127.0.0.1 port 0, in `dir`.
fn s_server(openssl: &Path, dir: TempDir, cert: &str, key: &str) -> Server {
    let mut cmd = Command::new(openssl);
    cmd.args([
        "s_server",
        "-accept",
        "127.0.0.1:0",
        "-www",
        "-cert",
        cert,
        "-key",
        key,
    ])
    .current_dir(dir.path());
    let mut proc = start("openssl s_server", &dir, "out", &mut cmd);
    let port = wait_for_line("openssl s_server", &mut proc, &dir, READY_TIMEOUT, |l| {
        l.strip_prefix("ACCEPT 127.0.0.1:")?.trim().parse().ok()
    });
    Server::new("openssl s_server", port, proc, dir)
}

/// A JVM (`java Sleep.java`, single-file source launch) with the JDWP agent listening:
/// `-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=127.0.0.1:PORT`. Not port 0,
/// although the agent takes it: after each debugger session it listens anew on its address,
/// so on port 0 the JVM would move to another port whenever someone connected.
pub fn jdwp_jvm() -> Option<Server> {
    let java = need("java", "default-jre-headless")?;
    let dir = TempDir::new("jdwp");
    fs::write(
        dir.path().join("Sleep.java"),
        "public class Sleep {\n    public static void main(String[] a) throws Exception {\n        \
         Thread.sleep(120_000);\n    }\n}\n",
    )
    .unwrap();
    let (proc, port) = on_free_port(
        "java (jdwp)",
        &dir,
        Some("Listening for transport dt_socket at address"),
        |port| {
            let mut cmd = Command::new(&java);
            cmd.arg(format!(
                "-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=127.0.0.1:{port}"
            ))
            .arg("Sleep.java")
            .current_dir(dir.path());
            cmd
        },
    );
    Some(Server::new("java (jdwp)", port, proc, dir))
}

/// The debugger side of JDWP: a listener that writes `JDWP-Handshake` to whoever connects (what
/// an IDE does when it waits for a JVM started with `server=n`).
pub fn jdwp_debugger_side() -> Option<Server> {
    let python = need("python3", "python3")?;
    let dir = TempDir::new("jdwp-debugger");
    let mut cmd = Command::new(python);
    cmd.args([
        "-u",
        "-c",
        "import socket,time\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(16)\n\
         print('port', s.getsockname()[1], flush=True)\n\
         s.settimeout(1.0)\n\
         end=time.time()+120\n\
         while time.time()<end:\n\
         \x20   try: c,_=s.accept()\n\
         \x20   except OSError: continue\n\
         \x20   try: c.sendall(b'JDWP-Handshake'); c.settimeout(5); c.recv(64)\n\
         \x20   except OSError: pass\n\
         \x20   c.close()\n",
    ]);
    let mut proc = start("jdwp debugger side", &dir, "out", &mut cmd);
    let port = wait_for_line("jdwp debugger side", &mut proc, &dir, READY_TIMEOUT, |l| {
        l.strip_prefix("port ")?.trim().parse().ok()
    });
    Some(Server::new("jdwp debugger side", port, proc, dir))
}

/// `node --inspect=127.0.0.1:0 -e "setTimeout(()=>{}, 120000)"`; port from
/// `Debugger listening on ws://127.0.0.1:N/…` (stderr).
pub fn node_inspector() -> Option<Server> {
    node_inspector_on(
        Names {
            dir: "node",
            server: "node --inspect",
        },
        "127.0.0.1",
    )
}

/// `redis-server` on 127.0.0.1 with no persistence, `--requirepass` when `password` is given.
pub fn redis(password: Option<&str>) -> Option<Server> {
    redis_on(
        Names {
            dir: "redis",
            server: "redis-server",
        },
        "127.0.0.1",
        false,
        password,
    )
}

/// `memcached -l 127.0.0.1 -p PORT -U 0` (`-u nobody` as root: memcached refuses root).
pub fn memcached() -> Option<Server> {
    memcached_on(
        Names {
            dir: "memcached",
            server: "memcached",
        },
        "127.0.0.1",
    )
}

/// `mosquitto -c CONF` with `listener PORT 127.0.0.1` and `allow_anonymous true` (mosquitto 2
/// refuses anonymous clients without it).
pub fn mosquitto() -> Option<Server> {
    let bin = need("mosquitto", "mosquitto")?;
    let dir = TempDir::new("mosquitto");
    let (proc, port) = on_free_port("mosquitto", &dir, None, |port| {
        let conf = dir.join("mosquitto.conf");
        fs::write(
            &conf,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n\
                 log_dest stderr\n"
            ),
        )
        .unwrap();
        let mut cmd = Command::new(&bin);
        cmd.args(["-c", &conf]).current_dir(dir.path());
        cmd
    });
    Some(Server::new("mosquitto", port, proc, dir))
}

/// OpenSSH's `sshd -D -e` with a host key of its own and no config file. Needs root (it
/// re-executes itself by absolute path and chroots its pre-auth child into `/run/sshd`).
pub fn sshd() -> Option<Server> {
    let bin = need("sshd", "openssh-server")?;
    let keygen = need("ssh-keygen", "openssh-client")?;
    if !harness::require_root("sshd", "sshd runs only as root (privilege separation)") {
        return None;
    }
    let dir = TempDir::new("sshd");
    let key = dir.join("hostkey");
    check_output(
        "ssh-keygen",
        Command::new(keygen).args(["-q", "-t", "ed25519", "-N", "", "-f", &key]),
    );
    // sshd's privilege-separation dir; the package makes it only when its service starts.
    fs::create_dir_all("/run/sshd").expect("create /run/sshd");
    let (proc, port) = on_free_port("sshd", &dir, None, |port| {
        let mut cmd = Command::new(&bin);
        cmd.args(["-D", "-e", "-f", "/dev/null"])
            .args(["-o", "ListenAddress=127.0.0.1"])
            .args(["-o", &format!("Port={port}")])
            .args(["-o", &format!("HostKey={key}")])
            .args(["-o", "PidFile=none"]);
        cmd
    });
    Some(Server::new("sshd", port, proc, dir))
}

/// PostgreSQL: `initdb --auth=trust` into its dir, then `postgres -h 127.0.0.1 -p PORT -k DIR`.
/// Both refuse to run as root, so as root they run as the `postgres` user (made by the
/// package), which then owns the dir.
pub fn postgres() -> Option<Server> {
    let pg = Postgres::init("postgres")?;
    let (proc, port) = on_free_port(
        "postgres",
        &pg.dir,
        Some("database system is ready to accept connections"),
        |port| {
            let mut cmd = pg.command();
            cmd.args(["-h", "127.0.0.1", "-p", &port.to_string()])
                .args(["-k", &pg.dir.join("")]);
            cmd
        },
    );
    let mut s = Server::new("postgres", port, proc, pg.dir);
    s.stop = Some(rustix::process::Signal::INT); // fast shutdown: frees its shared memory
    Some(s)
}

/// A PostgreSQL data directory made by `initdb`, and how to start the server on it.
struct Postgres {
    bin: PathBuf,
    dir: TempDir,
    /// The `postgres` user's uid and gid, when the tests run as root.
    user: Option<(u32, u32)>,
}

impl Postgres {
    /// `initdb --auth=trust` into `DIR/data` of a fresh temp dir; `None` (one skip line) when
    /// PostgreSQL is not installed.
    fn init(name: &str) -> Option<Postgres> {
        // Debian keeps the server off PATH, one directory per major version: take the newest.
        let bin = harness::find_tool("/usr/lib/postgresql/*/bin/postgres")
            .or_else(|| need("postgres", "postgresql"))?;
        let dir = TempDir::new(name);
        let user = if harness::is_root() {
            let (uid, gid) = user_ids("postgres").unwrap_or_else(|| {
                panic!("no `postgres` user in /etc/passwd (the postgresql package makes it)")
            });
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).unwrap();
            Some((uid, gid))
        } else {
            None
        };
        let pg = Postgres { bin, dir, user };
        let mut initdb = Command::new(pg.bin.with_file_name("initdb"));
        initdb.args([
            "-D",
            &pg.dir.join("data"),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
        ]);
        initdb.args(["--encoding=UTF8", "--locale=C"]);
        pg.as_user(&mut initdb);
        check_output("initdb", &mut initdb);
        Some(pg)
    }

    /// Run `cmd` as the `postgres` user (when root), in the dir.
    fn as_user(&self, cmd: &mut Command) {
        if let Some((uid, gid)) = self.user {
            cmd.uid(uid)
                .gid(gid)
                .env("HOME", "/tmp")
                .env("USER", "postgres");
        }
        cmd.current_dir(self.dir.path());
    }

    /// `postgres -D DIR/data`, as the `postgres` user; the caller adds where it listens.
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(["-D", &self.dir.join("data")]);
        self.as_user(&mut cmd);
        cmd
    }
}

/// `dnsmasq` answering DNS over UDP and TCP on 127.0.0.1, with no upstream and no hosts file.
pub fn dnsmasq() -> Option<Server> {
    let bin = need("dnsmasq", "dnsmasq-base")?;
    let dir = TempDir::new("dnsmasq");
    let (proc, port) = on_free_port("dnsmasq", &dir, None, |port| {
        let mut cmd = Command::new(&bin);
        cmd.args([
            "-k",
            "-p",
            &port.to_string(),
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            "--no-resolv",
            "--no-hosts",
            "-C",
            "/dev/null",
            "--pid-file",
        ]);
        if harness::is_root() {
            cmd.arg("--user=root");
        }
        cmd
    });
    Some(Server::new("dnsmasq", port, proc, dir))
}

/// What `program args…` prints (stdout then stderr, trimmed), to compare with what a probe
/// reports (`memcached -V` → `memcached 1.6.18`). `None` when it cannot run.
pub fn version_of(program: &str, args: &[&str]) -> Option<String> {
    let bin = harness::find_tool(program)?;
    let out = Command::new(bin).args(args).output().ok()?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Some(text.trim().to_string())
}

// ---------------------------------------------------------------------------------------------
// Machinery

impl Server {
    fn new(name: &'static str, port: u16, proc: Spawned, dir: TempDir) -> Server {
        Server {
            name,
            port,
            cn: None,
            stop: None,
            proc,
            dir,
        }
    }
}

/// Start with `make`, check it listens (in our process group) and accepts a connection, drop
/// it, check the process and the temp dir are gone.
fn comes_up_and_cleans_up(make: fn() -> Option<Server>) {
    let Some(s) = make() else {
        return;
    };
    assert!(group_listens(s.pid(), s.port), "{}: {}", s.name, s.log());
    TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let (pid, dir) = (s.pid(), s.dir.path().to_path_buf());
    assert!(dir.is_dir());
    drop(s);
    assert!(!dir.exists(), "{} left {}", pid, dir.display());
    // Reaped by the drop, so the pid is gone (or, rarely, reused by someone else's process).
    let gone = process_group(pid) != Some(pid);
    assert!(gone, "process group {pid} still there after drop");
}

macro_rules! up_tests {
    ($($test:ident: $make:expr;)*) => {$(
        #[test]
        fn $test() {
            comes_up_and_cleans_up($make);
        }
    )*};
}

up_tests! {
    http_server_comes_up: http_server;
    tls_server_comes_up: tls_server;
    jdwp_jvm_comes_up: jdwp_jvm;
    jdwp_debugger_side_comes_up: jdwp_debugger_side;
    node_inspector_comes_up: node_inspector;
    redis_comes_up: || redis(None);
    redis_with_password_comes_up: || redis(Some("pw"));
    memcached_comes_up: memcached;
    mosquitto_comes_up: mosquitto;
    sshd_comes_up: sshd;
    postgres_comes_up: postgres;
    nginx_comes_up: nginx;
    rsyncd_comes_up: rsyncd;
    beanstalkd_comes_up: beanstalkd;
    git_daemon_comes_up: git_daemon;
    slapd_comes_up: slapd;
    smbd_comes_up: || smbd(false);
    memcached_sasl_comes_up: || memcached_binary(true);
    zookeeper_comes_up: zookeeper;
}

// ---------------------------------------------------------------------------------------------
// For `check audit` (tests/it/check.rs).

mod confidence;
mod exposed;
pub mod h2;
mod launch;
mod more;
mod nginx;
mod services;
mod tls_inside;
mod unix_only;

pub use confidence::*;
use exposed::{Names, memcached_on, node_inspector_on, redis_on};
pub use exposed::{memcached_bound, node_inspector_bound, redis_bound, redis_exposed};
use launch::*;
pub use more::*;
pub use nginx::{nginx, nginx_on};
pub use services::{memcached_binary, slapd, slapd_on, smbd, zookeeper};
pub use tls_inside::*;
pub use unix_only::postgres_unix_only;
