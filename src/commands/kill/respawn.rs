//! Respawns: a port freed by `kill` and taken again at once by a new process that whoever
//! started the old one — a watcher (`nodemon`, `cargo watch`, `while true; do …; done`, a
//! supervisor) — started in its place. The parent chain of each holder is read before any
//! signal; after the port is verified free, `kill` keeps looking at it for `--respawn-wait`
//! (2 s) when a stopped holder's parent is still there and could start it again (not pid 1,
//! not a container's init, not the shell that ran portscope: it waits for portscope). A new
//! holder seen then, or already by the verification, makes the port not free; the report
//! names it and the respawner: the nearest ancestor the old and the new holder share.

use serde::Serialize;

use super::*;

/// Inits that start one program and never start it again: their child exiting is not a
/// reason to watch.
const ONE_SHOT_INITS: &[&str] = &[
    "tini",
    "tini-static",
    "dumb-init",
    "catatonit",
    "docker-init",
];

/// Programs that start a dev server again when its files change (not when it is killed):
/// matched against the file name of each argument of a stopped holder's parent.
const WATCHERS: &[&str] = &[
    "nodemon",
    "cargo-watch",
    "watchexec",
    "ts-node-dev",
    "node-dev",
    "entr",
    "reflex",
];

/// Arguments that make a program a watcher (`dotnet watch`, `cargo watch`, `node --watch`,
/// `uvicorn --reload`).
const WATCH_ARGS: &[&str] = &["watch", "--watch", "--reload"];

/// How often the port is looked at while watching.
const POLL: Duration = Duration::from_millis(50);

/// A process that took a port again after its holders were stopped.
#[derive(Debug, Clone, Serialize)]
pub struct Respawn {
    /// The port it took.
    pub port: u16,
    /// The new holder's pid.
    pub pid: u32,
    /// Its short name.
    pub comm: String,
    /// Its arguments.
    pub cmdline: Vec<String>,
    /// Milliseconds from the old holders being gone to the new one being seen on the port.
    pub after_ms: u64,
    /// The stopped holders of the port it replaced.
    pub replaced: Vec<u32>,
    /// Who started it again: the nearest ancestor of both the old and the new holder; `None`
    /// when they share none but pid 1 or the programs that ran portscope.
    pub respawner: Option<Respawner>,
}

/// The process that started a holder again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Respawner {
    /// Pid.
    pub pid: u32,
    /// Short name.
    pub comm: String,
    /// Arguments.
    pub cmdline: Vec<String>,
}

/// One link of a parent chain: a pid and its start time name one process for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Link {
    pub pid: u32,
    pub start_ticks: u64,
}

/// Each holder's parent chain (nearest first), read before any signal.
#[derive(Debug, Default)]
pub(super) struct Parents {
    chains: BTreeMap<u32, Vec<Link>>,
}

impl Parents {
    /// The chains of the processes to signal and of the holders that go with a container.
    pub(super) fn record(plan: &KillPlan) -> Parents {
        let pids = plan.stop.iter().map(|p| p.process.pid).chain(
            plan.stop_containers
                .iter()
                .flat_map(|c| c.holders.iter().map(|h| h.pid)),
        );
        Parents {
            chains: pids.map(|pid| (pid, chain(pid))).collect(),
        }
    }
}

/// The parent chain of `pid`, nearest first, up to pid 1 (64 links at most).
pub(super) fn chain(pid: u32) -> Vec<Link> {
    let mut out = Vec::new();
    let mut next = signal::stat(pid).map(|s| s.ppid);
    while let Some(p) = next.filter(|&p| p != 0 && out.len() < 64) {
        let Some(st) = signal::stat(p) else { break };
        out.push(Link {
            pid: p,
            start_ticks: st.start_ticks,
        });
        next = Some(st.ppid);
    }
    out
}

/// The nearest process in `new` (a chain, nearest first) that is also in `old`.
pub(super) fn common_ancestor(old: &[Link], new: &[Link]) -> Option<Link> {
    new.iter().find(|l| old.contains(l)).copied()
}

/// Whether a parent may start its child again: still the same process, not pid 1, not one of
/// the programs that ran portscope (they wait for it), not a one-shot init, not stopped too.
pub(super) fn may_respawn(
    parent: Link,
    now: Option<(u64, bool)>,
    comm: &str,
    me: &Lineage,
    stopped: &BTreeSet<u32>,
) -> bool {
    let alive = now.is_some_and(|(ticks, zombie)| ticks == parent.start_ticks && !zombie);
    alive
        && parent.pid != 1
        && parent.pid != me.pid
        && !me.ancestors.contains(&parent.pid)
        && !ONE_SHOT_INITS.contains(&comm)
        && !stopped.contains(&parent.pid)
}

/// The parents of the holders that exited that may start them again.
fn live_parents(
    report: &KillReport,
    parents: &Parents,
    me: &Lineage,
    ctx: &ProcContext,
) -> Vec<Process> {
    let stopped: BTreeSet<u32> = report.plan.stop.iter().map(|p| p.process.pid).collect();
    let mut out: Vec<Process> = Vec::new();
    let exited = report
        .outcomes
        .iter()
        .filter(|o| matches!(o.outcome, Fate::ExitedAfterSignal | Fate::Killed));
    for parent in exited.filter_map(|o| parents.chains.get(&o.pid)?.first().copied()) {
        let now = signal::stat(parent.pid).map(|s| (s.start_ticks, s.is_zombie()));
        let Some(p) = procfs::process(ctx, parent.pid, Detail::Basic) else {
            continue;
        };
        if may_respawn(parent, now, &p.comm, me, &stopped) && !out.iter().any(|o| o.pid == p.pid) {
            out.push(p);
        }
    }
    out
}

