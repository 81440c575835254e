//! Integration tests of `kill`: real holders (python3 children on port 0), the built binary,
//! and only the pids each test created are ever signalled.

use std::process::Command;
use std::time::{Duration, Instant};

use portscope::sys::procfs::pid_alive;

use crate::harness::{self, Spawned, json, output, python, run, spawn_env, tcp_listener};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_portscope");

/// Listening or bound sockets whose local port is `port` (from `who --json`).
pub(crate) fn holding(port: u32) -> Vec<serde_json::Value> {
    let r = json(&["who", &port.to_string()]);
    harness::on_port(&r, port)
        .into_iter()
        .filter(|s| s["state"] == "listen" || s["state"] == "close")
        .collect()
}

/// `kill ARGS… --json`, parsed, with its exit code.
pub(crate) fn kill_json(args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["kill"];
    all.extend_from_slice(args);
    all.push("--json");
    let r = run(&all);
    let v = serde_json::from_str(&r.stdout).unwrap_or_else(|e| {
        panic!(
            "bad JSON from kill {args:?}: {e}\n{}\n{}",
            r.stdout, r.stderr
        )
    });
    (r.code, v)
}

pub(crate) fn kill(args: &[&str]) -> harness::Run {
    let mut all = vec!["kill"];
    all.extend_from_slice(args);
    run(&all)
}

/// A TCP listener on 127.0.0.1 port 0 with `setup` run first; prints `PORT PID`.
fn listener_with(setup: &str) -> Spawned {
    python(&format!(
        "import socket,os,time,signal,sys\n{setup}\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(16)\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         time.sleep(120)\n"
    ))
}

fn stop_pid(pid: u32, sig: rustix::process::Signal) {
    let p = rustix::process::Pid::from_raw(pid as i32).unwrap();
    rustix::process::kill_process(p, sig).unwrap();
}

