//! Golden tests of the lifecycle verbs (see `golden/mod.rs`): `kill`, `pick`, `reserve`,
//! `release`, `run`, `check-config` and `env`, each from a report built here.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use portscope::commands::Report;
use portscope::commands::kill::{
    Fate, HiddenUser, KillPlan, KillReport, Outcome, Owner, Planned, PortState, Refusal, Refused,
    Why,
};
use portscope::commands::pick::PickReport;
use portscope::commands::project::{
    CheckReport, EnvReport, EnvService, Holder as ProjectHolder, PortFrom, ProjectInfo, ServiceRow,
    Status, Vars,
};
use portscope::commands::reserve::{Action, ReserveReport, Row};
use portscope::commands::run::{Chosen, Holder as RunHolder, RunReport, Stopped};
use portscope::model::{
    Ancestor, Endpoint, Family, Finding, Hidden, Origin, ProcState, Process, Proto, Severity,
    SockState, Socket,
};
use portscope::store::registry::Reservation;
use portscope::sys::signal::{Sent, Sig};
use portscope::target::Target;

use super::pin;

const REGISTRY: &str = "/home/dev/.local/state/portscope/registry.json";
/// 2026-11-22 02:29:54 UTC.
const CREATED: i64 = 1_795_314_594;

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_string()).collect()
}

// ---------------------------------------------------------------------------------------
// kill

fn port(port: u16) -> Target {
    Target::Port { port, proto: None }
}

/// A TCP listener on `addr:port` held by `pids` (empty and `hidden`: an owner portscope may
/// not inspect).
fn listener(addr: IpAddr, port: u16, inode: u64, uid: u32, pids: &[u32]) -> Socket {
    Socket {
        proto: Proto::Tcp,
        family: Family::Ipv4,
        state: SockState::Listen,
        local: Endpoint::inet(addr, port),
        remote: None,
        inode,
        peer_inode: None,
        uid,
        recv_q: 0,
        send_q: 128,
        netns: Some(4_026_531_840),
        pids: pids.to_vec(),
        owner_hidden: pids.is_empty(),
    }
}

fn holds(s: &Socket) -> Why {
    Why::Socket {
        proto: s.proto,
        state: s.state,
        local: s.local.clone(),
        remote: s.remote.clone(),
        inode: s.inode,
    }
}

/// A process as `who` reads it. `start_time` is left out of processes whose block is
/// rendered: its "(3d 4h ago)" grows every day and the mask covers only its last unit.
fn process(pid: u32, comm: &str, cmdline: &[&str], start_time: Option<u64>) -> Process {
    Process {
        pid,
        ppid: 4100,
        pgid: Some(pid),
        comm: comm.into(),
        cmdline: strings(cmdline),
        exe: Some("/usr/bin/python3.12".into()),
        cwd: Some("/home/dev/app".into()),
        uid: 1000,
        user: Some("dev".into()),
        start_time,
        state: ProcState::Sleeping,
        ancestry: vec![
            Ancestor {
                pid: 4100,
                comm: "bash".into(),
            },
            Ancestor {
                pid: 1,
                comm: "systemd".into(),
            },
        ],
        origin: Origin {
            cgroup: Some("/user.slice/user-1000.slice/session-3.scope".into()),
            systemd_unit: Some("session-3.scope".into()),
            container_id: None,
            container_runtime: None,
        },
        netns: Some(4_026_531_840),
    }
}

fn planned(p: Process, sockets: &[&Socket]) -> Planned {
    Planned {
        ports: sockets.iter().filter_map(|s| s.port()).collect(),
        why: sockets.iter().map(|s| holds(s)).collect(),
        start_ticks: Some(123_456),
        process: p,
    }
}

fn state(target: Target, sockets: Vec<Socket>, owners: &[(u32, &str)]) -> PortState {
    PortState {
        target,
        free: sockets.is_empty(),
        sockets,
        owners: owners
            .iter()
            .map(|(pid, comm)| Owner {
                pid: *pid,
                comm: (*comm).into(),
            })
            .collect(),
        connections: 0,
        time_wait: 0,
        hidden: 0,
        hidden_users: vec![],
    }
}

