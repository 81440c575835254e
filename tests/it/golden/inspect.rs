//! Golden tests of the inspect verbs (see `golden/mod.rs`): `ls`, `who`, `explain`, `probe`,
//! `doctor`, each rendered from a report built here with fixed values.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use portscope::commands::Report;
use portscope::commands::explain::{ExplainReport, Fact, Origin, PortFacts};
use portscope::commands::ls::{LsReport, LsRow};
use portscope::commands::probe::{OwnerRef, ProbeReport, ProbeResult};
use portscope::commands::who::{Peer, WhoReport, WhoSocket};
use portscope::doctor::{Attempt, BindAttempt, BindOutcome, DoctorReport, Outcome};
use portscope::knowledge::addr_class::{self, Exposure};
use portscope::knowledge::{dev_ports, iana, ranges};
use portscope::model::{
    Ancestor, Endpoint, Family, Finding, Hidden, ProcState, Process, Proto, Severity, SockState,
    Socket,
};
use portscope::probe::engine::{PortProbe, PortState};
use portscope::probe::{Auth, Confidence, Identification, TlsFacts};
use portscope::sys::sysctl::Resolution;
use portscope::target::{self, Target};

use super::pin;

const LO4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const ANY4: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
const LO6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);
const ANY6: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

/// `who` prints "started <UTC> (<age> ago)" with the age against the real clock, and the
/// harness masks only a one-unit age ("3m ago", not "12d 3h ago"): a start time after today
/// keeps the age at "0s" so the line is pinned the same on any day.
const STARTED: u64 = 4_102_444_800;

fn target(text: &str) -> Target {
    target::parse(text).expect("fixture target parses")
}

/// A socket: `local`, optional `remote`, its state, inode, uid and owners.
fn sock(
    proto: Proto,
    state: SockState,
    local: (IpAddr, u16),
    remote: Option<(IpAddr, u16)>,
    inode: u64,
    uid: u32,
    pids: &[u32],
) -> Socket {
    let (recv_q, send_q) = if state == SockState::Listen {
        (0, 511)
    } else {
        (0, 0)
    };
    Socket {
        proto,
        family: if local.0.is_ipv4() {
            Family::Ipv4
        } else {
            Family::Ipv6
        },
        state,
        local: Endpoint::inet(local.0, local.1),
        remote: remote.map(|(ip, port)| Endpoint::inet(ip, port)),
        inode,
        peer_inode: None,
        uid,
        recv_q,
        send_q,
        netns: Some(4_026_531_840),
        pids: pids.to_vec(),
        owner_hidden: false,
    }
}

fn listen(proto: Proto, ip: IpAddr, port: u16, inode: u64, uid: u32, pids: &[u32]) -> Socket {
    let state = if proto == Proto::Udp {
        SockState::Close
    } else {
        SockState::Listen
    };
    sock(proto, state, (ip, port), None, inode, uid, pids)
}

/// A socket whose owner could not be inspected.
fn hidden_owner(mut s: Socket) -> Socket {
    s.owner_hidden = true;
    s.pids.clear();
    s
}

/// A process of user `dev` with only what `ls` reads (basic detail: no exe, cwd, ancestry,
/// origin or network namespace).
fn basic(pid: u32, comm: &str, cmdline: &[&str]) -> Process {
    Process {
        pid,
        ppid: 1,
        pgid: Some(pid),
        comm: comm.into(),
        cmdline: cmdline.iter().map(|s| (*s).to_string()).collect(),
        exe: None,
        cwd: None,
        uid: 1000,
        user: Some("dev".into()),
        start_time: Some(1_796_366_000),
        state: ProcState::Sleeping,
        ancestry: vec![],
        origin: Default::default(),
        netns: None,
    }
}

/// A process in full, as `who` reads it: command line, exe, cwd, start, ancestry, unit.
fn full(pid: u32, comm: &str, cmdline: &[&str], exe: &str, ancestry: &[(u32, &str)]) -> Process {
    let mut p = basic(pid, comm, cmdline);
    p.ppid = ancestry.first().map_or(1, |a| a.0);
    p.netns = Some(4_026_531_840);
    p.exe = Some(exe.into());
    p.cwd = Some("/home/dev/app".into());
    p.start_time = Some(STARTED);
    p.ancestry = ancestry
        .iter()
        .map(|&(pid, comm)| Ancestor {
            pid,
            comm: comm.into(),
        })
        .collect();
    p.origin.cgroup = Some("/user.slice/user-1000.slice/session-2.scope".into());
    p.origin.systemd_unit = Some("session-2.scope".into());
    p
}

