//! `doctor` on what two sockets on one port, or one socket's address semantics, do to a
//! client: two copies sharing an address through `SO_REUSEPORT`, an IPv4 and an IPv6
//! listener of different programs, an IPv6-only `[::]` listener dialled over IPv4, and a
//! loopback listener dialled at a non-loopback address. Real sockets in separate processes,
//! ports chosen by the kernel.

use crate::doctor_netns::Netns;
use crate::harness::{Spawned, finding, json, python, run, spawn_env};

fn has(r: &serde_json::Value, code: &str) -> bool {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["code"] == code)
}

/// Python that defines `serve(s)`: accept on `s` forever and answer each request with a tiny
/// HTTP 200, so that doctor's exchange succeeds wherever a listener is reached.
const SERVE: &str = "import socket,os,time\n\
def serve(s):\n\
\x20   while True:\n\
\x20       c,_=s.accept(); c.recv(4096)\n\
\x20       c.sendall(b'HTTP/1.0 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok'); c.close()\n";

/// A python listener on 127.0.0.1 with `SO_REUSEPORT`, on `$RP_PORT` (0: any); prints
/// `PORT PID`. The same command line every time: copies of one program.
fn reuseport_copy(port: &str) -> Spawned {
    spawn_env(
        "python3",
        &[
            "-c",
            &format!(
                "{SERVE}s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)\n\
                 s.bind(('127.0.0.1',int(os.environ['RP_PORT']))); s.listen(8)\n\
                 print(s.getsockname()[1], os.getpid(), flush=True)\n\
                 serve(s)\n"
            ),
        ],
        &[("RP_PORT", port)],
    )
}

#[test]
fn two_copies_sharing_an_address_through_reuseport_are_found() {
    let old = reuseport_copy("0");
    let port = old.words[0].clone();
    // Two seconds apart: not one launch, and their start times tell which came first.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let new = reuseport_copy(&port);
    assert_eq!(new.words[0], port);
    let target = format!("127.0.0.1:{port}");
    let r = json(&["doctor", &target]);
    assert_eq!(r["works"], false, "{r}");
    let f = finding(&r, "DOC-REUSEPORT");
    assert_eq!(f["severity"], "critical", "{f}");
    assert!(f["title"].as_str().unwrap().contains("copies"), "{f}");
    let evidence = f["evidence"].to_string();
    for (who, age) in [(&old, "the older"), (&new, "the newer")] {
        assert!(
            evidence.contains(&format!(
                "python3[{}] listens on {target} with its own socket",
                who.pid
            )),
            "{evidence}"
        );
        assert!(evidence.contains(age), "{evidence}");
    }
    assert!(evidence.contains("SO_REUSEPORT"), "{evidence}");
    let fix = f["fix"].to_string();
    assert!(
        fix.contains(&format!("kill {}   # the older copy", old.pid)),
        "{fix}"
    );
    assert!(!fix.contains(&format!("kill {}", new.pid)), "{fix}");
    assert_eq!(run(&["doctor", &target]).code, 1);
}

#[test]
fn one_programs_reuseport_pool_is_only_a_note() {
    // A pre-fork server: the parent forks, then each process opens its own socket.
    let pool = python(&format!(
        "{SERVE}def listen(port):\n    s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)\n    s.bind(('127.0.0.1',port)); s.listen(8); return s\n\
         s=listen(0); port=s.getsockname()[1]\n\
         if os.fork()==0:\n    s.close(); w=listen(port); serve(w); os._exit(0)\n\
         time.sleep(0.3)\n\
         print(port, os.getpid(), flush=True)\n\
         serve(s)\n",
    ));
    let target = format!("127.0.0.1:{}", pool.words[0]);
    let r = json(&["doctor", &target]);
    assert_eq!(r["works"], true, "{r}");
    assert!(!has(&r, "DOC-REUSEPORT"), "{r}");
    let f = finding(&r, "DOC-REUSEPORT-POOL");
    assert_eq!(f["severity"], "info", "{f}");
    assert_eq!(run(&["doctor", &target]).code, 0);
}

#[test]
fn ipv4_and_ipv6_listeners_of_two_programs_split_localhost() {
    let v4 = python(&format!(
        "{SERVE}s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(8)\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         serve(s)\n"
    ));
    let port = v4.words[0].clone();
    let v6 = python(&format!(
        "{SERVE}s=socket.socket(socket.AF_INET6); s.bind(('::1',{port})); s.listen(8)\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         serve(s)\n"
    ));
    let target = format!("localhost:{port}");
    let r = json(&["doctor", &target]);
    assert_eq!(r["works"], false, "{r}");
    let f = finding(&r, "DOC-SPLIT-FAMILY");
    assert_eq!(f["severity"], "critical", "{f}");
    let evidence = f["evidence"].to_string();
    assert!(
        evidence.contains(&format!(
            "python3[{}] listens on 127.0.0.1:{port} (IPv4)",
            v4.pid
        )),
        "{evidence}"
    );
    assert!(
        evidence.contains(&format!(
            "python3[{}] listens on [::1]:{port} (IPv6)",
            v6.pid
        )),
        "{evidence}"
    );
    // Which program each family's loopback reaches, dialled or not.
    assert!(
        evidence.contains(&format!("127.0.0.1:{port}")) && evidence.contains("IPv4 reaches")
            || evidence.contains(&format!("dials 127.0.0.1:{port} (IPv4) reaches")),
        "{evidence}"
    );
    assert!(
        evidence.contains(&format!("IPv6 reaches python3[{}]", v6.pid))
            || evidence.contains(&format!(
                "dials [::1]:{port} (IPv6) reaches python3[{}]",
                v6.pid
            )),
        "{evidence}"
    );
    assert_eq!(run(&["doctor", &target]).code, 1);
    // Asked by literal address, the split is a warning: that client's family is fixed.
    let r = json(&["doctor", &format!("127.0.0.1:{port}")]);
    assert_eq!(r["works"], true, "{r}");
    assert_eq!(finding(&r, "DOC-SPLIT-FAMILY")["severity"], "warning");
}