/// Whether a command line is a watcher's: one of [`WATCHERS`], or a program given one of
/// [`WATCH_ARGS`].
pub(super) fn is_watcher(cmdline: &[String]) -> bool {
    cmdline.iter().any(|a| {
        let name = a.rsplit('/').next().unwrap_or(a);
        WATCHERS.contains(&name) || WATCH_ARGS.contains(&a.as_str())
    })
}

/// The pids that held the targets when the plan was made (signalled, or gone with their
/// container).
pub(super) fn old_pids(plan: &KillPlan) -> BTreeSet<u32> {
    plan.stop
        .iter()
        .map(|p| p.process.pid)
        .chain(
            plan.stop_containers
                .iter()
                .flat_map(|c| c.holders.iter().map(|h| h.pid)),
        )
        .chain(plan.refused.iter().map(|r| r.pid))
        .chain(
            plan.found
                .iter()
                .flat_map(|f| f.owners.iter().map(|o| o.pid)),
        )
        .collect()
}

/// Whether a port is held by a process that did not hold it when the plan was made.
pub(super) fn newly_held(st: &PortState, old: &BTreeSet<u32>) -> bool {
    !st.free && st.owners.iter().any(|o| !old.contains(&o.pid))
}

/// After the verification: name the new holders it saw, and when a holder's parent may start
/// it again, watch the free ports for `wait`. Never leaves a port free that was taken.
pub(super) fn watch(
    report: &mut KillReport,
    parents: &Parents,
    wait: Duration,
    me: &Lineage,
    gone: Instant,
    ctx: &ProcContext,
) -> Result<()> {
    let old = old_pids(&report.plan);
    name_newcomers(report, &old, parents, me, gone, ctx);
    let live = live_parents(report, parents, me, ctx);
    if !wait.is_zero() && report.ports.iter().any(|p| p.free) && !live.is_empty() {
        watch_ports(report, &old, parents, wait, me, gone, ctx)?;
    }
    // A watcher that did not start it again (nodemon waits for a change): say it still runs.
    if report.respawned.is_empty() {
        report.watchers = live
            .into_iter()
            .filter(|p| is_watcher(&p.cmdline))
            .map(|p| Respawner {
                pid: p.pid,
                comm: p.comm,
                cmdline: p.cmdline,
            })
            .collect();
    }
    Ok(())
}

/// Look at the free ports every [`POLL`] for `wait`, or until none is free.
fn watch_ports(
    report: &mut KillReport,
    old: &BTreeSet<u32>,
    parents: &Parents,
    wait: Duration,
    me: &Lineage,
    gone: Instant,
    ctx: &ProcContext,
) -> Result<()> {
    let start = Instant::now();
    let held_before: Vec<Target> = report
        .ports
        .iter()
        .filter(|p| !p.free)
        .map(|p| p.target.clone())
        .collect();
    loop {
        std::thread::sleep(POLL);
        let states = look(&report.plan, ctx)?;
        let taken = states
            .iter()
            .any(|s| !s.free && !held_before.contains(&s.target));
        if taken {
            report.ports = states;
            name_newcomers(report, old, parents, me, gone, ctx);
        }
        if report.ports.iter().all(|p| !p.free) || start.elapsed() >= wait {
            break;
        }
    }
    report.respawn_watch_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(())
}

/// Add a [`Respawn`] for each process holding a port now that did not hold it before.
fn name_newcomers(
    report: &mut KillReport,
    old: &BTreeSet<u32>,
    parents: &Parents,
    me: &Lineage,
    gone: Instant,
    ctx: &ProcContext,
) {
    let after_ms = u64::try_from(gone.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mut found = Vec::new();
    for st in report.ports.iter().filter(|s| newly_held(s, old)) {
        let Some(port) = st.target.port_range().map(|(p, _)| p) else {
            continue;
        };
        for o in st.owners.iter().filter(|o| !old.contains(&o.pid)) {
            let seen = report
                .respawned
                .iter()
                .chain(&found)
                .any(|r: &Respawn| r.pid == o.pid && r.port == port);
            if seen {
                continue;
            }
            found.push(respawn(report, port, o, parents, me, after_ms, ctx));
        }
    }
    report.respawned.extend(found);
}

fn respawn(
    report: &KillReport,
    port: u16,
    new: &Owner,
    parents: &Parents,
    me: &Lineage,
    after_ms: u64,
    ctx: &ProcContext,
) -> Respawn {
    let replaced: Vec<u32> = report
        .plan
        .stop
        .iter()
        .filter(|p| p.ports.contains(&port))
        .map(|p| p.process.pid)
        .chain(
            report
                .plan
                .stop_containers
                .iter()
                .filter(|c| c.ports.contains(&port))
                .flat_map(|c| c.holders.iter().map(|h| h.pid)),
        )
        .collect();
    let new_chain = chain(new.pid);
    let respawner = replaced
        .iter()
        .filter_map(|pid| common_ancestor(parents.chains.get(pid)?, &new_chain))
        .min_by_key(|l| new_chain.iter().position(|n| n == l))
        .filter(|l| l.pid != 1 && l.pid != me.pid && !me.ancestors.contains(&l.pid))
        .and_then(|l| procfs::process(ctx, l.pid, Detail::Basic))
        .map(|p| Respawner {
            pid: p.pid,
            comm: p.comm,
            cmdline: p.cmdline,
        });
    let p = procfs::process(ctx, new.pid, Detail::Basic);
    Respawn {
        port,
        pid: new.pid,
        comm: new.comm.clone(),
        cmdline: p.map(|p| p.cmdline).unwrap_or_default(),
        after_ms,
        replaced,
        respawner,
    }
}