fn processes(list: Vec<Process>) -> BTreeMap<u32, Process> {
    list.into_iter().map(|p| (p.pid, p)).collect()
}

/// An `ls` row as `ls` annotates it: exposure, IANA service, first owner's name and user.
fn ls_row(socket: Socket, procs: &BTreeMap<u32, Process>) -> LsRow {
    let first = socket.pids.first().and_then(|p| procs.get(p));
    LsRow {
        exposure: socket.local.ip().map(addr_class::exposure),
        service: socket
            .port()
            .and_then(|p| iana::iana_service(p, socket.proto))
            .map(|s| s.name),
        process: first.map(|p| p.comm.as_str().into()),
        user: first.map(|p| p.user.clone().unwrap_or_default().into()),
        socket,
    }
}

/// What a non-root user is told about processes it may not inspect.
fn hidden(sockets: usize, processes: usize) -> Hidden {
    Hidden {
        sockets,
        processes,
        reason: format!(
            "the file descriptors of {processes} process(es) (uid 0) could not be read"
        ),
        hint: "to see them, run as root (sudo portscope …) or grant CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH (sudo setcap cap_sys_ptrace,cap_dac_read_search+ep \"$(command -v portscope)\")".into(),
    }
}

fn ls(all_states: bool, sockets: Vec<Socket>, procs: Vec<Process>, hidden: Hidden) -> Report {
    let procs = processes(procs);
    let rows = sockets.into_iter().map(|s| ls_row(s, &procs)).collect();
    Report::Ls(Box::new(LsReport {
        all_states,
        sockets: rows,
        processes: procs,
        owners_looked_up: true,
        hidden,
    }))
}

/// `ls`: listeners on loopback, all interfaces (v4 and v6) and IPv6 loopback; a UDP socket;
/// sshd's owner hidden from a non-root user, and the footer saying so.
#[test]
fn ls_listeners() {
    let report = ls(
        false,
        vec![
            hidden_owner(listen(Proto::Tcp, ANY4, 22, 18_211, 0, &[])),
            listen(Proto::Tcp, LO4, 3000, 91_402, 1000, &[4242]),
            listen(Proto::Tcp, ANY6, 5173, 91_877, 1000, &[4311]),
            listen(Proto::Udp, ANY4, 5353, 20_114, 1000, &[3817]),
            listen(Proto::Tcp, LO6, 62893, 93_001, 1000, &[4398]),
        ],
        vec![
            basic(3817, "chrome", &["/opt/google/chrome/chrome"]),
            basic(
                4242,
                "node",
                &["node", "/home/dev/app/node_modules/.bin/next", "dev"],
            ),
            basic(
                4311,
                "node",
                &["node", "/home/dev/app/node_modules/.bin/vite", "--host"],
            ),
            basic(
                4398,
                "java",
                &["java", "-jar", "/home/dev/app/build/libs/app.jar"],
            ),
        ],
        hidden(1, 1),
    );
    pin("inspect-ls-listeners", &report);
}

