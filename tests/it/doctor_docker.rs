//! `doctor` behind Docker's port forwarder: the real `docker-proxy` (Debian's docker.io), run
//! on its own as dockerd runs it, forwarding to a "container" — a network namespace of the
//! test's own, joined to this one by a veth pair — whose program listens on the namespace's
//! loopback only, or to an address on that link where no container is any more. curl is the
//! ground truth for "the request fails". Root only; proxies, programs, the namespace and the
//! veth pair go when the test ends, however it ends.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::doctor_netns::Netns;
use crate::harness::{Spawned, codes, needs, run, spawn};

/// A "container": a namespace with `lo` up and a veth link to this namespace, the host side
/// `10.200.N.1/24`, the container side (`eth0`) `10.200.N.2/24`. The host side is deleted on drop
/// (which deletes the pair), before the namespace goes.
struct Container {
    /// The host's address on the link, `10.200.N`, without the last byte.
    net: String,
    host_if: String,
    ip: PathBuf,
    ns: Netns,
}

impl Container {
    fn new(test: &str, tag: &str) -> Option<Container> {
        let ns = Netns::new(test, tag, "creates a network namespace and a veth pair")?;
        let ip = needs(test, "ip", "iproute2")?;
        // At most 15 bytes; the container's side is eth0, made inside, as Docker names it.
        let host_if = format!("psd{tag}{}", std::process::id());
        let peer = "eth0";
        let net = free_net(&ip, "10.200");
        host_ip(
            &ip,
            &[
                "link", "add", &host_if, "type", "veth", "peer", "name", peer, "netns", &ns.name,
            ],
        );
        let c = Container {
            net,
            host_if,
            ip,
            ns,
        };
        host_ip(
            &c.ip,
            &["addr", "add", &format!("{}.1/24", c.net), "dev", &c.host_if],
        );
        host_ip(&c.ip, &["link", "set", &c.host_if, "up"]);
        c.ns.ip(&["addr", "add", &format!("{}.2/24", c.net), "dev", peer]);
        c.ns.ip(&["link", "set", peer, "up"]);
        c.ns.ip(&["link", "set", "lo", "up"]);
        Some(c)
    }

    /// The container's address.
    fn addr(&self) -> String {
        format!("{}.2", self.net)
    }

    /// An HTTP server inside on `host:port` (port 0: any) that answers 500 to `GET /fail`
    /// and 200 to every other GET; prints `PORT PID`.
    fn app(&self, host: &str, port: &str) -> Spawned {
        self.ns.python(&format!(
            "import http.server,os\n\
             class H(http.server.BaseHTTPRequestHandler):\n\
             \x20   def do_GET(self):\n\
             \x20       self.send_response(500 if self.path=='/fail' else 200)\n\
             \x20       self.end_headers(); self.wfile.write(b'ok')\n\
             \x20   def log_message(self,*a): pass\n\
             s=http.server.HTTPServer(('{host}',{port}),H)\n\
             print(s.server_address[1], os.getpid(), flush=True)\n\
             s.serve_forever()\n"
        ))
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new(&self.ip)
            .args(["link", "del", &self.host_if])
            .status();
    }
}

/// `ip ARGS` in this namespace; it must succeed.
fn host_ip(ip: &Path, args: &[&str]) {
    let ok = Command::new(ip).args(args).status().unwrap().success();
    assert!(ok, "ip {args:?}");
}

/// `PREFIX.N` (`10.200.N`) with no address of this namespace in it, N from the pid.
pub(crate) fn free_net(ip: &Path, prefix: &str) -> String {
    let out = Command::new(ip)
        .args(["-o", "-4", "addr", "show"])
        .output()
        .unwrap();
    let used = String::from_utf8_lossy(&out.stdout).into_owned();
    let start = std::process::id() % 250;
    (0..250)
        .map(|i| format!("{prefix}.{}", 1 + (start + i) % 250))
        .find(|net| !used.contains(&format!("{net}.")))
        .expect("a free /24")
}

/// `docker-proxy` on 127.0.0.1, a port picked at run time, forwarding to `to_ip:to_port`,
/// started as dockerd starts it: fd 3 is where it says `0` once it listens (here, its
/// stdout: the ready line). Its log (each failed forward) is discarded. `(port, proxy)`.
pub(crate) fn docker_proxy(bin: &Path, to_ip: &str, to_port: &str) -> (u16, Spawned) {
    crate::engines::on_a_free_port("docker-proxy", |port| {
        let proxy = spawn(
            "sh",
            &[
                "-c",
                "exec \"$0\" \"$@\" 3>&1 2>/dev/null",
                bin.to_str().expect("a UTF-8 path"),
                "-proto",
                "tcp",
                "-host-ip",
                "127.0.0.1",
                "-host-port",
                &port.to_string(),
                "-container-ip",
                to_ip,
                "-container-port",
                to_port,
            ],
        );
        (proxy.words.first().map(String::as_str) == Some("0")).then_some(proxy)
    })
}

