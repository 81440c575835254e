//! `kill`'s text for the real owners behind a port: a container stopped through its engine
//! (the plan's block, the line saying how, the outcome) and a watcher that started a holder
//! again (the port is not free; who did it and how to stop it), and a port a container
//! publishes through NAT alone.

use crate::commands::kill::{
    ContainerFate, ContainerOutcome, KillPlan, PlannedContainer, PortState, Respawn, Respawner,
};
use crate::text;

use super::style::Palette;

/// `port 8080`, `ports 8080, 9090`.
fn ports_label(ports: &[u16]) -> String {
    let list: Vec<String> = ports.iter().map(u16::to_string).collect();
    match list.len() {
        1 => format!("port {}", list.join("")),
        _ => format!("ports {}", list.join(", ")),
    }
}

/// `web1 (docker f13ea9134cc6)`.
fn container_name(engine: &str, name: &str, id: &str) -> String {
    format!(
        "{} ({engine} {})",
        text::terminal(name),
        id.get(..12).unwrap_or(id)
    )
}

/// The plan's block for a container: what it is, what it publishes, who holds the port for
/// it on the host (not signalled).
pub fn container_block(p: &PlannedContainer, pal: &Palette) -> String {
    let lines = super::who::container_lines(&p.container);
    let mut out = String::new();
    for (i, (key, value)) in lines.into_iter().enumerate() {
        if i == 0 {
            out.push_str(&format!("{} {value}\n", pal.header(key)));
        } else {
            out.push_str(&format!("  {key:<9} {value}\n"));
        }
    }
    let holders: Vec<String> = p
        .holders
        .iter()
        .map(|h| format!("{}[{}]", text::terminal(&h.comm), h.pid))
        .collect();
    let held = if holders.is_empty() {
        format!("holds {} for it", ports_label(&p.ports))
    } else {
        format!(
            "{} holds {} for it: not signalled, it goes with the container",
            holders.join(" "),
            ports_label(&p.ports)
        )
    };
    out.push_str(&format!("  {:<9} {held}\n", "host"));
    out
}

/// `will stop container web1 (docker, f13ea9134cc6, local/bb:1) through /var/run/docker.sock,
/// grace 5 s`, and what the engine does.
pub fn container_line(p: &PlannedContainer) -> String {
    let c = &p.container;
    format!(
        "will stop container {} ({}, {}, {}) through {}, grace {} s (the engine sends its stop signal, then SIGKILL)\n",
        text::terminal(&c.name),
        c.engine,
        c.short_id(),
        text::terminal(&c.image),
        text::terminal(&c.engine_socket),
        p.grace_s
    )
}

/// The part of the question about containers: `stop container web1 (docker)`.
pub fn question_part(plan: &KillPlan) -> Option<String> {
    let names: Vec<String> = plan
        .stop_containers
        .iter()
        .map(|p| {
            format!(
                "{} ({})",
                text::terminal(&p.container.name),
                p.container.engine
            )
        })
        .collect();
    match names.len() {
        0 => None,
        1 => Some(format!("stop container {}", names.join(""))),
        _ => Some(format!("stop containers {}", names.join(", "))),
    }
}

/// What the engine did, in one line.
pub fn container_outcome(o: &ContainerOutcome, pal: &Palette) -> String {
    let who = container_name(o.engine, &o.name, &o.id);
    let text = match o.outcome {
        ContainerFate::Stopped => format!(
            "stopped container {who} through {} in {:.1} s",
            text::terminal(&o.engine_socket),
            o.after_s
        ),
        ContainerFate::AlreadyStopped => format!("container {who} was already stopped"),
        ContainerFate::Failed => pal.warn(&format!(
            "could not stop container {who}: {}",
            text::terminal(o.message.as_deref().unwrap_or("the engine refused"))
        )),
    };
    format!("{}: {text}\n", ports_label(&o.ports))
}

/// At most `max` characters of `s`, with `…` when cut.
fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `port 8080 was taken again 0.4 s later by pid N (python3), started by pid M (bash: while
/// true; do …): …`.
pub fn respawn_text(r: &Respawn) -> String {
    let mut out = format!(
        "port {} was taken again {:.1} s later by pid {} ({})",
        r.port,
        r.after_ms as f64 / 1000.0,
        r.pid,
        text::terminal(&r.comm)
    );
    match &r.respawner {
        Some(w) => {
            let cmd = if w.cmdline.is_empty() {
                String::new()
            } else {
                format!(": {}", short(&text::command_line(&w.cmdline), 60))
            };
            out.push_str(&format!(
                ", started by pid {} ({}{cmd}): the watcher respawns it — stop the watcher (kill {}), or stop it where it runs",
                w.pid,
                text::terminal(&w.comm),
                w.pid
            ));
        }
        None => out.push_str(": it is not free"),
    }
    out
}

/// A watcher that started a stopped holder and still runs.
pub fn watcher_note(w: &Respawner) -> String {
    format!(
        "note: pid {} ({}: {}) started it and still runs: a watcher starts it again on the next change — stop the watcher too (kill {})\n",
        w.pid,
        text::terminal(&w.comm),
        short(&text::command_line(&w.cmdline), 60),
        w.pid
    )
}

/// A port no socket holds that a container publishes through NAT alone (`label`: the port as
/// the rest of the report names it).
pub(super) fn published_lines(st: &PortState, label: &str, pal: &Palette) -> String {
    let mut out = format!(
        "{}: published through NAT, no socket on the host holds it (connections go to the container)\n",
        pal.header(label)
    );
    for p in &st.published {
        let Some(c) = &p.container else { continue };
        out.push_str(&format!(
            "  {} {}:{} → container {} ({} {}), image {}\n",
            p.proto.as_str(),
            p.host_ip,
            p.port,
            text::terminal(&c.name),
            c.engine,
            c.short_id(),
            text::terminal(&c.image)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn respawns_name_the_watcher() {
        let mut r = Respawn {
            port: 8080,
            pid: 4301,
            comm: "python3".into(),
            cmdline: vec!["python3".into()],
            after_ms: 412,
            replaced: vec![4300],
            respawner: Some(Respawner {
                pid: 4200,
                comm: "bash".into(),
                cmdline: vec![
                    "bash".into(),
                    "-c".into(),
                    "while true; do python3 -m http.server 8080 --bind 127.0.0.1; done".into(),
                ],
            }),
        };
        assert_eq!(
            respawn_text(&r),
            "port 8080 was taken again 0.4 s later by pid 4301 (python3), started by pid 4200 \
             (bash: bash -c 'while true; do python3 -m http.server 8080 --bind …): the watcher \
             respawns it — stop the watcher (kill 4200), or stop it where it runs"
        );
        r.respawner = None;
        assert!(respawn_text(&r).ends_with("by pid 4301 (python3): it is not free"));
    }
}
