//! Host names as clients see them, for every verb: `localhost` is both loopback addresses
//! (curl and browsers try both, RFC 6761), so a listener on `[::1]` only holds
//! `localhost:PORT` whatever `/etc/hosts` says; a name that does not resolve is an error
//! (exit 2), never "nothing holds it".

use crate::harness::{json, needs, python, run};

#[test]
fn a_listener_on_ipv6_loopback_holds_localhost() {
    let test = "names::a_listener_on_ipv6_loopback_holds_localhost";
    let Some(curl) = needs(test, "curl", "curl") else {
        return;
    };
    let server = python(crate::harness::HTTP_ON_IPV6_LOOPBACK);
    let port = &server.words[0];
    let target = format!("localhost:{port}");
    // The oracle: curl reaches it by that name.
    let ok = std::process::Command::new(curl)
        .args(["-s", "-o", "/dev/null", &format!("http://{target}/")])
        .status()
        .unwrap();
    assert!(ok.success(), "curl http://{target}/");
    let r = run(&["who", &target]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains(&format!("[::1]:{port}")), "{r:?}");
    let j = json(&["who", &target]);
    assert_eq!(j["held"], true, "{j}");
    let pids: Vec<u64> = j["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["state"] == "listen")
        .flat_map(|s| s["pids"].as_array().unwrap().clone())
        .filter_map(|p| p.as_u64())
        .collect();
    assert_eq!(pids, [u64::from(server.pid)], "{j}");
    // Which clients reach it: curl and browsers always (both loopback addresses); the others
    // only when the resolver gives ::1 for localhost here.
    let clients = j["clients"].as_array().unwrap();
    assert_eq!(clients[0]["reaches"], "::1", "{j}");
    let resolver_has_v6 = clients[1]["dials"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d == "::1");
    if resolver_has_v6 {
        assert_eq!(clients[1]["reaches"], "::1", "{j}");
    } else {
        assert_eq!(clients[1]["reaches"], serde_json::Value::Null, "{j}");
        assert!(r.stdout.contains("which clients reach it"), "{r:?}");
        assert!(
            r.stdout
                .contains(&format!("Python: dial 127.0.0.1:{port} → refused")),
            "{r:?}"
        );
    }
    let e = run(&["explain", &target]);
    assert!(e.stdout.contains("held right now"), "{e:?}");
    if !resolver_has_v6 {
        assert!(
            e.stdout.contains(&format!(
                "not every client reaches it: curl and browsers → [::1]:{port}"
            )),
            "{e:?}"
        );
    }
    assert!(
        !e.stdout.contains("nothing holds it"),
        "explain agrees with who: {e:?}"
    );
    // probe, kill and check dial both addresses too, and say the same of the clients.
    let python_refused = |text: &str| text.contains(&format!("Python: dial 127.0.0.1:{port} →"));
    let p = run(&["probe", &target]);
    assert_eq!(p.code, 0, "{p:?}");
    assert!(
        p.stdout.contains(&format!("[::1]:{port}      open")),
        "{p:?}"
    );
    let pj = json(&["probe", &target]);
    assert_eq!(pj["clients"][0]["clients"][0]["reaches"], "::1", "{pj}");
    let k = run(&["kill", "--dry-run", &target]);
    assert_eq!(k.code, 0, "{k:?}");
    assert!(
        k.stdout.contains(&format!("tcp LISTEN [::1]:{port}")),
        "{k:?}"
    );
    let c = run(&["check", "connect", &target]);
    assert_eq!(c.code, 0, "{c:?}");
    assert!(c.stdout.starts_with("TCP OK - "), "{c:?}");
    assert!(
        c.stdout.contains(&format!("[::1]:{port}: connected")),
        "{c:?}"
    );
    if !resolver_has_v6 {
        for (verb, text) in [
            ("probe", &p.stdout),
            ("kill", &k.stdout),
            ("check", &c.stdout),
        ] {
            assert!(python_refused(text), "{verb}: {text}");
        }
        assert!(
            c.stdout.contains(&format!("127.0.0.1:{port}: refused")),
            "{c:?}"
        );
    }
}

#[test]
fn a_name_that_does_not_resolve_is_an_error_for_every_verb() {
    let server = crate::harness::tcp_listener("127.0.0.1");
    let target = format!("nonexistent.invalid:{}", server.words[0]);
    for verb in ["who", "explain", "probe", "doctor", "kill", "wait"] {
        let r = run(&[verb, &target]);
        assert_eq!(r.code, 2, "{verb}: {r:?}");
        assert_eq!(r.stderr.lines().count(), 1, "{verb}: {r:?}");
        assert!(
            r.stderr
                .contains("nonexistent.invalid does not resolve here"),
            "{verb}: {r:?}"
        );
    }
    // A monitoring plugin answers on standard output, as check_tcp does: CRITICAL (2), with
    // the resolver's reason.
    let c = run(&["check", "connect", &target]);
    assert_eq!(c.code, 2, "{c:?}");
    assert!(
        c.stdout.starts_with(
            "TCP CRITICAL - Invalid hostname, address or socket: nonexistent.invalid ("
        ) && c.stdout.contains("Name or service not known"),
        "{c:?}"
    );
}
