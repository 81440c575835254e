//! Rule (`--bind`): the port is held by a live socket — who holds it, in full, whether it
//! looks like an earlier copy of the user's own program, and what supervises it (a systemd
//! unit that restarts it or a `.socket` unit: stop the unit; a socket-activation manager).

use crate::doctor::{BindOutcome, Context};
use crate::model::{Finding, Severity, SockState, Socket};

/// States in which a socket keeps its port bound against a new bind.
fn holds(s: &Socket) -> bool {
    !matches!(
        s.state,
        SockState::TimeWait | SockState::FinWait2 | SockState::Close
    ) || (s.state == SockState::Close && s.inode != 0)
}

/// DOC-BIND-HELD for every owner of a socket bound to the port.
pub fn check(ctx: &Context) -> Vec<Finding> {
    if !ctx.binds.iter().any(|b| b.outcome == BindOutcome::InUse) {
        return Vec::new();
    }
    let holders: Vec<&Socket> = ctx
        .snapshot
        .sockets
        .iter()
        .filter(|s| s.port() == Some(ctx.port) && s.remote.is_none() && holds(s))
        .collect();
    holders
        .into_iter()
        .map(|s| {
            let mut evidence = vec![format!(
                "{} is bound to {} ({})",
                ctx.owner_label(s),
                s.local,
                s.state.name()
            )];
            let sup = ctx.supervisors.get(&s.inode);
            if let Some(sup) = sup {
                evidence.push(crate::supervisors::sentence(sup));
            }
            let mut fix = Vec::new();
            if let Some(stop) = sup.and_then(|sup| sup.stop.as_deref()) {
                fix.push(format!(
                    "{stop}   # systemd keeps this port (it starts the service again, or holds the listener itself): a kill alone would not free it"
                ));
            }
            fix.push(format!(
                "portscope kill {}   # shows who holds it, asks, stops it (SIGTERM, then SIGKILL) and checks the port is free",
                ctx.port
            ));
            let mut stale = false;
            for p in s.pids.iter().filter_map(|pid| ctx.snapshot.process(*pid)) {
                evidence.push(format!("pid {}: {}", p.pid, p.cmdline.join(" ")));
                if let Some(cwd) = &p.cwd {
                    evidence.push(format!("started in {cwd}"));
                    stale |= ctx.cwd.as_deref() == Some(cwd.as_str());
                }
                if let Some(start) = p.start_time {
                    evidence.push(format!("running since {}", crate::time::utc(i64::try_from(start).unwrap_or(i64::MAX))));
                }
                if p.pid == 1 || sup.is_some_and(|sup| sup.kill_frees == Some(false)) {
                    continue;
                }
                fix.push(format!("or by hand: kill {}   # then check that {} is free: portscope doctor --bind {}", p.pid, s.local, s.local));
            }
            if s.owner_hidden {
                fix.push("run as root to see the owner: sudo portscope who PORT".replace("PORT", &ctx.port.to_string()));
            }
            fix.push(format!("or start your program on another port (portscope explain {} shows what the range means)", ctx.port));
            let title = if stale {
                format!(
                    "{} already holds {} — started from this same directory, so probably an earlier copy of your program that is still running",
                    ctx.owner_label(s),
                    s.local
                )
            } else {
                format!("{} already holds {}: the address is in use", ctx.owner_label(s), s.local)
            };
            Finding {
                code: "DOC-BIND-HELD",
                severity: Severity::Critical,
                title,
                evidence,
                fix,
            }
        })
        .collect()
}
