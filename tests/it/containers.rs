//! Who really serves a port held for a container, with real engines: a `dockerd` and a Podman
//! API service of the tests' own (see `engines.rs`), containers running busybox's `httpd`
//! published on ports picked at run time, and portscope pointed at the engines' private
//! sockets. `who` and `ls` (text and JSON, and `explain`'s "now") must name the container,
//! its image, its compose project and service, the mapping and the `httpd` inside; without an
//! engine they must work as before and say once why container details are missing.

use serde_json::Value;

use crate::engines::{Engine, IMAGE, Init, dockerd, podman, unique};
use crate::harness::{Run, TempDir, needs, output, portscope};

/// portscope with `args`, its engines at `docker` and `podman` (`DOCKER_HOST`,
/// `CONTAINER_HOST`) and no rootless ones.
pub(crate) fn run_with(docker: &str, podman: &str, args: &[&str]) -> Run {
    output(
        portscope()
            .env("DOCKER_HOST", docker)
            .env("CONTAINER_HOST", podman)
            .env_remove("XDG_RUNTIME_DIR")
            .args(args),
    )
}

/// [`run_with`] of `args --json`, which must exit 0: the report.
fn json_with(docker: &str, podman: &str, args: &[&str]) -> Value {
    let r = run_with(docker, podman, &[args, &["--json"]].concat());
    assert_eq!(r.code, 0, "{args:?}: {r:?}");
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {r:?}"))
}

/// The environment for one engine: its socket for its kind, a socket that does not exist
/// for the other (so that no engine of the machine's own answers instead).
pub(crate) fn env_for(e: &Engine, missing: &TempDir) -> (String, String) {
    let none = format!("unix://{}", missing.join("none.sock"));
    match e.kind {
        "docker" => (e.url(), none),
        _ => (none, e.url()),
    }
}

/// `out` holds each of `wanted` and none of `unwanted`.
fn says(out: &str, wanted: &[&str], unwanted: &[&str]) {
    for w in wanted {
        assert!(out.contains(w), "lacks {w:?}:\n{out}");
    }
    for u in unwanted {
        assert!(!out.contains(u), "has {u:?}:\n{out}");
    }
}

