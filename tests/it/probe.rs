//! `probe`: what speaks on a port, end to end, against real servers from Debian packages
//! (`servers`), each on a port picked at run time. The protocol names are exact: a probe that
//! calls Redis `resp` or nginx `HTTP` fails here.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{python, run};
use crate::servers::{self, Server};

/// `portscope probe TARGETS… --json`: exit 0, the envelope checked, one result per target.
fn probe(targets: &[String]) -> Vec<Value> {
    let mut args = vec!["probe"];
    args.extend(targets.iter().map(String::as_str));
    args.push("--json");
    let r = run(&args);
    assert_eq!(
        r.code, 0,
        "exit code of portscope {args:?}\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    let v: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("bad JSON from portscope {args:?}: {e}\n{}", r.stdout));
    assert_eq!(v["schema_version"], 1, "{v:#}");
    assert_eq!(v["command"], "probe", "{v:#}");
    let results = v["results"].as_array().expect("results array").clone();
    assert_eq!(results.len(), targets.len(), "one result per target: {v:#}");
    results
}

/// The one result for `port`.
fn on_port(results: &[Value], port: u16) -> &Value {
    let mut found = results.iter().filter(|r| r["port"] == port);
    let r = found
        .next()
        .unwrap_or_else(|| panic!("no result for port {port}: {results:#?}"));
    assert!(
        found.next().is_none(),
        "two results for {port}: {results:#?}"
    );
    r
}

/// Check a result for `s` is a reachable, identified port; its identification.
fn identified<'a>(r: &'a Value, s: &Server) -> &'a Value {
    let ctx = || {
        format!(
            "{} on {}: {r:#}\n{} printed:\n{}",
            s.name,
            s.port,
            s.name,
            s.log()
        )
    };
    assert_eq!(r["target"], s.target(), "{}", ctx());
    assert_eq!(r["addr"], "127.0.0.1", "{}", ctx());
    assert_eq!(r["port"], s.port, "{}", ctx());
    assert_eq!(r["state"], "open", "{}", ctx());
    assert!(
        r["elapsed_ms"].as_f64().is_some_and(|ms| ms >= 0.0),
        "{}",
        ctx()
    );
    assert!(r["evidence"].is_string(), "{}", ctx());
    let probes = r["probes"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", ctx()));
    assert!(
        !probes.is_empty() && probes.iter().all(Value::is_string),
        "{}",
        ctx()
    );
    let id = &r["identification"];
    assert!(id.is_object(), "not identified: {}", ctx());
    assert!(
        ["certain", "compatible", "likely"].contains(&id["confidence"].as_str().unwrap_or("")),
        "{}",
        ctx()
    );
    let details = id["details"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", ctx()));
    for d in details {
        let pair = d
            .as_array()
            .filter(|p| p.len() == 2 && p.iter().all(Value::is_string));
        assert!(
            pair.is_some(),
            "details must be [key, value] pairs: {}",
            ctx()
        );
    }
    id
}

/// The value of detail `key` in an identification's `[key, value]` pairs.
pub(crate) fn detail<'a>(id: &'a Value, key: &str) -> Option<&'a str> {
    id["details"]
        .as_array()?
        .iter()
        .find(|d| d[0] == key)
        .and_then(|d| d[1].as_str())
}

/// Probe `s` alone; its result and identification.
pub(crate) fn probe_one(s: &Server) -> (Value, Value) {
    let results = probe(&[s.target()]);
    let id = identified(&results[0], s).clone();
    (results[0].clone(), id)
}

/// Panics unless the probed version, when reported, is `want` (as the binary reports it).
fn version_if_any(id: &Value, want: &str) {
    if let Some(v) = id["version"].as_str() {
        assert_eq!(v, want, "{id:#}");
    } else {
        assert!(id["version"].is_null(), "{id:#}");
    }
}

