//! Rule (`--bind`): only closing connections (TIME_WAIT, FIN_WAIT) remain on the port. They
//! block a new bind for up to a minute unless both the old socket and the new one set
//! `SO_REUSEADDR` (the kernel checks the flag on both).

use crate::doctor::{BindOutcome, Context};
use crate::model::{Finding, Severity, SockState};

/// DOC-BIND-TIME-WAIT.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let plain = ctx.binds.iter().find(|b| !b.reuseaddr);
    let reuse = ctx.binds.iter().find(|b| b.reuseaddr);
    let (Some(plain), Some(reuse)) = (plain, reuse) else {
        return Vec::new();
    };
    if plain.outcome != BindOutcome::InUse {
        return Vec::new();
    }
    let live_holder = ctx.snapshot.sockets.iter().any(|s| {
        s.port() == Some(ctx.port)
            && s.inode != 0
            && !matches!(s.state, SockState::TimeWait | SockState::FinWait2)
    });
    if live_holder {
        return Vec::new();
    }
    let closing: Vec<_> = ctx
        .snapshot
        .sockets
        .iter()
        .filter(|s| {
            s.port() == Some(ctx.port)
                && matches!(
                    s.state,
                    SockState::TimeWait
                        | SockState::FinWait1
                        | SockState::FinWait2
                        | SockState::LastAck
                        | SockState::Closing
                )
        })
        .collect();
    if closing.is_empty() {
        return Vec::new();
    }
    let mut evidence = vec![
        format!(
            "bind {} without SO_REUSEADDR: {}",
            plain.addr,
            plain.error.as_deref().unwrap_or("address in use")
        ),
        match reuse.outcome {
            BindOutcome::Ok => format!("bind {} with SO_REUSEADDR: ok", reuse.addr),
            _ => format!(
                "bind {} with SO_REUSEADDR: also in use — the old socket did not set SO_REUSEADDR either",
                reuse.addr
            ),
        },
        format!(
            "{} closing connection(s) on port {}, e.g. {} → {}",
            closing.len(),
            ctx.port,
            closing[0].local,
            closing[0]
                .remote
                .as_ref()
                .map_or("?".into(), ToString::to_string)
        ),
    ];
    evidence.push(
        "no process holds them: TIME_WAIT lasts 60 s on Linux, then the kernel frees the port"
            .into(),
    );
    vec![Finding {
        code: "DOC-BIND-TIME-WAIT",
        severity: Severity::Critical,
        title: format!(
            "only closing connections remain on port {}: no process holds it, and the kernel frees it within 60 s (SO_REUSEADDR on the listening socket avoids the wait next time)",
            ctx.port
        ),
        evidence,
        fix: vec![
            "wait up to a minute and start it again".into(),
            "set SO_REUSEADDR on the listening socket before bind() so restarts need not wait (Python socketserver: allow_reuse_address = True; Node and Go set it by default)".into(),
        ],
    }]
}
