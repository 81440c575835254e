//! `doctor` rules whose real condition needs a network namespace of the test's own (root):
//! a down loopback, a narrowed ephemeral range, a listener elsewhere, a firewall rule, a
//! non-loopback address, IPv6 switched off. Nothing leaves the namespaces.

use std::path::PathBuf;

use crate::harness::{Spawned, needs, require_root, spawn};

/// A network namespace of this test's own, deleted on drop.
pub(crate) struct Netns {
    pub(crate) name: String,
    /// `ip` (iproute2), which makes, enters and deletes it.
    ip: PathBuf,
}

impl Netns {
    /// A fresh namespace (its `lo` starts down), or `None` when not root or without `ip` (one
    /// skip line).
    pub(crate) fn new(test: &str, tag: &str, why: &str) -> Option<Netns> {
        if !require_root(test, why) {
            return None;
        }
        let ip = needs(test, "ip", "iproute2")?;
        let name = format!("ps-{tag}-{}", std::process::id());
        let ok = std::process::Command::new(&ip)
            .args(["netns", "add", &name])
            .status()
            .unwrap()
            .success();
        assert!(ok, "ip netns add {name}");
        Some(Netns { name, ip })
    }

    /// `ip ARGS` inside; it must succeed.
    pub(crate) fn ip(&self, args: &[&str]) {
        let ip = self.ip.to_str().expect("a UTF-8 path");
        self.exec(&[&[ip], args].concat());
    }

    /// Run `args` inside; they must succeed.
    pub(crate) fn exec(&self, args: &[&str]) {
        let ok = std::process::Command::new(&self.ip)
            .args(["netns", "exec", &self.name])
            .args(args)
            .status()
            .unwrap()
            .success();
        assert!(ok, "{args:?}");
    }

    /// `portscope ARGS --json` inside.
    pub(crate) fn portscope(&self, args: &[&str]) -> serde_json::Value {
        self.portscope_code(args).1
    }

    /// `portscope ARGS --json` inside: its exit code and its report.
    pub(crate) fn portscope_code(&self, args: &[&str]) -> (i32, serde_json::Value) {
        let out = self.run(&[args, &["--json"]].concat());
        let report = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
        (out.code, report)
    }

    /// `portscope ARGS` inside, colourless: its exit code and output.
    pub(crate) fn run(&self, args: &[&str]) -> crate::harness::Run {
        let mut c = std::process::Command::new(&self.ip);
        c.args(["netns", "exec", &self.name, env!("CARGO_BIN_EXE_portscope")])
            .args(args)
            .env("NO_COLOR", "1");
        crate::harness::output(&mut c)
    }

    /// A python3 program inside that prints its ready line.
    pub(crate) fn python(&self, script: &str) -> Spawned {
        let ip = self.ip.to_str().expect("a UTF-8 path");
        spawn(ip, &["netns", "exec", &self.name, "python3", "-c", script])
    }

    /// An HTTP server inside on `addr`, port 0 (it answers, so that doctor's exchange can
    /// succeed where the network lets it); prints `PORT PID`.
    pub(crate) fn listener(&self, addr: &str) -> Spawned {
        self.python(&format!(
            "import http.server,os\n\
             class H(http.server.SimpleHTTPRequestHandler):\n\
             \x20   def log_message(self,*a): pass\n\
             s=http.server.HTTPServer(('{addr}',0), H)\n\
             print(s.server_address[1], os.getpid(), flush=True)\n\
             s.serve_forever()\n"
        ))
    }
}

impl Netns {
    /// A fresh namespace with `lo` up and the path of `tool` (from `package`), or `None` with
    /// one skip line when not root or without the tool.
    pub(crate) fn with_tool(
        test: &str,
        tag: &str,
        why: &str,
        tool: &str,
        package: &str,
    ) -> Option<(Netns, String)> {
        let ns = Netns::new(test, tag, why)?;
        let path = needs(test, tool, package)?;
        ns.ip(&["link", "set", "lo", "up"]);
        Some((ns, path.to_str().expect("a UTF-8 path").to_string()))
    }

