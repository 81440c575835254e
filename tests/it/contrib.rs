//! The fleet configuration in contrib/ checked by the programs that read it: Nagios 4 and
//! Icinga 2 validate their files and then run every check through the real scheduler, the
//! Zabbix agent runs every item, and every PromQL expression of the Grafana dashboard is
//! asked of a real Prometheus scraping a real exporter. Each test that needs a program skips
//! (or fails under `PORTSCOPE_REQUIRE_ROOT=1`) through `harness::needs` when it is missing.
//! Ports are chosen at run time; files go to temporary directories; every child is ended.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{self, Spawned, TempDir};

/// Where the contrib files say portscope is installed.
const INSTALLED: &str = "/usr/local/bin/portscope";

/// The job name Prometheus scrapes the exporter under (as in contrib/prometheus/prometheus.yml).
const JOB: &str = "portscope";

fn contrib(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("contrib")
        .join(path)
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

// ---------------------------------------------------------------------------------------------
// Nagios

/// The `define TYPE { key value … }` blocks of a Nagios object file, in order.
fn nagios_objects(text: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let mut objects = Vec::new();
    let mut current: Option<(String, BTreeMap<String, String>)> = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("define ") {
            let kind = rest.trim_end_matches('{').trim().to_string();
            current = Some((kind, BTreeMap::new()));
        } else if line == "}" {
            objects.push(current.take().expect("a } closes a define"));
        } else {
            let (key, value) = line.split_once(char::is_whitespace).expect("key value");
            let object = current.as_mut().expect("a directive inside a define");
            object.1.insert(key.to_string(), value.trim().to_string());
        }
    }
    assert!(current.is_none(), "an unclosed define");
    objects
}

fn of_kind<'a>(
    objects: &'a [(String, BTreeMap<String, String>)],
    kind: &str,
) -> Vec<&'a BTreeMap<String, String>> {
    objects
        .iter()
        .filter(|(k, _)| k == kind)
        .map(|(_, o)| o)
        .collect()
}

/// What the contrib file's example services need and the sample configuration has: a
/// time period, a contact, the host templates, `localhost` in the host group
/// `linux-servers`, and the `generic-service` template.
const NAGIOS_OBJECTS: &str = "\
define timeperiod {
    timeperiod_name 24x7
    alias           always
    monday          00:00-24:00
    tuesday         00:00-24:00
    wednesday       00:00-24:00
    thursday        00:00-24:00
    friday          00:00-24:00
    saturday        00:00-24:00
    sunday          00:00-24:00
}
define command {
    command_name    nothing
    command_line    /bin/true
}
define contact {
    contact_name                    admin
    host_notifications_enabled      0
    service_notifications_enabled   0
    host_notification_period        24x7
    service_notification_period     24x7
    host_notification_options       n
    service_notification_options    n
    host_notification_commands      nothing
    service_notification_commands   nothing
}
define contactgroup {
    contactgroup_name   admins
    members             admin
}
define host {
    name                    linux-server
    register                0
    check_command           nothing
    check_period            24x7
    max_check_attempts      3
    notification_period     24x7
    contact_groups          admins
}
define host {
    use         linux-server
    host_name   localhost
    address     127.0.0.1
}
define hostgroup {
    hostgroup_name  linux-servers
    members         localhost
}
define service {
    name                    generic-service
    register                0
    check_period            24x7
    max_check_attempts      1
    check_interval          10
    retry_interval          2
    notification_period     24x7
    contact_groups          admins
}
";

/// A Nagios main configuration in `dir` that reads `objects` and `services` and keeps every
/// file it writes in `dir`; `extra` lines are appended.
fn nagios_main_config(dir: &TempDir, objects: &str, services: &str, extra: &str) -> String {
    let d = dir.arg();
    let config = dir.join("nagios.cfg");
    std::fs::write(
        &config,
        format!(
            "cfg_file={objects}\n\
             cfg_file={services}\n\
             nagios_user=root\n\
             nagios_group=root\n\
             illegal_macro_output_chars=`~$&|'\"<>\n\
             log_file={d}/nagios.log\n\
             use_syslog=0\n\
             check_result_path={d}\n\
             lock_file={d}/nagios.lock\n\
             temp_file={d}/nagios.tmp\n\
             temp_path={d}\n\
             status_file={d}/status.dat\n\
             object_cache_file={d}/objects.cache\n\
             precached_object_file={d}/objects.precache\n\
             state_retention_file={d}/retention.dat\n\
             retain_state_information=0\n\
             debug_file={d}/nagios.debug\n\
             log_archive_path={d}\n\
             check_external_commands=0\n\
             command_file={d}/nagios.cmd\n\
             query_socket={d}/nagios.qh\n\
             {extra}"
        ),
    )
    .unwrap();
    config
}