fn plan(targets: Vec<Target>, found: Vec<PortState>, stop: Vec<Planned>, euid: u32) -> KillPlan {
    KillPlan {
        targets,
        signal: Sig::Term,
        timeout_ms: 5000,
        escalate: true,
        tree: false,
        connections: false,
        euid,
        found,
        stop,
        refused: vec![],
        docker: vec![],
        notes: vec![],
    }
}

fn kill_report(plan: KillPlan, ports: Vec<PortState>) -> KillReport {
    KillReport {
        all_free: ports.iter().all(|p| p.free),
        plan,
        dry_run: false,
        declined: false,
        outcomes: vec![],
        signals_sent: vec![],
        ports,
    }
}

fn outcome(pid: u32, fate: Fate, signal: Sig, after_s: f64, ignored_s: Option<f64>) -> Outcome {
    Outcome {
        pid,
        comm: "python3".into(),
        user: "dev".into(),
        ports: vec![8080],
        outcome: fate,
        signal: Some(signal),
        after_s: Some(after_s),
        ignored_s,
        resumed: false,
        detail: None,
    }
}

/// `kill 8080 --yes`: a forked server; the worker exits on SIGTERM, the master ignores it
/// and gets SIGKILL; the port is free, with TIME_WAIT leftovers.
#[test]
fn kill_freed() {
    let sock = listener(v4(0, 0, 0, 0), 8080, 91_011, 1000, &[4242, 4243]);
    let found = state(
        port(8080),
        vec![sock.clone()],
        &[(4242, "python3"), (4243, "python3")],
    );
    let master = process(
        4242,
        "python3",
        &["python3", "server.py"],
        Some(1_795_300_000),
    );
    let worker = process(
        4243,
        "python3",
        &["python3", "server.py"],
        Some(1_795_300_001),
    );
    let plan = plan(
        vec![port(8080)],
        vec![found],
        vec![planned(master, &[&sock]), planned(worker, &[&sock])],
        1000,
    );
    let mut after = state(port(8080), vec![], &[]);
    after.time_wait = 2;
    let mut report = kill_report(plan, vec![after]);
    report.outcomes = vec![
        outcome(4243, Fate::ExitedAfterSignal, Sig::Term, 0.004, None),
        outcome(4242, Fate::Killed, Sig::Kill, 0.012, Some(5.0)),
    ];
    report.signals_sent = vec![
        Sent {
            pid: 4242,
            signal: Sig::Term,
            at_s: 0.0,
        },
        Sent {
            pid: 4243,
            signal: Sig::Term,
            at_s: 0.0,
        },
        Sent {
            pid: 4242,
            signal: Sig::Kill,
            at_s: 5.001,
        },
    ];
    pin("lifecycle-kill-freed", &Report::Kill(Box::new(report)));
}

/// `kill 8080 --yes`: pid 1 (systemd socket activation) holds the port with the service it
/// started; pid 1 is refused, so the service is left alone too, and the port stays held.
#[test]
fn kill_refused_pid1() {
    let sock = listener(v4(0, 0, 0, 0), 8080, 91_020, 0, &[1, 4242]);
    let found = state(
        port(8080),
        vec![sock.clone()],
        &[(1, "systemd"), (4242, "python3")],
    );
    let mut plan = plan(vec![port(8080)], vec![found.clone()], vec![], 0);
    plan.refused = vec![
        Refusal {
            pid: 1,
            comm: "systemd".into(),
            cmdline: strings(&["/sbin/init"]),
            uid: 0,
            user: Some("root".into()),
            ports: vec![8080],
            why: vec![holds(&sock)],
            reason: Refused::Pid1,
            message: "it is pid 1, the init of this system or container: stopping it stops everything in it".into(),
        },
        Refusal {
            pid: 4242,
            comm: "python3".into(),
            cmdline: strings(&["/usr/bin/python3", "/home/dev/app/serve.py"]),
            uid: 1000,
            user: Some("dev".into()),
            ports: vec![8080],
            why: vec![holds(&sock)],
            reason: Refused::PortStaysHeld,
            message: "port 8080 stays held by pid 1, which is not stopped: stopping this one would not free it".into(),
        },
    ];
    let report = kill_report(plan, vec![found]);
    pin(
        "lifecycle-kill-refused-pid1",
        &Report::Kill(Box::new(report)),
    );
}

