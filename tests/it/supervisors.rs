//! Supervisors behind a port, live: `systemd-socket-activate` holding a listener for a
//! program it starts (before and after the first connection, and with `--accept`), what
//! `who`, `explain` and `kill` say of it, and `kill` freeing the port by stopping the manager.
//! With systemd as the running init (skipped otherwise, one line; required with
//! `PORTSCOPE_REQUIRE_SYSTEMD=1`): a unit with `Restart=always` and a `.socket` unit, stopped
//! with `systemctl stop`.
//!
//! The activator gets a listener on port 0 the way systemd passes one (`LISTEN_FDS=1`, fd 3):
//! a python wrapper binds it, prints `PORT PID` and execs `systemd-socket-activate` in its
//! own place, so no port is ever guessed.

use std::io::Read;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::harness::{self, Spawned, json, run};
use crate::kill::{holding, kill_json};
use crate::reports::on_port;

/// Binds 127.0.0.1:0, hands the listener on as fd 3 and execs `systemd-socket-activate`
/// with the script's arguments (same pid).
const WRAP: &str = "import socket,os,sys\n\
s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(16)\n\
os.dup2(s.fileno(),3); os.set_inheritable(3,True)\n\
print(s.getsockname()[1], os.getpid(), flush=True)\n\
os.environ.update(LISTEN_FDS='1', LISTEN_PID=str(os.getpid()))\n\
os.execvp('systemd-socket-activate', ['systemd-socket-activate']+sys.argv[1:])\n";

/// A socket-activated program: accepts one connection on fd 3, says `hi`, stays.
const SERVE_ONCE: &str = "import socket,time\n\
s=socket.socket(fileno=3)\n\
c,_=s.accept(); c.sendall(b'hi\\n')\n\
time.sleep(60)\n";

/// `systemd-socket-activate FLAGS… python3 -c SCRIPT` on a port of its own, once it runs;
/// `None` (one skip line) without systemd-socket-activate.
fn activator(flags: &[&str], script: &str) -> Option<(Spawned, u32, u32)> {
    harness::needs(
        &harness::current_test(),
        "systemd-socket-activate",
        "systemd",
    )?;
    let mut args = vec!["-c", WRAP];
    args.extend_from_slice(flags);
    args.extend(["python3", "-c", script]);
    let a = harness::spawn("python3", &args);
    let (port, pid) = (a.num(0), a.num(1));
    wait_comm(pid, "systemd-socket-");
    Some((a, port, pid))
}

/// Wait until `/proc/PID/comm` is `want` (up to 5 s).
fn wait_comm(pid: u32, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim_end() == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "pid {pid} is {comm:?}, not {want}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Connect to 127.0.0.1:PORT and read the `hi` the started program sends.
fn connect(port: u32) -> std::net::TcpStream {
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port as u16)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 3];
    c.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"hi\n");
    c
}

/// The supervisor of the listener on `port` in `who --json`.
fn listener_supervisor(port: u32) -> serde_json::Value {
    let r = json(&["who", &port.to_string()]);
    let listeners: Vec<_> = on_port(&r, port)
        .into_iter()
        .filter(|s| s["state"] == "listen")
        .collect();
    assert_eq!(listeners.len(), 1, "{r:#}");
    listeners[0]["supervisor"].clone()
}

#[test]
fn who_names_the_manager_and_what_it_starts() {
    let Some((_a, port, pid)) = activator(&[], SERVE_ONCE) else {
        return;
    };
    let r = run(&["who", &port.to_string()]);
    let want = format!(
        "  manager   systemd-socket-activate[{pid}] (socket activation) listens here and starts `python3 -c "
    );
    assert!(r.stdout.contains(&want), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("on the first connection, becoming it (it execs: same pid, the listener passes on); stopping it frees the port"),
        "{}",
        r.stdout
    );
    let sup = listener_supervisor(port);
    assert_eq!(sup["kind"], "socket_activate", "{sup:#}");
    assert_eq!(sup["manager"]["pid"], pid);
    assert_eq!(sup["command"][0], "python3");
    assert_eq!(sup["per_connection"], false);
    assert_eq!(sup["kill_frees"], true);
    assert!(sup["stop_units"].as_array().unwrap().is_empty());

    let e = json(&["explain", &port.to_string()]);
    let facts = e["facts"].as_array().unwrap();
    let said = facts
        .iter()
        .find(|f| f["topic"] == "supervisor")
        .unwrap_or_else(|| panic!("no supervisor fact: {e:#}"));
    assert!(
        said["text"].as_str().unwrap().starts_with(&format!(
            "systemd-socket-activate[{pid}] (socket activation)"
        )),
        "{said:#}"
    );
}