/// A listener on an IPv6 socket bound to `::ffff:127.0.0.1` (as a JVM binds 127.0.0.1)
/// receives connections to 127.0.0.1: probing that address names its owner.
#[test]
fn a_v4_mapped_listener_has_its_owner_named() {
    let l = crate::harness::python(
        "import socket,os,time\n\
         s=socket.socket(socket.AF_INET6); s.bind(('::ffff:127.0.0.1',0)); s.listen(4)\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         time.sleep(60)\n",
    );
    let port = u16::try_from(l.num(0)).unwrap();
    let results = probe(&[format!("127.0.0.1:{port}")]);
    let r = on_port(&results, port);
    assert_eq!(r["owner"]["pid"], l.pid, "{r:#}");
    assert_eq!(r["owner"]["comm"], "python3", "{r:#}");
}

#[test]
fn python_http_server_is_http_python() {
    let Some(s) = servers::http_server() else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "http", "{r:#}");
    assert_eq!(id["product"], "Python http.server", "{r:#}");
    assert_eq!(r["tls"], Value::Null, "{r:#}");
    assert_eq!(r["owner"]["pid"], s.pid(), "{r:#}");
    assert_eq!(r["owner"]["comm"], "python3", "{r:#}");
}

#[test]
fn openssl_s_server_shows_its_certificate() {
    let Some(s) = servers::tls_server() else {
        return;
    };
    let cn = s.cn.clone().unwrap();
    let (r, id) = probe_one(&s);
    assert!(
        id["protocol"] == "https" || id["protocol"] == "tls",
        "{r:#}"
    );
    let tls = &r["tls"];
    assert!(tls.is_object(), "no TLS facts: {r:#}");
    let text = |k: &str| {
        tls[k]
            .as_str()
            .unwrap_or_else(|| panic!("tls.{k}: {r:#}"))
            .to_string()
    };
    assert!(text("subject").contains(&cn), "{r:#}");
    assert!(text("issuer").contains(&cn), "{r:#}");
    assert!(
        text("version").contains("1.3"),
        "OpenSSL 3 negotiates TLS 1.3: {r:#}"
    );
    assert!(!text("cipher").is_empty(), "{r:#}");
    assert!(
        !text("not_before").is_empty() && !text("not_after").is_empty(),
        "{r:#}"
    );
    assert_eq!(tls["self_signed"], true, "{r:#}");
    assert_eq!(tls["expired"], false, "{r:#}");
    let san: Vec<&str> = tls["san"]
        .as_array()
        .unwrap_or_else(|| panic!("tls.san: {r:#}"))
        .iter()
        .map(|v| v.as_str().unwrap_or_else(|| panic!("tls.san: {r:#}")))
        .collect();
    assert!(san.iter().any(|n| n.contains("localhost")), "{r:#}");
    assert!(san.iter().any(|n| n.contains("127.0.0.1")), "{r:#}");
}

#[test]
fn jvm_with_jdwp_agent_is_jdwp() {
    let Some(s) = servers::jdwp_jvm() else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "jdwp", "{r:#}");
    assert_eq!(id["confidence"], "certain", "{r:#}");
    assert_eq!(r["owner"]["pid"], s.pid(), "{r:#}");
    assert_eq!(r["owner"]["comm"], "java", "{r:#}");
}

#[test]
fn waiting_debugger_is_jdwp() {
    let Some(s) = servers::jdwp_debugger_side() else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "jdwp", "{r:#}");
    assert_eq!(id["confidence"], "certain", "{r:#}");
}

#[test]
fn node_inspector_is_node_inspector() {
    let Some(s) = servers::node_inspector() else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "node-inspector", "{r:#}");
    assert_eq!(id["product"], "Node.js", "{r:#}");
    if let Some(v) = id["version"].as_str() {
        let node = servers::version_of("node", &["--version"]).unwrap();
        assert_eq!(
            v.trim_start_matches('v'),
            node.trim_start_matches('v'),
            "{r:#}"
        );
    }
    assert_eq!(r["owner"]["pid"], s.pid(), "{r:#}");
}