/// `ls --all` (rows by port, then local and remote address, as `ls` sorts them): a listener,
/// both ends of a loopback connection, a TIME_WAIT no file refers to
/// any more (no owner: `-`), and a connection out to a remote HTTPS server.
#[test]
fn ls_all_states() {
    let remote: IpAddr = "93.184.215.14".parse().unwrap();
    let lan: IpAddr = "192.168.1.23".parse().unwrap();
    let report = ls(
        true,
        vec![
            listen(Proto::Tcp, LO4, 3000, 91_402, 1000, &[4242]),
            sock(
                Proto::Tcp,
                SockState::TimeWait,
                (LO4, 3000),
                Some((LO4, 51498)),
                0,
                0,
                &[],
            ),
            sock(
                Proto::Tcp,
                SockState::Established,
                (LO4, 3000),
                Some((LO4, 51514)),
                91_950,
                1000,
                &[4242],
            ),
            sock(
                Proto::Tcp,
                SockState::Established,
                (LO4, 51514),
                Some((LO4, 3000)),
                91_949,
                1000,
                &[4300],
            ),
            sock(
                Proto::Tcp,
                SockState::Established,
                (lan, 52210),
                Some((remote, 443)),
                92_300,
                1000,
                &[3817],
            ),
        ],
        vec![
            basic(3817, "chrome", &["/opt/google/chrome/chrome"]),
            basic(
                4242,
                "node",
                &["node", "/home/dev/app/node_modules/.bin/next", "dev"],
            ),
            basic(
                4300,
                "curl",
                &["curl", "-s", "http://127.0.0.1:3000/api/health"],
            ),
        ],
        Hidden::default(),
    );
    pin("inspect-ls-all", &report);
}

/// `ls --no-owners`: no owner columns filled, and the summary says owners were not looked up.
#[test]
fn ls_no_owners() {
    let rows = vec![
        listen(Proto::Tcp, LO4, 3000, 91_402, 1000, &[]),
        listen(Proto::Tcp, ANY4, 8080, 91_455, 1000, &[]),
    ];
    let procs = BTreeMap::new();
    let report = Report::Ls(Box::new(LsReport {
        all_states: false,
        sockets: rows.into_iter().map(|s| ls_row(s, &procs)).collect(),
        processes: procs,
        owners_looked_up: false,
        hidden: Hidden::default(),
    }));
    pin("inspect-ls-no-owners", &report);
}

fn node_4242() -> Process {
    full(
        4242,
        "node",
        &["node", "/home/dev/app/node_modules/.bin/next", "dev"],
        "/usr/bin/node",
        &[(4200, "npm"), (4100, "bash"), (1, "systemd")],
    )
}

fn curl_4300() -> Process {
    full(
        4300,
        "curl",
        &["curl", "-s", "http://127.0.0.1:3000/api/health"],
        "/usr/bin/curl",
        &[(4101, "bash"), (1, "systemd")],
    )
}

/// The `who` report of port 3000: node listens on loopback, and curl (the other end) is
/// connected to it.
fn who_3000() -> WhoReport {
    let listener = listen(Proto::Tcp, LO4, 3000, 91_402, 1000, &[4242]);
    let accepted = sock(
        Proto::Tcp,
        SockState::Established,
        (LO4, 3000),
        Some((LO4, 51514)),
        91_950,
        1000,
        &[4242],
    );
    WhoReport {
        target: target("3000"),
        held: true,
        sockets: vec![
            WhoSocket {
                exposure: Some(Exposure::Loopback),
                peer: None,
                socket: listener,
            },
            WhoSocket {
                exposure: None,
                peer: Some(Peer {
                    endpoint: Endpoint::inet(LO4, 51514),
                    inode: 91_949,
                    pids: vec![4300],
                    owner_hidden: false,
                }),
                socket: accepted,
            },
        ],
        processes: processes(vec![node_4242(), curl_4300()]),
        hidden: Hidden::default(),
        probe: None,
        last_holder: None,
    }
}

/// `who 3000`: the listener and a loopback connection with the process at the other end,
/// each process in full.
#[test]
fn who_listener_and_peer() {
    pin("inspect-who-3000", &Report::Who(Box::new(who_3000())));
}

