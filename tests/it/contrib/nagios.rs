//! Nagios 4 reading contrib/nagios/portscope.cfg: `nagios4 -v` accepts the commands and
//! example services (with a minimal main configuration, and dropped into Debian's stock
//! one, as the file's header says), every command line run by hand gives a verdict, and a
//! real scheduler runs every service against the test's own listeners. So that the file an
//! operator copies is the file Nagios takes, macros and all — not one that only looks right.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use super::{Daemon, combined, contrib, contrib_text, replace_once, ssh_like, with_built_binary};
use crate::harness::{self, TempDir};

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
    // A copy: with the stock configuration Nagios reads its files as the nagios user, who
    // cannot enter a checkout that lives in a private directory.
    let dir = TempDir::new("contrib-nagios-verify");
    let file = dir.path().join("portscope.cfg");
    std::fs::copy(contrib("nagios/portscope.cfg"), &file).unwrap();
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
    let services: Vec<&str> = expected.iter().map(|(s, _)| s.as_str()).collect();
    let results = daemon.results_for("nagios4", &dir.join("nagios.log"), &services, || {
        nagios_status(&status)
    });
    drop(daemon);
    for (service, check_command) in &expected {
        let (state, output) = &results[service];
        assert_plugin_verdict(service, check_command, *state, output);
        eprintln!("{test}: {service} ({check_command}) -> state {state}: {output}");
    }
}
