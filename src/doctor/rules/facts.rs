//! Facts several rules derive from the [`Context`] alike: whether an IPv6 listener takes IPv6
//! only, which listener the kernel hands a dialled address to, and whether two listeners'
//! owners are one program's pool, two copies of one program, or two programs.

use std::cmp::Ordering;
use std::net::IpAddr;

use crate::doctor::Context;
use crate::knowledge::addr_class;
use crate::model::{Family, Process, Socket};

/// Whether `s` is an IPv6 socket with `IPV6_V6ONLY` set, as the kernel reported it.
pub fn v6only(ctx: &Context, s: &Socket) -> bool {
    s.family == Family::Ipv6 && ctx.v6only.as_ref().is_some_and(|v| v.contains(&s.inode))
}

/// Whether listener `s` receives connections to `dial` (its `IPV6_V6ONLY` respected).
pub fn receives(ctx: &Context, s: &Socket, dial: IpAddr) -> bool {
    s.local
        .ip()
        .is_some_and(|b| addr_class::receives(b, v6only(ctx, s), dial))
}

/// How well a listener bound to `bound` matches `dial`, as the kernel ranks listeners: the
/// exact address beats its family's wildcard, which beats the dual-stack IPv6 wildcard.
fn match_rank(bound: IpAddr, dial: IpAddr) -> u8 {
    if bound == dial {
        3
    } else if bound.is_ipv4() == dial.is_ipv4() {
        2
    } else {
        1
    }
}

/// The listener on the port that a connection to `dial` reaches (the first, when several
/// share the address through `SO_REUSEPORT`), or `None` when none receives it.
pub fn reached_by(ctx: &Context, dial: IpAddr) -> Option<&Socket> {
    let mut best: Option<(&Socket, u8)> = None;
    for s in ctx.listeners().filter(|s| receives(ctx, s, dial)) {
        let rank = s.local.ip().map_or(0, |ip| match_rank(ip, dial));
        if best.is_none_or(|(_, b)| rank > b) {
            best = Some((s, rank));
        }
    }
    best.map(|(s, _)| s)
}

/// How the owners of two listeners relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kin {
    /// One process holds both (or they share an owner).
    Same,
    /// One program's own processes: same executable, and one is the other's ancestor (a
    /// pre-fork pool), or siblings started within a second of each other with the same
    /// command but for addresses (workers a supervisor starts together; one docker-proxy per
    /// family).
    Pool,
    /// The same executable and command line, unrelated: a second copy of one program (an old
    /// instance that was never stopped, and a new one).
    OtherInstance,
    /// Different programs (another executable or another command line), unrelated.
    OtherProgram,
    /// An owner could not be seen (another user's process: run as root).
    Unknown,
}

/// The process that stands for a socket's owners: the first pid that was read.
pub fn main_owner<'a>(ctx: &'a Context, s: &Socket) -> Option<&'a Process> {
    s.pids.iter().find_map(|p| ctx.snapshot.process(*p))
}

/// How the owners of listeners `a` and `b` relate.
pub fn kin(ctx: &Context, a: &Socket, b: &Socket) -> Kin {
    if a.pids.iter().any(|p| b.pids.contains(p)) {
        return Kin::Same;
    }
    match (main_owner(ctx, a), main_owner(ctx, b)) {
        (Some(pa), Some(pb)) => kin_of(pa, pb),
        _ => Kin::Unknown,
    }
}

/// What a process runs: its executable, else its first argument, else its name.
fn program(p: &Process) -> &str {
    p.exe
        .as_deref()
        .or(p.cmdline.first().map(String::as_str))
        .unwrap_or(&p.comm)
}

/// Whether two command lines are the same but for IP addresses (`-host-ip 0.0.0.0` and
/// `-host-ip ::`): one command started once per address.
fn same_but_addresses(a: &[String], b: &[String]) -> bool {
    let ip = |w: &str| w.parse::<IpAddr>().is_ok();
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y || (ip(x) && ip(y)))
}

/// How two processes relate (see [`Kin`]).
pub fn kin_of(a: &Process, b: &Process) -> Kin {
    if a.pid == b.pid {
        return Kin::Same;
    }
    let descends = |x: &Process, y: &Process| x.ancestry.iter().any(|an| an.pid == y.pid);
    let together = match (a.start_time, b.start_time) {
        (Some(x), Some(y)) => {
            a.ppid == b.ppid && x.abs_diff(y) <= 1 && same_but_addresses(&a.cmdline, &b.cmdline)
        }
        _ => false,
    };
    let related = descends(a, b) || descends(b, a) || together;
    match (program(a) == program(b), related) {
        (true, true) => Kin::Pool,
        (true, false) if a.cmdline == b.cmdline => Kin::OtherInstance,
        _ => Kin::OtherProgram,
    }
}

