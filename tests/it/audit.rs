//! Integration tests of `audit`: real servers on ports picked at run time, the built binary
//! run in an empty directory of its own (no stray `portscope-audit.toml`, `XDG_CONFIG_HOME`
//! and `HOME` there too). Other things listen on this machine and other tests run in
//! parallel, so every assertion is about findings whose subject is *our* server's port.
//!
//! A probing audit connects to every TCP listener it examines, and a pending connection
//! shows up in another test's `who` of its own listener: audits that probe are narrowed to
//! our server with `--port`; audits of the whole machine run with `--no-probe`.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

use crate::harness::{self, Run};
use crate::servers;

/// An empty directory, removed on drop: the audit's working directory and config home.
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    pub(crate) fn new() -> Scratch {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("portscope-it-audit-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir(&path).unwrap();
        Scratch(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    /// Write `name` in the directory; its path.
    fn write(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        if let Some(dir) = p.parent() {
            fs::create_dir_all(dir).unwrap();
        }
        fs::write(&p, text).unwrap();
        p.display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Run `portscope audit ARGS` in `dir` (also its config home).
pub(crate) fn run_in(dir: &Scratch, args: &[&str]) -> Run {
    harness::output(
        harness::portscope()
            .arg("audit")
            .args(args)
            .current_dir(dir.path())
            .env("XDG_CONFIG_HOME", dir.path())
            .env("HOME", dir.path()),
    )
}

/// Run `portscope audit ARGS --json` in a fresh directory: the report and the exit code.
fn audit(args: &[&str]) -> (Value, i32) {
    audit_in(&Scratch::new(), args)
}

fn audit_in(dir: &Scratch, args: &[&str]) -> (Value, i32) {
    let mut all = args.to_vec();
    all.push("--json");
    let r = run_in(dir, &all);
    assert!(
        r.stderr.is_empty(),
        "stderr of audit {args:?}: {}",
        r.stderr
    );
    let v: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("bad JSON from audit {args:?}: {e}\n{}", r.stdout));
    (v, r.code)
}

/// `--port P`: the audit narrowed to these ports.
fn ports(ports: &[u16]) -> String {
    let list: Vec<String> = ports.iter().map(u16::to_string).collect();
    format!("--port={}", list.join(","))
}

/// The findings (or, with `list = "allowed"`, the allowed ones) whose subject port is `port`.
fn about<'a>(report: &'a Value, list: &str, port: u16) -> Vec<&'a Value> {
    report[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} array in {report}"))
        .iter()
        .filter(|f| f["subject"]["port"].as_u64() == Some(u64::from(port)))
        .collect()
}

/// The one finding with `code` about `port`; fails with the report otherwise.
fn only<'a>(report: &'a Value, code: &str, port: u16) -> &'a Value {
    let found: Vec<&Value> = about(report, "findings", port)
        .into_iter()
        .filter(|f| f["code"] == code)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{code} about port {port}: {found:?}\nreport: {report}"
    );
    found[0]
}

fn codes(findings: &[&Value]) -> Vec<String> {
    findings
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn redis_on_all_interfaces_without_a_password_is_critical() {
    let Some(redis) = servers::redis_exposed() else {
        return;
    };
    let (r, code) = audit(&[&ports(&[redis.port])]);
    assert_eq!(r["command"], "audit");
    assert_eq!(r["probed"], true);
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["subject"]["port"] == redis.port),
        "--port keeps to the port: {r}"
    );
    let f = only(&r, "AUD-EXPOSED-DATASTORE", redis.port);
    assert_eq!(f["severity"], "critical", "{f}");
    assert_eq!(f["subject"]["proto"], "tcp");
    assert_eq!(f["subject"]["address"], "0.0.0.0");
    assert_eq!(f["subject"]["process"], "redis-server");
    assert_eq!(f["subject"]["pid"], redis.pid());
    assert!(
        f["title"].as_str().unwrap().contains("without a password"),
        "{f}"
    );
    let fix = f["fix"].to_string();
    assert!(fix.contains("redis-server --bind 127.0.0.1"), "{fix}");
    assert!(fix.contains("requirepass"), "{fix}");
    assert!(f["evidence"].to_string().contains("+PONG"), "{f}");
    assert_eq!(
        code, 1,
        "a critical finding fails the default --fail-on warning"
    );
    assert_eq!(r["failed"], true);
    assert_eq!(r["fail_on"], "warning");
}