    /// Table `inet pstest` with an input chain, its default policy `policy` (`accept` or
    /// `drop`), made with `nft`.
    pub(crate) fn nft_input_chain(&self, nft: &str, policy: &str) {
        self.exec(&[nft, "add", "table", "inet", "pstest"]);
        let spec = format!("{{ type filter hook input priority 0; policy {policy}; }}");
        self.exec(&[nft, "add", "chain", "inet", "pstest", "input", &spec]);
    }

    /// The `/etc/hosts` that programs run inside see: `ip netns exec` bind-mounts
    /// `/etc/netns/NAME/hosts` over it.
    pub(crate) fn hosts(&self, text: &str) {
        let dir = format!("/etc/netns/{}", self.name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(format!("{dir}/hosts"), text).unwrap();
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = std::process::Command::new(&self.ip)
            .args(["netns", "del", &self.name])
            .status();
        let _ = std::fs::remove_dir_all(format!("/etc/netns/{}", self.name));
    }
}

/// The first finding's code.
fn first_code(r: &serde_json::Value) -> &str {
    r["findings"][0]["code"].as_str().unwrap_or("")
}

/// A port to ask about in a fresh namespace, where nothing can collide with it.
fn any_port() -> String {
    (20_000 + std::process::id() % 10_000).to_string()
}

#[test]
fn a_down_loopback_interface_is_found() {
    let Some(ns) = Netns::new(
        "a_down_loopback_interface_is_found",
        "lo",
        "creates a network namespace, whose lo starts down",
    ) else {
        return;
    };
    let target = format!("127.0.0.1:{}", any_port());
    let r = ns.portscope(&["doctor", &target]);
    assert_eq!(first_code(&r), "DOC-LOOPBACK-DOWN", "{r}");
    assert_eq!(r["attempts"][0]["outcome"], "unreachable");
    // With lo up again, the same question is an ordinary "nothing listens".
    ns.ip(&["link", "set", "lo", "up"]);
    let r = ns.portscope(&["doctor", &target]);
    assert_eq!(first_code(&r), "DOC-REFUSED-NOTHING-LISTENING", "{r}");
}

#[test]
fn exhausted_ephemeral_ports_are_found() {
    let Some(ns) = Netns::new(
        "exhausted_ephemeral_ports_are_found",
        "eph",
        "narrows ip_local_port_range inside a network namespace of its own",
    ) else {
        return;
    };
    let Some(sysctl) = needs("exhausted_ephemeral_ports_are_found", "sysctl", "procps") else {
        return;
    };
    let sysctl = sysctl.to_str().expect("a UTF-8 path");
    ns.ip(&["link", "set", "lo", "up"]);
    ns.exec(&[sysctl, "-qw", "net.ipv4.ip_local_port_range=40000 40009"]);
    // A listener and as many connections to it as the 10-port range allows.
    let load = ns.python(
        "import socket,os,time\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(64); port=s.getsockname()[1]\n\
         cs=[]\n\
         while True:\n    try: cs.append(socket.create_connection(('127.0.0.1',port)))\n    except OSError: break\n\
         print(port, os.getpid(), len(cs), flush=True)\n\
         time.sleep(120)\n",
    );
    let r = ns.portscope(&["doctor", &format!("127.0.0.1:{}", load.words[0])]);
    assert_eq!(first_code(&r), "DOC-EPHEMERAL-EXHAUSTED", "{r}");
    assert_eq!(r["findings"][0]["severity"], "critical", "{r}");
    assert!(
        r["findings"][0]["title"]
            .as_str()
            .unwrap()
            .starts_with("out of local ports"),
        "{r}"
    );
}

#[test]
fn a_listener_in_another_network_namespace_is_found() {
    let Some(ns) = Netns::new(
        "a_listener_in_another_network_namespace_is_found",
        "other",
        "creates a network namespace and listens inside it",
    ) else {
        return;
    };
    ns.ip(&["link", "set", "lo", "up"]);
    let inside = ns.listener("127.0.0.1");
    // Asked from this namespace, where the port is almost surely free.
    let r = crate::harness::json(&["doctor", &format!("127.0.0.1:{}", inside.words[0])]);
    if r["works"] == true {
        crate::harness::skipped(
            "a_listener_in_another_network_namespace_is_found",
            &format!("port {} is also used in this namespace", inside.words[0]),
        );
        return;
    }
    assert_eq!(first_code(&r), "DOC-OTHER-NETNS", "{r}");
    assert!(
        !r.to_string().contains("DOC-REFUSED-NOTHING-LISTENING"),
        "{r}"
    );
    let text = r["findings"][0].to_string();
    assert!(
        text.contains(&ns.name) && text.contains(&format!("pid {}", inside.pid)),
        "{text}"
    );
}

#[test]
fn a_firewall_rule_that_drops_the_port_is_named() {
    let Some(ns) = Netns::new(
        "a_firewall_rule_that_drops_the_port_is_named",
        "fw",
        "adds an nftables rule inside a network namespace of its own",
    ) else {
        return;
    };
    let Some(nft) = needs(
        "a_firewall_rule_that_drops_the_port_is_named",
        "nft",
        "nftables",
    ) else {
        return;
    };
    let nft = nft.to_str().expect("a UTF-8 path");
    ns.ip(&["link", "set", "lo", "up"]);
    let inside = ns.listener("127.0.0.1");
    let port = inside.words[0].clone();
    ns.nft_input_chain(nft, "accept");
    ns.exec(&[
        nft, "add", "rule", "inet", "pstest", "input", "tcp", "dport", &port, "drop",
    ]);
    let r = ns.portscope(&["doctor", &format!("127.0.0.1:{port}"), "--timeout", "300"]);
    assert_eq!(r["attempts"][0]["outcome"], "timed_out", "{r}");
    assert_eq!(first_code(&r), "DOC-FIREWALL", "{r}");
    let f = r["findings"][0].to_string();
    assert!(
        f.contains("nft delete rule inet pstest input handle"),
        "{f}"
    );
    assert!(f.contains("does listen"), "{f}");
}

#[test]
fn a_listener_on_one_specific_address_is_explained() {
    let Some(ns) = Netns::new(
        "a_listener_on_one_specific_address_is_explained",
        "addr",
        "gives a veth interface an address inside a network namespace of its own",
    ) else {
        return;
    };
    ns.ip(&["link", "set", "lo", "up"]);
    // A veth pair that never leaves the namespace: an address that is not loopback.
    ns.ip(&["link", "add", "va", "type", "veth", "peer", "name", "vb"]);
    ns.ip(&["addr", "add", "10.203.0.1/24", "dev", "va"]);
    ns.ip(&["link", "set", "va", "up"]);
    ns.ip(&["link", "set", "vb", "up"]);
    let inside = ns.listener("10.203.0.1");
    let r = ns.portscope(&["doctor", &format!("127.0.0.1:{}", inside.words[0])]);
    assert_eq!(first_code(&r), "DOC-SPECIFIC-ADDRESS", "{r}");
    assert!(
        r["findings"][0]["evidence"]
            .to_string()
            .contains("10.203.0.1"),
        "{r}"
    );
}

#[test]
fn binding_ipv6_loopback_with_ipv6_disabled_is_explained() {
    let Some(ns) = Netns::new(
        "binding_ipv6_loopback_with_ipv6_disabled_is_explained",
        "v6off",
        "disables IPv6 inside a network namespace of its own",
    ) else {
        return;
    };
    let Some(sysctl) = needs(
        "binding_ipv6_loopback_with_ipv6_disabled_is_explained",
        "sysctl",
        "procps",
    ) else {
        return;
    };
    let sysctl = sysctl.to_str().expect("a UTF-8 path");
    ns.ip(&["link", "set", "lo", "up"]);
    ns.exec(&[sysctl, "-qw", "net.ipv6.conf.all.disable_ipv6=1"]);
    ns.exec(&[sysctl, "-qw", "net.ipv6.conf.lo.disable_ipv6=1"]);
    let r = ns.portscope(&["doctor", "--bind", &format!("[::1]:{}", any_port())]);
    assert_eq!(first_code(&r), "DOC-BIND-ADDRESS-NOT-HERE", "{r}");
    assert!(
        r["findings"][0]["title"]
            .as_str()
            .unwrap()
            .contains("IPv6 is disabled"),
        "{r}"
    );
}
