//! Rule of last resort: the connection fails and no other rule finds a critical cause. The
//! verdict must not be a shrug: this finding lists every place doctor looked — listeners here,
//! other network namespaces, unix sockets, processes naming the port, firewall rules and
//! policies, the history store — and what it saw there, so the user knows what is ruled out.
//! Unlike the other rules it reads the findings they produced.

use crate::doctor::{Context, Outcome};
use crate::model::{Finding, Severity};

/// DOC-UNEXPLAINED, when no attempt connected and no finding is critical.
pub fn check(ctx: &Context, found: &[Finding]) -> Option<Finding> {
    if ctx.attempts.is_empty()
        || ctx.attempts.iter().any(|a| a.outcome == Outcome::Connected)
        || found.iter().any(|f| f.severity == Severity::Critical)
    {
        return None;
    }
    let port = ctx.port;
    let mut evidence: Vec<String> = ctx
        .attempts
        .iter()
        .map(|a| {
            let how = match a.outcome {
                Outcome::TimedOut => "timed out",
                Outcome::Refused => "refused",
                Outcome::Unreachable => "unreachable",
                Outcome::Reset => "reset",
                _ => "failed",
            };
            let err = a
                .error
                .as_deref()
                .map_or(String::new(), |e| format!(": {e}"));
            format!("connect to {}: {how} ({:.0} ms){err}", a.addr, a.elapsed_ms)
        })
        .collect();
    let here: Vec<String> = ctx
        .listeners()
        .map(|s| format!("{} on {}", ctx.owner_label(s), s.local))
        .collect();
    evidence.push(if here.is_empty() {
        format!("listeners in this network namespace: none on TCP port {port}")
    } else {
        format!("listeners in this network namespace: {}", here.join(", "))
    });
    let w = &ctx.wider;
    if w.looked {
        let (foreign, unreadable) = &ctx.foreign;
        evidence.push(format!(
            "other network namespaces: {} listener(s) on port {port}{}",
            foreign.len(),
            if *unreadable > 0 {
                format!(" ({unreadable} processes' namespaces could not be read)")
            } else {
                String::new()
            }
        ));
        evidence.push(format!(
            "unix sockets: {} of the {} listening name port {port}",
            w.unix.sockets.len(),
            w.unix_seen
        ));
        evidence.push(format!(
            "processes: {} of the {} whose command line was read name port {port} (--port {port}, -p {port}, :{port}, PORT={port}){}",
            w.programs.len(),
            w.processes_seen,
            if w.environ_unreadable > 0 {
                format!("; {} environments could not be read", w.environ_unreadable)
            } else {
                String::new()
            }
        ));
    } else {
        evidence.push(
            "other namespaces, unix sockets, processes naming the port: not looked at (a listener is here)".into(),
        );
    }
    let notes = &ctx.firewall_notes;
    if !notes.read.is_empty() {
        evidence.push(format!(
            "firewall rules and policies: {} blocking port {port} ({})",
            ctx.firewall.len(),
            notes.read.join("; ")
        ));
    }
    for why in &notes.unclear {
        evidence.push(format!("firewall, could not tell: {why}"));
    }
    #[cfg(feature = "history")]
    if w.looked && ctx.past.is_none() {
        evidence.push(format!(
            "history store: no listener recorded on port {port} (or no store: `portscope daemon` keeps one)"
        ));
    }
    let mut fix = Vec::new();
    if !notes.unclear.is_empty() {
        fix.push("read the firewall chains named above by hand: sudo nft list ruleset; sudo iptables-save".into());
    }
    fix.push(format!(
        "sudo portscope tap {port}   # watch the packets on loopback while a client tries"
    ));
    fix.push(format!(
        "portscope doctor {} --timeout 3000   # a server slow to accept gets longer",
        ctx.target
    ));
    Some(Finding {
        code: "DOC-UNEXPLAINED",
        severity: Severity::Critical,
        title: format!(
            "{} does not work, and no rule explains why: nothing doctor looked at shows a cause",
            ctx.target
        ),
        evidence,
        fix,
    })
}