#[test]
fn redis_on_loopback_is_not_a_finding() {
    let Some(redis) = servers::redis(None) else {
        return;
    };
    let (r, code) = audit(&[&ports(&[redis.port]), "--fail-on", "info"]);
    assert_eq!(r["findings"], serde_json::json!([]), "{r}");
    assert_eq!(r["allowed"], serde_json::json!([]), "{r}");
    assert_eq!(r["listeners"], 1, "{r}");
    assert_eq!(code, 0, "nothing at all, not even informational");
    // The whole machine, without probes: still nothing about it.
    let (r, _) = audit(&["--no-probe"]);
    assert!(about(&r, "findings", redis.port).is_empty(), "{r}");
}

#[test]
fn redis_in_protected_mode_or_with_a_password_is_a_warning() {
    let (Some(protected), Some(with_pw)) = (
        servers::redis_bound("0.0.0.0", None),
        servers::redis_bound("0.0.0.0", Some("s3cret-pw")),
    ) else {
        return;
    };
    let (r, _) = audit(&[&ports(&[protected.port, with_pw.port])]);
    let f = only(&r, "AUD-EXPOSED-AUTHENTICATED", with_pw.port);
    assert_eq!(f["severity"], "warning", "{f}");
    assert!(!codes(&about(&r, "findings", with_pw.port)).contains(&"AUD-EXPOSED-DATASTORE".into()));
    // Protected mode serves loopback without a password and refuses everyone else; the
    // audit checks from a non-loopback address of this machine when there is one.
    let f = only(&r, "AUD-EXPOSED-DATASTORE", protected.port);
    let evidence = f["evidence"].to_string();
    if evidence.contains("(not a loopback client): refused") {
        assert_eq!(f["severity"], "warning", "{f}");
        assert!(
            f["title"].as_str().unwrap().contains("protected mode"),
            "{f}"
        );
    } else {
        assert_eq!(f["severity"], "critical", "no outward address here: {f}");
    }
}

#[test]
fn without_probes_an_exposed_redis_is_a_warning_named_by_its_process() {
    let Some(redis) = servers::redis_exposed() else {
        return;
    };
    let (r, _) = audit(&["--no-probe", &ports(&[redis.port])]);
    assert_eq!(r["probed"], false);
    let f = only(&r, "AUD-EXPOSED-DATASTORE", redis.port);
    assert_eq!(f["severity"], "warning", "{f}");
    assert!(f["title"].as_str().unwrap().contains("not probed"), "{f}");
}

#[test]
fn memcached_on_all_interfaces_is_critical() {
    let Some(m) = servers::memcached_bound("0.0.0.0") else {
        return;
    };
    let (r, code) = audit(&[&ports(&[m.port])]);
    let f = only(&r, "AUD-EXPOSED-DATASTORE", m.port);
    assert_eq!(f["severity"], "critical", "{f}");
    assert_eq!(f["subject"]["process"], "memcached");
    assert!(
        f["fix"].to_string().contains("memcached -l 127.0.0.1"),
        "{f}"
    );
    assert_eq!(code, 1);
}

#[test]
fn node_inspector_on_all_interfaces_is_critical() {
    let Some(node) = servers::node_inspector_bound("0.0.0.0") else {
        return;
    };
    let (r, code) = audit(&[&ports(&[node.port])]);
    let f = only(&r, "AUD-EXPOSED-DEBUGGER", node.port);
    assert_eq!(f["severity"], "critical", "{f}");
    assert_eq!(f["subject"]["process"], "node");
    assert!(
        f["fix"]
            .to_string()
            .contains(&format!("node --inspect=127.0.0.1:{}", node.port)),
        "{f}"
    );
    assert!(
        about(&r, "findings", node.port)
            .iter()
            .all(|f| f["code"] != "AUD-DEBUGGER-LOOPBACK")
    );
    assert_eq!(code, 1);
}