#[test]
fn after_the_first_connection_the_program_says_it_was_socket_activated() {
    let Some((_a, port, pid)) = activator(&[], SERVE_ONCE) else {
        return;
    };
    let _c = connect(port);
    wait_comm(pid, "python3");
    let sup = listener_supervisor(port);
    assert_eq!(sup["kind"], "activated", "{sup:#}");
    assert!(
        sup["manager"].is_null(),
        "nothing manages it any more: {sup:#}"
    );
    assert_eq!(
        sup["note"],
        format!("LISTEN_PID={pid}, LISTEN_FDS=1 in its environment")
    );
    let r = run(&["who", &port.to_string()]);
    assert!(
        r.stdout.contains(&format!(
            "  activated started by socket activation (LISTEN_PID={pid}, LISTEN_FDS=1 in its environment) and now holds the listener alone"
        )),
        "{}",
        r.stdout
    );
}

#[test]
fn accept_mode_names_the_manager_of_each_connection() {
    let per_connection = "import socket,time\n\
        c=socket.socket(fileno=3); c.sendall(b'hi\\n')\n\
        time.sleep(60)\n";
    let Some((_a, port, pid)) = activator(&["--accept"], per_connection) else {
        return;
    };
    let _c = connect(port);
    let sup = listener_supervisor(port);
    assert_eq!(sup["kind"], "socket_activate");
    assert_eq!(sup["per_connection"], true, "{sup:#}");
    let r = json(&["who", &port.to_string()]);
    let spawned: Vec<_> = on_port(&r, port)
        .into_iter()
        .filter(|s| s["state"] == "established" && s["supervisor"]["kind"] == "spawned")
        .collect();
    assert_eq!(spawned.len(), 1, "{r:#}");
    assert_eq!(spawned[0]["supervisor"]["manager"]["pid"], pid);
    let text = run(&["who", &port.to_string()]).stdout;
    assert!(
        text.contains(&format!(
            "  spawned   by systemd-socket-activate[{pid}] for this connection; the listener stays with pid {pid}"
        )),
        "{text}"
    );
    assert!(text.contains("for each connection (--accept); the listener stays with it"));
}

