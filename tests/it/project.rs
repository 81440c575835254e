//! Integration tests of `check-config` and `env` (ports.toml): real listeners, ports picked
//! at run time, a private registry (`--state-dir`) per test, the built binary run from the
//! project directory (or below it).

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use super::harness::{self, Run, Spawned};

/// A temporary project: `root/shop` holds ports.toml, `root/state` the registry.
struct Project {
    root: PathBuf,
    dir: PathBuf,
    state: PathBuf,
}

impl Project {
    fn new(tag: &str) -> Project {
        let root =
            std::env::temp_dir().join(format!("portscope-it-project-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("shop/sub/deeper")).unwrap();
        // The project directory as the kernel reports a cwd: symbolic links resolved.
        let root = root.canonicalize().unwrap();
        Project {
            dir: root.join("shop"),
            state: root.join("state"),
            root,
        }
    }

    fn file(&self) -> PathBuf {
        self.dir.join("ports.toml")
    }

    fn write(&self, text: &str) {
        std::fs::write(self.file(), text).unwrap();
    }

    /// Run portscope in `cwd` with this project's registry.
    fn run_in(&self, cwd: &Path, args: &[&str]) -> Run {
        let state = self.state.to_str().unwrap();
        harness::output(
            harness::portscope()
                .args(args)
                .args(["--state-dir", state])
                .current_dir(cwd),
        )
    }

    /// Run portscope in the project directory.
    fn run(&self, args: &[&str]) -> Run {
        self.run_in(&self.dir, args)
    }

    /// Run with `--json` in the project directory; the exit code and the parsed output.
    fn json(&self, args: &[&str]) -> (i32, Value) {
        let mut all = args.to_vec();
        all.push("--json");
        let r = self.run(&all);
        assert!(r.stderr.is_empty(), "stderr of {args:?}: {}", r.stderr);
        let v = serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("bad JSON from {args:?}: {e}\n{}", r.stdout));
        (r.code, v)
    }

    /// `count` free ports from `portscope pick` (outside the ephemeral range, not
    /// well-known), leased in this project's registry.
    fn pick(&self, count: usize) -> Vec<u16> {
        let r = self.run_in(&self.root, &["pick", "--count", &count.to_string()]);
        assert_eq!(r.code, 0, "{r:?}");
        let ports: Vec<u16> = r.stdout.lines().map(|l| l.parse().unwrap()).collect();
        assert_eq!(ports.len(), count, "{r:?}");
        ports
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The JSON row of service `name`.
fn service<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no service {name} in {report}"))
}

/// The codes of a report's findings.
fn codes(report: &Value) -> Vec<&str> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect()
}

/// A python3 TCP listener on 127.0.0.1:`port` started in `cwd`; prints `PORT PID`.
fn listener_in(cwd: &Path, port: u16) -> Spawned {
    let script = format!(
        "import socket,os,time\n\
         s=socket.socket(); s.bind(('127.0.0.1',{port})); s.listen(16)\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         time.sleep(120)\n"
    );
    let mut child = Command::new("python3")
        .args(["-c", &script])
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .process_group(0)
        .spawn()
        .expect("spawn python3");
    let pid = child.id();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(!line.is_empty(), "python3 exited before it listened");
    Spawned {
        child,
        pid,
        words: line.split_whitespace().map(str::to_string).collect(),
    }
}

#[test]
fn clean_config_exits_0_also_from_a_subdirectory() {
    let p = Project::new("clean");
    let ports = p.pick(2);
    p.write(&format!(
        "[project]\nname = \"shop\"\n\n[services.web]\nport = {}\n\n[services.dns]\nport = {}\nproto = \"udp\"\n\n[services.worker-metrics]\n",
        ports[0], ports[1]
    ));
    let registry = std::fs::read(p.state.join("registry.json")).unwrap();
    for cwd in [p.dir.clone(), p.dir.join("sub/deeper")] {
        let r = p.run_in(&cwd, &["check-config"]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stderr.is_empty(), "{r:?}");
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert_eq!(
            lines[0],
            format!("project shop ({})", p.file().display()),
            "{r:?}"
        );
        assert_eq!(
            lines[1].split_whitespace().collect::<Vec<_>>(),
            ["NAME", "PORT", "PROTO", "STATUS"]
        );
        assert_eq!(
            lines[2].split_whitespace().collect::<Vec<_>>(),
            ["web", &ports[0].to_string(), "tcp", "free"]
        );
        assert_eq!(
            lines[3].split_whitespace().collect::<Vec<_>>(),
            ["dns", &ports[1].to_string(), "udp", "free"]
        );
        assert!(
            lines[4].starts_with("worker-metrics")
                && lines[4].ends_with("not reserved yet — `portscope env` reserves it"),
            "{r:?}"
        );
        assert_eq!(
            *lines.last().unwrap(),
            "no collisions: 3 service(s) checked",
            "{r:?}"
        );
    }
    let (code, v) = p.json(&["check-config"]);
    assert_eq!(code, 0);
    assert_eq!(v["command"], "check-config");
    assert_eq!(v["project"]["name"], "shop");
    assert_eq!(v["project"]["dir"], p.dir.to_str().unwrap());
    assert_eq!(v["findings"], serde_json::json!([]));
    assert_eq!(service(&v, "web")["status"], "free");
    assert_eq!(service(&v, "dns")["proto"], "udp");
    let worker = service(&v, "worker-metrics");
    assert_eq!(worker["status"], "unassigned");
    assert_eq!(worker["port"], Value::Null);
    assert_eq!(worker["reservation"], "shop/worker-metrics");
    // check-config reads the registry and never writes it.
    assert_eq!(
        std::fs::read(p.state.join("registry.json")).unwrap(),
        registry
    );
}

#[test]
fn duplicate_ports_exit_1() {
    let p = Project::new("dup");
    let port = p.pick(1)[0];
    p.write(&format!(
        "[services.web]\nport = {port}\n\n[services.admin]\nport = {port}\n\n[services.stats]\nport = {port}\nproto = \"udp\"\n"
    ));
    let r = p.run(&["check-config"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains(&format!(
            "CFG-DUPLICATE-PORT [critical] {port}/tcp is used by 2 services: web, admin"
        )),
        "{r:?}"
    );
    assert!(r.stdout.contains("  seen: line 1: [services.web]"), "{r:?}");
    assert!(
        r.stdout.contains("  seen: line 4: [services.admin]"),
        "{r:?}"
    );
    assert!(r.stdout.contains("same port as admin"), "{r:?}");
    let (code, v) = p.json(&["check-config"]);
    assert_eq!(code, 1);
    assert_eq!(codes(&v), ["CFG-DUPLICATE-PORT"]);
    assert_eq!(service(&v, "web")["status"], "conflict");
    assert_eq!(service(&v, "admin")["status"], "conflict");
    // The same number over UDP does not collide with TCP.
    assert_eq!(service(&v, "stats")["status"], "free");
}

#[test]
fn a_port_another_program_listens_on_is_in_use() {
    let p = Project::new("inuse");
    // Started in the test's directory, not the project's: someone else's program.
    let python = harness::tcp_listener("127.0.0.1");
    let (port, pid) = (python.num(0), python.num(1));
    assert_eq!(pid, python.pid);
    p.write(&format!("[services.web]\nport = {port}\n"));
    let r = p.run(&["check-config"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains(&format!(
            "CFG-IN-USE [critical] web: port {port}/tcp is in use by python3 (pid {pid})"
        )),
        "{r:?}"
    );
    assert!(
        r.stdout.contains(&format!(
            "  seen: python3[{pid}] listens on 127.0.0.1:{port} (cwd "
        )),
        "{r:?}"
    );
    assert!(
        r.stdout.contains(&format!("in use by python3[{pid}]")),
        "{r:?}"
    );
    let (_, v) = p.json(&["check-config"]);
    let web = service(&v, "web");
    assert_eq!(web["status"], "in_use");
    assert_eq!(web["holders"][0]["pid"], pid);
    assert_eq!(web["holders"][0]["comm"], "python3");
    assert_eq!(web["holders"][0]["from_project"], false);
    // A service bound to another address does not collide with it.
    p.write(&format!(
        "[services.web]\nport = {port}\nhost = \"127.0.0.2\"\n"
    ));
    let (_, v) = p.json(&["check-config"]);
    assert!(!codes(&v).contains(&"CFG-IN-USE"), "{v}");
}

#[test]
fn the_projects_own_running_service_is_information() {
    let p = Project::new("running");
    let port = p.pick(1)[0];
    p.write(&format!("[services.web]\nport = {port}\n"));
    let python = listener_in(&p.dir.join("sub"), port);
    let r = p.run(&["check-config"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(&format!(
            "running (from this project): python3[{}]",
            python.pid
        )),
        "{r:?}"
    );
    assert!(r.stdout.contains("CFG-RUNNING [info]"), "{r:?}");
    assert!(!r.stdout.contains("CFG-IN-USE"), "{r:?}");
    let (_, v) = p.json(&["check-config"]);
    assert_eq!(service(&v, "web")["status"], "running");
    assert_eq!(service(&v, "web")["holders"][0]["from_project"], true);
}

#[test]
fn a_port_reserved_by_another_name_is_reported() {
    let p = Project::new("elsewhere");
    let port = p.pick(1)[0].to_string();
    let r = p.run_in(&p.root, &["reserve", "other", "--port", &port]);
    assert_eq!(r.code, 0, "{r:?}");
    p.write(&format!(
        "[project]\nname = \"shop\"\n[services.web]\nport = {port}\n"
    ));
    let r = p.run(&["check-config"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains(&format!(
            "CFG-RESERVED-ELSEWHERE [warning] web: port {port} is reserved for 'other'"
        )),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("  fix:  or, if 'other' is no longer used: portscope release other"),
        "{r:?}"
    );
    let (_, v) = p.json(&["check-config"]);
    assert_eq!(service(&v, "web")["reserved_for"], "other");
    assert_eq!(service(&v, "web")["status"], "conflict");
    // This project's own name for the service is no collision.
    let r = p.run_in(&p.root, &["release", "other"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = p.run_in(&p.root, &["reserve", "shop/web", "--port", &port]);
    assert_eq!(r.code, 0, "{r:?}");
    let (code, v) = p.json(&["check-config"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(codes(&v), Vec::<&str>::new());
}

#[test]
fn env_prints_the_lines_and_reserves_a_stable_port() {
    let p = Project::new("env");
    let port = p.pick(1)[0];
    p.write(&format!(
        "[project]\nname = \"shop\"\n\n[services.web]\nport = {port}\n\n[services.worker-metrics]\n"
    ));
    let first = p.run(&["env"]);
    assert_eq!(first.code, 0, "{first:?}");
    assert!(first.stderr.is_empty(), "{first:?}");
    let lines: Vec<&str> = first.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{first:?}");
    assert_eq!(lines[0], format!("WEB_PORT={port}"));
    let reserved: u16 = lines[1]
        .strip_prefix("WORKER_METRICS_PORT=")
        .unwrap_or_else(|| panic!("{first:?}"))
        .parse()
        .unwrap();
    assert_ne!(reserved, port);
    // The same port on a second run, from a subdirectory too.
    let again = p.run_in(&p.dir.join("sub/deeper"), &["env"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(again.stdout, first.stdout);
    // Recorded in the registry under <project>/<service>, owned by the project directory.
    let r = p.run_in(&p.root, &["reserve", "--list", "--json"]);
    let list: Value = serde_json::from_str(&r.stdout).unwrap();
    let res = list["reservations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "shop/worker-metrics")
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(res["port"], reserved);
    assert_eq!(res["dir"], p.dir.to_str().unwrap());
    let (code, v) = p.json(&["env"]);
    assert_eq!(code, 0);
    assert_eq!(v["command"], "env");
    assert_eq!(
        v["vars"],
        serde_json::json!({"WEB_PORT": port, "WORKER_METRICS_PORT": reserved})
    );
    assert_eq!(v["services"][1]["port_from"], "reserved");
    assert_eq!(v["services"][1]["newly_reserved"], false);
    // check-config now shows the reserved port.
    let (code, v) = p.json(&["check-config"]);
    assert_eq!(code, 0, "{v}");
    let worker = service(&v, "worker-metrics");
    assert_eq!(worker["port"], reserved);
    assert_eq!(worker["port_from"], "reserved");
    assert_eq!(worker["status"], "free");
}

#[test]
fn corrupt_ports_toml_exits_2_naming_file_and_line() {
    let p = Project::new("corrupt");
    p.write("[services.web]\nport = 3000\n\n[services.api]\nprot = \"tcp\"\n");
    for args in [&["check-config"][..], &["env"]] {
        let r = p.run(args);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stdout.is_empty(), "{r:?}");
        let want = format!(
            "portscope: error: {} line 5: unknown field `prot`, expected one of `port`, `proto`, `host`; ",
            p.file().display()
        );
        assert!(r.stderr.starts_with(&want), "{r:?}");
        assert_eq!(r.stderr.lines().count(), 1, "{r:?}");
    }
    p.write("[services.web]\nport = 70000\n");
    let r = p.run(&["check-config"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("ports.toml line 2: port 70000 is out of range"),
        "{r:?}"
    );
    // env made no registry: nothing was reserved from a file it could not read.
    assert!(!p.state.join("registry.json").exists());
}

#[test]
fn no_ports_toml_anywhere_exits_2() {
    let p = Project::new("none");
    let cwd = p.dir.join("sub/deeper");
    if let Some(found) = cwd
        .ancestors()
        .map(|d| d.join("ports.toml"))
        .find(|f| f.exists())
    {
        crate::harness::skipped(
            "no_ports_toml_anywhere_exits_2",
            &format!("{} exists", found.display()),
        );
        return;
    }
    for args in [&["check-config"][..], &["env"]] {
        let r = p.run_in(&cwd, args);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stdout.is_empty(), "{r:?}");
        assert!(
            r.stderr.starts_with(&format!(
                "portscope: error: no ports.toml in {} or any directory above it; ",
                cwd.display()
            )),
            "{r:?}"
        );
        assert!(r.stderr.contains("--config FILE"), "{r:?}");
    }
    // --config names it explicitly (a directory means its ports.toml).
    p.write("[services.web]\n");
    let config = p.dir.to_str().unwrap();
    let r = p.run_in(&p.root, &["env", "--config", config]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("WEB_PORT="), "{r:?}");
    let missing = p.root.join("missing.toml");
    let r = p.run_in(
        &p.root,
        &["check-config", "--config", missing.to_str().unwrap()],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains(&missing.display().to_string()), "{r:?}");
}

#[test]
fn the_projects_own_reservations_stale_or_shared_with_another_checkout() {
    let p = Project::new("own");
    let ports = p.pick(2);
    let (a, b) = (ports[0].to_string(), ports[1].to_string());
    let dir = p.dir.to_str().unwrap();
    let other_checkout = p.root.to_str().unwrap();
    for args in [
        ["reserve", "shop/gone", "--port", &a, "--dir", dir],
        [
            "reserve",
            "shop/worker",
            "--port",
            &b,
            "--dir",
            other_checkout,
        ],
    ] {
        let r = p.run_in(&p.root, &args);
        assert_eq!(r.code, 0, "{r:?}");
    }
    p.write("[project]\nname = \"shop\"\n[services.worker]\n");
    let (code, v) = p.json(&["check-config"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(
        codes(&v),
        ["CFG-SHARED-RESERVATION", "CFG-STALE-RESERVATION"]
    );
    let worker = service(&v, "worker");
    assert_eq!(worker["port"], ports[1]);
    assert_eq!(worker["port_from"], "reserved");
    assert_eq!(worker["status"], "conflict");
    let stale = &v["findings"][1];
    assert_eq!(stale["severity"], "info");
    assert_eq!(stale["fix"][0], "portscope release shop/gone");
}
