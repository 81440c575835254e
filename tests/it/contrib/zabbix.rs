//! The Zabbix agent reading contrib/zabbix/portscope.conf: `zabbix_agentd -t` runs every
//! UserParameter against the test's own listener and returns portscope's JSON report, and an
//! IPv6 target is refused as the file's header says. So that the item keys a Zabbix template
//! uses exist and give a verdict, not ZBX_NOTSUPPORTED.

use std::path::Path;
use std::process::Command;

use super::{combined, contrib_text, with_built_binary};
use crate::harness::{self, TempDir};

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
