//! The plan: which sockets on the target count, who holds them, who is refused and why.

use super::*;

/// The snapshot a target needs.
pub(super) fn request(target: &Target, detail: Detail) -> Request {
    let proto = target.proto();
    Request {
        sockets: SocketQuery {
            tcp: proto != Some(Proto::Udp),
            udp: proto != Some(Proto::Tcp),
            port_range: target.port_range(),
            ..SocketQuery::default()
        },
        owners: Owners::Targeted,
        detail,
        threads: 0,
    }
}

/// The sockets of a snapshot whose local end is on the target.
pub(super) fn on_target<'a>(target: &Target, sockets: &'a [Socket]) -> Vec<&'a Socket> {
    let addrs: Option<Vec<IpAddr>> = crate::snapshot::target_addrs(target);
    let (lo, hi) = target.port_range().unwrap_or((1, 65535));
    sockets
        .iter()
        .filter(|s| s.port().is_some_and(|p| (lo..=hi).contains(&p)))
        .filter(|s| target.proto().is_none_or(|p| p == s.proto))
        .filter(|s| {
            addrs
                .as_ref()
                .is_none_or(|a| crate::snapshot::serves(&s.local, a))
        })
        .collect()
}

/// The per-port states of a target's sockets (a range: one per port found on it now or in
/// `before`, or one for the whole range when there is none).
pub(super) fn port_states(
    target: &Target,
    mine: &[&Socket],
    before: &BTreeSet<u16>,
    snap: &crate::model::Snapshot,
    ctx: &ProcContext,
) -> Vec<PortState> {
    let ports: BTreeSet<u16> = match target {
        Target::Range { .. } => mine
            .iter()
            .filter_map(|s| s.port())
            .chain(before.iter().copied())
            .collect(),
        _ => target.port_range().map(|(p, _)| p).into_iter().collect(),
    };
    if ports.is_empty() {
        return vec![port_state(target.clone(), &[], snap, ctx)];
    }
    ports
        .into_iter()
        .map(|port| {
            let on: Vec<&Socket> = mine
                .iter()
                .copied()
                .filter(|s| s.port() == Some(port))
                .collect();
            let narrowed = match target {
                Target::Range { proto, .. } => Target::Port {
                    port,
                    proto: *proto,
                },
                other => other.clone(),
            };
            port_state(narrowed, &on, snap, ctx)
        })
        .collect()
}

pub(super) fn port_state(
    target: Target,
    on: &[&Socket],
    snap: &crate::model::Snapshot,
    ctx: &ProcContext,
) -> PortState {
    let holding: Vec<Socket> = on
        .iter()
        .filter(|s| holds(s.proto, s.state))
        .map(|s| (*s).clone())
        .collect();
    let pids: BTreeSet<u32> = holding
        .iter()
        .flat_map(|s| s.pids.iter().copied())
        .collect();
    let hidden_uids: BTreeSet<u32> = holding
        .iter()
        .filter(|s| s.owner_hidden)
        .map(|s| s.uid)
        .collect();
    PortState {
        clients: clients(&target, &holding),
        published: Vec::new(),
        target,
        free: holding.is_empty(),
        owners: pids
            .into_iter()
            .map(|pid| Owner {
                pid,
                comm: snap.process(pid).map_or("?".into(), |p| p.comm.clone()),
            })
            .collect(),
        connections: on
            .iter()
            .filter(|s| !holds(s.proto, s.state) && s.state != SockState::TimeWait)
            .count(),
        time_wait: on.iter().filter(|s| s.state == SockState::TimeWait).count(),
        hidden: holding.iter().filter(|s| s.owner_hidden).count(),
        ownerless: holding.iter().filter(|s| s.ownerless).count(),
        hidden_users: hidden_uids
            .into_iter()
            .map(|uid| HiddenUser {
                uid,
                user: ctx.user_name(uid),
            })
            .collect(),
        sockets: holding,
    }
}

/// For a host-name target: which clients reach which of the `holding` sockets.
fn clients(target: &Target, holding: &[Socket]) -> Vec<crate::knowledge::clients::ClientView> {
    let Target::Addr {
        host: crate::target::Host::Name(name),
        port,
        ..
    } = target
    else {
        return Vec::new();
    };
    let Ok(res) = crate::snapshot::resolve_name(name) else {
        return Vec::new();
    };
    crate::knowledge::clients::views(name, &res.addresses, |ip| {
        holding.iter().any(|s| {
            s.is_listening() && s.port() == Some(*port) && crate::snapshot::serves(&s.local, &[ip])
        })
    })
}

/// Whether `part` (one port of a range, as `port_states` narrows it) lies in `range`.
pub(super) fn covers(range: &Target, part: &Target) -> bool {
    match (range.port_range(), part) {
        (Some((lo, hi)), Target::Port { port, proto }) => {
            (lo..=hi).contains(port) && *proto == range.proto()
        }
        _ => false,
    }
}

