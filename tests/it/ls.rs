//! `ls`: listeners with owners, filters, parity with `ss`, and races with exiting processes.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use portscope::model::{Proto, Socket};
use portscope::sys::SocketQuery;
use portscope::sys::sock_diag::dump_netlink;

use crate::harness::{json, on_port, pids, python, run, tcp_listener};

#[test]
fn lists_a_listener_with_owner_exposure_and_service() {
    let l = tcp_listener("127.0.0.1");
    let r = json(&["ls"]);
    let socks = on_port(&r, l.num(0));
    assert_eq!(socks.len(), 1, "{r}");
    assert_eq!(pids(&socks[0]), vec![l.pid]);
    assert_eq!(socks[0]["exposure"], "loopback");
    assert_eq!(socks[0]["process"], "python3");
    assert_eq!(r["schema_version"], 1);
    assert_eq!(r["command"], "ls");
    let t = run(&[]);
    assert_eq!(t.code, 0);
    let line = t
        .stdout
        .lines()
        .find(|line| line.starts_with(&format!("{} ", l.words[0])))
        .unwrap_or_else(|| panic!("no row for the port: {}", t.stdout));
    assert!(
        line.contains("loopback only") && line.contains("python3"),
        "{line}"
    );
    assert!(line.contains(&l.pid.to_string()), "{line}");
}

#[test]
fn filters_narrow_the_listing() {
    let v4 = tcp_listener("127.0.0.1");
    let v6 = tcp_listener("::1");
    let udp = python(
        "import socket,os,time\n\
         s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1',0))\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         time.sleep(120)\n",
    );
    let has = |args: &[&str], port: u32| !on_port(&json(args), port).is_empty();
    assert!(has(&["ls"], udp.num(0)));
    assert!(has(&["ls", "--udp"], udp.num(0)));
    assert!(!has(&["ls", "--tcp"], udp.num(0)));
    assert!(!has(&["ls", "--udp"], v4.num(0)));
    assert!(has(&["ls", "-4"], v4.num(0)));
    assert!(!has(&["ls", "-4"], v6.num(0)));
    assert!(has(&["ls", "-6"], v6.num(0)));
    let pid = v4.pid.to_string();
    let only = json(&["ls", "--pid", &pid]);
    let ports: BTreeSet<u64> = only["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["local"]["port"].as_u64().unwrap())
        .collect();
    assert_eq!(ports, BTreeSet::from([u64::from(v4.num(0))]));
    assert!(has(&["ls", "--process", "python3"], v6.num(0)));
    assert!(!has(&["ls", "--process", "no-such-proc"], v6.num(0)));
    assert!(has(&["ls", "--user", "root"], v4.num(0)) || !crate::harness::is_root());
    assert!(has(&["ls", "--state", "listen"], v4.num(0)));
    assert!(!has(&["ls", "--state", "established"], v4.num(0)));
}

/// One socket as both tools describe it: (proto, local address, port, state, pids).
type Key = (String, String, u16, String, Vec<u32>);

/// Normalise an address as `ss -n` prints it (`*`, `[::1]`, `127.0.0.53%lo`) and as portscope
/// prints it, so wildcard and bracket spellings compare equal.
fn norm_addr(addr: &str) -> String {
    let a = addr.trim_start_matches('[').trim_end_matches(']');
    let a = a.split('%').next().unwrap_or(a);
    if a == "*" || a == "::" {
        "*".into()
    } else {
        a.to_string()
    }
}

/// Parse `ss -tanpH` / `ss -uanpH` lines (`ss` from [`crate::harness::needs`]).
fn ss_keys(ss: &Path, proto: &str) -> BTreeSet<Key> {
    let out = Command::new(ss)
        .arg(if proto == "tcp" { "-tanpH" } else { "-uanpH" })
        .output()
        .expect("ss is installed (iproute2)");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut keys = BTreeSet::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() < 5 {
            continue;
        }
        let (addr, port) = cols[3].rsplit_once(':').expect("addr:port");
        let mut pids: Vec<u32> = line
            .split("pid=")
            .skip(1)
            .filter_map(|p| p.split(',').next()?.parse().ok())
            .collect();
        pids.sort_unstable();
        pids.dedup();
        keys.insert((
            proto.to_string(),
            norm_addr(addr),
            port.parse().expect("port"),
            cols[0].to_string(),
            pids,
        ));
    }
    keys
}