/// A python listener on `[::]` port 0 with `IPV6_V6ONLY` set to `v6only`; prints `PORT PID`.
fn wildcard6(v6only: bool) -> Spawned {
    python(&format!(
        "{SERVE}s=socket.socket(socket.AF_INET6)\n\
         s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, {})\n\
         s.bind(('::',0)); s.listen(8)\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         serve(s)\n",
        u8::from(v6only)
    ))
}

#[test]
fn an_ipv6_only_wildcard_refuses_ipv4_and_says_why() {
    let l = wildcard6(true);
    let port = &l.words[0];
    let r = json(&["doctor", &format!("127.0.0.1:{port}")]);
    assert_eq!(r["works"], false, "{r}");
    assert_eq!(r["attempts"][0]["outcome"], "refused", "{r}");
    assert_eq!(r["findings"][0]["code"], "DOC-V6ONLY", "{r}");
    let f = &r["findings"][0];
    assert_eq!(f["severity"], "critical");
    assert!(
        f["evidence"].to_string().contains(&format!(
            "python3[{}] listens on [::]:{port} with IPV6_V6ONLY set",
            l.pid
        )),
        "{f}"
    );
    assert!(
        f["fix"].to_string().contains(&format!("[::1]:{port}")),
        "{f}"
    );
    // Not also called a listener on "one specific address".
    assert!(!has(&r, "DOC-SPECIFIC-ADDRESS"), "{r}");
    assert_eq!(run(&["doctor", &format!("127.0.0.1:{port}")]).code, 1);
    // IPv6 works.
    let r = json(&["doctor", &format!("[::1]:{port}")]);
    assert_eq!(r["works"], true, "{r}");
    // A program may listen on 0.0.0.0:P beside it: not a conflict, only the split to come.
    let target = format!("0.0.0.0:{port}");
    let r = json(&["doctor", "--bind", &target]);
    assert_eq!(r["works"], true, "{r}");
    assert_eq!(r["binds"][0]["outcome"], "ok", "{r}");
    assert!(!has(&r, "DOC-BIND-HELD"), "{r}");
    assert_eq!(finding(&r, "DOC-SPLIT-FAMILY")["severity"], "warning");
    assert_eq!(run(&["doctor", "--bind", &target]).code, 0);
}

#[test]
fn a_dual_stack_wildcard_still_takes_ipv4() {
    let l = wildcard6(false);
    let r = json(&["doctor", &format!("127.0.0.1:{}", l.words[0])]);
    assert_eq!(r["works"], true, "{r}");
    assert!(!has(&r, "DOC-V6ONLY"), "{r}");
}

#[test]
fn a_loopback_listener_dialled_at_a_bridge_address_is_not_called_loopback() {
    let Some(ns) = Netns::new(
        "a_loopback_listener_dialled_at_a_bridge_address_is_not_called_loopback",
        "lonly",
        "gives a veth interface Docker's bridge gateway address inside a network namespace of its own",
    ) else {
        return;
    };
    ns.ip(&["link", "set", "lo", "up"]);
    ns.ip(&["link", "add", "va", "type", "veth", "peer", "name", "vb"]);
    ns.ip(&["addr", "add", "172.17.0.1/16", "dev", "va"]);
    ns.ip(&["link", "set", "va", "up"]);
    ns.ip(&["link", "set", "vb", "up"]);
    let inside = ns.listener("127.0.0.1");
    let target = format!("172.17.0.1:{}", inside.words[0]);
    let r = ns.portscope(&["doctor", &target]);
    assert_eq!(r["findings"][0]["code"], "DOC-LOOPBACK-ONLY", "{r}");
    let f = &r["findings"][0];
    assert_eq!(f["severity"], "critical");
    assert!(!r.to_string().contains("another loopback"), "{r}");
    let evidence = f["evidence"].to_string();
    assert!(
        evidence.contains(&format!("listens on 127.0.0.1:{} only", inside.words[0])),
        "{evidence}"
    );
    assert!(
        evidence.contains("172.17.0.1 is not loopback: it is private (172.16.0.0/12, RFC 1918)"),
        "{evidence}"
    );
    let fix = f["fix"].to_string();
    for want in ["bind 172.17.0.1", "0.0.0.0", "host networking", "firewall"] {
        assert!(fix.contains(want), "{want}: {fix}");
    }
    assert!(!fix.contains("connect to 127.0.0.1"), "{fix}");
    assert_eq!(ns.run(&["doctor", &target]).code, 1);
}