/// Find the holders, add the tree, decide refusals.
pub(super) fn build_plan(opts: &Options, me: &Lineage, ctx: &ProcContext) -> Result<KillPlan> {
    let mut found = Vec::new();
    let mut procs: BTreeMap<u32, Process> = BTreeMap::new();
    let mut why: BTreeMap<u32, Vec<Why>> = BTreeMap::new();
    let mut held: Vec<Socket> = Vec::new();
    let (mut asker, mut sups) = (crate::supervisors::Asker::default(), Vec::new());
    for target in &opts.targets {
        let snap = snapshot::take(&request(target, Detail::Full))?;
        let mine = on_target(target, &snap.sockets);
        held.extend(
            mine.iter()
                .filter(|s| holds(s.proto, s.state))
                .map(|s| (*s).clone()),
        );
        for s in &mine {
            let wanted =
                holds(s.proto, s.state) || (opts.connections && s.state != SockState::TimeWait);
            for pid in s.pids.iter().filter(|_| wanted) {
                let Some(p) = snap.process(*pid) else {
                    continue;
                };
                procs.entry(*pid).or_insert_with(|| p.clone());
                let list = why.entry(*pid).or_default();
                let w = Why::socket(s);
                if !list.contains(&w) {
                    list.push(w);
                }
            }
        }
        found.extend(port_states(target, &mine, &BTreeSet::new(), &snap, ctx));
        units::collect(&mine, &snap, &mut asker, &mut sups);
    }
    let mut notes = Vec::new();
    if opts.tree {
        expand_tree(&mut why, &mut procs, me, ctx, &mut notes);
    }
    let mut containers = engine::find(opts, &held, &procs, &why);
    notes.extend(containers.note.clone());
    for c in nat::mark(&mut found, engine::grace_s(opts.timeout)) {
        match containers.planned.iter_mut().find(|x| {
            x.container.id == c.container.id
                && x.container.engine_socket == c.container.engine_socket
        }) {
            Some(x) => {
                x.ports.extend(c.ports);
                x.ports.sort_unstable();
                x.ports.dedup();
            }
            None => containers.planned.push(c),
        }
    }
    let ports = ports_of(&why);
    let mut stop = Vec::new();
    let mut refused = Vec::new();
    let mut docker = Vec::new();
    for (pid, whys) in why {
        let Some(p) = procs.remove(&pid) else {
            continue;
        };
        let st = signal::stat(pid);
        if p.comm == "docker-proxy" {
            docker.push(DockerNote {
                pid,
                mapping: parse_docker_proxy(&p.cmdline).unwrap_or_default(),
                forced: opts.force,
                leftover: containers.leftover.contains(&pid),
            });
        }
        if containers.handled.contains(&pid) {
            continue;
        }
        let ports = ports.get(&pid).cloned().unwrap_or_default();
        let kthread = st.is_some_and(|s| s.kernel_thread);
        let refused_as = refusal(pid, &p.comm, kthread, me, opts.force).map(|r| match r {
            Refused::DockerProxy if containers.leftover.contains(&pid) => Refused::LeftoverProxy,
            other => other,
        });
        match refused_as {
            Some(reason) => refused.push(refuse(&p, ports, whys, reason, None)),
            None => stop.push(Planned {
                process: p,
                ports,
                why: whys,
                start_ticks: st.map(|s| s.start_ticks),
            }),
        }
    }
    block_useless(&mut stop, &mut refused);
    units::apply(&sups, &mut stop, &mut refused, &mut notes);
    Ok(KillPlan {
        targets: opts.targets.clone(),
        signal: opts.signal,
        timeout_ms: u64::try_from(opts.timeout.as_millis()).unwrap_or(u64::MAX),
        escalate: !opts.no_escalate && opts.signal != Sig::Kill,
        tree: opts.tree,
        connections: opts.connections,
        euid: rustix::process::geteuid().as_raw(),
        found,
        stop,
        stop_containers: containers.planned,
        refused,
        docker,
        notes,
        supervisors: sups,
    })
}

/// The target ports each planned pid is stopped for: its own sockets' ports, or (for
/// `--tree` members) those of the holder it belongs to.
pub(super) fn ports_of(why: &BTreeMap<u32, Vec<Why>>) -> BTreeMap<u32, Vec<u16>> {
    let own = |whys: &[Why]| -> BTreeSet<u16> {
        whys.iter()
            .filter_map(|w| match w {
                Why::Socket { local, .. } => local.port(),
                _ => None,
            })
            .collect()
    };
    why.iter()
        .map(|(pid, whys)| {
            let mut ports = own(whys);
            for w in whys {
                if let Why::Descendant { of } | Why::ProcessGroup { of, .. } = w {
                    ports.extend(why.get(of).map(|h| own(h)).unwrap_or_default());
                }
            }
            (*pid, ports.into_iter().collect())
        })
        .collect()
}

