//! Icinga 2 reading contrib/icinga2/portscope.conf: `icinga2 daemon -C` validates the
//! CheckCommands and applies both example services, and a real daemon runs every command,
//! whose argv (from the commands log) and results (from a perfdata writer) are checked. So
//! that the custom variables documented in the file become the command lines they promise.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use super::{Daemon, combined, contrib, contrib_text, ssh_like, with_built_binary};
use crate::harness::{self, TempDir};

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
    let services: Vec<&str> = expected.iter().map(|(name, _, _)| *name).collect();
    let results = daemon.results_for("icinga2", &dir.join("daemon.log"), &services, results_of);
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