/// Wait until `pid` shows state `want` in /proc/PID/stat (up to 5 s).
fn wait_state(pid: u32, want: char) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|r| r.trim().chars().next());
        if state == Some(want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "pid {pid} never reached state {want}: {stat}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn escalates_to_sigkill_when_sigterm_is_ignored() {
    let l = listener_with("signal.signal(signal.SIGTERM, signal.SIG_IGN)");
    let port = l.words[0].clone();
    let r = kill(&[&port, "--yes", "--timeout", "1s"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(&format!(
            "escalated: pid {} (python3) ignored SIGTERM for 1.",
            l.pid
        )),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("sent SIGKILL"), "{}", r.stdout);
    assert!(
        r.stdout.contains(&format!("port {port} is free now")),
        "{}",
        r.stdout
    );
    assert!(!pid_alive(l.pid));
    assert!(holding(l.num(0)).is_empty());
}

#[test]
fn a_holder_that_exits_on_sigterm_is_not_escalated() {
    let l = tcp_listener("127.0.0.1");
    let port = l.words[0].clone();
    let (code, r) = kill_json(&[&port, "--yes"]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["all_free"], true);
    assert_eq!(r["outcomes"][0]["pid"], l.pid);
    assert_eq!(r["outcomes"][0]["outcome"], "exited_after_signal", "{r}");
    assert_eq!(r["outcomes"][0]["signal"], "TERM");
    let sent: Vec<&str> = r["signals_sent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["signal"].as_str().unwrap())
        .collect();
    assert_eq!(sent, ["TERM"]);
    assert_eq!(r["ports"][0]["free"], true);
    assert!(!pid_alive(l.pid));
    assert!(holding(l.num(0)).is_empty());
    // Nothing holds it any more: say so, and succeed.
    let again = kill(&[&port, "--yes"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(
        again.stdout,
        format!("nothing holds port {port}: it is free\n")
    );
}

#[test]
fn human_output_names_what_was_stopped() {
    let l = tcp_listener("127.0.0.1");
    let port = l.words[0].clone();
    let r = kill(&[&port, "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    let first = r.stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&format!(
            "port {port}: stopped python3 (pid {}) with SIGTERM after ",
            l.pid
        )),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("escalated"), "{}", r.stdout);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

#[test]
fn stops_every_holder_of_a_forked_socket() {
    let p = harness::forked_listener();
    let (code, r) = kill_json(&[&p.words[0], "--yes"]);
    assert_eq!(code, 0, "{r}");
    let mut planned: Vec<u64> = r["stop"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["pid"].as_u64().unwrap())
        .collect();
    planned.sort_unstable();
    let mut want = vec![u64::from(p.num(1)), u64::from(p.num(2))];
    want.sort_unstable();
    assert_eq!(planned, want, "{r}");
    assert!(!pid_alive(p.num(1)) && !pid_alive(p.num(2)));
    assert!(holding(p.num(0)).is_empty());
}

#[test]
fn refuses_its_own_parent() {
    let script = format!(
        "import socket,subprocess,json\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(16)\n\
         port=s.getsockname()[1]\n\
         r=subprocess.run(['{BIN}','kill',str(port),'--yes'],capture_output=True,text=True)\n\
         c=socket.create_connection(('127.0.0.1',port),timeout=5)\n\
         print(json.dumps({{'code':r.returncode,'out':r.stdout,'err':r.stderr,'alive':True}}))\n"
    );
    let r = output(Command::new("python3").args(["-c", &script]));
    assert_eq!(r.code, 0, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["code"], 1, "{v}");
    let out = v["out"].as_str().unwrap();
    assert!(out.contains("refused to stop python3"), "{out}");
    assert!(out.contains("portscope's parent"), "{out}");
    assert!(out.contains("is still held"), "{out}");
    assert_eq!(v["alive"], true);
}

#[test]
fn refuses_itself() {
    // The listener is passed to the portscope child, and the python closes its own copy:
    // then portscope itself holds the port.
    let script = format!(
        "import socket,subprocess,json\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(16)\n\
         port=s.getsockname()[1]\n\
         p=subprocess.Popen(['{BIN}','kill',str(port),'--yes'],pass_fds=[s.fileno()],stdout=subprocess.PIPE,stderr=subprocess.PIPE,text=True)\n\
         s.close()\n\
         out,err=p.communicate()\n\
         print(json.dumps({{'code':p.returncode,'out':out,'err':err}}))\n"
    );
    let r = output(Command::new("python3").args(["-c", &script]));
    assert_eq!(r.code, 0, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["code"], 1, "{v}");
    let out = v["out"].as_str().unwrap();
    assert!(out.contains("refused to stop portscope"), "{out}");
    assert!(out.contains("it is portscope itself"), "{out}");
}

#[test]
fn refuses_pid_1() {
    if !harness::require_root("refuses_pid_1", "unshare/nsenter a pid namespace") {
        return;
    }
    let (Some(unshare), Some(nsenter)) = (
        harness::needs("refuses_pid_1", "unshare", "util-linux"),
        harness::needs("refuses_pid_1", "nsenter", "util-linux"),
    ) else {
        return;
    };
    let can = Command::new(&unshare)
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .output();
    if !can.as_ref().is_ok_and(|o| o.status.success()) {
        harness::skipped(
            "refuses_pid_1",
            &format!("cannot make a pid namespace here ({can:?})"),
        );
        return;
    }
    let ns = harness::spawn(
        unshare.to_str().expect("a UTF-8 path"),
        &[
            "--pid",
            "--fork",
            "--mount-proc",
            "python3",
            "-c",
            "import socket,os,time\n\
             s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(16)\n\
             print(s.getsockname()[1], os.getpid(), flush=True)\n\
             time.sleep(120)\n",
        ],
    );
    assert_eq!(ns.words[1], "1", "python is pid 1 in its namespace");
    let port = ns.num(0);
    let outer = harness::pids(&holding(port)[0])[0];
    let r = output(Command::new(&nsenter).args([
        "-t",
        &outer.to_string(),
        "-p",
        "-m",
        BIN,
        "kill",
        &port.to_string(),
        "--yes",
    ]));
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("refused to stop python3[1]: it is pid 1"),
        "{}",
        r.stdout
    );
    assert!(pid_alive(outer));
    assert_eq!(harness::pids(&holding(port)[0]), vec![outer]);
}

#[test]
fn dry_run_changes_nothing() {
    let l = tcp_listener("127.0.0.1");
    let port = l.words[0].clone();
    let r = kill(&[&port, "--dry-run"]);
    assert_eq!(r.code, 0, "{r:?}");
    for want in [
        format!("port {port}: 1 listening/bound socket(s)"),
        "would stop:".to_string(),
        format!("python3 [pid {}]", l.pid),
        format!("why       holds tcp LISTEN 127.0.0.1:{port}"),
        format!("would send SIGTERM to pid {}; after 5.0 s, SIGKILL", l.pid),
        "dry run: nothing was sent, nothing changed".to_string(),
    ] {
        assert!(r.stdout.contains(&want), "{want:?} not in\n{}", r.stdout);
    }
    let (code, v) = kill_json(&[&port, "--dry-run", "--signal", "INT", "--timeout", "2s"]);
    assert_eq!(code, 0);
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["signal"], "INT");
    assert_eq!(v["timeout_ms"], 2000);
    assert_eq!(v["stop"][0]["pid"], l.pid);
    assert_eq!(v["stop"][0]["why"][0]["kind"], "socket");
    assert_eq!(v["stop"][0]["why"][0]["state"], "listen");
    assert_eq!(v["outcomes"].as_array().unwrap().len(), 0);
    assert_eq!(v["signals_sent"].as_array().unwrap().len(), 0);
    assert_eq!(v["ports"][0]["free"], false);
    assert!(pid_alive(l.pid));
    assert_eq!(harness::pids(&holding(l.num(0))[0]), vec![l.pid]);
}

#[test]
fn another_users_hidden_holder_is_never_called_free() {
    if !harness::require_root("another_users_hidden_holder", "drop to uid 65534") {
        return;
    }
    let l = tcp_listener("127.0.0.1");
    let port = l.words[0].clone();
    let bin = harness::binary_for_other_users();
    let r = bin.run_as_nobody(&["kill", &port, "--yes"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains(&format!(
            "1 socket(s) on port {port} are held by processes you may not inspect (uid 0 / root) — run: sudo portscope kill {port}"
        )),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("free"), "{}", r.stdout);
    assert!(pid_alive(l.pid));
}

#[test]
fn permission_denied_says_how_to_get_permission() {
    if !harness::require_root(
        "permission_denied",
        "uid 65534 with capabilities to see root's fds",
    ) {
        return;
    }
    let Some(setpriv) = harness::needs("permission_denied", "setpriv", "util-linux") else {
        return;
    };
    let l = tcp_listener("127.0.0.1");
    let port = l.words[0].clone();
    let bin = harness::binary_for_other_users();
    // uid 65534 may *see* root's fds (CAP_SYS_PTRACE + CAP_DAC_READ_SEARCH) but not signal them.
    let r = output(
        Command::new(setpriv)
            .env("NO_COLOR", "1")
            .current_dir(bin.dir())
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=+sys_ptrace,+dac_read_search",
                "--ambient-caps=+sys_ptrace,+dac_read_search",
                bin.arg(),
                "kill",
                &port,
                "--yes",
            ]),
    );
    if r.stderr.contains("setpriv:") {
        harness::skipped(
            "permission_denied_says_how_to_get_permission",
            r.stderr.trim(),
        );
        return;
    }
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains(&format!(
            "python3 (pid {}), user root: permission denied — it belongs to another user; run: sudo portscope kill {port}",
            l.pid
        )),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("is still held"), "{}", r.stdout);
    assert!(pid_alive(l.pid));
}

