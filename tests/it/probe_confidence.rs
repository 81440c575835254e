//! `probe`'s confidence, end to end against real servers on run-time ports: `certain` only
//! when the bytes prove the product (Redis's `INFO` `redis_version`), `compatible` for a
//! server that speaks the protocol without proving the product (fakeredis, a password-locked
//! Redis); DAP told from LSP (debugpy, pylsp) and a single-use debug adapter left alone (`dlv
//! dap`); a proxy named as the proxy with its backend as a detail (Varnish); `/metrics` as a
//! detail, not a product (etcd); websocket endpoints as `http`; an Erlang node's distribution
//! port.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::run;
use crate::probe::{detail, probe_one};
use crate::servers;

/// `portscope probe TARGET --json`: exit 0; the one result.
fn probe_target(target: &str) -> Value {
    let r = run(&["probe", target, "--json"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).expect("JSON");
    v["results"][0].clone()
}

#[test]
fn fakeredis_speaks_redis_but_is_not_called_redis() {
    let Some(s) = servers::fakeredis() else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "redis", "{r:#}");
    assert_eq!(id["confidence"], "compatible", "{r:#}");
    assert!(id["product"].is_null(), "{r:#}");
    assert_eq!(id["auth"], "not_required", "{r:#}");
    assert!(
        detail(&id, "info").is_some_and(|i| i.contains("unknown command")),
        "{r:#}"
    );
}

#[test]
fn debugpy_is_dap_with_its_version() {
    let Some(s) = servers::debugpy() else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "dap", "{r:#}");
    assert_eq!(id["product"], "debugpy", "{r:#}");
    assert_eq!(id["confidence"], "certain", "{r:#}");
    assert!(id["version"].is_string(), "{r:#}");
}

#[test]
fn pylsp_is_lsp() {
    let Some(s) = servers::pylsp() else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "lsp", "{r:#}");
    assert_eq!(id["confidence"], "certain", "{r:#}");
    // The probe's request is an unknown method: pylsp answers it and stays up.
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", s.port)).is_ok(),
        "{}",
        s.log()
    );
}

#[test]
fn dlv_dap_is_left_alone_and_stays_up() {
    let Some(s) = servers::dlv_dap() else {
        return;
    };
    let r = probe_target(&s.target());
    assert_eq!(r["state"], "open", "{r:#}");
    assert!(r["identification"].is_null(), "{r:#}");
    assert!(
        r["note"].as_str().unwrap_or_default().contains("dlv dap"),
        "{r:#}"
    );
    // Any connection that ends would have ended it (it is single-use): it still listens.
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        servers::listening_on(s.pid(), s.port),
        "dlv dap stopped listening: {}",
        s.log()
    );
}

#[test]
fn varnish_is_the_product_and_python_the_backend() {
    let Some((varnish, _backend)) = servers::varnish_before_http_server() else {
        return;
    };
    let (r, id) = probe_one(&varnish);
    assert_eq!(id["protocol"], "http", "{r:#}");
    assert_eq!(id["product"], "Varnish", "{r:#}");
    let says = servers::version_of("varnishd", &["-V"]).unwrap_or_default();
    let version = id["version"].as_str().unwrap_or("?");
    assert!(
        says.contains(&format!("varnish-{version}")),
        "{version} vs {says}"
    );
    assert!(
        detail(&id, "backend").is_some_and(|b| b.starts_with("SimpleHTTP/")),
        "{r:#}"
    );
    assert!(
        detail(&id, "proxy").is_some_and(|p| p.contains("Varnish")),
        "{r:#}"
    );
}

#[test]
fn etcd_metrics_are_a_detail_not_a_prometheus_product() {
    let Some(s) = servers::etcd() else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "http", "{r:#}");
    assert_eq!(detail(&id, "metrics"), Some("prometheus-text"), "{r:#}");
    let product = id["product"].as_str().unwrap_or_default().to_lowercase();
    assert!(!product.contains("prometheus"), "{r:#}");
}

#[test]
fn websocket_server_is_http_with_a_websocket_detail() {
    let Some(s) = servers::websockets() else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "http", "{r:#}");
    assert_eq!(id["product"], "websockets", "{r:#}");
    assert_eq!(detail(&id, "status"), Some("426 Upgrade Required"), "{r:#}");
    assert_eq!(
        detail(&id, "websocket"),
        Some("Upgrade: websocket"),
        "{r:#}"
    );
}

#[test]
fn websocket_403_that_keeps_the_connection_is_http() {
    let Some(s) = servers::websocket_403_held() else {
        return;
    };
    let started = Instant::now();
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "http", "{r:#}");
    assert_eq!(detail(&id, "status"), Some("403 Forbidden"), "{r:#}");
    assert!(detail(&id, "websocket").is_some(), "{r:#}");
    // Decided when the read timed out, within the port's deadline.
    assert!(started.elapsed() < Duration::from_secs(3), "{r:#}");
}

#[test]
fn erlang_node_distribution_port_is_erlang_dist() {
    let Some((_epmd, _node, port)) = servers::erlang_node() else {
        return;
    };
    let r = probe_target(&format!("127.0.0.1:{port}"));
    let id = &r["identification"];
    assert_eq!(id["protocol"], "erlang-dist", "{r:#}");
    assert_eq!(id["confidence"], "certain", "{r:#}");
    assert_eq!(detail(id, "status"), Some("ok"), "{r:#}");
    assert!(
        detail(id, "node").is_some_and(|n| n.starts_with(&format!("{}@", servers::NODE))),
        "{r:#}"
    );
    assert_eq!(r["owner"]["comm"], "beam.smp", "{r:#}");
}