/// `kill 8080 --yes` as an unprivileged user: root's server holds 8080 and cannot be seen,
/// so nothing is stopped and the port is not called free.
#[test]
fn kill_hidden_holder() {
    let sock = listener(v4(0, 0, 0, 0), 8080, 91_030, 0, &[]);
    let mut found = state(port(8080), vec![sock], &[]);
    found.hidden = 1;
    found.hidden_users = vec![HiddenUser {
        uid: 0,
        user: Some("root".into()),
    }];
    let plan = plan(vec![port(8080)], vec![found.clone()], vec![], 1000);
    let report = kill_report(plan, vec![found]);
    pin("lifecycle-kill-hidden", &Report::Kill(Box::new(report)));
}

/// `kill 3000 --dry-run`: the plan, the signals that would be sent, nothing changed.
#[test]
fn kill_dry_run() {
    let sock = listener(v4(127, 0, 0, 1), 3000, 91_040, 1000, &[4242]);
    let found = state(port(3000), vec![sock.clone()], &[(4242, "python3")]);
    let p = process(
        4242,
        "python3",
        &[
            "python3",
            "-m",
            "http.server",
            "3000",
            "--bind",
            "127.0.0.1",
        ],
        None,
    );
    let plan = plan(
        vec![port(3000)],
        vec![found.clone()],
        vec![planned(p, &[&sock])],
        1000,
    );
    let mut report = kill_report(plan, vec![found]);
    report.dry_run = true;
    pin("lifecycle-kill-dry-run", &Report::Kill(Box::new(report)));
}

// ---------------------------------------------------------------------------------------
// pick

fn pick_report(ports: &[u16]) -> PickReport {
    PickReport {
        ports: ports.to_vec(),
        range: (1024, 65535),
        host: None,
        udp: false,
        avoided_ephemeral: Some((32768, 60999)),
        avoided_well_known: true,
        lease_seconds: 60.0,
        registry: REGISTRY.into(),
    }
}

/// `pick`: one port.
#[test]
fn pick_one() {
    pin(
        "lifecycle-pick-one",
        &Report::Pick(Box::new(pick_report(&[10283]))),
    );
}

/// `pick --count 3 --udp`.
#[test]
fn pick_several_udp() {
    let mut r = pick_report(&[12201, 12202, 12203]);
    r.udp = true;
    pin("lifecycle-pick-several", &Report::Pick(Box::new(r)));
}

/// `pick --range 3000-3999 --host 127.0.0.1 --lease 5m`.
#[test]
fn pick_range_host() {
    let mut r = pick_report(&[3973]);
    r.range = (3000, 3999);
    r.host = Some(v4(127, 0, 0, 1));
    r.avoided_well_known = false;
    r.lease_seconds = 300.0;
    pin("lifecycle-pick-range", &Report::Pick(Box::new(r)));
}

// ---------------------------------------------------------------------------------------
// reserve, release

fn row(name: &str, port: u16, dir: Option<&str>, listening: bool, exists: bool) -> Row {
    Row {
        reservation: Reservation {
            name: name.into(),
            port,
            dir: dir.map(PathBuf::from),
            created: CREATED,
        },
        listening,
        dir_exists: dir.map(|_| exists),
    }
}

fn reserve_report(action: Action, name: Option<&str>, rows: Vec<Row>) -> Report {
    Report::Reserve(Box::new(ReserveReport {
        action,
        name: name.map(String::from),
        reservations: rows,
        notes: vec![],
        registry: REGISTRY.into(),
    }))
}

/// `reserve shop/web` on a terminal, the first time: the port, how, and a note.
#[test]
fn reserve_new() {
    let r = ReserveReport {
        action: Action::Reserved,
        name: Some("shop/web".into()),
        reservations: vec![row("shop/web", 32307, Some("/home/dev/shop"), false, true)],
        notes: vec![
            "port 32307 is in this machine's ephemeral range 32000-60999: an outgoing connection may take it while your service is down".into(),
        ],
        registry: REGISTRY.into(),
    };
    pin("lifecycle-reserve-new", &Report::Reserve(Box::new(r)));
}