/// `--tree`: add the holders' descendants and the other members of their process groups
/// (not portscope's own group, nor the group of pid 1).
pub(super) fn expand_tree(
    why: &mut BTreeMap<u32, Vec<Why>>,
    procs: &mut BTreeMap<u32, Process>,
    me: &Lineage,
    ctx: &ProcContext,
    notes: &mut Vec<String>,
) {
    let table = signal::process_table();
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for p in table.iter().filter(|p| !p.is_zombie() && !p.kernel_thread) {
        children.entry(p.ppid).or_default().push(p.pid);
    }
    let holders: Vec<u32> = why.keys().copied().collect();
    let mut added: BTreeMap<u32, Why> = BTreeMap::new();
    for &h in &holders {
        let mut stack = children.get(&h).cloned().unwrap_or_default();
        while let Some(c) = stack.pop() {
            if !why.contains_key(&c) && !added.contains_key(&c) {
                added.insert(c, Why::Descendant { of: h });
                stack.extend(children.get(&c).into_iter().flatten());
            }
        }
        let Some(pgid) = table.iter().find(|p| p.pid == h).map(|p| p.pgrp) else {
            continue;
        };
        if pgid <= 1 {
            continue;
        }
        if pgid == me.pgrp {
            notes.push(format!(
                "--tree: pid {h} is in portscope's own process group ({pgid}, the job or script that ran it): the group's other members are left alone"
            ));
            continue;
        }
        for m in table.iter().filter(|m| m.pgrp == pgid && m.pid != h) {
            if !m.is_zombie() && !m.kernel_thread && !why.contains_key(&m.pid) {
                added
                    .entry(m.pid)
                    .or_insert(Why::ProcessGroup { pgid, of: h });
            }
        }
    }
    for (pid, w) in added {
        if let Some(p) = procfs::process(ctx, pid, Detail::Full) {
            procs.insert(pid, p);
            why.insert(pid, vec![w]);
        }
    }
    notes.dedup();
}

/// The pure refusal rule: which processes are never stopped.
pub fn refusal(
    pid: u32,
    comm: &str,
    kernel_thread: bool,
    me: &Lineage,
    force: bool,
) -> Option<Refused> {
    Some(if pid == 1 {
        Refused::Pid1
    } else if pid == me.pid {
        Refused::Portscope
    } else if me.ancestors.first() == Some(&pid) {
        Refused::Parent
    } else if me.ancestors.contains(&pid) {
        Refused::Ancestor
    } else if kernel_thread {
        Refused::KernelThread
    } else if comm == "docker-proxy" && !force {
        Refused::DockerProxy
    } else if comm == "dockerd" && !force {
        Refused::ContainerEngine
    } else {
        return None;
    })
}

/// The sentence for a refusal.
pub(super) fn refusal_message(reason: Refused, blocker: Option<(u16, u32)>) -> String {
    match reason {
        Refused::Pid1 => "it is pid 1, the init of this system or container: stopping it stops everything in it".into(),
        Refused::Portscope => "it is portscope itself (it inherited the socket from the program that ran it)".into(),
        Refused::Parent => "it is portscope's parent, the shell or program that ran this command".into(),
        Refused::Ancestor => "it is an ancestor of portscope (the chain of programs that ran this command)".into(),
        Refused::KernelThread => "it is a kernel thread".into(),
        Refused::DockerProxy => "it is docker-proxy, which forwards a published port to a container (stop the container; or pass --force to stop docker-proxy anyway)".into(),
        Refused::LeftoverProxy => "it is a docker-proxy left over from a removed container: Docker answered and no container publishes this port; stopping it frees the port and touches no container (pass --force; restarting Docker also clears it)".into(),
        Refused::ContainerEngine => "it is dockerd, the Docker daemon, holding a published port for a container itself (its userland proxy is off): stopping it would stop every container (stop the container instead; or pass --force to stop dockerd anyway)".into(),
        Refused::PortStaysHeld => {
            let (port, by) = blocker.unwrap_or_default();
            format!("port {port} stays held by pid {by}, which is not stopped: stopping this one would not free it")
        }
    }
}

pub(super) fn refuse(
    p: &Process,
    ports: Vec<u16>,
    why: Vec<Why>,
    reason: Refused,
    blocker: Option<(u16, u32)>,
) -> Refusal {
    Refusal {
        pid: p.pid,
        comm: p.comm.clone(),
        cmdline: p.cmdline.clone(),
        uid: p.uid,
        user: p.user.clone(),
        ports,
        why,
        reason,
        message: refusal_message(reason, blocker),
    }
}

/// A port held by a refused process stays held: do not stop its other holders for nothing.
pub(super) fn block_useless(stop: &mut Vec<Planned>, refused: &mut Vec<Refusal>) {
    let mut blocked: BTreeMap<u16, u32> = BTreeMap::new();
    for r in refused.iter() {
        for w in r.why.iter().filter(|w| w.holds_port()) {
            if let Why::Socket { local, .. } = w
                && let Some(port) = local.port()
            {
                blocked.entry(port).or_insert(r.pid);
            }
        }
    }
    let (useless, useful): (Vec<Planned>, Vec<Planned>) = std::mem::take(stop)
        .into_iter()
        .partition(|p| !p.ports.is_empty() && p.ports.iter().all(|x| blocked.contains_key(x)));
    *stop = useful;
    for p in useless {
        let blocker = p.ports.first().and_then(|x| Some((*x, *blocked.get(x)?)));
        refused.push(refuse(
            &p.process,
            p.ports,
            p.why,
            Refused::PortStaysHeld,
            blocker,
        ));
    }
}