#[test]
fn kill_says_it_is_a_manager_and_stopping_it_frees_the_port() {
    let Some((_a, port, pid)) = activator(&[], SERVE_ONCE) else {
        return;
    };
    let p = port.to_string();
    let dry = crate::kill::kill(&[&p, "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains("would stop:"), "{}", dry.stdout);
    assert!(
        dry.stdout.contains(&format!(
            "  manager   systemd-socket-activate[{pid}] (socket activation) listens here and starts `python3 -c"
        )),
        "{}",
        dry.stdout
    );
    let (_, plan) = kill_json(&[&p, "--dry-run"]);
    assert_eq!(
        plan["supervisors"][0]["supervisor"]["kind"],
        "socket_activate"
    );
    assert_eq!(plan["supervisors"][0]["pids"][0], pid);
    assert_eq!(plan["stop"][0]["pid"], pid);

    let (code, done) = kill_json(&[&p, "--yes"]);
    assert_eq!(code, 0, "{done:#}");
    assert_eq!(done["all_free"], true, "{done:#}");
    assert_eq!(done["outcomes"][0]["pid"], pid);
    assert_eq!(done["outcomes"][0]["outcome"], "exited_after_signal");
    assert!(done.get("unit_stops").is_none(), "no systemctl: {done:#}");
    assert!(holding(port).is_empty());
}

/// A system unit run for a test, stopped (and forgotten) on drop.
struct Unit(String);

impl Drop for Unit {
    fn drop(&mut self) {
        let base = self.0.trim_end_matches(".service");
        for u in [format!("{base}.socket"), format!("{base}.service")] {
            let _ = Command::new("systemctl").args(["stop", &u]).status();
            let _ = Command::new("systemctl")
                .args(["reset-failed", &u])
                .status();
        }
    }
}

/// A port free now (bound and let go): only for systemd's own `ListenStream=`, which takes
/// no port 0; a clash with another test would fail the `systemd-run` loudly.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn systemctl_value(unit: &str, prop: &str) -> String {
    let out = Command::new("systemctl")
        .args(["show", "-p", prop, "--value", unit])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn systemd_units_are_stopped_with_systemctl() {
    let test = harness::current_test();
    if !harness::needs_systemd(&test)
        || !harness::require_root(&test, "systemd-run starts system units")
    {
        return;
    }
    // A service that restarts: a kill would not free its port.
    let name = format!("portscope-test-{}", std::process::id());
    let unit = Unit(format!("{name}.service"));
    let listen = "import socket,time\ns=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(8)\ntime.sleep(300)\n";
    let ok = Command::new("systemd-run")
        .args([
            "--unit",
            &unit.0,
            "-p",
            "Restart=always",
            "python3",
            "-c",
            listen,
        ])
        .status()
        .unwrap();
    assert!(ok.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let port = loop {
        let main: u32 = systemctl_value(&unit.0, "MainPID").parse().unwrap_or(0);
        if main > 0 {
            let r = json(&["who", &format!("pid:{main}")]);
            if let Some(p) = r["sockets"][0]["local"]["port"].as_u64() {
                break p as u32;
            }
        }
        assert!(Instant::now() < deadline, "{} never listened", unit.0);
        std::thread::sleep(Duration::from_millis(100));
    };
    let sup = listener_supervisor(port);
    assert_eq!(sup["kind"], "systemd_service", "{sup:#}");
    assert_eq!(sup["restart"], "always");
    assert_eq!(sup["kill_frees"], false);
    assert_eq!(sup["stop_units"][0], unit.0.as_str());
    let text = run(&["who", &port.to_string()]).stdout;
    assert!(
        text.contains(&format!("  stop      systemctl stop {}", unit.0)),
        "{text}"
    );
    let (code, done) = kill_json(&[&port.to_string(), "--yes"]);
    assert_eq!(code, 0, "{done:#}");
    assert_eq!(done["unit_stops"][0]["ok"], true, "{done:#}");
    assert_eq!(done["all_free"], true);
    assert_ne!(systemctl_value(&unit.0, "ActiveState"), "active");

    // A .socket unit: pid 1 holds the listener; kill stops the socket and its service.
    let sock_port = free_port();
    let name = format!("portscope-sock-{}", std::process::id());
    let unit = Unit(format!("{name}.service"));
    let ok = Command::new("systemd-run")
        .args([
            "--unit",
            &unit.0,
            &format!("--socket-property=ListenStream=127.0.0.1:{sock_port}"),
            "python3",
            "-c",
            SERVE_ONCE,
        ])
        .status()
        .unwrap();
    assert!(ok.success());
    let sup = listener_supervisor(u32::from(sock_port));
    assert_eq!(sup["kind"], "systemd_socket", "{sup:#}");
    assert_eq!(sup["manager"]["pid"], 1);
    assert_eq!(sup["socket_unit"], format!("{name}.socket"));
    assert_eq!(sup["activates"][0], unit.0.as_str());
    let dry = crate::kill::kill(&[&sock_port.to_string(), "--dry-run"]);
    assert!(
        dry.stdout.contains(&format!(
            "would stop systemd units: systemctl stop {name}.socket {name}.service"
        )),
        "{}",
        dry.stdout
    );
    assert!(!dry.stdout.contains("refused"), "{}", dry.stdout);
    let (code, done) = kill_json(&[&sock_port.to_string(), "--yes"]);
    assert_eq!(code, 0, "{done:#}");
    assert_eq!(done["all_free"], true, "{done:#}");
}