/// `reserve shop/web` again: the same port, reserved earlier.
#[test]
fn reserve_earlier() {
    let report = reserve_report(
        Action::Existing,
        Some("shop/web"),
        vec![row("shop/web", 32307, Some("/home/dev/shop"), true, true)],
    );
    pin("lifecycle-reserve-earlier", &report);
}

/// `reserve --list`: a table, one row per name.
#[test]
fn reserve_list() {
    let report = reserve_report(
        Action::List,
        None,
        vec![
            row("shop/api", 8000, Some("/home/dev/shop"), true, true),
            row("shop/web", 32307, Some("/home/dev/shop"), false, true),
            row("blog", 24791, Some("/home/dev/old-blog"), false, false),
            row("ci", 12000, None, false, false),
        ],
    );
    pin("lifecycle-reserve-list", &report);
}

/// `reserve --prune`: the names whose directory is gone are forgotten.
#[test]
fn reserve_prune() {
    let report = reserve_report(
        Action::Pruned,
        None,
        vec![row("blog", 24791, Some("/home/dev/old-blog"), false, false)],
    );
    pin("lifecycle-reserve-prune", &report);
}

/// `release shop/web`.
#[test]
fn release_found() {
    let report = reserve_report(
        Action::Released,
        Some("shop/web"),
        vec![row("shop/web", 32307, Some("/home/dev/shop"), false, true)],
    );
    pin("lifecycle-release", &report);
}

/// `release nope`: no such reservation (exit 1).
#[test]
fn release_not_found() {
    let report = reserve_report(Action::NotFound, Some("nope"), vec![]);
    pin("lifecycle-release-not-found", &report);
}

// ---------------------------------------------------------------------------------------
// run

fn run_report(argv: &[&str], port: u16) -> RunReport {
    RunReport {
        argv: strings(argv),
        name: Some("blog".into()),
        port,
        host: "127.0.0.1".into(),
        chosen: Chosen::Reserved,
        started: true,
        held_by: vec![],
        pid: Some(4242),
        listened_on: vec![port],
        url: Some(format!("http://127.0.0.1:{port}/")),
        exit_code: Some(0),
        signal: None,
        forwarded: vec![],
        descendants_stopped: vec![],
        port_free_after: Some(true),
        held_after: vec![],
        exit_status: 0,
    }
}

/// `run --name blog -- python3 -m http.server '$PORT' --bind '$HOST'`, ended with Ctrl+C.
#[test]
fn run_exited() {
    let r = run_report(
        &[
            "python3",
            "-m",
            "http.server",
            "24791",
            "--bind",
            "127.0.0.1",
        ],
        24791,
    );
    pin("lifecycle-run-exited", &Report::Run(Box::new(r)));
}

/// `run --name blog -- ./serve.sh`: the script returned and left its server running, which
/// portscope stopped.
#[test]
fn run_left_running() {
    let mut r = run_report(&["./serve.sh"], 24791);
    r.descendants_stopped = vec![Stopped {
        pid: 4244,
        process: "python3".into(),
        signal: "TERM".into(),
        gone: true,
    }];
    pin("lifecycle-run-left-running", &Report::Run(Box::new(r)));
}

/// `run --name shop -- flask --app hello run`: it ignored `$PORT` and listened on 5000; a
/// supervisor's SIGTERM was passed on and ended it.
#[test]
fn run_other_port_signal() {
    let mut r = run_report(&["flask", "--app", "hello", "run"], 17964);
    r.name = Some("shop".into());
    r.listened_on = vec![5000];
    r.url = None;
    r.exit_code = None;
    r.signal = Some("TERM".into());
    r.forwarded = vec!["TERM".into()];
    r.exit_status = 143;
    pin("lifecycle-run-other-port", &Report::Run(Box::new(r)));
}