#[test]
fn redis_without_password_is_open() {
    let Some(s) = servers::redis(None) else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "redis", "{r:#}");
    // Certain of the product because INFO server proved it, with the version it states.
    assert_eq!(id["product"], "Redis", "{r:#}");
    assert_eq!(id["auth"], "not_required", "{r:#}");
    assert_eq!(id["confidence"], "certain", "{r:#}");
    let says = servers::version_of("redis-server", &["--version"]).unwrap_or_default();
    let version = id["version"].as_str().unwrap_or("?");
    assert!(
        says.contains(&format!("v={version} ")),
        "{version} vs {says}"
    );
    assert!(
        r["probes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "redis-info"),
        "{r:#}"
    );
    assert_eq!(r["owner"]["pid"], s.pid(), "{r:#}");
    assert_eq!(r["owner"]["comm"], "redis-server", "{r:#}");
    // Safety: sending it HTTP first would make it log this and drop the connection.
    assert!(!s.log().contains("SECURITY ATTACK"), "{}", s.log());
}

#[test]
fn redis_with_password_requires_auth() {
    let Some(s) = servers::redis(Some("s3cret-portscope")) else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "redis", "{r:#}");
    // INFO is refused too: the protocol is proven, the product is not.
    assert!(id["product"].is_null(), "{r:#}");
    assert_eq!(id["confidence"], "compatible", "{r:#}");
    assert_eq!(id["auth"], "required", "{r:#}");
    assert!(
        detail(&id, "info").is_some_and(|i| i.contains("NOAUTH")),
        "{r:#}"
    );
    assert!(!s.log().contains("SECURITY ATTACK"), "{}", s.log());
}

#[test]
fn memcached_is_memcached_with_its_version() {
    let Some(s) = servers::memcached() else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "memcached", "{r:#}");
    let v = servers::version_of("memcached", &["-V"]).unwrap(); // "memcached 1.6.18"
    let want = v.strip_prefix("memcached ").unwrap_or(&v);
    assert_eq!(id["version"], want, "{r:#}");
    // The text protocol has no authentication: it answered, so anyone can use it.
    assert_eq!(id["auth"], "not_required", "{r:#}");
}

#[test]
fn mosquitto_is_mqtt() {
    let Some(s) = servers::mosquitto() else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "mqtt", "{r:#}");
}

#[test]
fn sshd_is_openssh() {
    let Some(s) = servers::sshd() else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "ssh", "{r:#}");
    assert_eq!(id["product"], "OpenSSH", "{r:#}");
    assert_eq!(id["confidence"], "certain", "{r:#}");
    assert!(
        r["evidence"].as_str().unwrap().contains("SSH-2.0-OpenSSH_"),
        "the banner is the evidence: {r:#}"
    );
    // `sshd -V` says `OpenSSH_9.2, OpenSSL …`; the banner says `OpenSSH_9.2p1 Debian-…`.
    let v = servers::version_of("sshd", &["-V"]).unwrap();
    let short = v
        .strip_prefix("OpenSSH_")
        .and_then(|v| v.split([',', ' ']).next())
        .unwrap_or_else(|| panic!("sshd -V: {v}"));
    if let Some(got) = id["version"].as_str() {
        assert!(got.starts_with(short), "{short} vs {r:#}");
    }
}

#[test]
fn postgres_is_postgresql() {
    let Some(s) = servers::postgres() else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "postgresql", "{r:#}");
    assert_eq!(r["owner"]["comm"], "postgres", "{r:#}");
    // Safety: anything but a startup or SSL request makes postgres log an error.
    let log = s.log();
    for bad in [
        "invalid length of startup packet",
        "unsupported frontend protocol",
    ] {
        assert!(
            !log.contains(bad),
            "the probe made postgres log {bad:?}:\n{log}"
        );
    }
}

