//! The findings of `check-config`, one function per kind of collision: each looks at the
//! service rows (and the registry or the snapshot) and adds what it finds.

use super::*;

/// A finding, and the rows (indexes) it concerns.
pub(super) type Found = (Vec<usize>, Finding);

pub(super) fn finding(
    code: &'static str,
    severity: Severity,
    title: String,
    evidence: Vec<String>,
    fix: Vec<String>,
) -> Finding {
    Finding {
        code,
        severity,
        title,
        evidence,
        fix,
    }
}

/// Two services (declared, or one declared and one reserved) on the same port and protocol.
pub(super) fn duplicates(rows: &[ServiceRow], found: &mut Vec<Found>) {
    let with_port: Vec<(usize, Binding)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            r.port.map(|port| {
                (
                    i,
                    Binding {
                        port,
                        proto: r.proto,
                        host: r.host,
                    },
                )
            })
        })
        .collect();
    let bindings: Vec<Binding> = with_port.iter().map(|(_, b)| *b).collect();
    for group in project::clashes(&bindings) {
        let members: Vec<&ServiceRow> = group.iter().map(|&g| &rows[with_port[g].0]).collect();
        let b = bindings[group[0]];
        let names: Vec<&str> = members.iter().map(|r| r.name.as_str()).collect();
        let evidence = members
            .iter()
            .map(|r| match r.port_from {
                PortFrom::Reserved => format!(
                    "line {}: [services.{}] has no port; the registry reserves {} for {}",
                    r.line, r.name, b.port, r.reservation
                ),
                _ => format!(
                    "line {}: [services.{}] port = {}{}",
                    r.line,
                    r.name,
                    b.port,
                    r.host
                        .map_or(String::new(), |h| format!(", host = \"{h}\""))
                ),
            })
            .collect();
        let f = finding(
            "CFG-DUPLICATE-PORT",
            Severity::Critical,
            format!(
                "{}/{} is used by {} services: {}; only one of them can listen on it",
                b.port,
                b.proto.as_str(),
                members.len(),
                names.join(", ")
            ),
            evidence,
            vec![
                "give each service its own port: `portscope pick` prints a free one".into(),
                "or remove `port = …` from all but one: `portscope env` then reserves a free port for the others".into(),
            ],
        );
        found.push((group.iter().map(|&g| with_port[g].0).collect(), f));
    }
}

/// A declared port that the registry reserves for a name that is not this project's.
pub(super) fn reserved_elsewhere(
    project: &Project,
    row: &ServiceRow,
    data: &Data,
    registry: &Path,
    found: &mut Vec<Found>,
    i: usize,
) {
    let Some(port) = row.port.filter(|_| row.port_from == PortFrom::Declared) else {
        return;
    };
    let Some(other) = data.reserved_by(port) else {
        return;
    };
    if project.service_of(&other.name).is_some() {
        return;
    }
    let mut evidence = vec![format!(
        "{}: {} is reserved for '{}'{} since {}",
        registry.display(),
        port,
        other.name,
        other
            .dir
            .as_deref()
            .map_or(String::new(), |d| format!(" (directory {})", d.display())),
        crate::time::utc(other.created)
    )];
    if other.dir.as_deref() == Some(project.dir.as_path()) {
        evidence.push(format!(
            "'{}' was reserved from this project's directory: perhaps by `portscope reserve` or `portscope run --name` here",
            other.name
        ));
    }
    found.push((
        vec![i],
        finding(
            "CFG-RESERVED-ELSEWHERE",
            Severity::Warning,
            format!(
                "{}: port {port} is reserved for '{}'; when both run, one of them fails to listen",
                row.name, other.name
            ),
            evidence,
            vec![
                format!(
                    "choose another port for {} (`portscope pick` prints a free one), or remove `port = …` to have `portscope env` reserve one",
                    row.name
                ),
                format!(
                    "or, if '{}' is no longer used: portscope release {}",
                    other.name, other.name
                ),
            ],
        ),
    ));
}

/// Something listens on the port now: another program (a collision), or the project's own
/// service (information).
pub(super) fn in_use(row: &ServiceRow, found: &mut Vec<Found>, i: usize) {
    let Some(port) = row.port else { return };
    if row.holders.is_empty() && !row.owner_hidden {
        return;
    }
    let target = format!("{port}/{}", row.proto.as_str());
    let describe = |h: &Holder| {
        format!(
            "{}[{}] listens on {} (cwd {})",
            h.comm,
            h.pid,
            h.local,
            h.cwd.as_deref().unwrap_or("unreadable")
        )
    };
    let mut evidence: Vec<String> = row.holders.iter().map(describe).collect();
    let foreign: Vec<&Holder> = row.holders.iter().filter(|h| !h.from_project).collect();
    if foreign.is_empty() && !row.owner_hidden {
        found.push((
            vec![i],
            finding(
                "CFG-RUNNING",
                Severity::Info,
                format!(
                    "{} is running (from this project): {} listens on {target}",
                    row.name,
                    holders_text(&row.holders)
                ),
                evidence,
                Vec::new(),
            ),
        ));
        return;
    }
    if row.owner_hidden {
        evidence.push(format!(
            "a listener on {target} has no owner portscope can see: a process it may not inspect, or none in this pid namespace"
        ));
    }
    let who = if foreign.is_empty() {
        "a process portscope cannot see".to_string()
    } else {
        holders_text(&foreign)
    };
    found.push((
        vec![i],
        finding(
            "CFG-IN-USE",
            Severity::Critical,
            format!("{}: port {target} is in use by {who}", row.name),
            evidence,
            vec![
                format!("portscope who {target}   # who it is, in full"),
                format!("portscope kill {target}  # free the port, if that program should not run"),
                format!("or choose another port for {}", row.name),
            ],
        ),
    ));
}

