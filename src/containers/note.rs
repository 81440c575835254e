//! The one sentence a report carries when a socket held for a container has no container
//! named: which socket, which engines were asked, what each said, and how to let portscope
//! ask them.

use super::{Answer, Candidate};
use crate::sys::engine::EngineError;

/// Why the containers of `missing` are not named, or `None` when none is missing.
pub(super) fn why_missing(
    missing: &[&Candidate<'_>],
    answers: &[Answer],
    leftover: Option<u16>,
) -> Option<String> {
    let first = missing.first()?;
    let mut what = match first.holder {
        Some(h) => format!("{} (held by {}[{}])", first.socket.local, h.comm, h.pid),
        None => first.socket.local.to_string(),
    };
    if missing.len() > 1 {
        what.push_str(&format!(" and {} more socket(s)", missing.len() - 1));
    }
    let answered: Vec<String> = answers
        .iter()
        .filter_map(|a| a.listing.as_ref().ok().map(|l| (a, l.kind)))
        .map(|(a, kind)| format!("{} at {}", kind.as_str(), a.socket.path.display()))
        .collect();
    let unreached: Vec<(String, &EngineError)> = answers
        .iter()
        .filter_map(|a| Some((where_is(a), a.listing.as_ref().err()?)))
        .collect();
    let failures = unreached
        .iter()
        .map(|(at, e)| format!("{at}: {e}"))
        .collect::<Vec<_>>()
        .join("; ");
    if answered.is_empty() {
        return Some(format!(
            "container details are missing for {what}: no container engine answered ({failures}); {}",
            hint(&unreached)
        ));
    }
    let mut text = format!(
        "container details are missing for {what}: no running container of {} publishes it",
        answered.join(" or ")
    );
    if !unreached.is_empty() {
        text.push_str(&format!(" (not reached: {failures})"));
    }
    if let Some(port) = leftover {
        text.push_str(&format!(
            "; the docker-proxy on port {port} is left over from a removed container: restart Docker (sudo systemctl restart docker), or stop it with portscope kill --force {port}"
        ));
    }
    Some(text)
}

/// `docker at /var/run/docker.sock`, with the variable that named it.
fn where_is(a: &Answer) -> String {
    let s = &a.socket;
    let from = match s.from {
        "default" | "rootless" => String::new(),
        var => format!(" ({var})"),
    };
    format!("{} at {}{from}", s.kind.as_str(), s.path.display())
}

/// How to let portscope ask an engine, from what went wrong.
fn hint(unreached: &[(String, &EngineError)]) -> &'static str {
    let any = |f: fn(&EngineError) -> bool| unreached.iter().any(|(_, e)| f(e));
    if any(|e| *e == EngineError::PermissionDenied) {
        "run portscope as root, or as a member of the engine's group (docker)"
    } else if any(|e| *e == EngineError::Unsupported) {
        "build portscope with the `engines` feature"
    } else {
        "start the engine's API (Podman: podman system service), or point DOCKER_HOST or CONTAINER_HOST at its socket (unix:///path)"
    }
}
