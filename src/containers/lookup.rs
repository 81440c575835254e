//! A container by name or id, asked of every engine whose socket exists: for `doctor
//! --from-container`, which looks at a port from inside a container's network namespace.

use super::{Engines, answer_containers, ask_present, reference};
use crate::sys::engine;

/// A container found by name or id, and its first process.
#[derive(Debug, Clone)]
pub struct Found {
    /// The container, as its engine names it.
    pub container: super::ContainerRef,
    /// Its first process (in portscope's pid namespace), whose network namespace is the
    /// container's.
    pub init_pid: u32,
}

/// The running container named `name` (or whose id starts with it), or why there is none.
pub fn find_container(name: &str) -> Result<Found, String> {
    let engines = ask_present();
    find_in(&engines, name)
}

fn find_in(engines: &Engines, name: &str) -> Result<Found, String> {
    let wanted = name.trim_start_matches('/');
    for answer in &engines.answers {
        for c in answer_containers(answer) {
            let named = c.names.iter().any(|n| n.trim_start_matches('/') == wanted);
            let by_id = wanted.len() >= 4 && c.id.starts_with(wanted);
            if !(named || by_id) {
                continue;
            }
            let pid = engine::init_pid(&answer.socket.path, &c.id)
                .map_err(|e| format!("{} did not say its first process: {e}", c.name()))?
                .ok_or_else(|| format!("container {} has no running process", c.name()))?;
            return Ok(Found {
                container: reference(answer, c, None, None),
                init_pid: pid,
            });
        }
    }
    let asked: Vec<String> = engines
        .answers
        .iter()
        .map(|a| match &a.listing {
            Ok(l) => format!("{} at {}", l.kind.as_str(), a.socket.path.display()),
            Err(e) => format!(
                "{} at {}: {e}",
                a.socket.kind.as_str(),
                a.socket.path.display()
            ),
        })
        .collect();
    if asked.is_empty() {
        return Err("no container engine socket exists here (set DOCKER_HOST or CONTAINER_HOST to unix:///path)".into());
    }
    Err(format!(
        "no running container named {} (asked {})",
        crate::text::echo(name),
        asked.join(", ")
    ))
}
