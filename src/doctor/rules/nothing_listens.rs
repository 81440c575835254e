//! Rule: nothing listens on the port at all — and what listens nearby, for the dev server
//! that moved to the next port because its own was taken.

use crate::doctor::{Context, NEARBY, Outcome};
use crate::model::{Finding, Severity, SockState};

/// DOC-REFUSED-NOTHING-LISTENING, with DOC-NEARBY-LISTENER for each listener a few ports away
/// (neither when the port is served elsewhere: another namespace, a unix socket, a
/// container publishing it through NAT).
pub fn check(ctx: &Context) -> Vec<Finding> {
    if ctx.attempts.is_empty()
        || ctx.listeners().next().is_some()
        || !ctx.containers.published.is_empty()
        || !ctx.foreign.0.is_empty()
        || !ctx.wider.unix.sockets.is_empty()
        || ctx.attempts.iter().any(|a| a.outcome != Outcome::Refused)
    {
        return Vec::new();
    }
    let port = ctx.port;
    let mut evidence: Vec<String> = ctx
        .attempts
        .iter()
        .map(|a| format!("connect to {}: refused ({:.0} ms)", a.addr, a.elapsed_ms))
        .collect();
    evidence.push(format!(
        "no TCP socket listens on port {port} in this network namespace (netlink sock_diag)"
    ));
    let recent = ctx
        .snapshot
        .sockets
        .iter()
        .filter(|s| s.port() == Some(port) && s.state == SockState::TimeWait)
        .count();
    if recent > 0 {
        evidence.push(format!(
            "{recent} connection(s) on port {port} are in TIME_WAIT: something served here within the last minute and has stopped"
        ));
    }
    #[cfg_attr(not(feature = "history"), allow(unused_mut))]
    let mut fix = vec![
        "start the server, and check its output for the address it actually listens on".into(),
        format!("portscope ls   # what does listen here"),
    ];
    #[cfg(feature = "history")]
    if let Some(past) = &ctx.past {
        evidence.push(format!(
            "{} (history store {})",
            crate::store::history::past_sentence(past, ctx.snapshot.taken_at),
            past.store.display()
        ));
        if let Some(o) = past
            .stay
            .listener
            .owner
            .as_ref()
            .filter(|o| !o.cmdline.is_empty())
        {
            let cmd = crate::text::command_line(&o.cmdline);
            fix.insert(
                0,
                match &o.cwd {
                    Some(cwd) => format!(
                        "start it again as it was: cd {} && {cmd}",
                        crate::text::shell_word(cwd)
                    ),
                    None => format!("start it again as it was: {cmd}"),
                },
            );
        }
    }
    let mut findings = vec![Finding {
        code: "DOC-REFUSED-NOTHING-LISTENING",
        severity: Severity::Critical,
        title: format!(
            "nothing listens on port {port}: the connection is refused because no program is serving it"
        ),
        evidence,
        fix,
    }];
    let mut nearby: Vec<_> = ctx
        .snapshot
        .sockets
        .iter()
        .filter(|s| {
            s.is_listening()
                && s.port()
                    .is_some_and(|p| p != port && p.abs_diff(port) <= NEARBY)
        })
        .collect();
    nearby.sort_by_key(|s| s.port().map(|p| p.abs_diff(port)));
    for s in nearby.into_iter().take(3) {
        let other = s.port().unwrap_or(0);
        findings.push(Finding {
            code: "DOC-NEARBY-LISTENER",
            severity: Severity::Warning,
            title: format!(
                "{} listens on port {other}, {} port(s) away: dev servers move to the next free port when theirs is taken",
                ctx.owner_label(s),
                other.abs_diff(port)
            ),
            evidence: vec![format!("{} listens on {}", ctx.owner_label(s), s.local)],
            fix: vec![
                format!("if that is your server, connect to port {other}"),
                format!("portscope who {other}"),
            ],
        });
    }
    findings
}