/// `who 5432`: a listener whose process is stopped (Ctrl-Z) and runs in a container, a
/// second listener whose owner is hidden, and the hidden footer.
#[test]
fn who_stopped_in_container() {
    let mut pg = full(
        5120,
        "postgres",
        &["postgres", "-D", "/var/lib/postgresql/data"],
        "/usr/lib/postgresql/16/bin/postgres",
        &[(5101, "containerd-shim"), (1, "systemd")],
    );
    pg.uid = 999;
    pg.user = None;
    pg.cwd = Some("/var/lib/postgresql/data".into());
    pg.state = ProcState::Stopped;
    pg.origin.systemd_unit = None;
    pg.origin.container_id =
        Some("3f9a1c2b7d4e5f60718293a4b5c6d7e8f9012345678901234567890abcdef12".into());
    pg.origin.container_runtime = Some("docker".into());
    pg.origin.cgroup = Some(
        "/system.slice/docker-3f9a1c2b7d4e5f60718293a4b5c6d7e8f9012345678901234567890abcdef12.scope"
            .into(),
    );
    let report = WhoReport {
        target: target("5432"),
        held: true,
        sockets: vec![
            WhoSocket {
                exposure: Some(Exposure::AllInterfaces),
                peer: None,
                socket: listen(Proto::Tcp, ANY4, 5432, 70_110, 999, &[5120]),
            },
            WhoSocket {
                exposure: Some(Exposure::Loopback),
                peer: None,
                socket: hidden_owner(listen(Proto::Tcp, LO6, 5432, 70_230, 0, &[])),
            },
        ],
        processes: processes(vec![pg]),
        hidden: hidden(1, 2),
        probe: None,
        last_holder: None,
    };
    pin("inspect-who-stopped", &Report::Who(Box::new(report)));
}

fn who_free(text: &str) -> WhoReport {
    WhoReport {
        target: target(text),
        held: false,
        sockets: vec![],
        processes: BTreeMap::new(),
        hidden: Hidden::default(),
        probe: None,
        last_holder: None,
    }
}

/// `who 8080/udp`: nothing holds it.
#[test]
fn who_nothing() {
    pin(
        "inspect-who-nothing",
        &Report::Who(Box::new(who_free("8080/udp"))),
    );
}

fn general(topic: &'static str, reference: &str, text: String) -> Fact {
    Fact {
        topic,
        text,
        origin: Origin::General {
            reference: reference.into(),
        },
    }
}

fn here(topic: &'static str, read: &str, text: String) -> Fact {
    Fact {
        topic,
        text,
        origin: Origin::Machine { read: read.into() },
    }
}

const EPHEMERAL: (u16, u16) = (32768, 60999);
const NOW_READ: &str = "netlink sock_diag and /proc/<pid>/fd";

/// The port facts `explain` states, in its order, on a machine with the Linux default
/// ephemeral range and privileged ports below 1024.
fn port_facts(port: u16, facts: &mut Vec<Fact>) -> PortFacts {
    let range = ranges::iana_range(port);
    let (lo, hi) = range.span();
    facts.push(general(
        "port",
        ranges::RANGES_SOURCE,
        format!("{port} is in the IANA {} range ({lo}-{hi})", range.label()),
    ));
    let elsewhere = if range == ranges::IanaRange::Dynamic {
        " (on Windows and macOS, whose ephemeral range is 49152-65535, it would be an ordinary automatic port)"
    } else {
        ""
    };
    facts.push(here(
        "ephemeral",
        "/proc/sys/net/ipv4/ip_local_port_range",
        format!(
            "{port} is NOT in this machine's ephemeral range {}-{}: the Linux kernel here never assigns it automatically, so a program chose this number{elsewhere}",
            EPHEMERAL.0, EPHEMERAL.1
        ),
    ));
    facts.push(here(
        "privileged",
        "/proc/sys/net/ipv4/ip_unprivileged_port_start",
        format!("{port} is not privileged here: any user may bind ports from 1024 up"),
    ));
    facts.push(general(
        "service",
        iana::IANA_SOURCE,
        format!("IANA has no service registered on {port}"),
    ));
    let commonly = dev_ports::dev_ports(port, Proto::Tcp);
    for d in &commonly {
        let mut text = format!("commonly {} — it prints: {}", d.what, d.banner);
        if let Some(risk) = d.risk {
            text.push_str(&format!(" (if exposed: {risk})"));
        }
        facts.push(general(
            "common",
            "portscope's table of developer defaults",
            text,
        ));
    }
    if commonly.is_empty() {
        let source = "what tools print (portscope's table)";
        facts.push(general(
            "common",
            source,
            "no well-known program uses this port by default; addresses like this usually come from one of the following. On Linux a bind to port 0 gets a port from the ephemeral range, so outside it they apply when the address was printed on Windows or macOS, or when the tool picked the number itself".into(),
        ));
        for s in dev_ports::random_port_sources() {
            facts.push(general(
                "common",
                source,
                format!(
                    "  · {}. Seen as: {}. Holder: {}",
                    s.what, s.looks_like, s.who_listens
                ),
            ));
        }
    }
    PortFacts {
        port,
        iana_range: range,
        ephemeral_range: Some(EPHEMERAL),
        in_ephemeral_range: Some(false),
        privileged: Some(false),
        iana: vec![],
        commonly,
    }
}