/// Evidence about a listener's owner: `pid N: command line`, and when it started.
pub fn owner_evidence(ctx: &Context, s: &Socket) -> Vec<String> {
    let Some(p) = main_owner(ctx, s) else {
        return vec![format!("{} is held by {}", s.local, ctx.owner_label(s))];
    };
    let mut lines = vec![format!(
        "pid {}: {}",
        p.pid,
        if p.cmdline.is_empty() {
            p.comm.clone()
        } else {
            crate::text::command_line(&p.cmdline)
        }
    )];
    if let Some(start) = p.start_time {
        lines.push(format!(
            "pid {} running since {}",
            p.pid,
            crate::time::utc(i64::try_from(start).unwrap_or(i64::MAX))
        ));
    }
    lines
}

/// Which of two owners started first: `Less` when `a` is older. Same second: the lower pid
/// (pids are handed out in increasing order until they wrap). `None` without start times.
pub fn older(a: &Process, b: &Process) -> Option<Ordering> {
    let (sa, sb) = (a.start_time?, b.start_time?);
    Some(sa.cmp(&sb).then(a.pid.cmp(&b.pid)))
}

#[cfg(all(test, feature = "cli"))]
mod tests {
    use super::*;
    use crate::model::Ancestor;

    /// A process of `exe args` started at `start`, whose ancestors are `parents` (parent first).
    fn proc(pid: u32, exe: &str, args: &[&str], start: u64, parents: &[u32]) -> Process {
        let mut p = Process::fixture(pid, "x");
        p.exe = Some(exe.into());
        p.cmdline = args.iter().map(|a| a.to_string()).collect();
        p.start_time = Some(start);
        p.ppid = parents.first().copied().unwrap_or(0);
        p.ancestry = parents
            .iter()
            .map(|&pid| Ancestor {
                pid,
                comm: "p".into(),
            })
            .collect();
        p
    }

    #[test]
    fn owners_are_classified() {
        let py = "/usr/bin/python3";
        let master = proc(10, py, &["python3", "srv.py"], 100, &[1]);
        let worker = proc(11, py, &["python3", "srv.py"], 500, &[10, 1]);
        let again = proc(20, py, &["python3", "srv.py"], 900, &[1]);
        let other = proc(30, py, &["python3", "other.py"], 950, &[1]);
        let node = proc(40, "/usr/bin/node", &["node", "srv.js"], 100, &[1]);
        assert_eq!(kin_of(&master, &master), Kin::Same);
        assert_eq!(kin_of(&master, &worker), Kin::Pool);
        assert_eq!(kin_of(&worker, &master), Kin::Pool);
        assert_eq!(kin_of(&master, &again), Kin::OtherInstance);
        assert_eq!(kin_of(&again, &other), Kin::OtherProgram);
        // Started together by one parent, but another program: not a pool.
        assert_eq!(kin_of(&master, &node), Kin::OtherProgram);
        // Two copies started by one shell a second apart are one launch...
        let twin = proc(21, py, &["python3", "srv.py"], 901, &[1]);
        assert_eq!(kin_of(&again, &twin), Kin::Pool);
        // ...but not two scripts of one interpreter.
        let script = proc(22, py, &["python3", "other.py"], 901, &[1]);
        assert_eq!(kin_of(&again, &script), Kin::OtherProgram);
        // docker-proxy: one per family, other arguments, started together by dockerd.
        let dp = "/usr/bin/docker-proxy";
        let p4 = proc(
            50,
            dp,
            &["docker-proxy", "-host-ip", "0.0.0.0"],
            700,
            &[5, 1],
        );
        let p6 = proc(51, dp, &["docker-proxy", "-host-ip", "::"], 700, &[5, 1]);
        assert_eq!(kin_of(&p4, &p6), Kin::Pool);
    }

    #[test]
    fn the_older_owner_is_the_one_started_first() {
        let mut a = Process::fixture(300, "a");
        let mut b = Process::fixture(200, "b");
        assert_eq!(older(&a, &b), None);
        a.start_time = Some(100);
        b.start_time = Some(101);
        assert_eq!(older(&a, &b), Some(Ordering::Less));
        b.start_time = Some(100);
        assert_eq!(
            older(&a, &b),
            Some(Ordering::Greater),
            "same second: lower pid"
        );
    }

    #[test]
    fn the_kernel_prefers_the_exact_address() {
        let v4: IpAddr = IpAddr::from([127, 0, 0, 1]);
        assert_eq!(match_rank(v4, v4), 3);
        assert_eq!(match_rank(IpAddr::from([0, 0, 0, 0]), v4), 2);
        assert_eq!(
            match_rank(IpAddr::from(std::net::Ipv6Addr::UNSPECIFIED), v4),
            1
        );
    }
}
