//! Integration tests of `run`: real servers started through the built binary, signals sent
//! by this test process, leftovers that daemonise, and ports that must be free afterwards.
//! Every port is chosen at run time (picked by portscope, or bound to 0); every registry is
//! a temporary `--state-dir`.

use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

use crate::harness::{self, portscope};

/// A fresh state directory, removed on drop.
pub(crate) struct StateDir(PathBuf);

impl StateDir {
    pub(crate) fn new(tag: &str) -> StateDir {
        let mut h = std::hash::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        let dir = std::env::temp_dir().join(format!(
            "portscope-it-run-{tag}-{}-{}",
            std::process::id(),
            h.finish() % 1_000_000
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        StateDir(dir)
    }

    pub(crate) fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for StateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A `portscope run` in progress: standard error is read line by line as it comes.
struct Running {
    child: Child,
    lines: Receiver<String>,
    stderr: Vec<String>,
    stdout: Option<JoinHandle<String>>,
}

impl Running {
    fn start(state: &StateDir, args: &[&str]) -> Running {
        let mut child = portscope()
            .arg("run")
            .args(["--state-dir", state.arg()])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start portscope run");
        let (tx, lines) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut out = child.stdout.take().unwrap();
        let stdout = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        Running {
            child,
            lines,
            stderr: Vec::new(),
            stdout: Some(stdout),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The first standard-error line (from the start) for which `pick` says something.
    fn wait_for<T>(&mut self, what: &str, pick: impl Fn(&str) -> Option<T>) -> T {
        if let Some(found) = self.stderr.iter().find_map(|l| pick(l)) {
            return found;
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let found = pick(&line);
                    self.stderr.push(line);
                    if let Some(found) = found {
                        return found;
                    }
                }
                Err(_) => break,
            }
        }
        panic!(
            "no {what} within 15 s; stderr so far:\n{}",
            self.stderr.join("\n")
        );
    }

    /// The JSON notice with this `event`.
    fn event(&mut self, event: &str) -> serde_json::Value {
        self.wait_for(event, |l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .filter(|v| v["event"] == event)
        })
    }

    fn signal(&self, sig: Signal) {
        let pid = Pid::from_raw(self.pid() as i32).unwrap();
        rustix::process::kill_process(pid, sig).unwrap();
    }

    /// Wait (bounded) for portscope to end: its exit code, standard output, standard error.
    fn finish(mut self) -> harness::Run {
        let deadline = Instant::now() + Duration::from_secs(20);
        let code = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "portscope run did not end within 20 s; stderr:\n{}",
                self.stderr.join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let stdout = self.stdout.take().unwrap().join().unwrap();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.stderr.push(line);
        }
        harness::Run {
            code,
            stdout,
            stderr: self.stderr.join("\n"),
        }
    }
}

impl Drop for Running {
    /// A failed test must not leave servers behind: SIGTERM (forwarded, then leftovers are
    /// stopped), then SIGKILL.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_some() {
            return;
        }
        self.signal(Signal::TERM);
        for _ in 0..250 {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The number right after `marker` in `text` (`PORT=4100`, `(pid 1234)`).
pub(crate) fn number_after<T: std::str::FromStr>(text: &str, marker: &str) -> Option<T> {
    let at = text.find(marker)? + marker.len();
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Nothing listens on `port` any more: a listener can be bound there now, and `who` sees no
/// listener (a closed connection may linger in TIME-WAIT: that is not a holder).
fn assert_free(port: u16) {
    std::net::TcpListener::bind(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("port {port} is not free afterwards: {e}"));
    let who = harness::run(&["who", &port.to_string(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&who.stdout).unwrap();
    let listening: Vec<_> = harness::on_port(&v, u32::from(port))
        .into_iter()
        .filter(|s| s["state"] == "listen")
        .collect();
    assert!(
        listening.is_empty(),
        "still listening on {port}: {listening:?}"
    );
}

/// GET `url` (http://127.0.0.1:N/) with a bounded wait; the status line.
fn http_get(port: u16) -> String {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    let mut reply = String::new();
    let _ = BufReader::new(s).read_line(&mut reply);
    reply
}

/// The final JSON report: the last line of standard output (the child's output comes first).
fn report(r: &harness::Run) -> serde_json::Value {
    let last = r.stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}) in stdout:\n{}\nstderr:\n{}",
            r.stdout, r.stderr
        )
    })
}

