//! `probe` of the HTTP/2 family (src/probe/h2.rs) end to end, against real servers on run-time
//! ports: nghttpd in clear text (it sends its SETTINGS on connect) and over TLS (ALPN `h2`
//! only), and a gRPC server (Python grpcio) with reflection, without it, and over TLS.

use crate::harness::run;
use crate::probe::{detail, probe_one};
use crate::servers::{self, h2::NGHTTPD_TITLE};

/// nghttpd's release, as `nghttpd --version` prints it (`nghttpd nghttp2/1.52.0`).
fn nghttpd_version() -> String {
    let v = servers::version_of("nghttpd", &["--version"]).unwrap();
    v.rsplit('/').next().unwrap().trim().to_string()
}

#[test]
fn nghttpd_in_clear_text_is_http2_named_from_its_headers() {
    let Some(s) = servers::h2::nghttpd(false) else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "http2", "{r:#}");
    assert_eq!(id["confidence"], "certain", "{r:#}");
    assert_eq!(id["product"], "nghttpd", "{r:#}");
    assert_eq!(id["version"], nghttpd_version().as_str(), "{r:#}");
    assert_eq!(detail(&id, "status"), Some("200"), "{r:#}");
    assert_eq!(detail(&id, "title"), Some(NGHTTPD_TITLE), "{r:#}");
    assert_eq!(detail(&id, "content_type"), Some("text/html"), "{r:#}");
    assert_eq!(detail(&id, "max_concurrent_streams"), Some("100"), "{r:#}");
    // Named from the preface it sent on connect, then asked once: is it gRPC?
    assert_eq!(
        r["probes"],
        serde_json::json!(["banner", "grpc-reflection"]),
        "{r:#}"
    );
    assert!(r["tls"].is_null(), "{r:#}");
}

#[test]
fn nghttpd_over_tls_is_https_over_http2_with_alpn_h2() {
    let Some(s) = servers::h2::nghttpd(true) else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "https", "{r:#}");
    assert_eq!(id["product"], "nghttpd", "{r:#}");
    assert_eq!(detail(&id, "http_version"), Some("2"), "{r:#}");
    assert_eq!(detail(&id, "title"), Some(NGHTTPD_TITLE), "{r:#}");
    assert_eq!(r["tls"]["alpn"], "h2", "{r:#}");
    assert_eq!(r["tls"]["subject"], "CN=portscope-test", "{r:#}");
    let probes = r["probes"].as_array().unwrap();
    assert!(probes.iter().any(|p| p == "http2-get"), "{r:#}");
    // The human layout shows the protocol the server chose.
    let human = run(&["probe", &s.target()]);
    assert_eq!(human.code, 0, "{}", human.stderr);
    let tls_line = human
        .stdout
        .lines()
        .find(|l| l.contains("  tls: "))
        .unwrap_or_else(|| panic!("no tls line:\n{}", human.stdout));
    assert!(tls_line.contains("TLSv1.3; ALPN h2; "), "{tls_line}");
}

#[test]
fn grpc_with_reflection_is_grpc_with_its_services() {
    let Some(s) = servers::h2::grpc_server(true, false) else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "grpc", "{r:#}");
    assert_eq!(id["confidence"], "certain", "{r:#}");
    assert_eq!(
        detail(&id, "services"),
        Some("grpc.health.v1.Health, grpc.reflection.v1alpha.ServerReflection"),
        "{r:#}"
    );
    assert_eq!(
        detail(&id, "content_type"),
        Some("application/grpc"),
        "{r:#}"
    );
}

#[test]
fn grpc_without_reflection_is_grpc_all_the_same() {
    let Some(s) = servers::h2::grpc_server(false, false) else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "grpc", "{r:#}");
    assert_eq!(id["confidence"], "certain", "{r:#}");
    assert_eq!(detail(&id, "reflection"), Some("not enabled"), "{r:#}");
    assert_eq!(detail(&id, "services"), None, "{r:#}");
}

#[test]
fn grpc_over_tls_is_grpc_with_alpn_h2() {
    let Some(s) = servers::h2::grpc_server(true, true) else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "grpc", "{r:#}");
    assert_eq!(r["tls"]["alpn"], "h2", "{r:#}");
    assert_eq!(r["tls"]["self_signed"], true, "{r:#}");
    let services = detail(&id, "services").unwrap_or_default();
    assert!(services.contains("grpc.health.v1.Health"), "{r:#}");
}

#[test]
fn nginx_over_tls_speaks_http2_when_it_can_and_http1_when_it_cannot() {
    let version = servers::version_of("nginx", &["-v"]).map(|v| {
        let v = v.rsplit('/').next().unwrap_or_default();
        v.split_whitespace().next().unwrap_or_default().to_string()
    });
    for (http2, alpn) in [(true, "h2"), (false, "http/1.1")] {
        let Some(s) = servers::nginx_on(true, http2) else {
            return;
        };
        let (r, id) = probe_one(&s);
        assert_eq!(id["protocol"], "https", "{r:#}");
        assert_eq!(id["product"], "nginx", "{r:#}");
        assert_eq!(id["version"], version.as_deref().unwrap(), "{r:#}");
        assert_eq!(r["tls"]["alpn"], alpn, "{r:#}");
        // In HTTP/2 when nginx chose it; else the HTTP/1.1 probe, its reason phrase and all.
        let (status, http_version) = if http2 {
            ("200", Some("2"))
        } else {
            ("200 OK", None)
        };
        assert_eq!(detail(&id, "status"), Some(status), "{r:#}");
        assert_eq!(detail(&id, "http_version"), http_version, "{r:#}");
    }
}
