//! Carrying the plan out (signal, wait, escalate) and checking afterwards that each port is free.

use super::*;

/// Signal, wait, escalate (through `sys::signal`), and say what happened to each process.
pub(super) fn execute(plan: &KillPlan, timeout: Duration) -> (Vec<Outcome>, Vec<Sent>) {
    let victims: Vec<Victim> = plan
        .stop
        .iter()
        .map(|p| Victim {
            pid: p.process.pid,
            start_ticks: p.start_ticks,
        })
        .collect();
    let how = StopPlan {
        first: plan.signal,
        timeout,
        escalate: plan.escalate,
        kill_wait: KILL_WAIT,
    };
    let (stops, sent) = signal::stop(&victims, &how);
    let mut outcomes: Vec<Outcome> = plan
        .stop
        .iter()
        .zip(&stops)
        .map(|(p, s)| outcome(p, s, plan.signal))
        .collect();
    // In the order things happened: refused by the kernel or gone before the signal, exited
    // after it, killed, still running.
    outcomes.sort_by_key(|o| match o.outcome {
        Fate::AlreadyExited | Fate::PermissionDenied => 0,
        Fate::ExitedAfterSignal => 1,
        Fate::Killed => 2,
        Fate::StillRunning => 3,
    });
    (outcomes, sent)
}

/// Seconds, rounded to the millisecond.
pub(super) fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

pub(super) fn outcome(p: &Planned, s: &Stop, first: Sig) -> Outcome {
    let mut o = Outcome {
        pid: p.process.pid,
        comm: p.process.comm.clone(),
        user: p
            .process
            .user
            .clone()
            .unwrap_or_else(|| format!("uid {}", p.process.uid)),
        ports: p.ports.clone(),
        outcome: Fate::StillRunning,
        signal: None,
        after_s: None,
        ignored_s: None,
        resumed: s.resumed,
        detail: None,
    };
    match &s.result {
        Stopped::Exited { after } => {
            o.outcome = Fate::ExitedAfterSignal;
            o.signal = Some(first);
            o.after_s = Some(secs(*after));
        }
        Stopped::Killed { ignored, after } => {
            o.outcome = Fate::Killed;
            o.signal = Some(Sig::Kill);
            o.after_s = Some(secs(*after));
            o.ignored_s = Some(secs(*ignored));
        }
        Stopped::AlreadyExited { reused } => {
            o.outcome = Fate::AlreadyExited;
            o.detail = reused.then(|| {
                format!(
                    "pid {} now names another process (started after the plan was made): left alone",
                    o.pid
                )
            });
        }
        Stopped::PermissionDenied => o.outcome = Fate::PermissionDenied,
        Stopped::StillRunning {
            last,
            waited,
            error,
        } => {
            let why = match (error, last) {
                (Some(e), _) => e.clone(),
                (None, Sig::Kill) => "stuck in the kernel? (e.g. uninterruptible I/O)".into(),
                (None, _) => "--no-escalate: no SIGKILL sent".into(),
            };
            o.detail = Some(format!(
                "still running {:.1} s after SIG{} ({why})",
                waited.as_secs_f64(),
                last.name()
            ));
        }
    }
    o
}

/// Look again: is each port free now? When some holder exited, re-checks for up to a second
/// while a port still looks held by its old holders (sockets close as the last holder exits;
/// this only covers the slow cases). A port a new process holds is not waited for.
pub(super) fn verify(plan: &KillPlan, exited: bool, ctx: &ProcContext) -> Result<Vec<PortState>> {
    let deadline = Instant::now() + VERIFY_WAIT;
    let old = respawn::old_pids(plan);
    loop {
        let states = look(plan, ctx)?;
        if !exited
            || states.iter().all(|s| s.free)
            || states.iter().any(|s| respawn::newly_held(s, &old))
            || Instant::now() >= deadline
        {
            return Ok(states);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Each target port's state now (a range keeps an entry for each port found on it before,
/// free or not).
pub(super) fn look(plan: &KillPlan, ctx: &ProcContext) -> Result<Vec<PortState>> {
    let mut states = Vec::new();
    for t in &plan.targets {
        let snap = snapshot::take(&request(t, Detail::Basic))?;
        let before: BTreeSet<u16> = match t {
            Target::Range { .. } => plan
                .found
                .iter()
                .filter(|f| !f.sockets.is_empty() && covers(t, &f.target))
                .filter_map(|f| f.target.port_range().map(|(p, _)| p))
                .collect(),
            _ => BTreeSet::new(),
        };
        states.extend(port_states(
            t,
            &on_target(t, &snap.sockets),
            &before,
            &snap,
            ctx,
        ));
    }
    if nat::any(plan) {
        nat::mark(&mut states, 0);
    }
    Ok(states)
}
