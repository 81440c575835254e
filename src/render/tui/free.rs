//! What `k` (free the selected port) says: the confirmation's lines from the dry run, the
//! reason there is nothing to ask, and the one-line outcome. Pure text from `kill`'s report;
//! names and command lines are sanitised here, since they come from other users' processes.

use crate::commands::kill::{ContainerFate, ContainerOutcome, Fate, KillReport, Outcome, Respawn};
use crate::text;
use crate::watch::Listener;

/// `port 8000/tcp` for a wildcard listener, `127.0.0.1:8000/tcp` otherwise.
pub fn port_label(l: &Listener) -> String {
    let proto = l.proto.as_str();
    if l.address.is_unspecified() {
        format!("port {}/{proto}", l.port)
    } else {
        format!("{}/{proto}", std::net::SocketAddr::new(l.address, l.port))
    }
}

fn name_pid(comm: &str, pid: u32) -> String {
    format!("{}[{pid}]", text::terminal(comm))
}

/// When the dry run leaves nothing to confirm, why (refused holders, hidden owners, or nobody
/// holds the port any more); `None` when there are processes to stop.
pub fn nothing_to_ask(l: &Listener, plan: &KillReport) -> Option<String> {
    let p = &plan.plan;
    if p.has_work() {
        return None;
    }
    let label = port_label(l);
    if let Some(r) = p.refused.first() {
        return Some(format!(
            "refused to free {label}: {} — {}",
            name_pid(&r.comm, r.pid),
            r.message
        ));
    }
    let hidden: usize = p.found.iter().map(|f| f.hidden).sum();
    if hidden > 0 {
        return Some(format!(
            "cannot free {label}: its holder is a process portscope may not inspect (run as root)"
        ));
    }
    if p.found.iter().all(|f| f.sockets.is_empty()) {
        return Some(format!("nothing holds {label} any more: it is free"));
    }
    Some(format!("nothing to stop for {label}"))
}

/// The confirmation's lines: what would be stopped, what is left alone, which signals.
pub fn confirm_lines(plan: &KillReport) -> Vec<String> {
    let p = &plan.plan;
    let mut out = vec!["will stop:".to_string()];
    for c in &p.stop_containers {
        let holders: Vec<String> = c.holders.iter().map(|h| name_pid(&h.comm, h.pid)).collect();
        out.push(format!(
            "  container {} ({} {}), image {}: stopped through {}, grace {} s",
            text::terminal(&c.container.name),
            c.container.engine,
            c.container.short_id(),
            text::terminal(&c.container.image),
            text::terminal(&c.container.engine_socket),
            c.grace_s
        ));
        if !holders.is_empty() {
            out.push(format!(
                "    {} not signalled: it goes with the container",
                holders.join(" ")
            ));
        }
    }
    for s in &p.stop {
        let proc = &s.process;
        let user = proc.user.clone().unwrap_or_else(|| proc.uid.to_string());
        out.push(format!(
            "  {}  user {}  {}",
            name_pid(&proc.comm, proc.pid),
            text::terminal(&user),
            text::command_line(&proc.cmdline)
        ));
    }
    if !p.refused.is_empty() {
        out.push("left alone:".into());
        for r in &p.refused {
            out.push(format!("  {}: {}", name_pid(&r.comm, r.pid), r.message));
        }
    }
    for n in &p.notes {
        out.push(format!("note: {}", text::terminal(n)));
    }
    let escalate = if p.escalate {
        format!(
            ", then SIGKILL after {:.1} s to any still running",
            p.timeout_ms as f64 / 1000.0
        )
    } else {
        String::new()
    };
    if !p.stop.is_empty() || p.stop_containers.is_empty() {
        out.push(format!("sends SIG{}{escalate}", p.signal.name()));
    }
    out
}

/// The question in the confirmation's title.
pub fn question(l: &Listener, plan: &KillReport) -> String {
    let n = plan.plan.stop.len();
    let what = match (plan.plan.stop_containers.as_slice(), n) {
        ([c], 0) => format!("stop container {}", text::terminal(&c.container.name)),
        ([], n) => format!("stop {n} process(es)"),
        (cs, 0) => format!("stop {} containers", cs.len()),
        (cs, n) => format!("stop {} container(s) and {n} process(es)", cs.len()),
    };
    format!("free {}? {what}", port_label(l))
}

fn container_fate(o: &ContainerOutcome) -> String {
    let who = format!("container {}", text::terminal(&o.name));
    match o.outcome {
        ContainerFate::Stopped => format!("{who} stopped ({}, {:.1} s)", o.engine, o.after_s),
        ContainerFate::AlreadyStopped => format!("{who} was already stopped"),
        ContainerFate::Failed => format!(
            "{who} not stopped: {}",
            text::terminal(o.message.as_deref().unwrap_or("the engine refused"))
        ),
    }
}

