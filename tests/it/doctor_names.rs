//! `doctor` on names: which addresses each family of clients dials for `localhost`, with
//! `/etc/hosts` set by the test (`ip netns exec` shows a namespace its own
//! `/etc/netns/NAME/hosts`), `--bind NAME` at every address of the name, and a name that does
//! not resolve (bad input, exit 2). Real curl and Python inside the namespace are the ground truth.

use crate::doctor_netns::Netns;
use crate::harness::{Spawned, codes, needs, python, run};

/// An HTTP server inside `ns` on `[::1]`, port 0; prints `PORT PID`.
fn http6(ns: &Netns) -> Spawned {
    ns.python(crate::harness::HTTP_ON_IPV6_LOOPBACK)
}

/// Exit status of `args` run inside `ns`.
fn inside(ns: &Netns, args: &[&str]) -> i32 {
    std::process::Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .code()
        .unwrap_or(-1)
}

#[test]
fn clients_that_dial_localhost_differently_are_told_apart() {
    let test = "clients_that_dial_localhost_differently_are_told_apart";
    let Some(ns) = Netns::new(test, "names", "sets /etc/hosts for a namespace of its own") else {
        return;
    };
    let Some(curl) = needs(test, "curl", "curl") else {
        return;
    };
    let curl = curl.to_str().unwrap();
    ns.ip(&["link", "set", "lo", "up"]);
    // localhost is 127.0.0.1 only here; the server listens on ::1 only.
    ns.hosts("127.0.0.1 localhost\n");
    let server = http6(&ns);
    let port = server.words[0].clone();
    let url = format!("http://localhost:{port}/");
    // The truth: curl takes localhost as both loopback addresses, Python as the resolver says.
    assert_eq!(inside(&ns, &[curl, "-s", "-o", "/dev/null", &url]), 0);
    let py = format!("import urllib.request; urllib.request.urlopen({url:?}, timeout=3)");
    assert_ne!(inside(&ns, &["python3", "-c", &py]), 0);
    let (code, r) = ns.portscope_code(&["doctor", &format!("localhost:{port}")]);
    assert_eq!(code, 1, "{r}");
    assert_eq!(codes(&r)[0], "DOC-CLIENTS-DIFFER", "{r}");
    assert_eq!(r["resolution"]["addresses"][0], "127.0.0.1", "{r}");
    assert_eq!(
        r["resolution"]["hosts_lines"][0], "127.0.0.1 localhost",
        "{r}"
    );
    let clients = r["clients"].as_array().unwrap();
    assert!(clients[0]["clients"].as_str().unwrap().contains("curl"));
    assert_eq!(clients[0]["reaches"], "::1", "{r}");
    assert!(clients[1]["clients"].as_str().unwrap().contains("Python"));
    assert_eq!(clients[1]["reaches"], serde_json::Value::Null, "{r}");
    let f = &r["findings"][0];
    assert!(
        f["evidence"]
            .to_string()
            .contains("/etc/hosts: 127.0.0.1 localhost"),
        "{f}"
    );
    // With ::1 in /etc/hosts every client reaches the server: no difference, it works.
    ns.hosts("::1 localhost\n127.0.0.1 localhost\n");
    assert_eq!(inside(&ns, &["python3", "-c", &py]), 0);
    let (code, r) = ns.portscope_code(&["doctor", &format!("localhost:{port}")]);
    assert_eq!(code, 0, "{r}");
    assert!(
        !codes(&r).contains(&"DOC-CLIENTS-DIFFER".to_string()),
        "{r}"
    );
}

#[test]
fn bind_to_a_name_tries_every_address_it_resolves_to() {
    let test = "bind_to_a_name_tries_every_address_it_resolves_to";
    let Some(ns) = Netns::new(
        test,
        "bindname",
        "sets /etc/hosts for a namespace of its own",
    ) else {
        return;
    };
    ns.ip(&["link", "set", "lo", "up"]);
    ns.hosts("127.0.0.1 localhost\n::1 localhost\n");
    // Something holds [::1]:P; 127.0.0.1:P is free. A server that binds "localhost" fails.
    let holder = http6(&ns);
    let port = holder.words[0].clone();
    let (code, r) = ns.portscope_code(&["doctor", "--bind", &format!("localhost:{port}")]);
    assert_eq!(code, 1, "{r}");
    let binds = r["binds"].as_array().unwrap();
    let outcome = |addr: &str| {
        binds
            .iter()
            .find(|b| b["addr"] == addr && b["reuseaddr"] == false)
            .unwrap_or_else(|| panic!("no bind of {addr}: {r}"))["outcome"]
            .clone()
    };
    assert_eq!(outcome(&format!("127.0.0.1:{port}")), "ok", "{r}");
    assert_eq!(outcome(&format!("[::1]:{port}")), "in_use", "{r}");
    assert_eq!(codes(&r)[0], "DOC-BIND-HELD", "{r}");
    // Once the holder is gone: free at both addresses, and said so.
    drop(holder);
    let (code, r) = ns.portscope_code(&["doctor", "--bind", &format!("localhost:{port}")]);
    assert_eq!(code, 0, "{r}");
    let verdict = r["verdict"].as_str().unwrap();
    assert!(verdict.contains("free at every address"), "{r}");
    assert!(
        verdict.contains(&format!("127.0.0.1:{port}"))
            && verdict.contains(&format!("[::1]:{port}")),
        "{r}"
    );
}

#[test]
fn a_name_that_does_not_resolve_is_an_error_not_nothing() {
    let server = python(
        "import http.server,os\n\
         s=http.server.HTTPServer(('127.0.0.1',0), http.server.SimpleHTTPRequestHandler)\n\
         print(s.server_address[1], os.getpid(), flush=True)\n\
         s.serve_forever()\n",
    );
    // The port is served; the name is what fails, and it is said so, never "nothing listens".
    let port = &server.words[0];
    for args in [
        vec!["doctor".to_string(), format!("nonexistent.invalid:{port}")],
        vec![
            "doctor".into(),
            format!("http://nonexistent.invalid:{port}/"),
        ],
        vec![
            "doctor".into(),
            "--bind".into(),
            format!("nonexistent.invalid:{port}"),
        ],
        vec![
            "--json".into(),
            "doctor".into(),
            format!("nonexistent.invalid:{port}"),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = run(&args);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stdout.is_empty(), "{r:?}");
        assert_eq!(r.stderr.lines().count(), 1, "{r:?}");
        assert!(
            r.stderr
                .contains("nonexistent.invalid does not resolve here: "),
            "{r:?}"
        );
    }
}
