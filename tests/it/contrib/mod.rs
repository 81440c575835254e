//! The fleet configuration in contrib/ checked by the programs that read it: Nagios 4 and
//! Icinga 2 validate their files and then run every check through the real scheduler, the
//! Zabbix agent runs every item, and every PromQL expression of the Grafana dashboard is
//! asked of a real Prometheus scraping a real exporter. Each test that needs a program skips
//! (or fails under `PORTSCOPE_REQUIRE_ROOT=1`) through `harness::needs` when it is missing.
//! Ports are chosen at run time; files go to temporary directories; every child is ended.
//! One file per program; here what they share: the contrib files with the binary under
//! test in them, a banner-sending server, and daemons that are asked to stop.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{self, Spawned};

mod grafana;
mod icinga2;
mod nagios;
mod zabbix;

/// Where the contrib files say portscope is installed.
const INSTALLED: &str = "/usr/local/bin/portscope";

fn contrib(path: &str) -> PathBuf {
    crate::exporter::repo().join("contrib").join(path)
}

fn contrib_text(path: &str) -> String {
    std::fs::read_to_string(contrib(path)).unwrap_or_else(|e| panic!("contrib/{path}: {e}"))
}

/// A contrib file's text with the installed binary replaced by the one under test.
fn with_built_binary(text: &str) -> String {
    assert!(text.contains(INSTALLED), "no {INSTALLED} in:\n{text}");
    text.replace(INSTALLED, env!("CARGO_BIN_EXE_portscope"))
}

/// `text` with `from` replaced by `to`, which must be there (a changed contrib file fails
/// here rather than quietly testing less).
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} once in:\n{text}");
    text.replace(from, to)
}

fn combined(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A loopback TCP server that greets every client with an SSH banner and hangs up, for
/// 120 s at most. Prints `PORT PID`.
fn ssh_like() -> Spawned {
    harness::python(
        "import socket,os,time\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(16); s.settimeout(1)\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         end=time.time()+120\n\
         while time.time()<end:\n\
         \x20   try:\n\
         \x20       c,_=s.accept()\n\
         \x20   except socket.timeout:\n\
         \x20       continue\n\
         \x20   c.sendall(b'SSH-2.0-portscope_test\\r\\n'); c.close()\n",
    )
}

/// A server that must be stopped with SIGTERM (it shuts its own helpers down: Nagios's
/// workers live in process groups of their own); SIGKILL to its group after 10 s.
struct Daemon(Spawned);

impl Daemon {
    fn start(cmd: &mut Command) -> Daemon {
        use std::os::unix::process::CommandExt;
        let child = cmd
            .stdin(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
        Daemon(Spawned {
            pid: child.id(),
            child,
            words: vec![],
        })
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.0.child.try_wait().unwrap()
    }

    /// The results `read` finds in the files of the daemon `name`, once there is one for
    /// every one of `services`: polled for 60 s at most; panics with the daemon's `log` if it
    /// exits first or the time runs out.
    fn results_for<V: std::fmt::Debug>(
        &mut self,
        name: &str,
        log: &str,
        services: &[&str],
        read: impl Fn() -> BTreeMap<String, V>,
    ) -> BTreeMap<String, V> {
        let log = || std::fs::read_to_string(log).unwrap_or_default();
        wait_for(
            Duration::from_secs(60),
            || {
                if let Some(s) = self.exited() {
                    panic!("{name} exited: {s:?}\n{}", log());
                }
                let found = read();
                services
                    .iter()
                    .all(|service| found.contains_key(*service))
                    .then_some(found)
            },
            || {
                format!(
                    "not every service was checked within 60 s\nresults: {:?}\nlog:\n{}",
                    read(),
                    log()
                )
            },
        )
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(pid) = rustix::process::Pid::from_raw(self.0.pid as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // then Spawned's own drop: SIGKILL to the process group, and wait
    }
}

/// Poll `ready` every 250 ms until it returns `Some`, for `limit` at most; else panic with
/// what `explain` says.
fn wait_for<T>(
    limit: Duration,
    mut ready: impl FnMut() -> Option<T>,
    explain: impl Fn() -> String,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = ready() {
            return v;
        }
        assert!(Instant::now() < deadline, "{}", explain());
        std::thread::sleep(Duration::from_millis(250));
    }
}