#[test]
fn nginx_is_http_nginx() {
    let Some(s) = servers::nginx() else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "http", "{r:#}");
    assert_eq!(id["product"], "nginx", "{r:#}");
    let v = servers::version_of("nginx", &["-v"]).unwrap(); // "nginx version: nginx/1.22.1"
    version_if_any(&id, v.rsplit('/').next().unwrap());
    assert_eq!(r["owner"]["comm"], "nginx", "{r:#}");
}

/// Several targets in one run, one of them refused (a bound socket that does not listen:
/// the kernel answers RST, and nobody else can take the port meanwhile). Also bounds the
/// wall time: these local servers answer in milliseconds, so a prober that waits nmap-style
/// seconds per port, one port after another, fails here.
#[test]
fn probes_several_targets_in_one_run() {
    let (Some(http), Some(redis), Some(mc), Some(node), Some(nginx)) = (
        servers::http_server(),
        servers::redis(None),
        servers::memcached(),
        servers::node_inspector(),
        servers::nginx(),
    ) else {
        return;
    };
    let closed = python(
        "import socket,time\n\
         s=socket.socket(); s.bind(('127.0.0.1',0))\n\
         print(s.getsockname()[1], flush=True)\n\
         time.sleep(120)\n",
    );
    let closed_port = u16::try_from(closed.num(0)).unwrap();
    let servers = [&http, &redis, &mc, &node, &nginx];
    let mut targets: Vec<String> = servers.iter().map(|s| s.target()).collect();
    targets.insert(2, format!("127.0.0.1:{closed_port}"));

    let t0 = Instant::now();
    let results = probe(&targets);
    let took = t0.elapsed();

    let want = [
        ("http", Some("Python http.server")),
        ("redis", Some("Redis")),
        ("memcached", None),
        ("node-inspector", Some("Node.js")),
        ("http", Some("nginx")),
    ];
    for (s, (protocol, product)) in servers.iter().zip(want) {
        let r = on_port(&results, s.port);
        let id = identified(r, s);
        assert_eq!(id["protocol"], protocol, "{r:#}");
        if let Some(p) = product {
            assert_eq!(id["product"], p, "{r:#}");
        }
    }
    let r = on_port(&results, closed_port);
    assert_eq!(r["target"], format!("127.0.0.1:{closed_port}"), "{r:#}");
    assert_eq!(r["state"], "refused", "{r:#}");
    assert_eq!(r["identification"], Value::Null, "{r:#}");
    assert!(
        took < Duration::from_secs(10),
        "6 local targets took {took:?}: {results:#?}"
    );
}

#[test]
fn dnsmasq_answers_dns_over_udp_and_tcp() {
    let Some(dns) = servers::dnsmasq() else {
        return;
    };
    let udp = format!("udp/127.0.0.1:{}", dns.port);
    let r = crate::harness::json(&["probe", &udp]);
    let res = &r["results"][0];
    assert_eq!(res["proto"], "udp", "{r}");
    assert_eq!(res["identification"]["protocol"], "dns", "{r}");
    assert_eq!(res["identification"]["product"], "dnsmasq", "{r}");
    let version = crate::servers::version_of("dnsmasq", &["--version"]).unwrap_or_default();
    assert!(
        res["identification"]["version"]
            .as_str()
            .is_some_and(|v| !v.is_empty() && version.contains(v)),
        "dnsmasq --version says {version:?}: {r}"
    );
    let tcp = format!("127.0.0.1:{}", dns.port);
    let r = crate::harness::json(&["probe", &tcp]);
    assert_eq!(r["results"][0]["identification"]["protocol"], "dns", "{r}");
    // A UDP port where nothing is bound: refused (ICMP port unreachable), never "dns".
    let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let r = crate::harness::json(&["probe", &format!("{port}/udp")]);
    assert!(r["results"][0]["identification"].is_null(), "{r}");
}

mod more;