#[test]
fn node_inspector_on_loopback_is_a_warning() {
    let Some(node) = servers::node_inspector() else {
        return;
    };
    let (r, code) = audit(&[&ports(&[node.port])]);
    let f = only(&r, "AUD-DEBUGGER-LOOPBACK", node.port);
    assert_eq!(code, 1, "a warning fails the default --fail-on warning");
    assert!(
        f["evidence"].to_string().contains("node-inspector"),
        "identified by the probe: {f}"
    );
    assert_eq!(f["severity"], "warning", "{f}");
    assert_eq!(
        codes(&about(&r, "findings", node.port)),
        ["AUD-DEBUGGER-LOOPBACK"]
    );
}

#[test]
fn a_python_listener_on_loopback_is_not_a_finding() {
    let l = harness::tcp_listener("127.0.0.1");
    let port: u16 = l.words[0].parse().unwrap();
    let (r, _) = audit(&["--no-probe"]);
    assert!(about(&r, "findings", port).is_empty(), "{r}");
    assert!(r["listeners"].as_u64().unwrap() >= 1);
    let (r, code) = audit(&[&ports(&[port]), "--fail-on", "info"]);
    assert_eq!(r["findings"], serde_json::json!([]), "{r}");
    assert_eq!(code, 0);
}

#[test]
fn root_on_a_high_port_beyond_loopback_is_flagged() {
    if !harness::require_root("root_on_a_high_port", "the listener must run as root") {
        return;
    }
    let l = harness::tcp_listener("0.0.0.0");
    let port: u16 = l.words[0].parse().unwrap();
    let (r, _) = audit(&["--no-probe"]);
    let f = only(&r, "AUD-ROOT-HIGH-PORT", port);
    assert_eq!(f["severity"], "warning", "{f}");
    assert_eq!(f["subject"]["pid"], l.pid);
    assert!(
        f["evidence"]
            .to_string()
            .contains("ip_unprivileged_port_start"),
        "{f}"
    );
    // The listener itself is reachable: listed for the inventory.
    assert_eq!(only(&r, "AUD-EXPOSED-SERVICE", port)["severity"], "info");
}

#[test]
fn a_world_writable_unix_socket_of_root_is_flagged() {
    if !harness::require_root(
        "world_writable_unix_socket",
        "the socket must belong to root",
    ) {
        return;
    }
    let dir = Scratch::new();
    // Searchable by others whatever the umask: only the socket's own mode decides.
    fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let open = dir.path().join("open.sock").display().to_string();
    let closed = dir.path().join("closed.sock").display().to_string();
    let p = harness::python(&format!(
        "import socket,os,time\n\
         a=socket.socket(socket.AF_UNIX); a.bind('{open}'); a.listen(4); os.chmod('{open}', 0o777)\n\
         b=socket.socket(socket.AF_UNIX); b.bind('{closed}'); b.listen(4); os.chmod('{closed}', 0o770)\n\
         print(os.getpid(), flush=True)\n\
         time.sleep(120)\n"
    ));
    let (r, _) = audit(&["--no-probe"]);
    let unix: Vec<&Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["subject"]["proto"] == "unix")
        .filter(|f| {
            f["subject"]["address"]
                .as_str()
                .is_some_and(|a| a.starts_with(&dir.path().display().to_string()))
        })
        .collect();
    assert_eq!(unix.len(), 1, "{unix:?}\n{r}");
    let f = unix[0];
    assert_eq!(f["code"], "AUD-UNIX-WORLD-WRITABLE");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["subject"]["address"], open.as_str());
    assert_eq!(f["subject"]["pid"], p.pid);
    assert_eq!(f["subject"]["process"], "python3");
    assert!(f["evidence"].to_string().contains("mode 0777"), "{f}");
}