/// `explain 127.0.0.1:62893`: how localhost resolves here, the loopback block, the dynamic
/// range outside the ephemeral range, what prints such addresses, and nothing holding it.
#[test]
fn explain_loopback_62893() {
    let mut facts = Vec::new();
    let resolution = Resolution {
        name: "localhost".into(),
        addresses: vec![LO4],
        hosts_lines: vec!["127.0.0.1 localhost".into()],
        error: None,
    };
    facts.push(here(
        "localhost",
        "getaddrinfo() and /etc/hosts",
        "localhost resolves here to 127.0.0.1".into(),
    ));
    facts.push(here(
        "localhost",
        "/etc/hosts",
        "/etc/hosts: 127.0.0.1 localhost".into(),
    ));
    let info = addr_class::classify(LO4);
    facts.push(general(
        "address",
        addr_class::ADDR_SOURCE,
        format!(
            "127.0.0.1 is {} ({} {}): {}",
            info.class.label(),
            info.block,
            info.rfc,
            info.meaning
        ),
    ));
    let port = port_facts(62893, &mut facts);
    facts.push(here(
        "now",
        NOW_READ,
        "nothing holds it right now: no listener and no connection (connecting now would be refused)".into(),
    ));
    let report = ExplainReport {
        target: target("127.0.0.1:62893"),
        address: Some(info),
        resolution: Some(resolution),
        port: Some(port),
        facts,
        now: Some(who_free("127.0.0.1:62893")),
    };
    pin("inspect-explain-62893", &Report::Explain(Box::new(report)));
}

/// `explain 5173`: the Vite default, held right now (so the footer points to `who`).
#[test]
fn explain_vite_held() {
    let mut facts = Vec::new();
    let port = port_facts(5173, &mut facts);
    facts.push(here(
        "now",
        NOW_READ,
        "held right now: 1 listening and 0 other socket(s), by node[4311]".into(),
    ));
    let mut vite = full(
        4311,
        "node",
        &["node", "/home/dev/app/node_modules/.bin/vite"],
        "/usr/bin/node",
        &[(4290, "npm"), (4100, "bash"), (1, "systemd")],
    );
    vite.cwd = Some("/home/dev/app".into());
    let now = WhoReport {
        target: target("5173"),
        held: true,
        sockets: vec![WhoSocket {
            exposure: Some(Exposure::Loopback),
            peer: None,
            socket: listen(Proto::Tcp, LO6, 5173, 91_877, 1000, &[4311]),
        }],
        processes: processes(vec![vite]),
        hidden: Hidden::default(),
        probe: None,
        last_holder: None,
    };
    let report = ExplainReport {
        target: target("5173"),
        address: None,
        resolution: None,
        port: Some(port),
        facts,
        now: Some(now),
    };
    pin("inspect-explain-5173", &Report::Explain(Box::new(report)));
}

fn probed(
    addr: SocketAddr,
    state: PortState,
    identification: Option<Identification>,
    first_bytes: &[u8],
    probes: Vec<&'static str>,
    owner: Option<(u32, &str)>,
) -> ProbeResult {
    ProbeResult {
        target: addr.to_string(),
        addr: addr.ip(),
        port: addr.port(),
        proto: Proto::Tcp,
        probe: PortProbe {
            addr,
            state,
            identification,
            tls: None,
            evidence: portscope::probe::evidence(first_bytes, 64),
            probes,
            elapsed_ms: 3.5,
            note: None,
        },
        owner: owner.map(|(pid, comm)| OwnerRef {
            pid,
            comm: comm.into(),
        }),
    }
}

fn at(ip: IpAddr, port: u16) -> SocketAddr {
    SocketAddr::new(ip, port)
}