/// portscope's view in the same shape, less the TCP sockets bound but not listening (in
/// CLOSE), which `ss -ta` does not list (it needs `state bound-inactive`, iproute2 ≥ 6.5).
fn portscope_keys() -> BTreeSet<Key> {
    let r = json(&["ls", "--all"]);
    r["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !(s["proto"] == "tcp" && s["state"] == "close"))
        .map(|s| {
            let proto = s["proto"].as_str().unwrap().to_string();
            let state = match (proto.as_str(), s["state"].as_str().unwrap()) {
                ("udp", "close") => "UNCONN".to_string(),
                (_, "established") => "ESTAB".to_string(),
                (_, other) => other
                    .to_uppercase()
                    .replace('_', "-")
                    .replace("WAIT1", "WAIT-1")
                    .replace("WAIT2", "WAIT-2"),
            };
            (
                proto,
                norm_addr(s["local"]["addr"].as_str().unwrap()),
                s["local"]["port"].as_u64().unwrap() as u16,
                state,
                pids(s),
            )
        })
        .collect()
}

/// Sockets come and go while the tools run (other tests run in parallel): what both `ss`
/// runs saw must be in portscope's view, and portscope may see nothing that neither saw.
fn assert_parity(ss: &Path, context: &str) {
    let mut last = String::new();
    for _ in 0..5 {
        let before: BTreeSet<Key> = ss_keys(ss, "tcp")
            .union(&ss_keys(ss, "udp"))
            .cloned()
            .collect();
        let ours = portscope_keys();
        let after: BTreeSet<Key> = ss_keys(ss, "tcp")
            .union(&ss_keys(ss, "udp"))
            .cloned()
            .collect();
        let stable: BTreeSet<&Key> = before.intersection(&after).collect();
        let seen: BTreeSet<&Key> = before.union(&after).collect();
        let missing: Vec<&&Key> = stable.iter().filter(|k| !ours.contains(**k)).collect();
        let extra: Vec<&Key> = ours.iter().filter(|k| !seen.contains(k)).collect();
        if missing.is_empty() && extra.is_empty() {
            assert!(!stable.is_empty() || context == "idle");
            eprintln!(
                "parity {context}: {} sockets seen by both ss runs, all in portscope's {}",
                stable.len(),
                ours.len()
            );
            return;
        }
        last =
            format!("{context}: missing from portscope {missing:?}; only in portscope {extra:?}");
    }
    panic!("{last}");
}

#[test]
fn matches_ss_idle_and_under_load() {
    let Some(ss) = crate::harness::needs("matches_ss_idle_and_under_load", "ss", "iproute2") else {
        return;
    };
    assert_parity(&ss, "idle");
    let loadgen = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/loadgen.py");
    let dir = std::env::temp_dir().join(format!("portscope-lg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = dir.join("manifest.json");
    let pidfile = dir.join("loadgen.pid");
    // PORTSCOPE_PARITY_LOAD=10000 runs it on the benchmark's full load (30k sockets, 50 procs).
    let n = std::env::var("PORTSCOPE_PARITY_LOAD").unwrap_or_else(|_| "400".into());
    let procs = if n == "400" { "8" } else { "50" };
    let lg = crate::harness::spawn(
        "python3",
        &[
            loadgen,
            "--pairs",
            &n,
            "--listeners",
            &n,
            "--procs",
            procs,
            "--v6-every",
            "5",
            "--duration",
            "60",
            "--manifest",
            manifest.to_str().unwrap(),
            "--pidfile",
            pidfile.to_str().unwrap(),
        ],
    );
    assert_eq!(lg.words[0], "ready:", "{:?}", lg.words);
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    assert_parity(&ss, "loadgen");
    // Attribution to loadgen's children, by their manifest.
    let ours = portscope_keys();
    for (pid, info) in m["children"].as_object().unwrap() {
        let pid: u32 = pid.parse().unwrap();
        for port in info["listen"].as_array().unwrap() {
            let port = port.as_u64().unwrap() as u16;
            assert!(
                ours.iter()
                    .any(|k| k.2 == port && k.3 == "LISTEN" && k.4 == vec![pid]),
                "listener {port} of {pid} not attributed"
            );
        }
    }
    drop(lg);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn processes_exiting_mid_scan_cause_no_error() {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let churn = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // Short-lived processes that hold sockets while portscope walks /proc.
                let _ = Command::new("python3")
                    .args(["-c", "import socket; s=[socket.socket() for _ in range(50)]; [x.bind(('127.0.0.1',0)) for x in s]; [x.listen() for x in s]"])
                    .status();
            }
        })
    };
    for _ in 0..25 {
        let r = run(&["ls", "--all", "--json"]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stderr.is_empty(), "{}", r.stderr);
        serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap();
        let t = run(&["ls"]);
        assert_eq!(t.code, 0, "{t:?}");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    churn.join().unwrap();
}

#[test]
fn unix_sockets_only_with_the_flag() {
    let dir = std::env::temp_dir().join(format!("portscope-unix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("demo.sock");
    let l = python(&format!(
        "import socket,os,time\n\
         s=socket.socket(socket.AF_UNIX); s.bind('{}'); s.listen()\n\
         print(0, os.getpid(), flush=True)\n\
         time.sleep(120)\n",
        path.display()
    ));
    let find = |r: &serde_json::Value| {
        r["sockets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["local"]["path"] == path.to_str().unwrap())
            .cloned()
    };
    assert!(find(&json(&["ls"])).is_none());
    let s = find(&json(&["ls", "-x"])).expect("unix listener listed with -x");
    assert_eq!(s["proto"], "unix");
    assert_eq!(s["state"], "listen");
    assert_eq!(pids(&s), vec![l.pid]);
    drop(l);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn control_characters_in_process_names_are_neutralised() {
    // A process may name itself anything, escape sequences included (prctl PR_SET_NAME).
    let l = python(
        "import socket,os,time,ctypes\n\
         ctypes.CDLL(None).prctl(15, b'ev\\x1b[31mil', 0, 0, 0)\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(1)\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         time.sleep(120)\n",
    );
    let t = run(&["ls", "--color", "always"]);
    let line = t
        .stdout
        .lines()
        .find(|line| line.contains(&l.pid.to_string()))
        .unwrap_or_else(|| panic!("no row for pid {}: {}", l.pid, t.stdout));
    assert!(line.contains("ev\\x1b[31mil"), "{line:?}");
    assert!(
        !line.contains('\x1b'),
        "raw escape reached the terminal: {line:?}"
    );
    let who = run(&["who", &l.words[0]]);
    assert!(!who.stdout.contains("ev\x1b"), "{:?}", who.stdout);
    // JSON keeps the real name, escaped by JSON itself.
    let r = json(&["who", &l.words[0]]);
    assert_eq!(r["processes"][l.pid.to_string()]["comm"], "ev\x1b[31mil");
}

/// `ss` columns `State Recv-Q Send-Q Local:Port Peer:Port` → (proto, state, local), the
/// local end normalised: no brackets, no `%iface`, wildcards as `*`.
fn ss_rows(ss: &Path, args: &str, proto: Proto) -> BTreeSet<(Proto, String, String)> {
    let out = Command::new(ss).arg(args).output().unwrap();
    assert!(out.status.success());
    let row = |l: &str| {
        let f: Vec<&str> = l.split_whitespace().collect();
        let (addr, port) = f.get(3)?.rsplit_once(':')?;
        let addr = addr.trim_start_matches('[').trim_end_matches(']');
        Some((proto, f[0].to_owned(), norm(addr.split('%').next()?, port)))
    };
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(row)
        .collect()
}

fn norm(addr: &str, port: impl std::fmt::Display) -> String {
    let wild = matches!(addr, "*" | "0.0.0.0" | "::");
    format!("{}:{port}", if wild { "*" } else { addr })
}

/// The library's netlink dump and `ss` name the same states for this test's own sockets:
/// two listeners (IPv4, IPv6), a UDP socket and both ends of two connections.
#[test]
fn netlink_agrees_with_ss_on_own_sockets() {
    use std::net::{TcpListener, TcpStream, UdpSocket};
    let Some(ss) = crate::harness::needs("netlink_agrees_with_ss_on_own_sockets", "ss", "iproute2")
    else {
        return;
    };
    let l4 = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(l4.local_addr().unwrap()).unwrap();
    let (_server, _) = l4.accept().unwrap();
    let l6 = TcpListener::bind("[::1]:0").unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let c6 = TcpStream::connect(l6.local_addr().unwrap()).unwrap();
    let (_a6, _) = l6.accept().unwrap();
    let tcp = [&l4, &l6].map(|l| l.local_addr());
    let tcp = tcp
        .into_iter()
        .chain([client.local_addr(), c6.local_addr()]);
    let ends = tcp
        .map(|a| (Proto::Tcp, a))
        .chain([(Proto::Udp, udp.local_addr())]);
    // (proto, addr:port): a loopback port of ours may also be another protocol's.
    let ours: BTreeSet<(Proto, String)> = ends
        .map(|(p, a)| (p, a.unwrap()))
        .map(|(p, a)| (p, norm(&a.ip().to_string(), a.port())))
        .collect();
    let mut theirs = ss_rows(&ss, "-tanH", Proto::Tcp);
    theirs.extend(ss_rows(&ss, "-uanH", Proto::Udp));
    let row = |s: &Socket| {
        let local = norm(&s.local.ip()?.to_string(), s.port()?);
        Some((s.proto, s.state.ss_name(s.proto).to_owned(), local))
    };
    let mine: BTreeSet<_> = dump_netlink(&SocketQuery::default())
        .unwrap()
        .iter()
        .filter_map(row)
        .collect();
    // An ephemeral port of ours may also be the local end of an earlier test's connection
    // now closing (TIME-WAIT, FIN-WAIT-2…: another peer, same local address): not ours. Ours
    // are listening, established or (UDP) unconnected.
    let keep = |set: &BTreeSet<(Proto, String, String)>| -> BTreeSet<_> {
        set.iter()
            .filter(|r| {
                ["LISTEN", "ESTAB", "UNCONN"].contains(&r.1.as_str())
                    && ours.contains(&(r.0, r.2.clone()))
            })
            .cloned()
            .collect()
    };
    let (a, b) = (keep(&mine), keep(&theirs));
    assert_eq!(a.len(), 7, "2 listeners, udp, 4 connection ends: {a:?}");
    let diff: Vec<_> = a.symmetric_difference(&b).collect();
    assert!(diff.is_empty(), "netlink vs ss differ: {diff:?}");
}

/// The SERVICE column names a port as the system does (`/etc/services`, as `ss` prints it),
/// not as the IANA registry does where the two differ: 80 is `http`, not `www-http`. The
/// listener takes 80 when it can (root, port free), else another port whose names differ.
#[test]
fn services_are_named_as_the_system_names_them() {
    use portscope::knowledge::iana_service;
    use portscope::sys::services;
    let Some(ss) = crate::harness::needs(&crate::harness::current_test(), "ss", "iproute2") else {
        return;
    };
    let system = services::read();
    let needs = "/etc/services (Debian package netbase)";
    if !crate::harness::needs_installed(&crate::harness::current_test(), !system.is_empty(), needs)
    {
        return;
    }
    assert_eq!(system.name(80, Proto::Tcp).as_deref(), Some("http"));
    assert_eq!(
        iana_service(80, Proto::Tcp).map(|s| s.name),
        Some("www-http")
    );
    let differ: Vec<u16> = (1..=u16::MAX)
        .filter(|&p| p >= 1024 || crate::harness::is_root())
        .filter(|&p| {
            let ours = system.name(p, Proto::Tcp);
            ours.is_some() && ours.as_deref() != iana_service(p, Proto::Tcp).map(|s| s.name)
        })
        .collect();
    let l = python(&format!(
        "import socket,os,time\n\
         for p in {differ:?}:\n    \
           s=socket.socket()\n    \
           try:\n        s.bind(('127.0.0.1',p)); s.listen(4); break\n    \
           except OSError:\n        s.close()\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         time.sleep(120)\n"
    ));
    let port = u16::try_from(l.num(0)).unwrap();
    let want = system.name(port, Proto::Tcp).unwrap();
    let r = json(&["ls", "--tcp"]);
    let rows = on_port(&r, u32::from(port));
    assert_eq!(rows.len(), 1, "{r}");
    assert_eq!(rows[0]["service"], *want, "port {port}: {r}");
    // ss, which asks getservbyport, says the same.
    let out = Command::new(ss).args(["-tl", "-4"]).output().unwrap();
    let ss_text = String::from_utf8_lossy(&out.stdout);
    assert!(
        ss_text.contains(&format!("127.0.0.1:{want} ")),
        "ss does not name {port} {want}:\n{ss_text}"
    );
}

/// A TCP socket bound to a port but neither listening nor connected still holds the port
/// (another bind gets EADDRINUSE): `ls --all` lists it, in CLOSE as the kernel reports it,
/// whether the dump runs before the walk (one core) or partly beside it (two or more); `who`
/// names it too.
#[test]
fn a_tcp_socket_bound_but_not_listening_is_listed() {
    use socket2::{Domain, Socket, Type};
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    let any = std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0));
    sock.bind(&any.into()).unwrap();
    let port = sock.local_addr().unwrap().as_socket().unwrap().port();
    let me = std::process::id();
    let held_here = |r: &serde_json::Value, how: &str| {
        let socks = on_port(r, u32::from(port));
        assert!(
            socks
                .iter()
                .any(|s| s["proto"] == "tcp" && s["state"] == "close" && pids(s).contains(&me)),
            "{how}: no bound-only socket of pid {me} on {port}: {socks:?}"
        );
    };
    held_here(&json(&["ls", "--all"]), "ls --all");
    let one_core = |args: &[&str]| -> serde_json::Value {
        let out = crate::harness::output(
            Command::new("taskset")
                .args(["-c", "0", env!("CARGO_BIN_EXE_portscope")])
                .args(args)
                .arg("--json")
                .env("NO_COLOR", "1"),
        );
        serde_json::from_str(&out.stdout).unwrap()
    };
    held_here(&one_core(&["ls", "--all"]), "ls --all on one core");
    // On two cores `who` dumps the bind table beside the rest and walks for it apart.
    let port = port.to_string();
    held_here(&json(&["who", &port]), "who");
    held_here(&one_core(&["who", &port]), "who on one core");
}