pub(super) fn holders_text<H: std::borrow::Borrow<Holder>>(holders: &[H]) -> String {
    holders
        .iter()
        .map(|h| {
            let h = h.borrow();
            format!("{} (pid {})", h.comm, h.pid)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The ephemeral range (an outgoing connection may take the port) and privileged ports.
pub(super) fn kernel_ranges(
    row: &ServiceRow,
    k: &sysctl::PortSysctls,
    found: &mut Vec<Found>,
    i: usize,
) {
    let Some(port) = row.port else { return };
    let kept_out = k.reserved.iter().any(|&(a, b)| (a..=b).contains(&port));
    if let Some((a, b)) = k.ephemeral
        && (a..=b).contains(&port)
        && !kept_out
    {
        let choose = if row.port_from == PortFrom::Reserved {
            format!(
                "move the reservation out of {a}-{b}: portscope release {} && portscope env",
                row.reservation
            )
        } else {
            format!(
                "choose a port outside {a}-{b} (`portscope pick` prints one), or remove `port = …` to have `portscope env` reserve one"
            )
        };
        let mut list: Vec<String> = k
            .reserved
            .iter()
            .map(|&(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect();
        list.push(port.to_string());
        found.push((
            vec![i],
            finding(
                "CFG-EPHEMERAL",
                Severity::Warning,
                format!(
                    "{}: port {port} is in the kernel's ephemeral range {a}-{b}; an outgoing connection may take it while the service is down",
                    row.name
                ),
                vec![format!("net.ipv4.ip_local_port_range = {a} {b}")],
                vec![
                    choose,
                    format!(
                        "or keep the kernel from handing it out: sudo sysctl -w net.ipv4.ip_local_reserved_ports={}",
                        list.join(",")
                    ),
                ],
            ),
        ));
    }
    if let Some(start) = k.unprivileged_port_start
        && port < start
    {
        found.push((
            vec![i],
            finding(
                "CFG-PRIVILEGED",
                Severity::Warning,
                format!(
                    "{}: port {port} is below {start}; binding it needs root or CAP_NET_BIND_SERVICE",
                    row.name
                ),
                vec![format!("net.ipv4.ip_unprivileged_port_start = {start}")],
                vec![
                    format!("choose a port from {start} up"),
                    "or grant the server the capability: sudo setcap cap_net_bind_service=+ep /path/to/server".into(),
                    format!("or lower the limit: sudo sysctl -w net.ipv4.ip_unprivileged_port_start={port}"),
                ],
            ),
        ));
    }
}

/// The project's own reservations: one no service uses any more, one whose service now
/// declares another port, and one made from another checkout with the same project name.
pub(super) fn own_reservations(
    project: &Project,
    rows: &[ServiceRow],
    data: &Data,
    registry: &Path,
    found: &mut Vec<Found>,
) {
    for r in &data.reservations {
        let Some(service) = project.service_of(&r.name) else {
            continue;
        };
        let elsewhere = r
            .dir
            .as_deref()
            .filter(|d| *d != project.dir.as_path() && d.is_dir());
        let at = rows.iter().position(|row| row.name == service);
        let seen = format!(
            "{}: '{}' → {}{}",
            registry.display(),
            r.name,
            r.port,
            r.dir
                .as_deref()
                .map_or(String::new(), |d| format!(" (directory {})", d.display()))
        );
        match (at.map(|i| (i, &rows[i])), elsewhere) {
            (Some((i, row)), Some(dir)) if row.port_from == PortFrom::Reserved => {
                found.push((vec![i], shared_checkout(row, r, dir, seen)));
            }
            (Some((_, row)), _) if row.port_from == PortFrom::Reserved => {}
            (Some((_, row)), _) if row.port == Some(r.port) => {}
            (at, _) => found.push((
                at.map(|(i, _)| i).into_iter().collect(),
                stale(service, at, r, seen),
            )),
        }
    }
}

pub(super) fn shared_checkout(
    row: &ServiceRow,
    r: &Reservation,
    dir: &Path,
    seen: String,
) -> Finding {
    finding(
        "CFG-SHARED-RESERVATION",
        Severity::Warning,
        format!(
            "{}: port {} was reserved from another directory, {}; two checkouts with the same project name share it and collide when both run",
            row.name,
            r.port,
            dir.display()
        ),
        vec![seen],
        vec![
            "give this checkout its own [project] name in ports.toml (or leave name out: the directory's name is used)".into(),
        ],
    )
}

pub(super) fn stale(
    service: &str,
    at: Option<(usize, &ServiceRow)>,
    r: &Reservation,
    seen: String,
) -> Finding {
    let why = match at {
        Some((_, row)) => format!(
            "ports.toml now declares port {} for {service}",
            row.port.map_or("none".into(), |p| p.to_string())
        ),
        None => format!("ports.toml declares no service {service}"),
    };
    finding(
        "CFG-STALE-RESERVATION",
        Severity::Info,
        format!("'{}' still reserves port {} but {why}", r.name, r.port),
        vec![seen],
        vec![format!("portscope release {}", r.name)],
    )
}