/// `probe` (no target: every TCP listener, by port): a port that closed without a word, a Vite
/// dev server over HTTP, Redis without and with a password, HTTPS with its certificate facts.
#[test]
fn probe_mixed() {
    let vite = Identification::new("http", Confidence::Certain)
        .product("Vite")
        .detail("status", "200 OK")
        .detail("title", "My App")
        .detail("framework", "Vite");
    let redis_open = Identification::new("redis", Confidence::Certain)
        .product("Redis")
        .version("7.2.4")
        .auth(Auth::NotRequired);
    let redis_auth = Identification::new("redis", Confidence::Certain)
        .product("Redis")
        .auth(Auth::Required)
        .detail("error", "NOAUTH Authentication required.");
    let https = Identification::new("https", Confidence::Certain)
        .product("nginx")
        .version("1.24.0")
        .detail("status", "200 OK")
        .detail("server", "nginx/1.24.0");
    let mut tls = probed(
        at(LO4, 8443),
        PortState::Open,
        Some(https),
        b"HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\n",
        vec!["tls-hello", "http-get"],
        Some((2210, "nginx")),
    );
    tls.probe.tls = Some(TlsFacts {
        version: Some("TLSv1.3".into()),
        cipher: Some("TLS13_AES_256_GCM_SHA384".into()),
        alpn: Some("http/1.1".into()),
        subject: Some("CN=app.local".into()),
        san: vec!["app.local".into(), "127.0.0.1".into()],
        issuer: Some("CN=app.local".into()),
        not_before: Some("2026-01-05 09:00:00 UTC".into()),
        not_after: Some("2027-01-05 09:00:00 UTC".into()),
        expired: Some(false),
        self_signed: Some(true),
    });
    let mut wrapped = probed(
        at(LO4, 2024),
        PortState::Open,
        None,
        b"",
        vec!["banner", "http-get"],
        None,
    );
    wrapped.probe.note =
        Some("the server closed the connection without a word (tcpwrapped)".into());
    let report = ProbeReport {
        results: vec![
            wrapped,
            probed(
                at(LO4, 5173),
                PortState::Open,
                Some(vite),
                b"HTTP/1.1 200 OK\r\nVary: Origin\r\nContent-Type: text/html\r\n",
                vec!["banner", "http-get"],
                Some((4311, "node")),
            ),
            probed(
                at(LO4, 6379),
                PortState::Open,
                Some(redis_open),
                b"+PONG\r\n",
                vec!["redis"],
                Some((1733, "redis-server")),
            ),
            probed(
                at(LO6, 6380),
                PortState::Open,
                Some(redis_auth),
                b"-NOAUTH Authentication required.\r\n",
                vec!["redis"],
                Some((1790, "redis-server")),
            ),
            tls,
        ],
        deadline_ms: 1200,
    };
    pin("inspect-probe-mixed", &Report::Probe(Box::new(report)));
}

/// `probe 127.0.0.1:62893 9000`: the first is open but nothing the probes know answered; on
/// the second nothing listens, so `127.0.0.1` refused.
#[test]
fn probe_unidentified_and_refused() {
    let r = probed(
        at(LO4, 62893),
        PortState::Open,
        None,
        b"\x00\x00\x00\x0b\x01\x00\x00\x00\x02\xde\xad",
        vec!["jdwp", "banner", "http-get", "tls-hello"],
        Some((4398, "java")),
    );
    let mut refused = probed(at(LO4, 9000), PortState::Refused, None, b"", vec![], None);
    refused.target = "9000".into();
    refused.probe.elapsed_ms = 0.2;
    let report = ProbeReport {
        results: vec![r, refused],
        deadline_ms: 1200,
    };
    pin(
        "inspect-probe-unidentified",
        &Report::Probe(Box::new(report)),
    );
}

fn attempt(addr: SocketAddr, outcome: Outcome, elapsed_ms: f64) -> Attempt {
    Attempt {
        addr,
        outcome,
        error: (outcome == Outcome::Refused).then(|| "Connection refused (os error 111)".into()),
        elapsed_ms,
    }
}