fn respawn_fate(r: &Respawn) -> String {
    let by = r.respawner.as_ref().map_or(String::new(), |w| {
        format!(
            ", started by {} (stop the watcher: kill {})",
            name_pid(&w.comm, w.pid),
            w.pid
        )
    });
    format!(
        "taken again {:.1} s later by {}{by}",
        r.after_ms as f64 / 1000.0,
        name_pid(&r.comm, r.pid)
    )
}

fn fate_text(o: &Outcome) -> String {
    let who = name_pid(&o.comm, o.pid);
    let secs = |s: Option<f64>| format!("{:.1} s", s.unwrap_or(0.0));
    match o.outcome {
        Fate::ExitedAfterSignal => format!(
            "{who} stopped (SIG{}, {})",
            o.signal.map_or("TERM", |s| s.name()),
            secs(o.after_s)
        ),
        Fate::Killed => format!(
            "{who} killed (ignored SIGTERM for {}, then SIGKILL)",
            secs(o.ignored_s)
        ),
        Fate::AlreadyExited => format!("{who} had already exited"),
        Fate::PermissionDenied => format!("{who}: permission denied (another user's process)"),
        Fate::StillRunning => format!(
            "{who} {}",
            text::terminal(o.detail.as_deref().unwrap_or("is still running"))
        ),
    }
}

