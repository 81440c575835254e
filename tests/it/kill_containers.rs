//! `kill` on a port a container publishes, with real engines (the tests' own `dockerd` and
//! Podman API service, see `engines.rs`): the container is stopped through its engine, the
//! forwarder (`docker-proxy`, `conmon`) is not signalled, and the port is verified free;
//! `--dry-run` stops nothing; `--force` signals the forwarder as before; with no engine to
//! ask, the plan is what it was, with a note saying why.

use serde_json::Value;

use crate::engines::{Container, Engine, IMAGE, Init, dockerd, podman, unique};
use crate::harness::{Run, TempDir, output, portscope};

/// portscope with `args`, the engine `e` at its socket and no other engine to ask.
fn run_on(e: &Engine, missing: &TempDir, args: &[&str]) -> Run {
    let (docker, podman) = crate::containers::env_for(e, missing);
    crate::containers::run_with(&docker, &podman, args)
}

/// [`run_on`] with `--json`: the exit code and the report.
fn json_on(e: &Engine, missing: &TempDir, args: &[&str]) -> (i32, Value) {
    let r = run_on(e, missing, &[args, &["--json"]].concat());
    let v = serde_json::from_str(&r.stdout).unwrap_or_else(|err| panic!("{err}: {r:?}"));
    (r.code, v)
}

/// `{{.State.Status}}` of a container.
fn status(c: &Container<'_>) -> String {
    c.inspect("{{.State.Status}}")
}

/// The comm of the forwarder that holds a published port for `e`.
fn forwarder(e: &Engine) -> &'static str {
    if e.kind == "docker" {
        "docker-proxy"
    } else {
        "conmon"
    }
}

/// Dry run, then a real stop: the plan names the container, its engine, id, image and socket
/// and leaves the forwarder alone; the stop goes through the engine; the port is free.
fn stops_through_the_engine(e: &Engine) {
    let missing = TempDir::new("kill-no-engine");
    let (port, web) = e.web(&unique("killweb"), &[], Init::Httpd);
    let p = port.to_string();
    let id = web.inspect("{{.Id}}");
    let socket = e.socket.display().to_string();

    let (code, plan) = json_on(e, &missing, &["kill", "--dry-run", &p]);
    assert_eq!(code, 0, "{plan}");
    let c = &plan["stop_containers"][0];
    assert_eq!(c["name"], web.name.as_str(), "{plan}");
    assert_eq!(c["engine"], e.kind, "{plan}");
    assert_eq!(c["id"], id.as_str(), "{plan}");
    assert_eq!(c["engine_socket"], socket.as_str(), "{plan}");
    assert_eq!(c["ports"], serde_json::json!([port]), "{plan}");
    assert_eq!(c["grace_s"], 5, "{plan}");
    assert_eq!(c["holders"][0]["comm"], forwarder(e), "{plan}");
    assert_eq!(plan["stop"], serde_json::json!([]), "{plan}");
    assert_eq!(plan["refused"], serde_json::json!([]), "{plan}");
    assert!(plan.get("containers").is_none(), "{plan}");
    let r = run_on(e, &missing, &["kill", "--dry-run", &p]);
    assert_eq!(r.code, 0, "{r:?}");
    let line = format!(
        "would stop container {} ({}, {}, ",
        web.name,
        e.kind,
        &id[..12]
    );
    assert!(r.stdout.contains(&line), "{line}\n{r:?}");
    // Podman names the image localhost/local/bb:1.
    let how = format!("{IMAGE}) through {socket}, grace 5 s");
    assert!(r.stdout.contains(&how), "{how}\n{r:?}");
    assert!(
        r.stdout
            .contains("not signalled, it goes with the container"),
        "{r:?}"
    );
    assert_eq!(status(&web), "running", "--dry-run stopped it");

    // busybox httpd as pid 1 ignores SIGTERM: the engine kills it after the grace.
    let (code, done) = json_on(e, &missing, &["kill", "--yes", "--timeout", "1s", &p]);
    assert_eq!(code, 0, "{done}");
    let o = &done["containers"][0];
    assert_eq!(o["outcome"], "stopped", "{done}");
    assert_eq!(o["name"], web.name.as_str(), "{done}");
    assert_eq!(o["engine"], e.kind, "{done}");
    assert_eq!(o["message"], Value::Null, "{done}");
    assert_eq!(done["stop_containers"][0]["grace_s"], 1, "{done}");
    assert_eq!(done["outcomes"], serde_json::json!([]), "{done}");
    assert_eq!(done["signals_sent"], serde_json::json!([]), "{done}");
    assert_eq!(done["all_free"], true, "{done}");
    assert_eq!(done["ports"][0]["free"], true, "{done}");
    assert_eq!(status(&web), "exited");

    // Nothing holds it now: nothing to stop, no engine asked for a stop.
    let (code, again) = json_on(e, &missing, &["kill", "--yes", &p]);
    assert_eq!(code, 0, "{again}");
    assert!(again.get("stop_containers").is_none(), "{again}");
}

