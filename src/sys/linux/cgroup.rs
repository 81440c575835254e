//! Where a process came from, read from the text of `/proc/<pid>/cgroup`: its systemd unit
//! and, for containers, the runtime and container id.
//!
//! A pure parser over the file's text, tested on fixtures from real systems.

use crate::model::Origin;

/// Parse `/proc/<pid>/cgroup` text.
///
/// Prefers the cgroup v2 line (`0::/…`); falls back to `name=systemd`, then the first line with
/// a non-root path (cgroup v1).
pub fn parse(text: &str) -> Origin {
    let mut v2 = None;
    let mut systemd = None;
    let mut first = None;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if id == "0" && controllers.is_empty() {
            v2 = Some(path);
        } else if controllers == "name=systemd" {
            systemd = Some(path);
        } else if first.is_none() && path != "/" {
            first = Some(path);
        }
    }
    let path = [v2, systemd, first]
        .into_iter()
        .flatten()
        .find(|p| *p != "/")
        .or(v2)
        .or(systemd);
    let Some(path) = path else {
        return Origin::default();
    };
    let (container_runtime, container_id) = container(path);
    Origin {
        cgroup: Some(path.to_string()),
        systemd_unit: unit(path),
        container_id,
        container_runtime,
    }
}

/// The innermost systemd unit named in a cgroup path (`*.service`, `*.scope`, `*.socket`…).
fn unit(path: &str) -> Option<String> {
    const KINDS: [&str; 5] = [".service", ".scope", ".socket", ".mount", ".swap"];
    path.rsplit('/')
        .find(|c| KINDS.iter().any(|k| c.ends_with(k)))
        .map(str::to_string)
}

/// A container id (64 hex digits) in the path, with the runtime that named it.
fn container(path: &str) -> (Option<String>, Option<String>) {
    let comps: Vec<&str> = path.split('/').collect();
    for (i, comp) in comps.iter().enumerate().rev() {
        let stem = comp.strip_suffix(".scope").unwrap_or(comp);
        let (prefix, id) = match stem.rfind('-') {
            Some(dash) => (&stem[..dash], &stem[dash + 1..]),
            None => ("", stem),
        };
        if id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
            let runtime = if !prefix.is_empty() {
                Some(prefix.to_string())
            } else if i > 0 {
                Some(comps[i - 1].to_string()).filter(|p| !p.is_empty())
            } else {
                None
            };
            return (runtime, Some(id.to_string()));
        }
    }
    (None, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f1c2b7e9d0a4c5b8e6f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d";

    #[test]
    fn systemd_service() {
        let o = parse("0::/system.slice/nginx.service\n");
        assert_eq!(o.systemd_unit.as_deref(), Some("nginx.service"));
        assert_eq!(o.container_id, None);
        assert_eq!(o.cgroup.as_deref(), Some("/system.slice/nginx.service"));
    }

    #[test]
    fn user_session() {
        let o = parse("0::/user.slice/user-1000.slice/session-3.scope\n");
        assert_eq!(o.systemd_unit.as_deref(), Some("session-3.scope"));
    }

    #[test]
    fn docker_v2_and_v1() {
        let o = parse(&format!("0::/system.slice/docker-{ID}.scope\n"));
        assert_eq!(o.container_id.as_deref(), Some(ID));
        assert_eq!(o.container_runtime.as_deref(), Some("docker"));
        let o = parse(&format!(
            "12:pids:/docker/{ID}\n1:name=systemd:/docker/{ID}\n"
        ));
        assert_eq!(o.container_id.as_deref(), Some(ID));
        assert_eq!(o.container_runtime.as_deref(), Some("docker"));
    }

    #[test]
    fn kubernetes_and_podman() {
        let k = format!(
            "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-{ID}.scope\n"
        );
        let o = parse(&k);
        assert_eq!(o.container_runtime.as_deref(), Some("cri-containerd"));
        let o = parse(&format!(
            "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope/container\n"
        ));
        assert_eq!(o.container_runtime.as_deref(), Some("libpod"));
        assert_eq!(o.container_id.as_deref(), Some(ID));
    }

    #[test]
    fn root_and_v1_only() {
        let o = parse("0::/\n");
        assert_eq!(o.cgroup.as_deref(), Some("/"));
        assert_eq!(o.systemd_unit, None);
        let o = parse("9:name=systemd:/\n4:memory:/process_api/30c2b3\n0::/\n");
        assert_eq!(o.cgroup.as_deref(), Some("/process_api/30c2b3"));
        assert_eq!(parse(""), Origin::default());
        assert_eq!(parse("garbage"), Origin::default());
    }
}