#[test]
fn serves_on_its_port_says_where_and_frees_it_after_sigint() {
    let state = StateDir::new("serve");
    let mut run = Running::start(
        &state,
        &[
            "--",
            "python3",
            "-m",
            "http.server",
            "$PORT",
            "--bind",
            "127.0.0.1",
        ],
    );
    let port: u16 = run.wait_for("the started notice", |l| number_after(l, "PORT="));
    let url = run.wait_for("the URL", |l| {
        (l.starts_with("portscope: python3[") && l.contains(" listens on "))
            .then(|| l.split("→ ").nth(1).map(str::to_string))
            .flatten()
    });
    assert_eq!(url, format!("http://127.0.0.1:{port}/"));
    assert!(http_get(port).starts_with("HTTP/1.0 200"), "GET {url}");

    run.signal(Signal::INT); // sent by a process: portscope passes it on
    let me = std::process::id();
    let r = run.finish();
    assert!(
        r.stderr.contains(&format!(
            "portscope: passed SIGINT (sent by pid {me}) on to pid"
        )),
        "{}",
        r.stderr
    );
    // http.server catches KeyboardInterrupt and exits 0: its status is passed through.
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert!(
        r.stdout.ends_with(&format!(
            "python3 exited with code 0; port {port} is free again\n"
        )),
        "{}",
        r.stdout
    );
    assert_free(port);
}

#[test]
fn a_child_killed_by_sigint_gives_130() {
    let state = StateDir::new("sigint");
    let mut run = Running::start(&state, &["--json", "--", "sleep", "30"]);
    run.event("started");
    run.signal(Signal::INT);
    let r = run.finish();
    assert_eq!(r.code, 130, "stderr: {}", r.stderr);
    let rep = report(&r);
    assert_eq!(rep["signal"], "INT");
    assert_eq!(rep["exit_status"], 130);
    assert_eq!(rep["forwarded"], serde_json::json!(["INT"]));
    assert_eq!(rep["exit_code"], serde_json::Value::Null);
}

#[test]
fn warns_when_the_server_ignores_port() {
    let state = StateDir::new("ignores");
    let mut run = Running::start(
        &state,
        &[
            "--",
            "python3",
            "-c",
            "import socket,time\n\
             s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen()\n\
             time.sleep(60)\n",
        ],
    );
    let assigned: u16 = run.wait_for("the started notice", |l| number_after(l, "PORT="));
    let (actual, line) = run.wait_for("the warning", |l| {
        l.contains("warning:")
            .then(|| number_after::<u16>(l, "listens on 127.0.0.1:").map(|p| (p, l.to_string())))
            .flatten()
    });
    assert_ne!(actual, assigned);
    assert!(
        line.contains(&format!(
            "not on its PORT {assigned}: it does not take its port from $PORT"
        )),
        "{line}"
    );
    // The port named is really the child's.
    let who = harness::json(&["who", &actual.to_string()]);
    let holders: Vec<u32> = harness::on_port(&who, u32::from(actual))
        .iter()
        .flat_map(harness::pids)
        .collect();
    let child: u32 = run.wait_for("the child's pid", |l| number_after(l, "(pid "));
    assert!(holders.contains(&child), "{holders:?} vs {child}");
    // Generic advice: python3 -c is no known dev server.
    run.wait_for("the advice", |l| {
        l.contains("often --port '$PORT'").then_some(())
    });

    run.signal(Signal::TERM);
    let r = run.finish();
    assert_eq!(r.code, 128 + 15, "stderr: {}", r.stderr);
    assert!(
        r.stdout.contains(&format!(
            "it never listened on its port {assigned}, only on {actual}"
        )),
        "{}",
        r.stdout
    );
    assert_free(actual);
}

#[test]
fn stops_a_daemonised_grandchild_and_frees_the_port() {
    let state = StateDir::new("daemon");
    // The child double-forks a daemon (new session, SIGTERM ignored) that listens on $PORT,
    // waits until it listens, prints its pid and exits 0.
    let script = "import os,socket,time,signal\n\
        r,w=os.pipe()\n\
        if os.fork()==0:\n\
        \x20   os.setsid()\n\
        \x20   if os.fork()==0:\n\
        \x20       signal.signal(signal.SIGTERM, signal.SIG_IGN)\n\
        \x20       s=socket.socket(); s.bind(('127.0.0.1', int(os.environ['PORT']))); s.listen()\n\
        \x20       os.write(w, str(os.getpid()).encode()); time.sleep(120)\n\
        \x20   os._exit(0)\n\
        os.close(w)\n\
        print(os.read(r, 32).decode(), flush=True)\n";
    let run = Running::start(&state, &["--json", "--", "python3", "-c", script]);
    let started = Instant::now();
    let r = run.finish();
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    let daemon: u32 = r.stdout.lines().next().unwrap().trim().parse().unwrap();
    let rep = report(&r);
    let port = rep["port"].as_u64().unwrap() as u16;
    let stopped = rep["descendants_stopped"].as_array().unwrap();
    let entry = stopped
        .iter()
        .find(|s| s["pid"] == daemon)
        .unwrap_or_else(|| panic!("daemon {daemon} not in {stopped:?}"));
    assert_eq!(entry["signal"], "KILL", "it ignores SIGTERM");
    assert_eq!(entry["gone"], true);
    assert_eq!(rep["port_free_after"], true);
    assert!(r.stderr.contains("\"event\":\"stopping\""), "{}", r.stderr);
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "SIGKILL came before the wait"
    );
    assert!(!std::path::Path::new(&format!("/proc/{daemon}")).exists());
    assert_free(port);
}