#[test]
fn the_allowlist_silences_a_finding_and_keeps_it_with_its_reason() {
    let Some(redis) = servers::redis_exposed() else {
        return;
    };
    let dir = Scratch::new();
    let file = dir.write(
        "lists/mine.toml",
        &format!(
            "[[allow]]\nrule = \"AUD-EXPOSED-DATASTORE\"\nport = {}\nprocess = \"redis-server\"\nreason = \"lab box, firewalled at the edge\"\n",
            redis.port
        ),
    );
    let port = ports(&[redis.port]);
    let (r, _) = audit_in(&dir, &["--allowlist", &file, &port]);
    assert!(
        !codes(&about(&r, "findings", redis.port)).contains(&"AUD-EXPOSED-DATASTORE".into()),
        "{r}"
    );
    let allowed = about(&r, "allowed", redis.port);
    assert_eq!(codes(&allowed), ["AUD-EXPOSED-DATASTORE"], "{r}");
    assert_eq!(allowed[0]["reason"], "lab box, firewalled at the edge");
    assert_eq!(allowed[0]["severity"], "critical");
    assert_eq!(r["allowlist"], file.as_str());

    // Shown in the table only with --show-allowed.
    let plain = run_in(&dir, &["--allowlist", &file, &port]);
    assert!(!plain.stdout.contains("lab box"), "{}", plain.stdout);
    let shown = run_in(&dir, &["--allowlist", &file, &port, "--show-allowed"]);
    assert!(
        shown
            .stdout
            .contains("  allowed: lab box, firewalled at the edge"),
        "{}",
        shown.stdout
    );
}

#[test]
fn the_allowlist_is_found_in_the_directory_then_the_config_home() {
    let Some(redis) = servers::redis_exposed() else {
        return;
    };
    let entry = |why: &str| {
        format!(
            "[[allow]]\nrule = \"AUD-EXPOSED-*\"\nport = {}\nreason = \"{why}\"\n",
            redis.port
        )
    };
    let dir = Scratch::new();
    let config = dir.write("portscope/audit.toml", &entry("from the config home"));
    let port = ports(&[redis.port]);
    let (r, _) = audit_in(&dir, &[&port]);
    assert_eq!(r["allowlist"], config.as_str());
    assert_eq!(
        about(&r, "allowed", redis.port)[0]["reason"],
        "from the config home"
    );
    let here = dir.write("portscope-audit.toml", &entry("from the directory"));
    let (r, _) = audit_in(&dir, &[&port]);
    assert_eq!(r["allowlist"], here.as_str());
    assert_eq!(
        about(&r, "allowed", redis.port)[0]["reason"],
        "from the directory"
    );
}

#[test]
fn exit_codes_follow_fail_on() {
    let Some(redis) = servers::redis_exposed() else {
        return;
    };
    let dir = Scratch::new();
    let port = ports(&[redis.port]);
    let port = port.as_str();
    for (args, want) in [
        (&[port, "--fail-on", "critical"][..], 1),
        (&[port, "--fail-on", "never"][..], 0),
    ] {
        let r = run_in(&dir, args);
        assert_eq!(
            r.code, want,
            "audit {args:?} with redis on 0.0.0.0:{}\n{}{}",
            redis.port, r.stdout, r.stderr
        );
    }
    // Everything accepted: nothing left to fail on, whatever the threshold.
    let all = dir.write(
        "all.toml",
        "[[allow]]\nrule = \"AUD-*\"\nreason = \"test: accept all\"\n",
    );
    let (r, code) = audit_in(&dir, &[port, "--allowlist", &all, "--fail-on", "info"]);
    assert_eq!(r["findings"], serde_json::json!([]), "{r}");
    assert_eq!(code, 0);
    assert_eq!(r["failed"], false);
}

