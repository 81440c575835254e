//! Human layout of `who`: the sockets on the port, then each process in full.

use super::style::Palette;
use super::table::Table;
use super::{hidden_line, pid_cell};
use crate::commands::who::{WhoReport, WhoSocket};
use crate::containers::ContainerRef;
use crate::model::{ProcState, Process};
use crate::text;
use crate::time;

fn other_end(w: &WhoSocket, r: &WhoReport) -> String {
    let Some(peer) = &w.peer else {
        return String::new();
    };
    if peer.owner_hidden {
        return "(hidden)".into();
    }
    let names: Vec<String> = peer
        .pids
        .iter()
        .map(|pid| match r.processes.get(pid) {
            Some(p) => format!("{}[{pid}]", text::terminal(&p.comm)),
            None => format!("[{pid}]"),
        })
        .collect();
    if names.is_empty() {
        "-".into()
    } else {
        names.join(",")
    }
}

fn owner_names(w: &WhoSocket, r: &WhoReport) -> String {
    let names = if w.socket.owner_hidden {
        "(hidden)".to_string()
    } else if w.socket.ownerless {
        super::NO_PROCESS.to_string()
    } else {
        let mut names: Vec<String> = w
            .socket
            .pids
            .iter()
            .filter_map(|pid| r.processes.get(pid))
            .map(|p| text::terminal(&p.comm).into_owned())
            .collect();
        names.dedup();
        names.join(",")
    };
    match &w.container {
        Some(c) => format!("{names} → {}", text::terminal(&c.name)),
        None => names,
    }
}

/// A process in full: a `key value` line per fact; on a terminal (`width`) a long value (a
/// command line) wraps under itself rather than past the edge. `containers` are those the
/// process holds sockets for (named by their engine); without them, the container its cgroup
/// names, if any.
pub(crate) fn process_block(
    p: &Process,
    containers: &[&ContainerRef],
    now: u64,
    pal: &Palette,
    width: Option<usize>,
) -> String {
    let mut out = format!("{} [pid {}]", pal.header(&text::terminal(&p.comm)), p.pid);
    if p.state == ProcState::Stopped || p.state == ProcState::TracingStop {
        out.push_str(&format!(
            "  {}",
            pal.warn(&format!(
                "STOPPED: it holds the port but cannot accept or answer (resume: kill -CONT {})",
                p.pid
            ))
        ));
    } else if p.state == ProcState::Zombie {
        out.push_str(&format!("  {}", pal.warn("ZOMBIE")));
    }
    out.push('\n');
    let mut line = |k: &str, v: String| out.push_str(&fact_line(k, &v, width));
    if !p.cmdline.is_empty() {
        line("command", text::command_line(&p.cmdline));
    }
    if let Some(exe) = &p.exe {
        line("exe", text::terminal(exe).into_owned());
    }
    if let Some(cwd) = &p.cwd {
        line("cwd", text::terminal(cwd).into_owned());
    }
    line(
        "user",
        format!("{} (uid {})", p.user.as_deref().unwrap_or("?"), p.uid),
    );
    if let Some(start) = p.start_time {
        line(
            "started",
            format!(
                "{} ({} ago)",
                time::utc(i64::try_from(start).unwrap_or(i64::MAX)),
                time::age(start, now)
            ),
        );
    }
    if !p.ancestry.is_empty() {
        let mut chain: Vec<String> = p
            .ancestry
            .iter()
            .rev()
            .map(|a| format!("{}[{}]", text::terminal(&a.comm), a.pid))
            .collect();
        chain.push(format!("{}[{}]", text::terminal(&p.comm), p.pid));
        line("chain", chain.join(" → "));
    }
    if let Some(unit) = &p.origin.systemd_unit {
        line("unit", text::terminal(unit).into_owned());
    }
    if containers.is_empty()
        && let Some(id) = &p.origin.container_id
    {
        let runtime = p.origin.container_runtime.as_deref().unwrap_or("container");
        line(
            "container",
            format!("{} {}", text::terminal(runtime), id.get(..12).unwrap_or(id)),
        );
    }
    for c in containers {
        for (k, v) in container_lines(c) {
            line(k, v);
        }
    }
    out
}

/// A `  key      value` line of a block; on a terminal (`width`) a long value wraps under
/// itself.
fn fact_line(key: &str, value: &str, width: Option<usize>) -> String {
    const VALUE_AT: usize = 12;
    let value = match width {
        Some(w) => super::fit::wrap(value, w.saturating_sub(VALUE_AT), 0)
            .replace('\n', &format!("\n{:VALUE_AT$}", "")),
        None => value.to_string(),
    };
    format!("  {key:<9} {value}\n")
}