/// `doctor localhost:5173`: Vite listens on `::1` only, localhost means 127.0.0.1 here.
#[test]
fn doctor_wrong_family() {
    let title = "node[4311] listens on [::1]:5173 — the other loopback family — so 127.0.0.1:5173 is refused";
    let report = DoctorReport {
        target: target("localhost:5173"),
        works: false,
        verdict: title.into(),
        mode: "connect",
        attempts: vec![attempt(at(LO4, 5173), Outcome::Refused, 0.2)],
        binds: vec![],
        findings: vec![Finding {
            code: "DOC-WRONG-FAMILY",
            severity: Severity::Critical,
            title: title.into(),
            evidence: vec![
                "connect to 127.0.0.1:5173: refused".into(),
                "node[4311] listens on [::1]:5173 only".into(),
                "localhost resolves here to 127.0.0.1".into(),
            ],
            fix: vec![
                "connect to [::1]:5173 instead".into(),
                "or make the server listen where clients dial: bind 127.0.0.1 (or 0.0.0.0 for every address, which also exposes it to the network)".into(),
                "Node.js ≥ 17 keeps the resolver's order for localhost: pass --dns-result-order=ipv4first to the client, or listen on both families".into(),
            ],
        }],
    };
    pin(
        "inspect-doctor-wrong-family",
        &Report::Doctor(Box::new(report)),
    );
}

/// `doctor localhost:3000` when it works: both addresses tried, the first connected.
#[test]
fn doctor_works() {
    let report = DoctorReport {
        target: target("localhost:3000"),
        works: true,
        verdict: "localhost:3000 works: it accepts connections (held by node[4242])".into(),
        mode: "connect",
        attempts: vec![
            attempt(at(LO4, 3000), Outcome::Connected, 101.4),
            attempt(at(LO6, 3000), Outcome::Refused, 0.1),
        ],
        binds: vec![],
        findings: vec![Finding {
            code: "DOC-WRONG-FAMILY",
            severity: Severity::Warning,
            title: "[::1]:3000 is refused, but another address of the same name works: node[4242] listens on the other loopback family; a client that tries only the first address fails".into(),
            evidence: vec![
                "connect to [::1]:3000: refused".into(),
                "node[4242] listens on 127.0.0.1:3000 only".into(),
                "localhost resolves here to 127.0.0.1, then ::1".into(),
            ],
            fix: vec![
                "connect to 127.0.0.1:3000 instead".into(),
                "or make the server listen where clients dial: bind ::1 (or :: for every address, which also exposes it to the network)".into(),
                "Node.js ≥ 17 keeps the resolver's order for localhost: pass --dns-result-order=ipv4first to the client, or listen on both families".into(),
            ],
        }],
    };
    pin("inspect-doctor-works", &Report::Doctor(Box::new(report)));
}

/// `doctor --bind 127.0.0.1:3000`: node already holds it; both test binds fail.
#[test]
fn doctor_bind_held() {
    let addr = at(LO4, 3000);
    let in_use = |reuseaddr| BindAttempt {
        addr,
        reuseaddr,
        outcome: BindOutcome::InUse,
        error: Some("Address already in use (os error 98)".into()),
    };
    let title = "node[4242] already holds 127.0.0.1:3000: the address is in use";
    let report = DoctorReport {
        target: target("127.0.0.1:3000"),
        works: false,
        verdict: title.into(),
        mode: "bind",
        attempts: vec![],
        binds: vec![in_use(false), in_use(true)],
        findings: vec![Finding {
            code: "DOC-BIND-HELD",
            severity: Severity::Critical,
            title: title.into(),
            evidence: vec![
                "node[4242] is bound to 127.0.0.1:3000 (listen)".into(),
                "pid 4242: node /home/dev/app/node_modules/.bin/next dev".into(),
                "started in /home/dev/app".into(),
                "running since 2026-12-04 09:12:40 UTC".into(),
            ],
            fix: vec![
                "kill 4242   # then check that 127.0.0.1:3000 is free: portscope doctor --bind 127.0.0.1:3000".into(),
                "or start your program on another port (portscope explain 3000 shows what the range means)".into(),
            ],
        }],
    };
    pin(
        "inspect-doctor-bind-held",
        &Report::Doctor(Box::new(report)),
    );
}