/// curl's exit status for `url` (0: answered).
fn curl(curl: &Path, url: &str) -> i32 {
    Command::new(curl)
        .args(["-s", "-o", "/dev/null", "--max-time", "6", url])
        .status()
        .unwrap()
        .code()
        .unwrap_or(-1)
}

/// The tools a test needs, or `None` (one skip line).
fn tools(test: &str) -> Option<(PathBuf, PathBuf)> {
    Some((
        needs(test, "docker-proxy", "docker.io")?,
        needs(test, "curl", "curl")?,
    ))
}

#[test]
fn a_container_program_on_its_own_loopback_is_named() {
    let test = "a_container_program_on_its_own_loopback_is_named";
    let Some((proxy_bin, curl_bin)) = tools(test) else {
        return;
    };
    let Some(c) = Container::new(test, "dl") else {
        return;
    };
    let app = c.app("127.0.0.1", "0");
    let inner = app.words[0].clone();
    let (port, _proxy) = docker_proxy(&proxy_bin, &c.addr(), &inner);
    let url = format!("http://127.0.0.1:{port}/");
    assert_ne!(curl(&curl_bin, &url), 0, "curl through the proxy must fail");

    let r = run(&["--json", "doctor", &port.to_string()]);
    assert_eq!(r.code, 1, "{r:?}");
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(codes(&j)[0], "DOC-CONTAINER-LOOPBACK-ONLY", "{j}");
    let evidence = j["findings"][0]["evidence"].to_string();
    assert!(evidence.contains("Docker's port forwarder"), "{evidence}");
    assert!(
        evidence.contains(&format!(
            "connect to {}:{inner} (the backend, as docker-proxy dials it): refused",
            c.addr()
        )),
        "{evidence}"
    );
    assert!(
        !codes(&j).iter().any(|c| c == "DOC-CLOSED-AT-ONCE"),
        "the symptom is not a second cause: {j}"
    );
    // The URL a browser opens: the same cause, and not "a crashed handler".
    let r = run(&["--json", "doctor", &url]);
    assert_eq!(r.code, 1, "{r:?}");
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(codes(&j)[0], "DOC-CONTAINER-LOOPBACK-ONLY", "{j}");
    assert!(!codes(&j).iter().any(|c| c.starts_with("DOC-HTTP-")), "{j}");

    // The program listens on every address of the container: the same proxy now works.
    drop(app);
    let _app = c.app("0.0.0.0", &inner);
    assert_eq!(curl(&curl_bin, &url), 0, "curl through the proxy must work");
    let r = run(&["doctor", &port.to_string()]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = run(&["doctor", &url]);
    assert_eq!(r.code, 0, "{r:?}");
    // An answer that fails comes from behind the proxy, and the evidence says so.
    let r = run(&["--json", "doctor", &format!("{url}fail")]);
    assert_eq!(r.code, 1, "{r:?}");
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(codes(&j)[0], "DOC-HTTP-STATUS", "{j}");
    assert!(
        j["findings"][0]["evidence"]
            .to_string()
            .contains(&format!("forwards each connection to {}:{inner}", c.addr())),
        "{j}"
    );
}

#[test]
fn a_docker_proxy_whose_container_is_gone_is_named() {
    let test = "a_docker_proxy_whose_container_is_gone_is_named";
    let Some((proxy_bin, curl_bin)) = tools(test) else {
        return;
    };
    let Some(c) = Container::new(test, "dg") else {
        return;
    };
    // .3 on the container link: where a container was, and no host answers any more.
    let gone = format!("{}.3", c.net);
    let (port, _proxy) = docker_proxy(&proxy_bin, &gone, "80");
    let url = format!("http://127.0.0.1:{port}/");
    assert_ne!(curl(&curl_bin, &url), 0, "curl through the proxy must fail");

    let r = run(&["--json", "doctor", &port.to_string()]);
    assert_eq!(r.code, 1, "{r:?}");
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(codes(&j)[0], "DOC-DOCKER-PROXY-ORPHAN", "{j}");
    let f = j["findings"][0].to_string();
    assert!(
        f.contains(&format!("forwards port {port} to {gone}:80")),
        "{f}"
    );
    assert!(f.contains(&format!("portscope kill {port}")), "{f}");
    let r = run(&["--json", "doctor", &url]);
    assert_eq!(r.code, 1, "{r:?}");
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(codes(&j)[0], "DOC-DOCKER-PROXY-ORPHAN", "{j}");
    assert!(!codes(&j).iter().any(|c| c == "DOC-HTTP-NO-ANSWER"), "{j}");
}