/// `nagios4 -v CONFIG`: its output, after asserting it found no error and no warning.
fn nagios_verify(nagios: &Path, config: &str) -> String {
    let out = Command::new(nagios).args(["-v", config]).output().unwrap();
    let said = combined(&out);
    assert!(
        out.status.success(),
        "nagios4 -v {config}: {:?}\n{said}",
        out.status
    );
    assert!(said.contains("Total Warnings: 0"), "{said}");
    assert!(said.contains("Total Errors:   0"), "{said}");
    said
}

#[test]
fn nagios_accepts_the_commands_and_services() {
    let test = "nagios_accepts_the_commands_and_services";
    let Some(nagios) = harness::needs(test, "nagios4", "nagios4-core") else {
        return;
    };
    let file = contrib("nagios/portscope.cfg");
    let dir = TempDir::new("contrib-nagios-verify");
    let objects = dir.join("objects.cfg");
    std::fs::write(&objects, NAGIOS_OBJECTS).unwrap();
    let config = nagios_main_config(&dir, &objects, file.to_str().unwrap(), "");
    let said = nagios_verify(&nagios, &config);
    assert!(said.contains("Checked 3 services."), "{said}");
    eprintln!(
        "{test}: nagios4 -v with a minimal configuration: Total Warnings: 0, Total Errors: 0"
    );

    // Dropped into the stock Debian configuration, as its header says (conf.d is where
    // it would be; read from here instead).
    let stock = Path::new("/etc/nagios4/nagios.cfg");
    if stock.is_file() {
        let text = std::fs::read_to_string(stock).unwrap();
        let text = replace_once(
            &text,
            "cfg_dir=/etc/nagios4/conf.d\n",
            &format!("cfg_file={}\n", file.display()),
        );
        let config = dir.join("stock.cfg");
        std::fs::write(&config, text).unwrap();
        nagios_verify(&nagios, &config);
        eprintln!(
            "{test}: nagios4 -v with Debian's /etc/nagios4/nagios.cfg: Total Warnings: 0, Total Errors: 0"
        );
    }
}

/// Substitute Nagios macros as the daemon does for a service on `localhost`.
fn nagios_command_line(command_line: &str, check_command: &str) -> String {
    let mut parts = check_command.split('!');
    parts.next();
    let mut line = command_line.replace("$HOSTADDRESS$", "127.0.0.1");
    for n in 1..=32 {
        line = line.replace(&format!("$ARG{n}$"), parts.next().unwrap_or(""));
    }
    assert!(!line.contains('$'), "a macro left in {line}");
    line
}

/// The contrib file with the example services' ports replaced by the test's listeners.
fn nagios_services_here(ssh: u32, redis: u32) -> String {
    let text = with_built_binary(&contrib_text("nagios/portscope.cfg"));
    let text = replace_once(
        &text,
        "portscope_connect!22!",
        &format!("portscope_connect!{ssh}!"),
    );
    replace_once(
        &text,
        "portscope_listen!6379!",
        &format!("portscope_listen!{redis}!"),
    )
}

/// Every command is used by an example service; the verdicts the services must give.
fn check_nagios_services(objects: &[(String, BTreeMap<String, String>)]) -> Vec<(String, String)> {
    let commands: BTreeSet<&str> = of_kind(objects, "command")
        .iter()
        .map(|c| c["command_name"].as_str())
        .collect();
    let used: BTreeSet<&str> = of_kind(objects, "service")
        .iter()
        .map(|s| s["check_command"].split('!').next().unwrap())
        .collect();
    assert_eq!(commands, used, "every command has an example service");
    of_kind(objects, "service")
        .iter()
        .map(|s| (s["service_description"].clone(), s["check_command"].clone()))
        .collect()
}

