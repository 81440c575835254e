//! `kill` on the container cases beyond a running docker-proxy: a port published with Docker's
//! userland proxy off (the tests' NAT dockerd, `engines::dockerd_nat`; Docker 20.10 keeps the
//! port bound in dockerd itself, here a bound socket whose listener `ss -K` destroyed) is freed
//! by stopping the container through the engine — never by signalling dockerd, which would
//! stop every container; a `docker-proxy` left over from a removed container is refused with
//! the words that say so and the fix, and `--force` stops it alone.

use serde_json::Value;

use crate::engines::dockerd;
use crate::harness::{Run, needs, output, portscope};
use crate::nat_published::{in_ns, published};

const HTTPD: &[&str] = &["/bin/httpd", "-f", "-p", "80", "-h", "/www"];

fn json(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {r:?}"))
}

#[test]
fn a_port_dockerd_holds_for_a_container_is_freed_by_stopping_the_container() {
    let test = "a_port_dockerd_holds_for_a_container_is_freed_by_stopping_the_container";
    let Some(nat) = crate::engines::dockerd_nat(test) else {
        return;
    };
    let (port, web) = published(nat, "natkill", "127.0.0.1", HTTPD);
    let url = nat.engine.url();
    let p = port.to_string();
    let id = web.inspect("{{.Id}}");

    let dry = in_ns(nat, &url, &["kill", &p, "--dry-run"]);
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(
        dry.stdout
            .contains(&format!("would stop container {}", web.name)),
        "{}",
        dry.stdout
    );
    assert!(!dry.stdout.contains("it is free"), "{}", dry.stdout);
    assert!(
        !dry.stdout.contains("refused"),
        "dockerd is not signalled: {}",
        dry.stdout
    );
    assert_eq!(web.inspect("{{.State.Status}}"), "running");

    let r = in_ns(
        nat,
        &url,
        &["kill", &p, "--yes", "--timeout", "1s", "--json"],
    );
    let j = json(&r);
    assert_eq!(r.code, 0, "{r:?}");
    let c = &j["containers"][0];
    assert_eq!(c["id"], id.as_str(), "{j:#}");
    assert_eq!(c["outcome"], "stopped", "{j:#}");
    assert_eq!(j["all_free"], true, "{j:#}");
    assert_eq!(web.inspect("{{.State.Status}}"), "exited");
    // Nothing publishes it now: who agrees.
    let who = in_ns(nat, &url, &["who", &p]);
    assert_eq!(who.code, 1, "{who:?}");
}

#[test]
fn a_leftover_docker_proxy_is_refused_as_leftover_and_force_stops_it() {
    let test = "a_leftover_docker_proxy_is_refused_as_leftover_and_force_stops_it";
    let Some(e) = dockerd(test) else { return };
    let Some(bin) = needs(test, "docker-proxy", "docker.io") else {
        return;
    };
    // An address on the engine's bridge where no container is.
    let (port, mut proxy) = crate::doctor_docker::docker_proxy(&bin, "10.201.0.251", "80");
    let p = port.to_string();
    let with_docker = |args: &[&str]| {
        output(
            portscope()
                .env("DOCKER_HOST", e.url())
                .env("CONTAINER_HOST", "unix:///nonexistent/podman.sock")
                .env_remove("XDG_RUNTIME_DIR")
                .args(args),
        )
    };
    let r = with_docker(&["kill", &p, "--yes"]);
    assert_eq!(r.code, 1, "{r:?}");
    for w in [
        format!("refused to stop docker-proxy[{}]", proxy.pid),
        "left over from a removed container".to_string(),
        format!("portscope kill --force {p}"),
    ] {
        assert!(r.stdout.contains(&w), "lacks {w:?}:\n{}", r.stdout);
    }
    let j = json(&with_docker(&["kill", &p, "--dry-run", "--json"]));
    let refused = j
        .pointer("/plan/refused/0/reason")
        .or(j.pointer("/refused/0/reason"));
    assert_eq!(refused, Some(&Value::from("leftover_proxy")), "{j:#}");
    assert!(proxy.child.try_wait().unwrap().is_none(), "still running");

    let r = with_docker(&["kill", &p, "--yes", "--force"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("--force: docker-proxy is stopped; no container is touched")
            && !r.stdout.contains("the container is the real owner"),
        "{}",
        r.stdout
    );
    assert!(
        crate::ui_browser_util::wait_exit(&mut proxy, std::time::Duration::from_secs(5)),
        "docker-proxy stopped"
    );
}