/// `run --port 3000 -- npm run dev` when the child left a listener behind that outlived it.
#[test]
fn run_still_held() {
    let mut r = run_report(&["npm", "run", "dev"], 3000);
    r.name = None;
    r.chosen = Chosen::Given;
    r.descendants_stopped = vec![Stopped {
        pid: 4250,
        process: "node".into(),
        signal: "KILL".into(),
        gone: false,
    }];
    r.port_free_after = Some(false);
    r.held_after = vec![RunHolder {
        pid: Some(4250),
        process: Some("node".into()),
        address: "127.0.0.1:3000".into(),
    }];
    pin("lifecycle-run-still-held", &Report::Run(Box::new(r)));
}

// ---------------------------------------------------------------------------------------
// check-config, env

fn project() -> ProjectInfo {
    ProjectInfo {
        name: "shop".into(),
        file: "/home/dev/shop/ports.toml".into(),
        dir: "/home/dev/shop".into(),
    }
}

fn service(name: &str, port: Option<u16>, line: usize, status: Status) -> ServiceRow {
    ServiceRow {
        name: name.into(),
        env_var: format!("{}_PORT", name.to_uppercase().replace('-', "_")),
        port,
        proto: Proto::Tcp,
        host: None,
        line,
        port_from: if port.is_some() {
            PortFrom::Declared
        } else {
            PortFrom::Unassigned
        },
        reservation: format!("shop/{name}"),
        reserved_for: None,
        status,
        holders: vec![],
        owner_hidden: false,
        codes: vec![],
    }
}

fn check_report(services: Vec<ServiceRow>, findings: Vec<Finding>) -> Report {
    Report::CheckConfig(Box::new(CheckReport {
        project: project(),
        registry: REGISTRY.into(),
        services,
        findings,
        ephemeral: Some((32768, 60999)),
        unprivileged_port_start: Some(1024),
        hidden: Hidden::default(),
    }))
}

fn running_api() -> ServiceRow {
    let mut api = service("api", Some(8000), 7, Status::Running);
    api.host = Some(v4(127, 0, 0, 1));
    api.holders = vec![ProjectHolder {
        pid: 4242,
        comm: "python3".into(),
        cwd: Some("/home/dev/shop".into()),
        from_project: true,
        local: "127.0.0.1:8000".into(),
    }];
    api.codes = vec!["CFG-RUNNING"];
    api
}

fn running_finding() -> Finding {
    Finding {
        code: "CFG-RUNNING",
        severity: Severity::Info,
        title: "api is running (from this project): python3 (pid 4242) listens on 8000/tcp".into(),
        evidence: vec!["python3[4242] listens on 127.0.0.1:8000 (cwd /home/dev/shop)".into()],
        fix: vec![],
    }
}