#[test]
fn bad_input_is_exit_2_with_one_line() {
    let dir = Scratch::new();
    let unknown = dir.write(
        "bad.toml",
        "[[allow]]\nport = 6379\nprot = \"tcp\"\nreason = \"x\"\n",
    );
    let no_reason = dir.write("noreason.toml", "[[allow]]\nport = 6379\n");
    let missing = dir.path().join("missing.toml").display().to_string();
    let cases: [(&[&str], &str); 5] = [
        (&["--allowlist", &unknown], "line 3: unknown field `prot`"),
        (
            &["--allowlist", &no_reason],
            "line 1: this [[allow]] entry has no reason",
        ),
        (&["--allowlist", &missing], "no such file"),
        (&["--fail-on", "sometimes"], "sometimes"),
        (&["--port", "0"], "--port"),
    ];
    for (args, want) in cases {
        let r = run_in(&dir, args);
        assert_eq!(r.code, 2, "audit {args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{}", r.stdout);
        assert_eq!(r.stderr.lines().count(), 1, "one line: {}", r.stderr);
        assert!(r.stderr.contains(want), "audit {args:?}: {}", r.stderr);
    }
    let r = run_in(&dir, &["--allowlist", &unknown]);
    assert!(r.stderr.contains(&unknown), "names the file: {}", r.stderr);
    // A bad allowlist in the working directory is just as bad.
    dir.write(
        "portscope-audit.toml",
        "[[allow]]\nrule = \"AUD-NOPE\"\nreason = \"x\"\n",
    );
    let r = run_in(&dir, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("portscope-audit.toml line 2: rule \"AUD-NOPE\""),
        "{}",
        r.stderr
    );
    assert_eq!(run_in(&Scratch::new(), &["--sarif", "--json"]).code, 2);
}

#[test]
fn sarif_output_is_sarif_2_1_0() {
    let Some(redis) = servers::redis_exposed() else {
        return;
    };
    let r = run_in(&Scratch::new(), &["--sarif", &ports(&[redis.port])]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("bad SARIF: {e}\n{}", r.stdout));
    assert_eq!(v["version"], "2.1.0");
    assert!(v["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run = &v["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "portscope");
    let rules = driver["rules"].as_array().unwrap();
    assert!(rules.len() >= 10);
    for rule in rules {
        assert!(rule["id"].as_str().unwrap().starts_with("AUD-"), "{rule}");
        assert!(rule["shortDescription"]["text"].is_string(), "{rule}");
        assert!(rule["help"]["text"].is_string(), "{rule}");
    }
    let results = run["results"].as_array().unwrap();
    for res in results {
        let id = res["ruleId"].as_str().unwrap();
        assert!(
            rules.iter().any(|rule| rule["id"] == id),
            "{id} is not a declared rule"
        );
        assert!(
            ["error", "warning", "note"].contains(&res["level"].as_str().unwrap()),
            "{res}"
        );
        assert!(
            !res["message"]["text"].as_str().unwrap().is_empty(),
            "{res}"
        );
        assert!(
            res["locations"][0]["logicalLocations"][0]["name"].is_string(),
            "{res}"
        );
    }
    let location = format!("tcp/0.0.0.0:{}", redis.port);
    let mine: Vec<&Value> = results
        .iter()
        .filter(|res| res["locations"][0]["logicalLocations"][0]["name"] == location.as_str())
        .filter(|res| res["ruleId"] == "AUD-EXPOSED-DATASTORE")
        .collect();
    assert_eq!(mine.len(), 1, "{results:?}");
    assert_eq!(mine[0]["level"], "error");
    assert_eq!(mine[0]["properties"]["subject"]["process"], "redis-server");
}

#[test]
fn the_table_groups_by_severity_and_sums_up() {
    let Some(redis) = servers::redis_exposed() else {
        return;
    };
    let r = run_in(&Scratch::new(), &[&ports(&[redis.port])]);
    assert_eq!(r.code, 1);
    let out = &r.stdout;
    assert!(out.starts_with("CRITICAL ("), "{out}");
    let line = out
        .lines()
        .find(|l| {
            l.starts_with("AUD-EXPOSED-DATASTORE") && l.contains(&format!("0.0.0.0:{}", redis.port))
        })
        .unwrap_or_else(|| panic!("no line for redis:\n{out}"));
    assert!(line.contains("redis-server["), "{line}");
    assert!(
        out.contains("  seen: ") && out.contains("  fix:  redis-server --bind 127.0.0.1"),
        "{out}"
    );
    let summary = out
        .lines()
        .find(|l| l.contains(" findings: ") || l.contains(" finding: "))
        .unwrap_or_else(|| panic!("no summary:\n{out}"));
    let shape = summary.contains(" critical, ")
        && summary.contains(" warning, ")
        && summary.contains(" info (")
        && (summary.contains(" listeners examined, ") || summary.contains(" listener examined, "))
        && summary.contains(" allowed");
    assert!(shape, "{summary}");
}