#[test]
fn passes_the_exit_code_through() {
    let state = StateDir::new("code");
    let r = harness::output(
        portscope()
            .args(["run", "--state-dir", state.arg(), "--json", "--"])
            .args(["sh", "-c", "exit 7"]),
    );
    assert_eq!(r.code, 7, "stderr: {}", r.stderr);
    let rep = report(&r);
    assert_eq!(rep["exit_code"], 7);
    assert_eq!(rep["chosen"], "picked");
    assert_eq!(rep["started"], true);
}

#[test]
fn a_given_port_reserved_for_another_name_is_noted() {
    let state = StateDir::new("given");
    let pick = harness::output(portscope().args(["pick", "--state-dir", state.arg()]));
    let port = pick.stdout.trim().to_string();
    let r = harness::output(portscope().args([
        "reserve",
        "other/app",
        "--port",
        &port,
        "--state-dir",
        state.arg(),
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = harness::output(
        portscope()
            .args(["run", "--port", &port, "--state-dir", state.arg(), "--"])
            .args(["sh", "-c", "exit 0"]),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("port {port} is reserved for other/app")),
        "{}",
        r.stderr
    );
}

#[test]
fn a_name_keeps_its_port_and_port_and_host_reach_the_command() {
    let state = StateDir::new("name");
    let once = || {
        let r = harness::output(
            portscope()
                .args(["run", "--name", "shop/web", "--state-dir", state.arg()])
                .args(["--json", "--", "sh", "-c", "echo \"$PORT $HOST $1\"", "sh"])
                .arg("${PORT}@$HOST"),
        );
        assert_eq!(r.code, 0, "stderr: {}", r.stderr);
        let rep = report(&r);
        let port = rep["port"].as_u64().unwrap();
        assert_eq!(rep["chosen"], "reserved");
        assert_eq!(
            r.stdout.lines().next().unwrap(),
            format!("{port} 127.0.0.1 {port}@127.0.0.1")
        );
        port
    };
    let first = once();
    assert_eq!(once(), first, "the same name got another port");
    let list = harness::json(&["reserve", "--list", "--state-dir", state.arg()]);
    assert_eq!(list["reservations"][0]["name"], "shop/web");
    assert_eq!(list["reservations"][0]["port"], first);
}

#[test]
fn refuses_a_port_held_by_someone_else() {
    let state = StateDir::new("held");
    let holder = harness::tcp_listener("127.0.0.1");
    let port = holder.num(0).to_string();
    let marker = state.0.join("started");
    let r = harness::output(
        portscope()
            .args(["run", "--port", &port, "--state-dir", state.arg(), "--"])
            .args(["touch", marker.to_str().unwrap()]),
    );
    assert_eq!(r.code, 1, "stderr: {}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "port {port} is already in use: python3[{}] on 127.0.0.1:{port}",
            holder.pid
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!("`portscope kill {port}`")),
        "{}",
        r.stderr
    );
    assert!(
        !marker.exists(),
        "the command ran although the port was held"
    );
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let state = StateDir::new("bad");
    let cases: &[&[&str]] = &[
        &["run"],
        &["run", "--port", "70000", "--", "true"],
        &["run", "--", "portscope-no-such-program"],
        &["run", "--", "./no/such/file"],
        &["run", "--name", "a b", "--", "true"],
        &["run", "--host", "a;b", "--", "true"],
    ];
    for args in cases {
        let r = harness::output(portscope().args(*args).args(["--state-dir", state.arg()]));
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.starts_with("portscope: error: "),
            "{args:?}: {}",
            r.stderr
        );
    }
    let r = harness::run(&[
        "run",
        "--state-dir",
        state.arg(),
        "--",
        "portscope-no-such-program",
    ]);
    assert!(
        r.stderr
            .contains("portscope-no-such-program: not found in $PATH"),
        "{}",
        r.stderr
    );
}