/// The container behind a listener whose holder could not be inspected (its engine named it
/// from the address and port): a block like a process's.
fn hidden_holder_block(
    w: &WhoSocket,
    c: &ContainerRef,
    pal: &Palette,
    width: Option<usize>,
) -> String {
    let mut out = format!(
        "{} (held by a process you may not inspect)\n",
        pal.header(&text::terminal(&w.socket.local.to_string()))
    );
    for (k, v) in container_lines(c) {
        out.push_str(&fact_line(k, &v, width));
    }
    out
}

/// A port published through NAT with no socket here: the container (or that no engine
/// named one), where the rule sends connections, the rule.
fn published_block(
    p: &crate::containers::NatPublished,
    pal: &Palette,
    width: Option<usize>,
) -> String {
    let at = std::net::SocketAddr::new(p.host_ip, p.port);
    let mut out = format!(
        "{} (published through NAT: no socket on the host holds it; connections go to the container)\n",
        pal.header(&at.to_string())
    );
    match &p.container {
        Some(c) => {
            for (k, v) in container_lines(c) {
                out.push_str(&fact_line(k, &v, width));
            }
        }
        None => out.push_str(&fact_line(
            "container",
            "unknown: no container engine answered for it (only the NAT rule shows it)",
            width,
        )),
    }
    if let Some(to) = p.to {
        out.push_str(&fact_line(
            "forwards",
            &format!("to {to} (destination NAT)"),
            width,
        ));
    }
    if let Some(rule) = &p.rule {
        out.push_str(&fact_line("rule", &text::terminal(rule), width));
    }
    out
}

/// What a process block says of a container: name, engine, id, image and state; its compose
/// project and service; the mapping published; who listens inside.
pub(crate) fn container_lines(c: &ContainerRef) -> Vec<(&'static str, String)> {
    let t = |s: &str| text::terminal(s).into_owned();
    let mut out = vec![(
        "container",
        format!(
            "{} ({} {}), image {}, {}",
            t(&c.name),
            c.engine,
            c.short_id(),
            t(&c.image),
            t(&c.state)
        ),
    )];
    let compose = [
        c.compose_project
            .as_deref()
            .map(|p| format!("project {}", t(p))),
        c.compose_service
            .as_deref()
            .map(|s| format!("service {}", t(s))),
    ];
    let compose: Vec<String> = compose.into_iter().flatten().collect();
    if !compose.is_empty() {
        out.push(("compose", compose.join(", ")));
    }
    if let Some(p) = &c.published {
        let host = match p.host_ip.parse::<std::net::IpAddr>() {
            Ok(ip) => std::net::SocketAddr::new(ip, p.host_port).to_string(),
            Err(_) => format!("{}:{}", t(&p.host_ip), p.host_port),
        };
        out.push((
            "publishes",
            format!(
                "{host} → {}/{} in the container",
                p.container_port,
                t(&p.proto)
            ),
        ));
    }
    if let Some(i) = &c.inner {
        let mut serves = format!(
            "{}[{}] listens on {} inside",
            t(&i.comm),
            i.pid,
            std::net::SocketAddr::new(i.addr, i.port)
        );
        if !i.cmdline.is_empty() {
            serves.push_str(&format!(": {}", text::command_line(&i.cmdline)));
        }
        out.push(("serves", serves));
    }
    out
}

/// The containers a process holds listeners for, each once, in the order of the sockets.
fn containers_of(r: &WhoReport, pid: u32) -> Vec<&ContainerRef> {
    let mut out: Vec<&ContainerRef> = Vec::new();
    for w in r.sockets.iter().filter(|w| w.socket.pids.contains(&pid)) {
        if let Some(c) = &w.container
            && !out
                .iter()
                .any(|o| o.id == c.id && o.published == c.published)
        {
            out.push(c);
        }
    }
    out
}

/// What supervises the sockets a process holds (each supervisor once): the manager and what
/// it starts, the unit's `Restart=`, what to stop.
fn supervisor_lines(r: &WhoReport, pid: u32, width: Option<usize>) -> String {
    let mut seen: Vec<&crate::supervisors::Supervisor> = Vec::new();
    let mut out = String::new();
    for w in r.sockets.iter().filter(|w| w.socket.pids.contains(&pid)) {
        if let Some(sup) = &w.supervisor
            && !seen.contains(&sup)
        {
            seen.push(sup);
            for (k, v) in crate::supervisors::lines(sup) {
                out.push_str(&fact_line(k, &v, width));
            }
        }
    }
    out
}

