//! Rule: a process running as root listens beyond loopback on an unprivileged port (at or
//! above `net.ipv4.ip_unprivileged_port_start`). Any local user may bind that port while the
//! daemon is down — a restart, a crash — and then receives its clients and their credentials.
//!
//! Loopback listeners are left out: the audit is about what the network can reach, and a
//! root process on a loopback port is the everyday shape of development tools run with sudo.

use crate::knowledge::addr_class::Exposure;
use crate::model::Severity;

use super::container::is_port_proxy;
use super::{AuditFinding, Context, Listener, finding};

/// AUD-ROOT-HIGH-PORT: one finding per such listener.
pub fn check(ctx: &Context) -> Vec<AuditFinding> {
    ctx.listeners
        .iter()
        .filter(|l| l.exposure() != Exposure::Loopback && l.port >= ctx.unprivileged_port_start)
        .filter_map(|l| root_listener(ctx, l))
        .collect()
}

fn root_listener(ctx: &Context, l: &Listener) -> Option<AuditFinding> {
    let owner = ctx.owner(l);
    let root = match owner {
        Some(p) => p.uid == 0,
        None => l.owner_hidden && l.uid == 0,
    };
    // Container port proxies run as root by design; the container rules speak about them.
    if !root || owner.is_some_and(is_port_proxy) {
        return None;
    }
    let who = ctx.owner_label(l);
    let start = ctx.unprivileged_port_start;
    let evidence = vec![
        format!("{} listening, held by {who}", l.sockets_text()),
        format!(
            "net.ipv4.ip_unprivileged_port_start = {start}: any user may bind port {} when it is free",
            l.port
        ),
    ];
    let who = match owner {
        Some(p) => format!("{}[{}] runs as root and listens", p.comm, p.pid),
        None => "a socket root created (its owner is hidden) listens".to_string(),
    };
    Some(finding(
        "AUD-ROOT-HIGH-PORT",
        Severity::Warning,
        format!(
            "{who} {}, an unprivileged port: a local user who binds it first (while it restarts) receives its clients",
            l.where_text()
        ),
        evidence,
        vec![
            "run it as an unprivileged user (systemd: User=… or DynamicUser=yes; most daemons have a --user option)".into(),
            format!(
                "or, if clients must trust it, give it a privileged port (below {start}) through CAP_NET_BIND_SERVICE (systemd: AmbientCapabilities=CAP_NET_BIND_SERVICE)"
            ),
            "or bind it to 127.0.0.1 if nothing outside this machine needs it".into(),
        ],
        ctx.subject(l),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::audit::tests::{codes_on, listener, process, with};

    #[test]
    fn root_on_a_high_wildcard_port_is_a_warning() {
        let mut ctx = with(vec![
            process(5, "python3", 0),
            process(6, "app", 1000),
            process(7, "docker-proxy", 0),
        ]);
        let mut hidden = listener("0.0.0.0", 2024, &[]);
        hidden.owner_hidden = true;
        hidden.uid = 0;
        ctx.listeners = vec![
            listener("0.0.0.0", 40000, &[5]),
            listener("127.0.0.1", 40001, &[5]),
            listener("0.0.0.0", 40002, &[6]),
            listener("0.0.0.0", 80, &[5]),
            listener("0.0.0.0", 8080, &[7]),
            hidden,
        ];
        let found = check(&ctx);
        assert_eq!(codes_on(&found, 40000), ["AUD-ROOT-HIGH-PORT"]);
        assert_eq!(codes_on(&found, 2024), ["AUD-ROOT-HIGH-PORT"]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].finding.evidence[1].contains("= 1024"),
            "{:?}",
            found[0].finding.evidence
        );
        ctx.unprivileged_port_start = 0;
        assert_eq!(codes_on(&check(&ctx), 80), ["AUD-ROOT-HIGH-PORT"]);
    }
}
