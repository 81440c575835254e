//! `who`: attribution, several owners, stopped owners, ancestry, the other end, hidden owners.

use crate::harness::{self, json, on_port, pids, python, run, spawn, tcp_listener};

#[test]
fn attributes_each_listener_to_its_own_child() {
    let a = tcp_listener("127.0.0.1");
    let b = tcp_listener("127.0.0.1");
    for (me, other) in [(&a, &b), (&b, &a)] {
        let port = me.num(0).to_string();
        let r = json(&["who", &port]);
        assert_eq!(r["held"], true);
        let socks = on_port(&r, me.num(0));
        assert_eq!(socks.len(), 1, "{r}");
        assert_eq!(socks[0]["state"], "listen");
        assert_eq!(pids(&socks[0]), vec![me.pid]);
        assert!(!pids(&socks[0]).contains(&other.pid));
        let proc = &r["processes"][me.pid.to_string()];
        assert_eq!(proc["comm"], "python3");
        assert!(proc["cmdline"][0].as_str().unwrap().contains("python3"));
    }
}

#[test]
fn reports_every_owner_of_a_forked_socket() {
    let p = harness::forked_listener();
    let r = json(&["who", &p.words[0]]);
    let socks = on_port(&r, p.num(0));
    assert_eq!(socks.len(), 1, "{r}");
    let mut want = vec![p.num(1), p.num(2)];
    want.sort_unstable();
    assert_eq!(pids(&socks[0]), want);
    let table = run(&["who", &p.words[0]]);
    assert!(
        table.stdout.contains(&format!("{},{}", want[0], want[1])),
        "{}",
        table.stdout
    );
}

#[test]
fn flags_a_stopped_owner() {
    let l = tcp_listener("127.0.0.1");
    let pid = rustix::process::Pid::from_raw(l.pid as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::STOP).unwrap();
    let r = json(&["who", &l.words[0]]);
    assert_eq!(r["processes"][l.pid.to_string()]["state"], "stopped", "{r}");
    let t = run(&["who", &l.words[0]]);
    assert!(t.stdout.contains("STOPPED"), "{}", t.stdout);
    assert!(t.stdout.contains(&format!("kill -CONT {}", l.pid)));
    rustix::process::kill_process(pid, rustix::process::Signal::CONT).unwrap();
    let r = json(&["who", &l.words[0]]);
    assert_eq!(r["processes"][l.pid.to_string()]["state"], "sleeping");
}

#[test]
fn shows_the_ancestry_chain() {
    // `; true` keeps sh from exec-ing python3, so the chain is test → sh → python3.
    let chain = spawn(
        "sh",
        &[
            "-c",
            "python3 -c \"import socket,os,time\ns=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(1)\nprint(s.getsockname()[1], os.getpid(), flush=True)\ntime.sleep(120)\"; true",
        ],
    );
    let py = chain.num(1);
    let r = json(&["who", &chain.words[0]]);
    let proc = &r["processes"][py.to_string()];
    let ancestry = proc["ancestry"].as_array().expect("ancestry");
    assert_eq!(ancestry[0]["pid"], chain.pid, "{proc}");
    assert_eq!(ancestry[0]["comm"], "sh");
    assert_eq!(ancestry[1]["pid"], std::process::id());
    assert_eq!(ancestry.last().unwrap()["pid"], 1);
    let t = run(&["who", &chain.words[0]]);
    assert!(
        t.stdout
            .contains(&format!("sh[{}] → python3[{py}]", chain.pid)),
        "{}",
        t.stdout
    );
}

#[test]
fn names_the_process_at_the_other_end() {
    let server = python(
        "import socket,os,time\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(16)\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         c,_=s.accept()\n\
         time.sleep(120)\n",
    );
    let client = python(&format!(
        "import socket,os,time\n\
         c=socket.create_connection(('127.0.0.1',{}))\n\
         print(c.getsockname()[1], os.getpid(), flush=True)\n\
         time.sleep(120)\n",
        server.words[0]
    ));
    // The server accepts asynchronously; wait until the accepted socket exists.
    let mut r = json(&["who", &server.words[0]]);
    for _ in 0..50 {
        if on_port(&r, server.num(0)).len() == 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        r = json(&["who", &server.words[0]]);
    }
    let socks = on_port(&r, server.num(0));
    let conn = socks
        .iter()
        .find(|s| s["state"] == "established")
        .unwrap_or_else(|| panic!("no established socket: {r}"));
    assert_eq!(pids(conn), vec![server.pid]);
    assert_eq!(conn["peer"]["endpoint"]["port"], client.num(0));
    assert_eq!(pids(&conn["peer"]), vec![client.pid]);
    assert_eq!(r["processes"][client.pid.to_string()]["comm"], "python3");
    let t = run(&["who", &server.words[0]]);
    assert!(
        t.stdout.contains(&format!("python3[{}]", client.pid)),
        "{}",
        t.stdout
    );
}

