//! `probe` against the daemons of `probe::more`: rsync, beanstalkd, git daemon, epmd with an
//! Erlang node, gdbserver — each the real Debian program on a port picked at run time.

use super::*;

#[test]
fn rsync_daemon_is_rsync_from_its_greeting_alone() {
    let Some(s) = servers::rsyncd() else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "rsync", "{r:#}");
    assert_eq!(id["confidence"], "certain", "{r:#}");
    // Identified without a byte sent: the greeting is all it took.
    assert_eq!(r["probes"], serde_json::json!(["banner"]), "{r:#}");
    let version = id["version"].as_str().unwrap_or_default();
    let major = version.split('.').next().unwrap_or_default();
    let says = servers::version_of("rsync", &["--version"]).unwrap_or_default();
    assert!(
        says.contains(&format!("protocol version {major}")),
        "{version} vs {says}"
    );
    assert!(
        detail(&id, "digests").is_some_and(|d| d.contains("md5")),
        "{r:#}"
    );
}

#[test]
fn beanstalkd_is_beanstalkd_with_its_version() {
    let Some(s) = servers::beanstalkd() else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "beanstalkd", "{r:#}");
    assert_eq!(id["product"], "beanstalkd", "{r:#}");
    assert_eq!(id["auth"], "not_required", "{r:#}");
    let says = servers::version_of("beanstalkd", &["-v"]).unwrap_or_default();
    assert_eq!(
        says,
        format!("beanstalkd {}", id["version"].as_str().unwrap_or("?"))
    );
}

#[test]
fn git_daemon_is_git_and_refuses_the_probe_repository() {
    let Some(s) = servers::git_daemon() else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "git", "{r:#}");
    assert_eq!(id["confidence"], "certain", "{r:#}");
    let error = detail(&id, "error").unwrap_or_default();
    assert!(error.contains("portscope-probe-nonexistent"), "{r:#}");
}

#[test]
fn epmd_lists_its_erlang_nodes() {
    let Some((s, _node)) = servers::epmd_with_node() else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "epmd", "{r:#}");
    assert_eq!(
        detail(&id, "epmd_port"),
        Some(s.port.to_string().as_str()),
        "{r:#}"
    );
    let nodes = detail(&id, "nodes").unwrap_or_default();
    assert!(nodes.starts_with(&format!("{}:", servers::NODE)), "{r:#}");
    assert_eq!(id["confidence"], "certain", "{r:#}");
}

/// The state letter of `/proc/PID/stat` (`t`: stopped by the debugger).
fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

#[test]
fn gdbserver_is_gdb_remote_and_its_inferior_stays_stopped() {
    let Some(g) = servers::gdbserver(false) else {
        return;
    };
    let inferior = g.inferior();
    assert_eq!(state(inferior), Some('t'), "inferior {inferior} before");
    let (r, id) = probe_one(&g.server);
    assert_eq!(id["protocol"], "gdb-remote", "{r:#}");
    assert_eq!(id["confidence"], "certain", "{r:#}");
    assert!(detail(&id, "packet_size").is_some(), "{r:#}");
    // qSupported is a query: the inferior is neither resumed nor killed.
    assert_eq!(
        state(inferior),
        Some('t'),
        "inferior {inferior} after: {r:#}"
    );
    drop(g);
    let deadline = Instant::now() + Duration::from_secs(5);
    while state(inferior).is_some_and(|s| s != 'Z') && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        state(inferior).is_none_or(|s| s == 'Z'),
        "inferior {inferior} left running"
    );
}

#[test]
fn gdbserver_once_is_not_connected_to() {
    let Some(g) = servers::gdbserver(true) else {
        return;
    };
    let results = probe(&[g.server.target()]);
    let r = &results[0];
    assert_eq!(r["state"], "open", "{r:#}");
    assert!(r["identification"].is_null(), "{r:#}");
    let note = r["note"].as_str().unwrap_or_default();
    assert!(note.contains("gdbserver --once"), "{r:#}");
    // Not a connection was made: the session and the program it debugs are still there.
    assert_eq!(state(g.inferior()), Some('t'), "{r:#}\n{}", g.server.log());
    assert!(
        !g.server.log().contains("Remote debugging from"),
        "{}",
        g.server.log()
    );
}

#[test]
fn xvnc_is_vnc() {
    let Some(s) = servers::xvnc() else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "vnc", "{r:#}");
    assert_eq!(detail(&id, "rfb_version"), Some("3.8"), "{r:#}");
    // Started with `-SecurityTypes None`: anyone who connects sees and types on the desktop.
    assert_eq!(
        r["probes"],
        serde_json::json!(["banner", "vnc-security-types"]),
        "{r:#}"
    );
    assert_eq!(detail(&id, "security"), Some("None"), "{r:#}");
    assert_eq!(id["auth"], "not_required", "{r:#}");
}

#[test]
fn a_late_vnc_greeting_is_waited_for_and_nothing_is_sent() {
    let Some(s) = servers::late_vnc_greeter() else {
        return;
    };
    assert!((5900..=5999).contains(&s.port), "{}", s.log());
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "vnc", "{r:#}");
    // Identified by listening alone: nothing was sent before the greeting; then the security
    // types were asked for on a second connection (this server never sends them).
    assert_eq!(
        r["probes"],
        serde_json::json!(["banner", "vnc-security-types"]),
        "{r:#}"
    );
    assert!(id["auth"].is_null(), "{r:#}");
    let deadline = Instant::now() + Duration::from_secs(3);
    while !s.log().contains("received") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let counts: Vec<String> = s
        .log()
        .lines()
        .filter_map(|l| l.strip_prefix("received ").map(str::to_string))
        .collect();
    assert!(!counts.is_empty(), "{}", s.log());
    // The first connection got nothing; the second only the client's RFB version (12 bytes).
    assert_eq!(counts.first().map(String::as_str), Some("0"), "{}", s.log());
    assert!(
        counts.iter().skip(1).all(|n| n == "12"),
        "more than the RFB version was sent: {}",
        s.log()
    );
}