/// The row or socket of `report` whose local port is `port`.
fn on(report: &Value, port: u16) -> &Value {
    report["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["local"]["port"] == port)
        .unwrap_or_else(|| panic!("no socket on {port}: {report}"))
}

/// `who PORT` and `ls` (text and JSON) name the container `web` of `e` published on `port`,
/// held by `holder`, with compose project `shop` and service `web`, and `httpd` inside: the
/// container's first process, or (`Init::Shell`) a child of it.
fn assert_named(
    e: &Engine,
    port: u16,
    web: &crate::engines::Container<'_>,
    holder: &str,
    init_kind: Init,
) {
    let missing = TempDir::new("no-engine");
    let (docker, podman) = env_for(e, &missing);
    let name = &web.name;
    let id = web.inspect("{{.Id}}");
    let init: u32 = web.inspect("{{.State.Pid}}").parse().unwrap();
    let httpd = match init_kind {
        Init::Httpd => init,
        Init::Shell => child_named(init, "httpd"),
    };
    let p = port.to_string();

    let r = run_with(&docker, &podman, &["who", &p]);
    assert_eq!(r.code, 0, "{r:?}");
    says(
        &r.stdout,
        &[
            &format!("{holder} → {name}"),
            &format!("container {name} ({} {}), image ", e.kind, &id[..12]),
            &format!("{IMAGE}, running"),
            "compose   project shop, service web",
            &format!("publishes 127.0.0.1:{port} → 80/tcp in the container"),
            &format!("serves    httpd[{httpd}] listens on "),
            ":80 inside: /bin/httpd -f -p 80 -h /www",
        ],
        &["note:"],
    );

    let j = json_with(&docker, &podman, &["who", &p]);
    assert!(j.get("container_note").is_none(), "{j}");
    let s = on(&j, port);
    let holder_pid = s["pids"][0].as_u64().unwrap().to_string();
    assert_eq!(j["processes"][&holder_pid]["comm"], holder, "{j}");
    let c = &s["container"];
    assert_eq!(c["engine"], e.kind, "{c}");
    assert_eq!(c["engine_socket"], e.socket.display().to_string(), "{c}");
    assert_eq!(c["name"], name.as_str(), "{c}");
    assert_eq!(c["id"], id.as_str(), "{c}");
    assert!(c["image"].as_str().unwrap().ends_with(IMAGE), "{c}");
    assert_eq!(c["state"], "running", "{c}");
    assert_eq!(c["compose_project"], "shop", "{c}");
    assert_eq!(c["compose_service"], "web", "{c}");
    assert_eq!(
        c["published"],
        serde_json::json!({"host_ip": "127.0.0.1", "host_port": port, "container_port": 80, "proto": "tcp"}),
        "{c}"
    );
    assert_eq!(c["inner"]["pid"], httpd, "{c}");
    assert_eq!(c["inner"]["comm"], "httpd", "{c}");
    assert_eq!(c["inner"]["port"], 80, "{c}");
    assert_eq!(c["inner"]["cmdline"][0], "/bin/httpd", "{c}");

    // explain's "now" fact names it too.
    let r = run_with(&docker, &podman, &["explain", &format!("127.0.0.1:{port}")]);
    let want = format!(
        " for container {name} ({}, image {}; served inside by httpd[{httpd}])",
        e.kind,
        c["image"].as_str().unwrap()
    );
    assert!(
        r.stdout.contains(&want),
        "explain lacks {want:?}:\n{}",
        r.stdout
    );

    let r = run_with(&docker, &podman, &["ls"]);
    assert_eq!(r.code, 0, "{r:?}");
    let header = r.stdout.lines().next().unwrap_or("");
    assert!(
        header.contains(" PROCESS ") && header.contains(" CONTAINER "),
        "{}",
        r.stdout
    );
    let row = r
        .stdout
        .lines()
        .find(|l| l.starts_with(&format!("{port} ")))
        .unwrap_or_else(|| panic!("no row for {port}:\n{}", r.stdout));
    assert!(row.contains(holder) && row.contains(name.as_str()), "{row}");
    let j = json_with(&docker, &podman, &["ls"]);
    let c = &on(&j, port)["container"];
    assert_eq!(c["name"], name.as_str(), "{c}");
    assert_eq!(c["compose_service"], "web", "{c}");
    assert_eq!(c["inner"]["comm"], "httpd", "{c}");

    // The exporter labels the listener with the container and its image.
    let textfile = missing.join("portscope.prom");
    let r = run_with(&docker, &podman, &["exporter", "--textfile", &textfile]);
    assert_eq!(r.code, 0, "{r:?}");
    let metrics = std::fs::read_to_string(&textfile).unwrap();
    let series = metrics
        .lines()
        .find(|l| {
            l.starts_with("portscope_listener_info{")
                && l.contains(&format!("port=\"{port}\""))
                && l.contains("address=\"127.0.0.1\"")
        })
        .unwrap_or_else(|| panic!("no series for {port}:\n{metrics}"));
    assert!(
        series.contains(&format!(
            "process=\"{holder}\",container=\"{name}\",image=\""
        )) && series.contains(&format!("{IMAGE}\"}} 1")),
        "{series}"
    );
}

/// The child of `pid` named `comm`.
fn child_named(pid: u32, comm: &str) -> u32 {
    let kids = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap();
    kids.split_whitespace()
        .map(|k| k.parse::<u32>().unwrap())
        .find(|k| {
            std::fs::read_to_string(format!("/proc/{k}/comm")).is_ok_and(|c| c.trim() == comm)
        })
        .unwrap_or_else(|| panic!("no child {comm} of {pid}"))
}

#[test]
fn docker_names_the_container_and_the_process_inside() {
    let e = dockerd("docker_names_the_container_and_the_process_inside");
    web_is_named(e, "docker-proxy", Init::Httpd);
}

#[test]
fn podman_names_the_container_and_the_process_inside() {
    let e = podman("podman_names_the_container_and_the_process_inside");
    web_is_named(e, "conmon", Init::Shell);
}

/// A container of `engine` (when there is one) with the compose labels, started as `init`
/// says, is named in full behind `holder`.
fn web_is_named(engine: Option<&Engine>, holder: &str, init: Init) {
    let Some(e) = engine else { return };
    let (port, web) = e.web(&unique("web"), &COMPOSE_LABELS, init);
    assert_named(e, port, &web, holder, init);
}

/// What `docker compose` would put on the service `web` of project `shop`.
const COMPOSE_LABELS: [&str; 4] = [
    "--label",
    "com.docker.compose.project=shop",
    "--label",
    "com.docker.compose.service=web",
];

/// A container on the host's network holds its port itself: its cgroup names the container,
/// and the engine names it (no mapping, nothing further inside).
#[test]
fn a_container_on_the_host_network_is_named_from_its_cgroup() {
    let Some(e) = dockerd("a_container_on_the_host_network_is_named_from_its_cgroup") else {
        return;
    };
    let missing = TempDir::new("no-engine");
    let (docker, podman) = env_for(e, &missing);
    let name = unique("hostnet");
    let port = crate::engines::free_port();
    let listen = format!("127.0.0.1:{port}");
    let web = e.run_detached(
        &name,
        &["--network", "host"],
        &["/bin/httpd", "-f", "-p", &listen, "-h", "/www"],
    );
    crate::engines::wait_http(port);
    let id = web.inspect("{{.Id}}");
    let r = run_with(&docker, &podman, &["who", &port.to_string()]);
    assert_eq!(r.code, 0, "{r:?}");
    let container = format!(
        "container {name} (docker {}), image {IMAGE}, running",
        &id[..12]
    );
    says(
        &r.stdout,
        &[&format!("httpd → {name}"), &container],
        &["publishes", "note:"],
    );
    let j = json_with(&docker, &podman, &["ls"]);
    let c = &on(&j, port)["container"];
    assert_eq!(c["id"], id.as_str(), "{c}");
    assert_eq!(c["published"], Value::Null, "{c}");
    assert_eq!(c["inner"], Value::Null, "{c}");
}

/// With no engine to ask, a port held by docker-proxy reads as it always did (the proxy, its
/// command line), and one note says why no container is named — once, in text and JSON. A
/// port that no container forwarder holds gets no note, and no engine is asked.
#[test]
fn without_an_engine_who_and_ls_say_once_why() {
    let test = "without_an_engine_who_and_ls_say_once_why";
    let Some(proxy_bin) = needs(test, "docker-proxy", "docker.io") else {
        return;
    };
    let (port, proxy) = crate::doctor_docker::docker_proxy(&proxy_bin, "127.0.0.1", "9");
    let missing = TempDir::new("no-engine");
    let docker = format!("unix://{}", missing.join("docker.sock"));
    let podman = format!("unix://{}", missing.join("podman.sock"));
    let p = port.to_string();
    let note = format!(
        "note: container details are missing for 127.0.0.1:{port} (held by docker-proxy[{}]): \
         no container engine answered (docker at {} (DOCKER_HOST): no such socket; podman at {} \
         (CONTAINER_HOST): no such socket); start the engine's API (Podman: podman system \
         service), or point DOCKER_HOST or CONTAINER_HOST at its socket (unix:///path)",
        proxy.pid,
        missing.join("docker.sock"),
        missing.join("podman.sock"),
    );

    let r = run_with(&docker, &podman, &["who", &p]);
    assert_eq!(r.code, 0, "{r:?}");
    let table_row = r.stdout.lines().find(|l| l.starts_with("tcp ")).unwrap();
    assert!(
        table_row.trim_end().ends_with("docker-proxy"),
        "{}",
        r.stdout
    );
    says(
        &r.stdout,
        &["docker-proxy [pid ", &format!("-host-port {port}")],
        &[],
    );
    assert_eq!(r.stdout.matches("note:").count(), 1, "{}", r.stdout);
    assert!(r.stdout.trim_end().ends_with(&note), "{}", r.stdout);
    assert!(r.stderr.is_empty(), "{r:?}");
    let j = json_with(&docker, &podman, &["who", &p]);
    assert_eq!(
        j["container_note"],
        note.trim_start_matches("note: "),
        "{j}"
    );
    assert!(on(&j, port).get("container").is_none(), "{j}");

    let r = run_with(&docker, &podman, &["ls"]);
    assert_eq!(r.code, 0, "{r:?}");
    // No container is named, so no CONTAINER column — unless the NAT rules of other tests'
    // containers show ports published with no socket here (a column for those rows).
    let nat_rows = r.stdout.lines().any(|l| l.contains(" NAT rule "));
    assert!(
        !r.stdout.lines().next().unwrap_or("").contains("CONTAINER") || nat_rows,
        "{}",
        r.stdout
    );
    assert_eq!(
        r.stdout
            .matches("note: container details are missing")
            .count(),
        1,
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("no container engine answered"),
        "{}",
        r.stdout
    );
    let j = json_with(&docker, &podman, &["ls"]);
    assert!(j["container_note"].as_str().is_some(), "{j}");
    assert!(on(&j, port).get("container").is_none(), "{j}");

    // An engine URL portscope does not speak to says so.
    let j = json_with("tcp://127.0.0.1:2375", &podman, &["who", &p]);
    let text = j["container_note"].as_str().unwrap();
    assert!(
        text.contains("DOCKER_HOST=tcp://127.0.0.1:2375 is not a unix socket"),
        "{text}"
    );

    // A port no container forwarder holds: no engine asked, no note.
    let plain = crate::harness::tcp_listener("127.0.0.1");
    let r = run_with(&docker, &podman, &["who", &plain.words[0]]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stdout.contains("note:"), "{}", r.stdout);
    let j = json_with(&docker, &podman, &["who", &plain.words[0]]);
    assert!(j.get("container_note").is_none(), "{j}");
}

/// A user who may not read root's docker-proxy but may ask the engine (here: the engine's
/// socket is opened to gid 65534, as the `docker` group opens it to its members) sees the
/// container behind the hidden holder; without an engine, a hidden owner is no reason for a
/// note.
#[test]
fn a_user_who_may_not_see_the_proxy_sees_the_container() {
    let Some(e) = dockerd("a_user_who_may_not_see_the_proxy_sees_the_container") else {
        return;
    };
    let (port, web) = e.web(&unique("hid"), &COMPOSE_LABELS, Init::Httpd);
    let name = &web.name;
    e.open_to_gid(65534);
    let bin = crate::harness::binary_for_other_users();
    let missing = TempDir::new("no-engine");
    let (docker, podman) = env_for(e, &missing);
    let who = |docker: &str, json: bool| {
        let mut args = vec!["who".to_string(), port.to_string()];
        if json {
            args.push("--json".into());
        }
        output(
            bin.as_nobody()
                .env("DOCKER_HOST", docker)
                .env("CONTAINER_HOST", &podman)
                .env_remove("XDG_RUNTIME_DIR")
                .args(&args),
        )
    };
    let r = who(&docker, false);
    assert_eq!(r.code, 0, "{r:?}");
    let block = format!(
        "127.0.0.1:{port} (held by a process you may not inspect)\n  container {name} (docker "
    );
    says(
        &r.stdout,
        &[
            &format!("(hidden) → {name}"),
            &block,
            "compose   project shop, service web",
        ],
        &["note:"],
    );
    let j: Value = serde_json::from_str(&who(&docker, true).stdout).unwrap();
    let s = on(&j, port);
    assert_eq!(s["owner_hidden"], true, "{j}");
    assert_eq!(s["container"]["name"], name.as_str(), "{j}");
    assert!(j.get("container_note").is_none(), "{j}");

    let nowhere = format!("unix://{}", missing.join("none.sock"));
    let r = who(&nowhere, false);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        !r.stdout.contains("→") && !r.stdout.contains("note:"),
        "{}",
        r.stdout
    );
}
