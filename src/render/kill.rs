//! `kill`: the plan shown before asking, and what was done.

use crate::commands::kill::{
    DockerNote, Fate, KillPlan, KillReport, Outcome, Planned, PortState, Refusal, Refused,
    SupervisorNote, UnitStop, Why,
};
use crate::model::{ProcState, Socket};
use crate::sys::signal::Sig;
use crate::target::Target;

use super::kill_owners;
use super::style::Palette;
use super::who::process_block;
use crate::text;

/// `port 8080`, `port 127.0.0.1:8080/tcp`, `ports 3000-3010`.
fn label(t: &Target) -> String {
    match t {
        Target::Range { .. } => format!("ports {t}"),
        _ => format!("port {t}"),
    }
}

/// `port 8080`, `ports 8080, 9090`.
fn ports_label(ports: &[u16]) -> String {
    let list: Vec<String> = ports.iter().map(u16::to_string).collect();
    match list.len() {
        0 => "--tree".into(),
        1 => format!("port {}", list.join("")),
        _ => format!("ports {}", list.join(", ")),
    }
}

fn name_pid(comm: &str, pid: u32) -> String {
    format!("{}[{pid}]", text::terminal(comm))
}

fn secs(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

fn socket_text(proto: &str, state: &str, local: &str) -> String {
    format!("{proto} {state} {}", text::terminal(local))
}

fn socket_line(s: &Socket, st: &PortState) -> String {
    let owners: Vec<String> = if s.owner_hidden {
        vec!["(hidden owner)".into()]
    } else if s.ownerless {
        vec![super::NO_PROCESS.into()]
    } else if s.pids.is_empty() {
        vec!["(no process)".into()]
    } else {
        s.pids
            .iter()
            .map(|pid| {
                let comm = st.owners.iter().find(|o| o.pid == *pid);
                name_pid(comm.map_or("?", |o| o.comm.as_str()), *pid)
            })
            .collect()
    };
    format!(
        "  {}  {}\n",
        socket_text(
            s.proto.as_str(),
            s.state.ss_name(s.proto),
            &s.local.to_string()
        ),
        owners.join(" ")
    )
}

/// What else is on a port that is free: connections and TIME_WAIT, as information.
fn leftovers(st: &PortState) -> String {
    let mut parts = Vec::new();
    if st.connections > 0 {
        parts.push(format!("{} connection(s) remain on it", st.connections));
    }
    if st.time_wait > 0 {
        parts.push(format!(
            "{} in TIME_WAIT (no process holds those; the kernel drops them within 60 s)",
            st.time_wait
        ));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("; {}", parts.join(", "))
    }
}

fn hidden_text(st: &PortState, euid: u32) -> String {
    let who: Vec<String> = st
        .hidden_users
        .iter()
        .map(|u| match &u.user {
            Some(name) => format!("uid {} / {}", u.uid, text::terminal(name)),
            None => format!("uid {}", u.uid),
        })
        .collect();
    let fix = if euid == 0 {
        "even root may not read their file descriptors (a security module, or another user or pid namespace protects them)".to_string()
    } else {
        format!("run: sudo portscope kill {}", st.target)
    };
    format!(
        "{} socket(s) on {} are held by processes you may not inspect ({}) — {fix}",
        st.hidden,
        label(&st.target),
        who.join(", ")
    )
}

/// Sockets on the port that no process holds: there is nothing to stop and nothing sudo
/// would show.
fn ownerless_text(st: &PortState) -> String {
    format!(
        "{} socket(s) on {} are held by no process right now: {} — there is nothing to stop, \
         and sudo would not show more; the port frees itself once the descriptor is received \
         and closed, or the process is gone",
        st.ownerless,
        label(&st.target),
        super::NO_PROCESS_WHY
    )
}

fn why_text(w: &Why) -> String {
    match w {
        Why::Socket {
            proto,
            state,
            local,
            remote,
            ..
        } => {
            let mut s = socket_text(proto.as_str(), state.ss_name(*proto), &local.to_string());
            if let Some(r) = remote {
                s.push_str(&format!(" ↔ {}", text::terminal(&r.to_string())));
            }
            format!("holds {s}")
        }
        Why::Descendant { of } => format!("descends from pid {of} (--tree)"),
        Why::ProcessGroup { pgid, of } => {
            format!("in process group {pgid} of pid {of} (--tree)")
        }
    }
}

fn docker_text(d: &DockerNote) -> String {
    let m = &d.mapping;
    let opt = |v: &Option<String>| -> String {
        v.as_deref()
            .map_or("?".into(), |s| text::terminal(s).into_owned())
    };
    let port = |v: Option<u16>| v.map_or("?".into(), |p| p.to_string());
    let host_port = port(m.host_port);
    if d.leftover {
        let mut out = format!(
            "  docker-proxy (pid {}) forwards {} {}:{host_port} to {}:{}, where no container publishes it any more: left over from a removed container\n",
            d.pid,
            opt(&m.proto),
            opt(&m.host_ip),
            opt(&m.container_ip),
            port(m.container_port)
        );
        if d.forced {
            out.push_str("    --force: docker-proxy is stopped; no container is touched\n");
        }
        return out;
    }
    let mut out = format!(
        "  docker-proxy (pid {}) forwards {} {}:{host_port} to container {}:{}: the container is the real owner\n",
        d.pid,
        opt(&m.proto),
        opt(&m.host_ip),
        opt(&m.container_ip),
        port(m.container_port)
    );
    out.push_str(&format!(
        "    find it:  docker ps --filter publish={host_port}\n    stop it:  docker stop <container>\n"
    ));
    if d.forced {
        out.push_str("    --force: docker-proxy is stopped; a container it served keeps running, unreachable on that port\n");
    }
    out
}

fn refusal_line(r: &Refusal, report_docker: &[DockerNote], pal: &Palette) -> String {
    let mut out = pal.warn(&format!(
        "{}: refused to stop {}: {}",
        ports_label(&r.ports),
        name_pid(&r.comm, r.pid),
        r.message
    ));
    out.push('\n');
    if r.reason == Refused::DockerProxy {
        for d in report_docker.iter().filter(|d| d.pid == r.pid) {
            out.push_str(&docker_text(d));
        }
    }
    if r.reason == Refused::LeftoverProxy {
        let port = r.ports.first().copied().unwrap_or(0);
        out.push_str(&format!(
            "    free it:  portscope kill --force {port}   # stops docker-proxy pid {} alone
    or:       sudo systemctl restart docker   # Docker drops the proxies it left behind
",
            r.pid
        ));
    }
    out
}

fn found_line(st: &PortState, pal: &Palette) -> String {
    if st.sockets.is_empty() && !st.published.is_empty() {
        return kill_owners::published_lines(st, &label(&st.target), pal);
    }
    if st.sockets.is_empty() {
        return format!(
            "nothing holds {}: it is free{}\n",
            label(&st.target),
            leftovers(st)
        );
    }
    let mut out = format!(
        "{}: {} listening/bound socket(s)\n",
        pal.header(&label(&st.target)),
        st.sockets.len()
    );
    for s in &st.sockets {
        out.push_str(&socket_line(s, st));
    }
    if crate::knowledge::clients::part_ways(&st.clients) {
        let port = st.target.port_range().map_or(0, |(p, _)| p);
        out.push_str("  which clients reach it:\n");
        for c in &st.clients {
            out.push_str(&format!(
                "    {}\n",
                c.sentence(port, "refused: nothing listens there")
            ));
        }
    }
    out
}

fn signals_line(plan: &KillPlan, verb: &str) -> String {
    let pids: Vec<String> = plan
        .stop
        .iter()
        .map(|p| p.process.pid.to_string())
        .collect();
    let mut out = format!(
        "{verb} SIG{} to pid {}",
        plan.signal.name(),
        pids.join(", ")
    );
    let stopped: Vec<String> = plan
        .stop
        .iter()
        .filter(|p| matches!(p.process.state, ProcState::Stopped | ProcState::TracingStop))
        .map(|p| p.process.pid.to_string())
        .collect();
    if !stopped.is_empty() && plan.signal != Sig::Kill {
        out.push_str(&format!(
            " (then SIGCONT to stopped pid {}, so it can act on it)",
            stopped.join(", ")
        ));
    }
    if plan.escalate {
        out.push_str(&format!(
            "; after {}, SIGKILL to any still running",
            secs(plan.timeout_ms)
        ));
    } else if plan.signal != Sig::Kill {
        out.push_str("; no SIGKILL (--no-escalate)");
    }
    out.push('\n');
    out
}

fn planned_block(p: &Planned, plan: &KillPlan, now: u64, pal: &Palette) -> String {
    let mut out = process_block(&p.process, &[], now, pal, None);
    for w in &p.why {
        out.push_str(&format!("  {:<9} {}\n", "why", why_text(w)));
    }
    for n in plan
        .supervisors
        .iter()
        .filter(|n| n.pids.contains(&p.process.pid))
    {
        out.push_str(&supervisor_lines(n));
    }
    out
}

/// What a supervisor is, a `  key      value` line per fact (as in `who`).
fn supervisor_lines(n: &SupervisorNote) -> String {
    crate::supervisors::lines(&n.supervisor)
        .into_iter()
        .map(|(k, v)| format!("  {k:<9} {v}\n"))
        .collect()
}

/// The units the plan stops with systemctl instead of signals, and why.
fn units_text(plan: &KillPlan, pal: &Palette) -> String {
    let mut out = String::new();
    for n in plan
        .supervisors
        .iter()
        .filter(|n| !n.supervisor.stop_units.is_empty())
    {
        let holders: Vec<String> = n.pids.iter().map(u32::to_string).collect();
        out.push_str(&format!(
            "\n{} {} (for {}; holders: pid {})\n",
            pal.header("will stop systemd units:"),
            text::terminal(n.supervisor.stop.as_deref().unwrap_or("")),
            ports_label(&n.ports),
            holders.join(", ")
        ));
        out.push_str(&supervisor_lines(n));
    }
    out
}

/// What `systemctl stop` did.
fn unit_stop_line(u: &UnitStop, pal: &Palette) -> String {
    match &u.error {
        None => format!(
            "stopped {} ({}, {:.1} s)\n",
            u.units.join(" "),
            text::terminal(&u.command),
            u.after_s
        ),
        Some(e) => format!(
            "{}\n",
            pal.warn(&format!(
                "{} failed: {}",
                text::terminal(&u.command),
                text::terminal(e)
            ))
        ),
    }
}

/// The plan, as shown before the question.
pub fn plan(plan: &KillPlan, pal: &Palette) -> String {
    let mut out = String::new();
    for st in &plan.found {
        out.push_str(&found_line(st, pal));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Processes and containers are listed here; units have their own block below.
    if !plan.stop.is_empty() || !plan.stop_containers.is_empty() {
        out.push_str(&format!("\n{}\n", pal.header("will stop:")));
        for c in &plan.stop_containers {
            out.push('\n');
            out.push_str(&kill_owners::container_block(c, pal));
        }
        for p in &plan.stop {
            out.push('\n');
            out.push_str(&planned_block(p, plan, now, pal));
        }
        out.push('\n');
    }
    out.push_str(&units_text(plan, pal));
    for n in plan.supervisors.iter().filter(|n| {
        n.supervisor.stop_units.is_empty()
            && !plan.stop.iter().any(|p| n.pids.contains(&p.process.pid))
    }) {
        out.push_str(&supervisor_lines(n));
    }
    for r in &plan.refused {
        out.push_str(&refusal_line(r, &plan.docker, pal));
    }
    for d in plan.docker.iter().filter(|d| d.forced) {
        out.push_str(&docker_text(d));
    }
    for st in plan.found.iter().filter(|s| s.hidden > 0) {
        out.push_str(&pal.warn(&hidden_text(st, plan.euid)));
        out.push('\n');
    }
    for st in plan.found.iter().filter(|s| s.ownerless > 0) {
        out.push_str(&pal.warn(&ownerless_text(st)));
        out.push('\n');
    }
    for n in &plan.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    for c in &plan.stop_containers {
        out.push_str(&kill_owners::container_line(c));
    }
    if !plan.stop.is_empty() {
        out.push_str(&signals_line(plan, "will send"));
    }
    out
}

/// The question itself (no newline: the answer follows on the same line).
pub fn question(plan: &KillPlan, _pal: &Palette) -> String {
    let names: Vec<String> = plan
        .stop
        .iter()
        .map(|p| name_pid(&p.process.comm, p.process.pid))
        .collect();
    let units: Vec<String> = plan
        .supervisors
        .iter()
        .flat_map(|n| n.supervisor.stop_units.iter())
        .map(|u| text::terminal(u).into_owned())
        .collect();
    let units = (!units.is_empty()).then(|| format!("stop {} (systemctl stop)", units.join(", ")));
    let signal = (!names.is_empty()).then(|| {
        format!(
            "send SIG{} to {} process(es) ({})",
            plan.signal.name(),
            names.len(),
            names.join(", ")
        )
    });
    let what: Vec<String> = units
        .into_iter()
        .chain(kill_owners::question_part(plan))
        .chain(signal)
        .collect();
    let mut q = what.join(" and ");
    if let Some(first) = q.get(..1) {
        q = format!("{}{}", first.to_ascii_uppercase(), &q[1..]);
    }
    format!("{q}? [y/N] ")
}

/// `; --tree: in the process group of pid 4121` for a process stopped only for `--tree`.
fn tree_note(plan: &KillPlan, pid: u32) -> String {
    let whys = plan
        .stop
        .iter()
        .find(|p| p.process.pid == pid)
        .map_or(&[][..], |p| p.why.as_slice());
    match whys {
        [Why::Descendant { of }, ..] => format!("; --tree: a descendant of pid {of}"),
        [Why::ProcessGroup { of, .. }, ..] => {
            format!("; --tree: in the process group of pid {of}")
        }
        _ => String::new(),
    }
}

fn outcome_line(o: &Outcome, plan: &KillPlan, pal: &Palette) -> String {
    let first = plan.signal.name();
    let who = format!(
        "{} (pid {}{})",
        text::terminal(&o.comm),
        o.pid,
        tree_note(plan, o.pid)
    );
    let at = |s: Option<f64>| format!("{:.1} s", s.unwrap_or(0.0));
    let resumed = if o.resumed {
        " (it was stopped: SIGCONT sent too)"
    } else {
        ""
    };
    let text = match o.outcome {
        Fate::ExitedAfterSignal => format!(
            "stopped {who} with SIG{}{resumed} after {}",
            o.signal.map_or(first, |s| s.name()),
            at(o.after_s)
        ),
        Fate::Killed => format!(
            "escalated: pid {} ({}) ignored SIG{first} for {}, sent SIGKILL; it was gone {} later",
            o.pid,
            text::terminal(&o.comm),
            at(o.ignored_s),
            at(o.after_s)
        ),
        Fate::AlreadyExited => match &o.detail {
            Some(d) => format!("{who}: {d}"),
            None => format!("{who} had already exited"),
        },
        Fate::PermissionDenied => {
            let ports: Vec<String> = o.ports.iter().map(u16::to_string).collect();
            pal.warn(&format!(
                "{who}, user {}: permission denied — it belongs to another user; run: sudo portscope kill {}",
                text::terminal(&o.user),
                ports.join(" ")
            ))
        }
        Fate::StillRunning => pal.warn(&format!(
            "{who} is {}",
            o.detail.as_deref().unwrap_or("still running")
        )),
    };
    format!("{}: {text}\n", ports_label(&o.ports))
}

fn final_line(st: &PortState, r: &KillReport, pal: &Palette) -> String {
    let (lo, hi) = st.target.port_range().unwrap_or((1, 0));
    let was_held = r
        .plan
        .found
        .iter()
        .any(|f| f.target == st.target && !f.sockets.is_empty())
        || r.outcomes
            .iter()
            .any(|o| o.ports.iter().any(|p| (lo..=hi).contains(p)));
    if st.hidden > 0 {
        return format!("{}\n", pal.warn(&hidden_text(st, r.plan.euid)));
    }
    if st.ownerless > 0 && st.ownerless == st.sockets.len() {
        return format!("{}\n", pal.warn(&ownerless_text(st)));
    }
    let respawns: Vec<String> = r
        .respawned
        .iter()
        .filter(|x| (lo..=hi).contains(&x.port))
        .map(kill_owners::respawn_text)
        .collect();
    if !respawns.is_empty() {
        let mut out = String::new();
        for text in respawns {
            out.push_str(&pal.warn(&text));
            out.push('\n');
        }
        for s in &st.sockets {
            out.push_str(&socket_line(s, st));
        }
        return out;
    }
    if !st.free && st.sockets.is_empty() && !st.published.is_empty() {
        return pal.warn(&format!("{} is still ", label(&st.target)))
            + &kill_owners::published_lines(st, &label(&st.target), pal);
    }
    if !st.free {
        let mut out = pal.warn(&format!("{} is still held:", label(&st.target)));
        out.push('\n');
        for s in &st.sockets {
            out.push_str(&socket_line(s, st));
        }
        return out;
    }
    let plural = matches!(st.target, Target::Range { .. });
    if was_held {
        let verb = if plural { "are" } else { "is" };
        return format!(
            "{}{}\n",
            pal.ok(&format!("{} {verb} free now", label(&st.target))),
            leftovers(st)
        );
    }
    format!(
        "nothing holds {}: {} free{}\n",
        label(&st.target),
        if plural { "they are" } else { "it is" },
        leftovers(st)
    )
}

/// What was done.
pub fn render(r: &KillReport, pal: &Palette) -> String {
    let plan_ = &r.plan;
    if r.dry_run {
        let mut out = plan(plan_, pal).replace("will send SIG", "would send SIG");
        out = out
            .replace("will stop:", "would stop:")
            .replace("will stop container ", "would stop container ")
            .replace("will stop systemd units:", "would stop systemd units:");
        out.push_str("dry run: nothing was sent, nothing changed\n");
        return out;
    }
    let mut out = String::new();
    for r_ in &plan_.refused {
        out.push_str(&refusal_line(r_, &plan_.docker, pal));
    }
    for d in plan_.docker.iter().filter(|d| d.forced) {
        out.push_str(&docker_text(d));
    }
    for n in &plan_.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    if r.declined {
        out.push_str("nothing was stopped\n");
        return out;
    }
    for u in &r.unit_stops {
        out.push_str(&unit_stop_line(u, pal));
    }
    for c in &r.containers {
        out.push_str(&kill_owners::container_outcome(c, pal));
    }
    for o in &r.outcomes {
        out.push_str(&outcome_line(o, plan_, pal));
    }
    for st in &r.ports {
        out.push_str(&final_line(st, r, pal));
    }
    for w in &r.watchers {
        out.push_str(&kill_owners::watcher_note(w));
    }
    out
}