#[test]
fn host_and_protocol_narrow_what_is_stopped() {
    let l = tcp_listener("127.0.0.1");
    let port = l.words[0].clone();
    for other in [
        format!("127.0.0.2:{port}"),
        format!("[::1]:{port}"),
        format!("{port}/udp"),
    ] {
        let r = kill(&[&other, "--yes"]);
        assert_eq!(r.code, 0, "{other}: {r:?}");
        assert!(
            r.stdout
                .starts_with(&format!("nothing holds port {other}: it is free")),
            "{other}: {}",
            r.stdout
        );
        assert!(pid_alive(l.pid), "{other} stopped the listener");
    }
    let r = kill(&[&format!("127.0.0.1:{port}/tcp"), "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!pid_alive(l.pid));
}

#[test]
fn a_range_frees_each_port_in_it() {
    let a = tcp_listener("127.0.0.1");
    let udp = python(
        "import socket,os,time\n\
         s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('127.0.0.1',0))\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         time.sleep(120)\n",
    );
    let (pa, pu) = (a.num(0), udp.num(0));
    let range = format!("{}-{}", pa.min(pu), pa.max(pu));
    // Only a dry run over the whole range (other tests' ports may lie in it).
    let (code, v) = kill_json(&[&range, "--dry-run"]);
    assert_eq!(code, 0);
    let stop: Vec<u64> = v["stop"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["pid"].as_u64().unwrap())
        .collect();
    assert!(
        stop.contains(&u64::from(a.pid)) && stop.contains(&u64::from(udp.pid)),
        "{v}"
    );
    let r = kill(&[&format!("{pu}-{pu}"), "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(&format!("port {pu} is free now")),
        "{}",
        r.stdout
    );
    assert!(!pid_alive(udp.pid));
    assert!(pid_alive(a.pid));
}

#[test]
fn a_stopped_holder_is_continued_and_exits_on_sigterm() {
    let l = listener_with("signal.signal(signal.SIGTERM, lambda *a: os._exit(0))");
    stop_pid(l.pid, rustix::process::Signal::STOP);
    wait_state(l.pid, 'T');
    let started = Instant::now();
    let (code, r) = kill_json(&[&l.words[0], "--yes", "--timeout", "20s"]);
    assert_eq!(code, 0, "{r}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "it waited for the timeout"
    );
    let o = &r["outcomes"][0];
    assert_eq!(o["outcome"], "exited_after_signal", "{r}");
    assert_eq!(o["resumed"], true);
    let sent: Vec<&str> = r["signals_sent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["signal"].as_str().unwrap())
        .collect();
    assert_eq!(sent, ["TERM", "CONT"]);
    assert!(holding(l.num(0)).is_empty());
}

#[test]
fn tree_stops_children_and_the_process_group() {
    // The holder starts `sleep` (a child holding nothing) and a grandchild whose parent
    // exited (an orphan holding nothing, still in the holder's process group).
    let p = python(
        "import socket,os,time,subprocess\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(16)\n\
         c=subprocess.Popen(['sleep','120'])\n\
         r,w=os.pipe()\n\
         pid=os.fork()\n\
         if pid==0:\n\
         \x20   if os.fork()==0:\n\
         \x20       s.close(); os.write(w, str(os.getpid()).encode()); time.sleep(120); os._exit(0)\n\
         \x20   os._exit(0)\n\
         os.waitpid(pid,0)\n\
         orphan=int(os.read(r,32))\n\
         print(s.getsockname()[1], os.getpid(), c.pid, orphan, flush=True)\n\
         time.sleep(120)\n",
    );
    let port = p.words[0].clone();
    let (holder, child, orphan) = (p.num(1), p.num(2), p.num(3));
    let (_, plain) = kill_json(&[&port, "--dry-run"]);
    let pids_of = |v: &serde_json::Value| -> Vec<u64> {
        v["stop"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["pid"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(pids_of(&plain), vec![u64::from(holder)], "{plain}");
    let (code, v) = kill_json(&[&port, "--yes", "--tree"]);
    assert_eq!(code, 0, "{v}");
    let stopped = pids_of(&v);
    for pid in [holder, child, orphan] {
        assert!(stopped.contains(&u64::from(pid)), "{pid} not in {v}");
        assert!(!pid_alive(pid), "{pid} still alive");
    }
    let kinds: Vec<&str> = v["stop"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["why"][0]["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"descendant"), "{v}");
    assert!(holding(p.num(0)).is_empty());
}

#[test]
fn connections_stops_holders_of_accepted_connections() {
    // A forking server: the child keeps an accepted connection, not the listener.
    let p = python(
        "import socket,os,time\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(16)\n\
         c=socket.create_connection(s.getsockname())\n\
         a,_=s.accept()\n\
         pid=os.fork()\n\
         if pid==0:\n    s.close(); c.close(); time.sleep(120); os._exit(0)\n\
         a.close()\n\
         print(s.getsockname()[1], os.getpid(), pid, flush=True)\n\
         time.sleep(120)\n",
    );
    let port = p.words[0].clone();
    let (server, child) = (p.num(1), p.num(2));
    let r = kill(&[&port, "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(&format!(
            "port {port} is free now; 1 connection(s) remain on it"
        )),
        "{}",
        r.stdout
    );
    assert!(!pid_alive(server));
    assert!(
        pid_alive(child),
        "the connection's holder was stopped without --connections"
    );
    let (code, v) = kill_json(&[&port, "--yes", "--connections"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["stop"][0]["pid"], child);
    assert_eq!(v["stop"][0]["why"][0]["kind"], "socket");
    assert!(!pid_alive(child));
}

/// The script of a fake docker-proxy: bind port 0, then re-exec with docker-proxy's flags
/// naming that port (keeping the socket), set comm, and print `PORT PID`.
const DOCKER_PROXY: &str = "import socket,os,sys,time\n\
if len(sys.argv) < 2:\n\
\x20   s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(16); s.set_inheritable(True)\n\
\x20   p=str(s.getsockname()[1])\n\
\x20   os.execv(sys.executable,[sys.executable,'-c',\"import os; exec(os.environ['FAKE_PROXY'])\",\
'-container-port','80','-proto','tcp','-host-ip','127.0.0.1','-host-port',p,'-container-ip','172.17.0.2'])\n\
open('/proc/self/comm','w').write('docker-proxy')\n\
print(sys.argv[sys.argv.index('-host-port')+1], os.getpid(), flush=True)\n\
time.sleep(120)\n";

#[test]
fn docker_proxy_is_refused_with_the_container_named_unless_forced() {
    let d = spawn_env(
        "python3",
        &["-c", "import os; exec(os.environ['FAKE_PROXY'])"],
        &[("FAKE_PROXY", DOCKER_PROXY)],
    );
    let port = d.words[0].clone();
    let r = kill(&[&port, "--yes"]);
    assert_eq!(r.code, 1, "{r:?}");
    for want in [
        format!("refused to stop docker-proxy[{}]", d.pid),
        format!("forwards tcp 127.0.0.1:{port} to container 172.17.0.2:80"),
        "the container is the real owner".to_string(),
        format!("docker ps --filter publish={port}"),
        "docker stop <container>".to_string(),
        "--force".to_string(),
    ] {
        assert!(r.stdout.contains(&want), "{want:?} not in\n{}", r.stdout);
    }
    assert!(pid_alive(d.pid));
    let (code, v) = kill_json(&[&port, "--yes", "--force"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["docker"][0]["mapping"]["container_port"], 80);
    assert_eq!(v["docker"][0]["forced"], true);
    assert!(!pid_alive(d.pid));
    assert!(holding(d.num(0)).is_empty());
}