/// A status line a service must show: OK, or for the audit any real verdict (its findings
/// depend on the machine) — never UNKNOWN or a usage error.
fn assert_plugin_verdict(service: &str, check_command: &str, code: i64, output: &str) {
    if check_command.starts_with("portscope_audit") {
        assert!((0..=2).contains(&code), "{service}: exit {code}: {output}");
        let state = ["OK", "WARNING", "CRITICAL"][code as usize];
        assert!(
            output.starts_with(&format!("AUDIT {state} - ")),
            "{service}: {output}"
        );
    } else {
        assert_eq!(code, 0, "{service}: {output}");
        assert!(
            output.starts_with("TCP OK - ") || output.starts_with("LISTEN OK - "),
            "{service}: {output}"
        );
    }
}

#[test]
fn nagios_command_lines_give_ok_by_hand() {
    let ssh = ssh_like();
    let redis = harness::named_listener("redis-server");
    let text = nagios_services_here(ssh.num(0), redis.num(0));
    let objects = nagios_objects(&text);
    let commands: BTreeMap<&str, &str> = of_kind(&objects, "command")
        .iter()
        .map(|c| (c["command_name"].as_str(), c["command_line"].as_str()))
        .collect();
    for (service, check_command) in check_nagios_services(&objects) {
        let name = check_command.split('!').next().unwrap();
        let line = nagios_command_line(commands[name], &check_command);
        let out = Command::new("/bin/sh")
            .args(["-c", &line])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let code = i64::from(out.status.code().unwrap_or(-1));
        assert_plugin_verdict(&service, &check_command, code, &stdout);
        eprintln!(
            "{service}: {line} -> exit {code}: {}",
            stdout.lines().next().unwrap_or("")
        );
    }
}

/// The `servicestatus` blocks of a Nagios status file: description → (state, output), for
/// services checked at least once.
fn nagios_status(path: &str) -> BTreeMap<String, (i64, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut found = BTreeMap::new();
    for block in text.split("servicestatus {").skip(1) {
        let block = block.split('}').next().unwrap();
        let field = |k: &str| {
            block
                .lines()
                .find_map(|l| l.trim().strip_prefix(&format!("{k}=")).map(str::to_string))
                .unwrap_or_default()
        };
        if field("has_been_checked") == "1" {
            found.insert(
                field("service_description"),
                (
                    field("current_state").parse().unwrap(),
                    field("plugin_output"),
                ),
            );
        }
    }
    found
}

#[test]
fn nagios_runs_every_command() {
    let test = "nagios_runs_every_command";
    let Some(nagios) = harness::needs(test, "nagios4", "nagios4-core") else {
        return;
    };
    let ssh = ssh_like();
    let redis = harness::named_listener("redis-server");
    let dir = TempDir::new("contrib-nagios-run");
    let objects = dir.join("objects.cfg");
    std::fs::write(&objects, NAGIOS_OBJECTS).unwrap();
    let text = nagios_services_here(ssh.num(0), redis.num(0));
    let services = dir.join("portscope.cfg");
    std::fs::write(&services, &text).unwrap();
    // intervals in seconds, every service checked within a second of the start
    let config = nagios_main_config(
        &dir,
        &objects,
        &services,
        "interval_length=1\n\
         max_service_check_spread=1\n\
         max_host_check_spread=1\n\
         status_update_interval=1\n\
         check_result_reaper_frequency=1\n",
    );
    nagios_verify(&nagios, &config);
    let log = std::fs::File::create(dir.join("stdout.log")).unwrap();
    let mut daemon = Daemon::start(
        Command::new(&nagios)
            .arg(&config)
            .stdout(log.try_clone().unwrap())
            .stderr(log),
    );
    let expected = check_nagios_services(&nagios_objects(&text));
    let status = dir.join("status.dat");
    let results = wait_for(
        Duration::from_secs(60),
        || {
            if let Some(s) = daemon.exited() {
                panic!(
                    "nagios4 exited: {s:?}\n{}",
                    std::fs::read_to_string(dir.join("nagios.log")).unwrap_or_default()
                );
            }
            let found = nagios_status(&status);
            expected
                .iter()
                .all(|(service, _)| found.contains_key(service))
                .then_some(found)
        },
        || {
            format!(
                "not every service was checked within 60 s\nstatus: {:?}\nlog:\n{}",
                nagios_status(&status),
                std::fs::read_to_string(dir.join("nagios.log")).unwrap_or_default()
            )
        },
    );
    drop(daemon);
    for (service, check_command) in &expected {
        let (state, output) = &results[service];
        assert_plugin_verdict(service, check_command, *state, output);
        eprintln!("{test}: {service} ({check_command}) -> state {state}: {output}");
    }
}