/// The history line under a free port's answer.
fn past_line(past: &crate::store::history::PastHolder, pal: &Palette) -> String {
    let text = crate::store::history::past_sentence(past, crate::time::now());
    format!(
        "{}\n  {}\n",
        pal.dim(&text),
        pal.dim(&format!(
            "(from the history store {})",
            past.store.display()
        ))
    )
}

/// When clients of the name part ways (some reach a listener, some do not), a line each:
/// which addresses they dial and what they reach.
fn clients_lines(r: &WhoReport, pal: &Palette) -> String {
    if !crate::knowledge::clients::part_ways(&r.clients) {
        return String::new();
    }
    let port = r.target.port_range().map_or(0, |(p, _)| p);
    let mut out = format!("\n{}\n", pal.header("which clients reach it"));
    for c in &r.clients {
        out.push_str(&format!(
            "  {}\n",
            c.sentence(port, "refused: nothing listens there")
        ));
    }
    out
}

/// The columns a terminal too narrow for the table shortens: names first (the widest first),
/// then addresses.
const SHORTEN: [&[&str]; 2] = [&["OTHER END", "PROCESS"], &["LOCAL", "REMOTE"]];

/// Render `who`; on a terminal (`width`) the table and the notes fit its width.
pub fn render(r: &WhoReport, pal: &Palette, width: Option<usize>) -> String {
    let target = r.target.to_string();
    if !r.held && r.hidden.processes > 0 && r.target.port_range().is_none() {
        let text = format!(
            "unknown: no socket of {target} could be seen, because {}; {}",
            r.hidden.reason, r.hidden.hint
        );
        return match width {
            Some(w) => super::fit::wrap(&text, w, 2) + "\n",
            None => text + "\n",
        };
    }
    if !r.held {
        let mut out = format!(
            "nothing holds {target}: no listener and no connection (a connection now would be refused)\n"
        );
        if let Some(past) = &r.last_holder {
            out.push_str(&past_line(past, pal));
        }
        return out;
    }
    let mut t = Table::new(&[
        "PROTO",
        "STATE",
        "LOCAL",
        "REMOTE",
        "PID",
        "PROCESS",
        "OTHER END",
    ]);
    for w in &r.sockets {
        let s = &w.socket;
        t.push(vec![
            s.proto.as_str().to_string(),
            s.state.ss_name(s.proto).to_string(),
            text::terminal(&s.local.to_string()).into_owned(),
            s.remote.as_ref().map_or("-".into(), ToString::to_string),
            pid_cell(s),
            owner_names(w, r),
            other_end(w, r),
        ]);
    }
    for p in &r.published {
        let holder = match &p.container {
            Some(c) => format!("{} → {}", p.holder(), text::terminal(&c.name)),
            None => p.holder(),
        };
        t.push(vec![
            p.proto.as_str().to_string(),
            "published (NAT)".into(),
            std::net::SocketAddr::new(p.host_ip, p.port).to_string(),
            "-".into(),
            "-".into(),
            holder,
            p.to.map(|to| to.to_string()).unwrap_or_default(),
        ]);
    }
    let mut out = format!(
        "{}: {} socket(s), {} process(es)\n\n",
        pal.header(&target),
        r.sockets.len() + r.published.len(),
        r.processes.len()
    );
    t.fit(width, &SHORTEN);
    out.push_str(&t.render(|h| pal.header(h)));
    out.push_str(&clients_lines(r, pal));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for p in r.processes.values() {
        out.push('\n');
        out.push_str(&process_block(p, &containers_of(r, p.pid), now, pal, width));
        out.push_str(&supervisor_lines(r, p.pid, width));
    }
    for p in &r.published {
        out.push('\n');
        out.push_str(&published_block(p, pal, width));
    }
    for w in r.sockets.iter().filter(|w| w.socket.owner_hidden) {
        if let Some(c) = &w.container {
            out.push('\n');
            out.push_str(&hidden_holder_block(w, c, pal, width));
        }
    }
    if let Some(probes) = &r.probe {
        out.push('\n');
        out.push_str(&super::probe::summary_lines(probes));
    }
    if let Some(line) = hidden_line(&r.hidden, pal, width) {
        out.push('\n');
        out.push_str(&line);
        out.push('\n');
    }
    if let Some(note) = &r.container_note {
        out.push('\n');
        out.push_str(&super::note_line(note, pal, width));
        out.push('\n');
    }
    if let Some(past) = &r.last_holder {
        out.push('\n');
        out.push_str(&past_line(past, pal));
    }
    out
}