#[test]
fn exit_code_says_whether_anything_holds_the_port() {
    let l = tcp_listener("127.0.0.1");
    assert_eq!(run(&["who", &l.words[0]]).code, 0);
    // Nothing listens on this number over UDP (the TCP listener holds only TCP).
    let udp = format!("{}/udp", l.words[0]);
    let r = run(&["who", &udp]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("nothing holds"), "{}", r.stdout);
    // The listener is on 127.0.0.1 only: asking for [::1] on that port finds nothing.
    let v6 = format!("[::1]:{}", l.words[0]);
    assert_eq!(run(&["who", &v6]).code, 1);
    let v4 = format!("127.0.0.1:{}", l.words[0]);
    assert_eq!(run(&["who", &v4]).code, 0);
}

#[test]
fn finds_sockets_by_pid_and_by_name() {
    let l = tcp_listener("127.0.0.1");
    for args in [
        vec!["who".to_string(), format!("pid:{}", l.pid)],
        vec!["who".to_string(), "--pid".to_string(), l.pid.to_string()],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = json(&args);
        let socks = on_port(&r, l.num(0));
        assert_eq!(socks.len(), 1, "{args:?}: {r}");
        assert_eq!(pids(&socks[0]), vec![l.pid]);
    }
    let r = json(&["who", "python3"]);
    assert!(!on_port(&r, l.num(0)).is_empty(), "{r}");
}

#[test]
fn another_users_listener_is_hidden_not_free() {
    if !harness::require_root(
        "another_users_listener_is_hidden_not_free",
        "drops privileges to uid 65534 to read a root-owned listener",
    ) {
        return;
    }
    let l = tcp_listener("127.0.0.1");
    // A copy the unprivileged user can execute wherever the checkout lives.
    let bin = harness::binary_for_other_users();
    let as_nobody = |args: &[&str]| bin.run_as_nobody(args);
    let r = as_nobody(&["who", &l.words[0], "--json"]);
    assert_eq!(r.code, 0, "held, even if the owner is hidden: {r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let socks = on_port(&v, l.num(0));
    assert_eq!(socks.len(), 1, "{v}");
    assert_eq!(socks[0]["owner_hidden"], true);
    assert!(pids(&socks[0]).is_empty());
    assert!(v["hidden"]["sockets"].as_u64().unwrap() >= 1);
    assert!(v["hidden"]["hint"].as_str().unwrap().contains("root"));
    let t = as_nobody(&["who", &l.words[0]]);
    assert!(t.stdout.contains("(hidden)"), "{}", t.stdout);
    assert!(t.stdout.contains("sudo"), "{}", t.stdout);
    let ls = as_nobody(&["ls"]);
    let line = ls
        .stdout
        .lines()
        .find(|line| line.starts_with(&format!("{} ", l.words[0])))
        .unwrap_or_else(|| panic!("port missing from ls: {}", ls.stdout));
    assert!(line.contains("(hidden)"), "{line}");
    assert!(ls.stdout.contains("with a hidden owner"), "{}", ls.stdout);
}

#[test]
fn who_and_explain_probe_the_listener() {
    let Some(http) = crate::servers::http_server() else {
        return;
    };
    let port = http.port.to_string();
    let r = json(&["who", &port, "--probe"]);
    let probes = r["probe"].as_array().expect("probe results with --probe");
    assert_eq!(probes.len(), 1, "{r}");
    assert_eq!(probes[0]["identification"]["protocol"], "http");
    assert_eq!(probes[0]["identification"]["product"], "Python http.server");
    assert!(json(&["who", &port]).get("probe").is_none());
    let t = run(&["who", &port, "--probe"]);
    assert!(t.stdout.contains("http Python http.server"), "{}", t.stdout);
    let e = json(&["explain", &format!("127.0.0.1:{port}"), "--probe"]);
    let fact = e["facts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["topic"] == "probe")
        .unwrap_or_else(|| panic!("no probe fact: {e}"));
    assert!(
        fact["text"].as_str().unwrap().contains("speaks http"),
        "{fact}"
    );
}
