//! Golden tests of `check-config` (collisions, a warning only, clean) and `env`, from a
//! project file's services. The findings are copied into the fixtures, because the functions
//! that write them are private to the project command.

use portscope::commands::Report;
use portscope::commands::project::{
    CheckReport, EnvReport, EnvService, Holder, PortFrom, ProjectInfo, ServiceRow, Status, Vars,
};
use portscope::model::{Finding, Hidden, Proto, Severity};

use super::{REGISTRY, v4};
use crate::golden::pin;

fn project() -> ProjectInfo {
    ProjectInfo {
        name: "shop".into(),
        file: "/home/dev/shop/ports.toml".into(),
        dir: "/home/dev/shop".into(),
    }
}

/// The variable a service's port is exported as: `worker-metrics` → `WORKER_METRICS_PORT`.
fn env_var(name: &str) -> String {
    format!("{}_PORT", name.to_uppercase().replace('-', "_"))
}

/// A program listening on a service's port, from this project or not.
fn holder(pid: u32, comm: &str, cwd: &str, local: &str, from_project: bool) -> Holder {
    Holder {
        pid,
        comm: comm.into(),
        cwd: Some(cwd.into()),
        from_project,
        local: local.into(),
    }
}

fn service(name: &str, port: Option<u16>, line: usize, status: Status) -> ServiceRow {
    ServiceRow {
        name: name.into(),
        env_var: env_var(name),
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
        ownerless: false,
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
    api.holders = vec![holder(
        4242,
        "python3",
        "/home/dev/shop",
        "127.0.0.1:8000",
        true,
    )];
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
    db.holders = vec![holder(
        4300,
        "postgres",
        "/var/lib/postgresql/16/main",
        "0.0.0.0:5432",
        false,
    )];
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
        env_var: env_var(name),
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