/// `check-config` with collisions: two services on one port, one in use by another
/// program, one reserved for another name, one without a port yet.
#[test]
fn check_config_collision() {
    let mut web = service("web", Some(3000), 4, Status::Conflict);
    web.codes = vec!["CFG-DUPLICATE-PORT"];
    let mut admin = service("admin", Some(3000), 11, Status::Conflict);
    admin.codes = vec!["CFG-DUPLICATE-PORT"];
    let mut db = service("db", Some(5432), 14, Status::InUse);
    db.holders = vec![ProjectHolder {
        pid: 4300,
        comm: "postgres".into(),
        cwd: Some("/var/lib/postgresql/16/main".into()),
        from_project: false,
        local: "0.0.0.0:5432".into(),
    }];
    db.codes = vec!["CFG-IN-USE"];
    let mut metrics = service("metrics", Some(9100), 17, Status::Conflict);
    metrics.reserved_for = Some("dashboard".into());
    metrics.codes = vec!["CFG-RESERVED-ELSEWHERE"];
    let worker = service("worker-metrics", None, 20, Status::Unassigned);
    let findings = vec![
        Finding {
            code: "CFG-DUPLICATE-PORT",
            severity: Severity::Critical,
            title: "3000/tcp is used by 2 services: web, admin; only one of them can listen on it"
                .into(),
            evidence: vec![
                "line 4: [services.web] port = 3000".into(),
                "line 11: [services.admin] port = 3000".into(),
            ],
            fix: vec![
                "give each service its own port: `portscope pick` prints a free one".into(),
                "or remove `port = …` from all but one: `portscope env` then reserves a free port for the others".into(),
            ],
        },
        Finding {
            code: "CFG-IN-USE",
            severity: Severity::Critical,
            title: "db: port 5432/tcp is in use by postgres (pid 4300)".into(),
            evidence: vec![
                "postgres[4300] listens on 0.0.0.0:5432 (cwd /var/lib/postgresql/16/main)".into(),
            ],
            fix: vec![
                "portscope who 5432/tcp   # who it is, in full".into(),
                "portscope kill 5432/tcp  # free the port, if that program should not run".into(),
                "or choose another port for db".into(),
            ],
        },
        Finding {
            code: "CFG-RESERVED-ELSEWHERE",
            severity: Severity::Warning,
            title: "metrics: port 9100 is reserved for 'dashboard'; when both run, one of them fails to listen".into(),
            evidence: vec![format!(
                "{REGISTRY}: 9100 is reserved for 'dashboard' (directory /home/dev/dash) since 2026-11-22 02:29:54 UTC"
            )],
            fix: vec![
                "choose another port for metrics (`portscope pick` prints a free one), or remove `port = …` to have `portscope env` reserve one".into(),
                "or, if 'dashboard' is no longer used: portscope release dashboard".into(),
            ],
        },
        running_finding(),
    ];
    let report = check_report(
        vec![web, running_api(), admin, db, metrics, worker],
        findings,
    );
    pin("lifecycle-check-config-collision", &report);
}

/// `check-config` with a warning only: a declared port in the ephemeral range (exit 1).
#[test]
fn check_config_warning() {
    let web = service("web", Some(3000), 4, Status::Free);
    let mut jobs = service("jobs", Some(40000), 10, Status::Warning);
    jobs.codes = vec!["CFG-EPHEMERAL"];
    let findings = vec![Finding {
        code: "CFG-EPHEMERAL",
        severity: Severity::Warning,
        title: "jobs: port 40000 is in the kernel's ephemeral range 32768-60999; an outgoing connection may take it while the service is down".into(),
        evidence: vec!["net.ipv4.ip_local_port_range = 32768 60999".into()],
        fix: vec![
            "choose a port outside 32768-60999 (`portscope pick` prints one), or remove `port = …` to have `portscope env` reserve one".into(),
            "or keep the kernel from handing it out: sudo sysctl -w net.ipv4.ip_local_reserved_ports=40000".into(),
        ],
    }];
    pin(
        "lifecycle-check-config-warning",
        &check_report(vec![web, jobs], findings),
    );
}

/// `check-config` with no collision: the project's own server running, a reserved port.
#[test]
fn check_config_clean() {
    let web = service("web", Some(3000), 4, Status::Free);
    let mut worker = service("worker-metrics", Some(22593), 20, Status::Free);
    worker.port_from = PortFrom::Reserved;
    pin(
        "lifecycle-check-config-clean",
        &check_report(vec![web, running_api(), worker], vec![running_finding()]),
    );
}

fn env_service(name: &str, port: u16, from: PortFrom, new: bool) -> EnvService {
    EnvService {
        name: name.into(),
        env_var: format!("{}_PORT", name.to_uppercase().replace('-', "_")),
        port,
        proto: Proto::Tcp,
        port_from: from,
        newly_reserved: new,
    }
}

/// `env`: declared ports, and a port reserved by this run for a service that declares none.
#[test]
fn env_declared_and_reserved() {
    let services = vec![
        env_service("web", 3000, PortFrom::Declared, false),
        env_service("api", 8000, PortFrom::Declared, false),
        env_service("admin", 10240, PortFrom::Reserved, false),
        env_service("worker-metrics", 22593, PortFrom::Reserved, true),
    ];
    let report = EnvReport {
        project: project(),
        registry: REGISTRY.into(),
        vars: Vars(
            services
                .iter()
                .map(|s| (s.env_var.clone(), s.port))
                .collect(),
        ),
        services,
    };
    pin("lifecycle-env", &Report::Env(Box::new(report)));
}