// ---------------------------------------------------------------------------------------------
// Icinga 2

/// The name of the user, or with `-g` of the group, running the tests.
fn id_name(flag: &str) -> String {
    let out = Command::new("id").arg(flag).output().unwrap();
    assert!(out.status.success(), "id {flag}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `icinga2 daemon` with every path it writes in `dir`, running as the user running the
/// tests (Debian's build would switch to `nagios`, who may not write there).
fn icinga2(program: &Path, dir: &TempDir, config: &str) -> Command {
    let d = dir.arg();
    for sub in ["cache", "log", "run", "spool", "lib"] {
        std::fs::create_dir_all(dir.0.join(sub)).unwrap();
    }
    let mut cmd = Command::new(program);
    cmd.args(["daemon", "-c", config])
        .arg(format!("-DRunAsUser={}", id_name("-un")))
        .arg(format!("-DRunAsGroup={}", id_name("-gn")))
        .arg(format!("-DCacheDir={d}/cache"))
        .arg(format!("-DLogDir={d}/log"))
        .arg(format!("-DInitRunDir={d}/run"))
        .arg(format!("-DSpoolDir={d}/spool"))
        .arg(format!("-DDataDir={d}/lib"));
    cmd
}

#[test]
fn icinga2_accepts_the_check_commands() {
    let test = "icinga2_accepts_the_check_commands";
    let Some(program) = harness::needs(test, "icinga2", "icinga2-bin") else {
        return;
    };
    let dir = TempDir::new("contrib-icinga2-verify");
    let config = dir.join("icinga2.conf");
    // a Linux host named as this node, so that both example apply rules apply
    std::fs::write(
        &config,
        format!(
            "include <itl>\n\
             include \"{}\"\n\
             object Host NodeName {{\n  address = \"127.0.0.1\"\n  check_command = \"dummy\"\n  vars.os = \"Linux\"\n}}\n",
            contrib("icinga2/portscope.conf").display()
        ),
    )
    .unwrap();
    let out = icinga2(&program, &dir, &config).arg("-C").output().unwrap();
    let said = combined(&out);
    assert!(
        out.status.success(),
        "icinga2 daemon -C: {:?}\n{said}",
        out.status
    );
    assert!(
        said.contains("Finished validating the configuration"),
        "{said}"
    );
    assert!(said.contains("Instantiated 2 Services."), "{said}");
    for bad in ["warning/", "critical/"] {
        assert!(!said.contains(bad), "{said}");
    }
    eprintln!("{test}: icinga2 daemon -C: valid, 2 services applied, no warning");
}

#[test]
fn icinga2_runs_every_check_command() {
    let test = "icinga2_runs_every_check_command";
    let Some(program) = harness::needs(test, "icinga2", "icinga2-bin") else {
        return;
    };
    let ssh = ssh_like();
    let redis = harness::named_listener("redis-server");
    let dir = TempDir::new("contrib-icinga2-run");
    let commands = dir.join("portscope.conf");
    std::fs::write(
        &commands,
        with_built_binary(&contrib_text("icinga2/portscope.conf")),
    )
    .unwrap();
    let allowlist = dir.join("audit.toml");
    std::fs::write(
        &allowlist,
        "[[allow]]\nrule = \"AUD-*\"\nreason = \"whatever this machine runs\"\n",
    )
    .unwrap();
    let (d, ssh_port, redis_port) = (dir.arg(), ssh.num(0), redis.num(0));
    // The host has no vars.os: the example apply rules stay out of it.
    let config = dir.join("icinga2.conf");
    std::fs::write(
        &config,
        format!(
            "include <itl>\n\
             include \"{commands}\"\n\
             object CheckerComponent \"checker\" {{ }}\n\
             object FileLogger \"commands\" {{\n  path = \"{d}/commands.log\"\n  severity = \"notice\"\n}}\n\
             object PerfdataWriter \"results\" {{\n\
             \x20 service_perfdata_path = \"{d}/results/service\"\n\
             \x20 host_perfdata_path = \"{d}/results/host\"\n\
             \x20 service_temp_path = \"{d}/results/service.tmp\"\n\
             \x20 host_temp_path = \"{d}/results/host.tmp\"\n\
             \x20 service_format_template = \"RESULT\\t$service.name$\\t$service.state_id$\\t$service.output$\"\n\
             \x20 rotation_interval = 1s\n}}\n\
             object Host NodeName {{\n  address = \"127.0.0.1\"\n  check_command = \"dummy\"\n}}\n\
             object Service \"connect\" {{\n\
             \x20 host_name = NodeName\n  check_interval = 1s\n\
             \x20 check_command = \"portscope_connect\"\n\
             \x20 vars.portscope_target = \"127.0.0.1:{ssh_port}\"\n\
             \x20 vars.portscope_warning = \"5\"\n  vars.portscope_critical = \"10\"\n\
             \x20 vars.portscope_expect = [ \"SSH-2.0\", \"not in the banner\" ]\n\
             \x20 vars.portscope_timeout = \"2\"\n}}\n\
             object Service \"listen\" {{\n\
             \x20 host_name = NodeName\n  check_interval = 1s\n\
             \x20 check_command = \"portscope_listen\"\n\
             \x20 vars.portscope_port = \"{redis_port}\"\n\
             \x20 vars.portscope_bind = \"loopback\"\n  vars.portscope_process = \"redis-server\"\n}}\n\
             object Service \"audit\" {{\n\
             \x20 host_name = NodeName\n  check_interval = 1s\n\
             \x20 check_command = \"portscope_audit\"\n\
             \x20 vars.portscope_no_probe = true\n  vars.portscope_allowlist = \"{allowlist}\"\n}}\n"
        ),
    )
    .unwrap();
    std::fs::create_dir_all(dir.0.join("results")).unwrap();
    let log = std::fs::File::create(dir.join("daemon.log")).unwrap();
    let mut daemon = Daemon::start(
        icinga2(&program, &dir, &config)
            .stdout(log.try_clone().unwrap())
            .stderr(log),
    );
    // the built binary, as the contrib file names it after the replacement
    let bin = format!("'{}' 'check'", env!("CARGO_BIN_EXE_portscope"));
    let expected = [
        (
            "connect",
            format!(
                "{bin} 'connect' '127.0.0.1:{ssh_port}' '-c' '10' '-e' 'SSH-2.0' '-e' 'not in the banner' '-t' '2' '-w' '5'"
            ),
            "TCP OK - ",
        ),
        (
            "listen",
            format!("{bin} 'listen' '{redis_port}' '--bind' 'loopback' '--process' 'redis-server'"),
            "LISTEN OK - ",
        ),
        (
            "audit",
            format!("{bin} 'audit' '--allowlist' '{allowlist}' '--no-probe'"),
            "AUDIT OK - ",
        ),
    ];
    let results_of = || -> BTreeMap<String, (String, String)> {
        let mut found = BTreeMap::new();
        for entry in std::fs::read_dir(dir.0.join("results")).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
            for line in text.lines() {
                let f: Vec<&str> = line.splitn(4, '\t').collect();
                if let ["RESULT", name, state, output] = f[..] {
                    found.insert(name.to_string(), (state.to_string(), output.to_string()));
                }
            }
        }
        found
    };
    let results = wait_for(
        Duration::from_secs(60),
        || {
            if let Some(s) = daemon.exited() {
                panic!(
                    "icinga2 exited: {s:?}\n{}",
                    std::fs::read_to_string(dir.0.join("daemon.log")).unwrap_or_default()
                );
            }
            let found = results_of();
            expected
                .iter()
                .all(|(name, _, _)| found.contains_key(*name))
                .then_some(found)
        },
        || {
            format!(
                "not every service was checked within 60 s: {:?}\n{}",
                results_of(),
                std::fs::read_to_string(dir.0.join("daemon.log")).unwrap_or_default()
            )
        },
    );
    drop(daemon);
    let commands_log = std::fs::read_to_string(dir.0.join("commands.log")).unwrap();
    for (name, argv, start) in &expected {
        let (state, output) = &results[*name];
        assert_eq!(state, "0", "{name}: {output}");
        assert!(output.starts_with(start), "{name}: {output}");
        assert!(
            commands_log.contains(&format!("Running command {argv}: PID")),
            "{name}: no {argv} in\n{commands_log}"
        );
        eprintln!("{test}: {name}: {argv} -> state {state}: {output}");
    }
}

// ---------------------------------------------------------------------------------------------
// Zabbix

/// `zabbix_agentd -t KEY` with the contrib user parameters: what it printed.
fn zabbix_test(program: &Path, config: &str, key: &str) -> String {
    let out = Command::new(program)
        .args(["-c", config, "-t", key])
        .output()
        .unwrap();
    let said = combined(&out);
    assert!(
        out.status.success(),
        "zabbix_agentd -t {key}: {:?}\n{said}",
        out.status
    );
    said
}

/// The JSON report in a `KEY [t|VALUE]` answer.
fn zabbix_json(said: &str) -> serde_json::Value {
    let start = said
        .find("[t|")
        .unwrap_or_else(|| panic!("no text value in {said}"))
        + 3;
    let end = said.rfind(']').unwrap();
    serde_json::from_str(&said[start..end]).unwrap_or_else(|e| panic!("{e}: {said}"))
}

#[test]
fn zabbix_agent_runs_every_user_parameter() {
    let test = "zabbix_agent_runs_every_user_parameter";
    let Some(program) = harness::needs(test, "zabbix_agentd", "zabbix-agent") else {
        return;
    };
    let listener = harness::tcp_listener("127.0.0.1");
    let port = listener.num(0);
    let dir = TempDir::new("contrib-zabbix");
    let params = dir.join("portscope.conf");
    let text = contrib_text("zabbix/portscope.conf");
    std::fs::write(&params, with_built_binary(&text)).unwrap();
    let config = dir.join("zabbix_agentd.conf");
    std::fs::write(
        &config,
        format!(
            "LogType=console\nPidFile={}\nTimeout=10\nInclude={params}\n",
            dir.join("zabbix_agentd.pid")
        ),
    )
    .unwrap();
    let keys: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("UserParameter="))
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "portscope.listen[*]",
            "portscope.connect[*]",
            "portscope.audit"
        ]
    );
    for (key, plugin) in [
        (format!("portscope.listen[{port}]"), "listen"),
        (format!("portscope.connect[127.0.0.1:{port}]"), "connect"),
        ("portscope.audit".to_string(), "audit"),
    ] {
        let said = zabbix_test(&program, &config, &key);
        let report = zabbix_json(&said);
        assert_eq!(report["plugin"], plugin, "{said}");
        let code = report["exit_code"].as_i64().unwrap();
        if plugin == "audit" {
            // its findings depend on the machine; a verdict, not UNKNOWN
            assert!((0..=2).contains(&code), "{said}");
        } else {
            assert_eq!(code, 0, "{said}");
            assert_eq!(report["state"], "ok", "{said}");
        }
        eprintln!(
            "{test}: zabbix_agentd -t '{key}' -> exit_code {code}, state {}: {}",
            report["state"], report["summary"]
        );
    }
    // what the header says about IPv6 targets: refused without UnsafeUserParameters=1
    let said = zabbix_test(
        &program,
        &config,
        &format!("portscope.connect[\"[::1]:{port}\"]"),
    );
    assert!(said.contains("ZBX_NOTSUPPORTED"), "{said}");
    assert!(said.contains("are not allowed in the parameters"), "{said}");
}