/// The outcome in one line, and whether the port is free now.
pub fn outcome(l: &Listener, r: &KillReport) -> (String, bool) {
    let label = port_label(l);
    let fates: Vec<String> = r
        .containers
        .iter()
        .map(container_fate)
        .chain(r.outcomes.iter().map(fate_text))
        .chain(r.respawned.iter().map(respawn_fate))
        .chain(r.watchers.iter().map(|w| {
            format!(
                "its watcher {} still runs (kill {})",
                name_pid(&w.comm, w.pid),
                w.pid
            )
        }))
        .collect();
    let refused: Vec<String> = r
        .plan
        .refused
        .iter()
        .map(|x| format!("refused {}", name_pid(&x.comm, x.pid)))
        .collect();
    let hidden: usize = r.ports.iter().map(|p| p.hidden).sum();
    let mut parts = fates;
    parts.extend(refused);
    if hidden > 0 {
        parts.push(format!("{hidden} holder(s) hidden"));
    }
    let detail = if parts.is_empty() {
        String::new()
    } else {
        format!(": {}", parts.join(", "))
    };
    if r.all_free && hidden == 0 {
        (format!("{label} freed{detail}"), true)
    } else {
        (format!("{label} still held{detail}"), false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::kill::{PortState, Refusal, Refused};
    use crate::model::Proto;
    use crate::sys::signal::Sig;
    use crate::target::Target;

    fn listener(addr: [u8; 4]) -> Listener {
        Listener {
            proto: Proto::Tcp,
            address: addr.into(),
            port: 8000,
            inode: 1,
            uid: 0,
            owner: None,
            owner_hidden: false,
        }
    }

    fn report() -> KillReport {
        let mut r = crate::render::tui::test_data::plan(true);
        r.plan.targets = vec![Target::Port {
            port: 8000,
            proto: None,
        }];
        r.dry_run = false;
        r.all_free = true;
        r
    }

    fn port_state(free: bool, hidden: usize) -> PortState {
        PortState {
            target: Target::Port {
                port: 8000,
                proto: None,
            },
            free,
            sockets: vec![],
            owners: vec![],
            connections: 0,
            time_wait: 0,
            hidden,
            hidden_users: vec![],
            ownerless: 0,
            clients: vec![],
            published: vec![],
        }
    }

    #[test]
    fn labels_name_the_address_unless_it_is_a_wildcard() {
        assert_eq!(port_label(&listener([0, 0, 0, 0])), "port 8000/tcp");
        assert_eq!(port_label(&listener([127, 0, 0, 1])), "127.0.0.1:8000/tcp");
    }

    #[test]
    fn a_refusal_is_said_instead_of_asked() {
        let mut r = report();
        r.plan.refused.push(Refusal {
            pid: 1,
            comm: "init\x1b[2J".into(),
            cmdline: vec![],
            uid: 0,
            user: None,
            ports: vec![8000],
            why: vec![],
            reason: Refused::Pid1,
            message: "it is pid 1".into(),
        });
        let why = nothing_to_ask(&listener([0, 0, 0, 0]), &r).unwrap_or_default();
        assert_eq!(
            why,
            "refused to free port 8000/tcp: init\\x1b[2J[1] — it is pid 1"
        );
        let (line, good) = outcome(&listener([0, 0, 0, 0]), &{
            let mut r = r.clone();
            r.all_free = false;
            r
        });
        assert!(!good);
        assert_eq!(line, "port 8000/tcp still held: refused init\\x1b[2J[1]");
    }

    #[test]
    fn nobody_holding_it_is_said_too() {
        let r = report();
        assert_eq!(
            nothing_to_ask(&listener([0, 0, 0, 0]), &r).as_deref(),
            Some("nothing holds port 8000/tcp any more: it is free")
        );
        let mut hidden = report();
        hidden.plan.found.push(port_state(false, 1));
        assert!(
            nothing_to_ask(&listener([0, 0, 0, 0]), &hidden)
                .is_some_and(|t| t.contains("may not inspect"))
        );
    }

    #[test]
    fn outcomes_in_one_line() {
        let mut r = report();
        r.outcomes.push(Outcome {
            pid: 42,
            comm: "python3".into(),
            user: "root".into(),
            ports: vec![8000],
            outcome: Fate::ExitedAfterSignal,
            signal: Some(Sig::Term),
            after_s: Some(0.04),
            ignored_s: None,
            resumed: false,
            detail: None,
        });
        r.ports.push(port_state(true, 0));
        let (line, good) = outcome(&listener([127, 0, 0, 1]), &r);
        assert!(good);
        assert_eq!(
            line,
            "127.0.0.1:8000/tcp freed: python3[42] stopped (SIGTERM, 0.0 s)"
        );
        r.ports[0] = port_state(false, 1);
        r.all_free = false;
        let (line, good) = outcome(&listener([127, 0, 0, 1]), &r);
        assert!(!good);
        assert!(line.ends_with("1 holder(s) hidden"), "{line}");
    }

    fn planned_container() -> crate::commands::kill::PlannedContainer {
        crate::commands::kill::PlannedContainer {
            container: crate::containers::ContainerRef {
                engine: "docker",
                engine_socket: "/var/run/docker.sock".into(),
                name: "web1".into(),
                id: "f13ea9134cc661f2a8d51c9d39897165".into(),
                image: "nginx:1.27".into(),
                state: "running".into(),
                compose_project: None,
                compose_service: None,
                published: None,
                inner: None,
            },
            ports: vec![8000],
            holders: vec![crate::commands::kill::Owner {
                pid: 77,
                comm: "docker-proxy".into(),
            }],
            grace_s: 5,
        }
    }

    #[test]
    fn a_container_is_stopped_through_its_engine() {
        let mut r = report();
        r.plan.stop_containers.push(planned_container());
        let l = listener([0, 0, 0, 0]);
        assert_eq!(nothing_to_ask(&l, &r), None);
        assert_eq!(question(&l, &r), "free port 8000/tcp? stop container web1");
        let lines = confirm_lines(&r);
        assert_eq!(
            lines[1],
            "  container web1 (docker f13ea9134cc6), image nginx:1.27: stopped through /var/run/docker.sock, grace 5 s"
        );
        assert_eq!(
            lines[2],
            "    docker-proxy[77] not signalled: it goes with the container"
        );
        r.containers.push(ContainerOutcome {
            engine: "docker",
            engine_socket: "/var/run/docker.sock".into(),
            name: "web1".into(),
            id: "f13ea9134cc6".into(),
            image: "nginx:1.27".into(),
            ports: vec![8000],
            outcome: ContainerFate::Stopped,
            message: None,
            after_s: 0.42,
        });
        r.ports.push(port_state(true, 0));
        let (line, good) = outcome(&l, &r);
        assert!(good);
        assert_eq!(
            line,
            "port 8000/tcp freed: container web1 stopped (docker, 0.4 s)"
        );
    }

    #[test]
    fn a_respawn_is_never_freed() {
        let mut r = report();
        r.all_free = false;
        r.ports.push(port_state(false, 0));
        r.respawned.push(Respawn {
            port: 8000,
            pid: 91,
            comm: "python3".into(),
            cmdline: vec![],
            after_ms: 300,
            replaced: vec![90],
            respawner: Some(crate::commands::kill::Respawner {
                pid: 80,
                comm: "bash".into(),
                cmdline: vec![],
            }),
        });
        let (line, good) = outcome(&listener([0, 0, 0, 0]), &r);
        assert!(!good);
        assert_eq!(
            line,
            "port 8000/tcp still held: taken again 0.3 s later by python3[91], started by bash[80] (stop the watcher: kill 80)"
        );
    }

    #[test]
    fn the_confirmation_names_signals() {
        let lines = confirm_lines(&report());
        assert_eq!(
            lines.last().map(String::as_str),
            Some("sends SIGTERM, then SIGKILL after 5.0 s to any still running")
        );
    }
}