/// `--force`: the forwarder is signalled as before kill knew engines; the container runs on.
fn force_signals_the_forwarder(e: &Engine) {
    let missing = TempDir::new("kill-no-engine");
    let (port, web) = e.web(&unique("killforce"), &[], Init::Httpd);
    let p = port.to_string();
    let (code, r) = json_on(e, &missing, &["kill", "--yes", "--force", &p]);
    assert!(r.get("stop_containers").is_none(), "{r}");
    assert!(r.get("containers").is_none(), "{r}");
    let signalled: Vec<&str> = r["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["comm"].as_str().unwrap())
        .collect();
    assert!(signalled.contains(&forwarder(e)), "{r}");
    assert_eq!(code, if r["all_free"] == true { 0 } else { 1 }, "{r}");
    assert_eq!(status(&web), "running", "{r}");
}

#[test]
fn docker_kill_stops_the_container_through_the_engine() {
    let Some(e) = dockerd("docker_kill_stops_the_container_through_the_engine") else {
        return;
    };
    stops_through_the_engine(e);
}

#[test]
fn docker_kill_force_signals_docker_proxy() {
    let Some(e) = dockerd("docker_kill_force_signals_docker_proxy") else {
        return;
    };
    force_signals_the_forwarder(e);
}

#[test]
fn podman_kill_stops_the_container_through_the_engine() {
    let Some(e) = podman("podman_kill_stops_the_container_through_the_engine") else {
        return;
    };
    stops_through_the_engine(e);
}

#[test]
fn podman_kill_force_signals_conmon() {
    let Some(e) = podman("podman_kill_force_signals_conmon") else {
        return;
    };
    force_signals_the_forwarder(e);
}

/// No engine answers (the socket is not there): docker-proxy is refused as before, the note
/// says why the container is not named, and the container runs on.
#[test]
fn docker_kill_without_an_engine_refuses_as_before() {
    let Some(e) = dockerd("docker_kill_without_an_engine_refuses_as_before") else {
        return;
    };
    let missing = TempDir::new("kill-no-engine");
    let (port, web) = e.web(&unique("killnoeng"), &[], Init::Httpd);
    let none = format!("unix://{}", missing.join("none.sock"));
    let r = output(
        portscope()
            .env("DOCKER_HOST", &none)
            .env("CONTAINER_HOST", &none)
            .env_remove("XDG_RUNTIME_DIR")
            .args(["kill", "--yes", &port.to_string()]),
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("refused to stop docker-proxy["), "{r:?}");
    assert!(
        r.stdout
            .contains("note: container details are missing for 127.0.0.1:"),
        "{r:?}"
    );
    assert!(r.stdout.contains("no container engine answered"), "{r:?}");
    assert!(!r.stdout.contains("stop container"), "{r:?}");
    assert_eq!(status(&web), "running");
}