// ---------------------------------------------------------------------------------------------
// Grafana

fn dashboard() -> serde_json::Value {
    serde_json::from_str(&contrib_text("grafana/portscope.json")).expect("the dashboard is JSON")
}

/// Every panel, rows' nested panels included.
fn panels(dashboard: &serde_json::Value) -> Vec<&serde_json::Value> {
    fn walk<'a>(list: &'a serde_json::Value, out: &mut Vec<&'a serde_json::Value>) {
        for p in list.as_array().into_iter().flatten() {
            out.push(p);
            walk(&p["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&dashboard["panels"], &mut out);
    out
}

/// `(panel title, expr)` of every query target of every panel.
fn expressions(dashboard: &serde_json::Value) -> Vec<(String, String)> {
    panels(dashboard)
        .iter()
        .flat_map(|p| {
            p["targets"].as_array().into_iter().flatten().map(move |t| {
                let expr = t["expr"].as_str().expect("every target has an expr");
                (p["title"].as_str().unwrap().to_string(), expr.to_string())
            })
        })
        .collect()
}

/// Every `"datasource"` value anywhere in the dashboard.
fn datasources(v: &serde_json::Value, out: &mut Vec<serde_json::Value>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                if k == "datasource" {
                    out.push(v.clone());
                }
                datasources(v, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| datasources(v, out)),
        _ => {}
    }
}

#[test]
fn grafana_dashboard_names_no_datasource_of_its_own() {
    let d = dashboard();
    assert!(
        d["schemaVersion"].as_u64().unwrap() >= 36,
        "{}",
        d["schemaVersion"]
    );
    assert!(
        d.get("id").is_none_or(|id| id.is_null()),
        "an importable dashboard has no id"
    );
    let variables = d["templating"]["list"].as_array().unwrap();
    let ds = variables
        .iter()
        .find(|v| v["name"] == "datasource")
        .expect("a datasource variable");
    assert_eq!(ds["type"], "datasource");
    assert_eq!(ds["query"], "prometheus");
    let mut found = Vec::new();
    datasources(&d, &mut found);
    assert!(found.len() > 10, "{found:?}");
    for v in &found {
        assert_eq!(v["type"], "prometheus", "{v}");
        assert_eq!(v["uid"], "${datasource}", "a hard-coded datasource: {v}");
    }
    let ids: Vec<u64> = panels(&d)
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect();
    let unique: BTreeSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "panel ids repeat: {ids:?}");
    for p in panels(&d) {
        assert!(p["gridPos"]["w"].as_u64().unwrap() <= 24, "{}", p["title"]);
        let refs: Vec<&str> = p["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| t["refId"].as_str().unwrap())
            .collect();
        let unique: BTreeSet<_> = refs.iter().collect();
        assert_eq!(unique.len(), refs.len(), "{}: refIds repeat", p["title"]);
    }
}

/// Grafana's variables as the test's Prometheus has them: the job, every instance (the
/// variable's "All"), and fixed intervals.
fn substitute(expr: &str) -> String {
    let text = expr
        .replace("$__rate_interval", "1m")
        .replace("$__interval", "1m")
        .replace("$__range", "5m")
        .replace("$job", JOB)
        .replace("$instance", ".+");
    assert!(
        !text.contains('$'),
        "a variable this test does not know in {expr}"
    );
    text
}

/// A free loopback port for a program that cannot be told to use port 0 and report back.
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Start Prometheus on a free loopback port scraping `target` every second; its port.
fn start_prometheus(program: &Path, dir: &TempDir, target: u16) -> (Daemon, u16) {
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: {JOB}\n    static_configs:\n      - targets: ['127.0.0.1:{target}']\n"
        ),
    )
    .unwrap();
    for _ in 0..3 {
        let port = free_port();
        let log = std::fs::File::create(dir.0.join("prometheus.log")).unwrap();
        let mut server = Daemon::start(
            Command::new(program)
                .arg(format!("--config.file={config}"))
                .arg(format!("--storage.tsdb.path={}", dir.join("data")))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .stdout(Stdio::null())
                .stderr(log),
        );
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline && server.exited().is_none() {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return (server, port);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    panic!(
        "prometheus did not start:\n{}",
        std::fs::read_to_string(dir.0.join("prometheus.log")).unwrap_or_default()
    );
}

/// Start `portscope exporter --listen 127.0.0.1:0 EXTRA…`; the process and its port.
fn start_exporter(extra: &[&str]) -> (Spawned, u16) {
    use std::os::unix::process::CommandExt;
    let mut child = harness::portscope()
        .args(["exporter", "--listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    // keep reading, so that it never blocks on a full pipe
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    let port = first
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://127.0.0.1:"))
        .and_then(|rest| rest.trim_end_matches("/metrics").parse().ok())
        .unwrap_or_else(|| panic!("no URL in the exporter's startup line {first:?}"));
    let proc = Spawned {
        pid: child.id(),
        child,
        words: vec![],
    };
    (proc, port)
}

/// Percent-encode a query parameter.
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Ask Prometheus an instant query; its JSON answer.
fn prometheus_query(port: u16, query: &str) -> serde_json::Value {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "GET /api/v1/query?query={} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n",
        url_encode(query)
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let body = raw.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {raw}"))
}

/// The series of a successful instant query.
fn series(port: u16, query: &str) -> Vec<serde_json::Value> {
    let answer = prometheus_query(port, query);
    assert_eq!(answer["status"], "success", "{query}: {answer}");
    answer["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn every_grafana_expression_returns_data() {
    let test = "every_grafana_expression_returns_data";
    let Some(prometheus) = harness::needs(test, "prometheus", "prometheus") else {
        return;
    };
    let d = dashboard();
    let exprs = expressions(&d);
    assert!(exprs.len() >= 10, "{exprs:?}");

    // Something for every panel: listeners on loopback and on every interface (exposure),
    // one of them an audit finding and the other's finding allowlisted.
    let dir = TempDir::new("contrib-grafana");
    let local = harness::tcp_listener("127.0.0.1");
    let exposed = harness::tcp_listener("0.0.0.0");
    let accepted = harness::tcp_listener("0.0.0.0");
    let allowlist = dir.join("audit.toml");
    std::fs::write(
        &allowlist,
        format!(
            "[[allow]]\nrule = \"AUD-EXPOSED-SERVICE\"\nport = {}\nreason = \"the test's own\"\n",
            accepted.num(0)
        ),
    )
    .unwrap();
    let (exporter, exporter_port) = start_exporter(&["--allowlist", &allowlist]);
    let (server, port) = start_prometheus(&prometheus, &dir, exporter_port);

    // scraped at least three times: rates and increases have two samples in their window
    let scrapes = format!("count_over_time(up{{job=\"{JOB}\"}}[1m])");
    wait_for(
        Duration::from_secs(60),
        || {
            let s = series(port, &scrapes);
            let n: f64 = s.first()?["value"][1].as_str()?.parse().ok()?;
            (n >= 3.0).then_some(())
        },
        || {
            format!(
                "Prometheus did not scrape the exporter three times in 60 s: {}\n{}",
                prometheus_query(port, &scrapes),
                std::fs::read_to_string(dir.0.join("prometheus.log")).unwrap_or_default()
            )
        },
    );
    let up = series(port, &format!("up{{job=\"{JOB}\"}}"));
    assert_eq!(up[0]["value"][1], "1", "{up:?}");

    // the variables' own queries: label_values(SELECTOR, LABEL) has that label
    for v in d["templating"]["list"].as_array().unwrap() {
        let Some(q) = v["query"]["query"].as_str() else {
            continue;
        };
        let inner = q
            .strip_prefix("label_values(")
            .and_then(|r| r.strip_suffix(')'))
            .unwrap_or_else(|| panic!("variable {}: {q}", v["name"]));
        let (selector, label) = inner.rsplit_once(',').unwrap();
        let found = series(port, &substitute(selector.trim()));
        assert!(
            found.iter().any(|s| s["metric"][label.trim()].is_string()),
            "variable {}: {q}: {found:?}",
            v["name"]
        );
        eprintln!(
            "{test}: variable {}: {q} -> {} series",
            v["name"],
            found.len()
        );
    }

    let mut exposures = BTreeSet::new();
    for (title, expr) in &exprs {
        let query = substitute(expr);
        let found = series(port, &query);
        assert!(
            !found.is_empty(),
            "panel {title:?}: {query} returned no series"
        );
        if expr.contains("by (exposure)") {
            exposures.extend(
                found
                    .iter()
                    .filter_map(|s| s["metric"]["exposure"].as_str().map(str::to_string)),
            );
        }
        eprintln!("{test}: {title}: {query} -> {} series", found.len());
    }
    assert!(
        exposures.contains("loopback") && exposures.contains("all_interfaces"),
        "{exposures:?}"
    );
    drop((local, exposed, accepted, server, exporter));
}
