//! Rule: several listening sockets — distinct inodes — share one local address and port,
//! which only `SO_REUSEPORT` allows. The kernel then hands each new connection to one of them
//! by a hash of the client's address and port, so an old copy of a server that was never
//! stopped keeps answering some clients next to the new one, or two different programs split
//! the clients. One program's own pool (a pre-fork server whose workers each open their
//! socket) shares the port on purpose: that is a note, not a problem. Workers sharing *one*
//! socket (nginx without `reuseport`) are one inode, not this.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::facts::{self, Kin};
use crate::doctor::Context;
use crate::model::{Endpoint, Finding, Severity, Socket};

/// DOC-REUSEPORT (two programs or two copies) or DOC-REUSEPORT-POOL (one program's pool), one
/// per shared address.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let mut by_addr: BTreeMap<&Endpoint, Vec<&Socket>> = BTreeMap::new();
    for s in ctx.listeners() {
        let group = by_addr.entry(&s.local).or_default();
        if !group.iter().any(|o| o.inode == s.inode) {
            group.push(s);
        }
    }
    by_addr
        .into_values()
        .filter(|g| g.len() > 1)
        .map(|g| finding(ctx, g))
        .collect()
}

/// The worst relation between any two owners of the group.
fn worst_kin(ctx: &Context, group: &[&Socket]) -> Kin {
    let rank = |k: Kin| match k {
        Kin::Same => 0,
        Kin::Pool => 1,
        Kin::Unknown => 2,
        Kin::OtherInstance => 3,
        Kin::OtherProgram => 4,
    };
    let mut worst = Kin::Same;
    for (i, a) in group.iter().enumerate() {
        for b in &group[i + 1..] {
            let k = facts::kin(ctx, a, b);
            if rank(k) > rank(worst) {
                worst = k;
            }
        }
    }
    worst
}

fn finding(ctx: &Context, mut group: Vec<&Socket>) -> Finding {
    // Oldest owner first (unknown start times last).
    group.sort_by(
        |a, b| match (facts::main_owner(ctx, a), facts::main_owner(ctx, b)) {
            (Some(pa), Some(pb)) => facts::older(pa, pb).unwrap_or(Ordering::Equal),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        },
    );
    let addr = &group[0].local;
    let owners: Vec<String> = group.iter().map(|s| ctx.owner_label(s)).collect();
    let dated = group
        .iter()
        .filter_map(|s| facts::main_owner(ctx, s)?.start_time)
        .count()
        == group.len();
    let mut evidence = Vec::new();
    for (i, s) in group.iter().enumerate() {
        let age = age(dated, i, group.len());
        evidence.push(format!(
            "{} listens on {} with its own socket (inode {}){age}",
            ctx.owner_label(s),
            s.local,
            s.inode
        ));
        evidence.extend(facts::owner_evidence(ctx, s));
    }
    evidence.push(format!(
        "{} listening sockets on one address: the kernel allows it only when each set SO_REUSEPORT, and hands every new connection to one of them by a hash of the client's address and port",
        group.len()
    ));
    let kin = worst_kin(ctx, &group);
    let n = group.len();
    let (code, severity, title) = match kin {
        Kin::Same | Kin::Pool => (
            "DOC-REUSEPORT-POOL",
            Severity::Info,
            format!(
                "{n} sockets of one program share {addr} through SO_REUSEPORT ({}): the kernel spreads connections over them on purpose",
                owners.join(", ")
            ),
        ),
        Kin::OtherInstance => (
            "DOC-REUSEPORT",
            Severity::Critical,
            format!(
                "{n} copies of the same program listen on {addr} at once (SO_REUSEPORT): the kernel splits new connections between {} — probably an old instance that was never stopped",
                owners.join(" and ")
            ),
        ),
        Kin::OtherProgram => (
            "DOC-REUSEPORT",
            Severity::Critical,
            format!(
                "{n} different programs listen on {addr} at once (SO_REUSEPORT): the kernel splits new connections between {}",
                owners.join(" and ")
            ),
        ),
        Kin::Unknown => (
            "DOC-REUSEPORT",
            Severity::Warning,
            format!(
                "{n} listening sockets share {addr} (SO_REUSEPORT), held by {}: the kernel splits new connections between them",
                owners.join(" and ")
            ),
        ),
    };
    Finding {
        code,
        severity,
        title,
        evidence,
        fix: fix(ctx, &group, kin, dated),
    }
}

/// " — the older" for the first of two sockets sorted by their owners' start, and so on.
fn age(dated: bool, i: usize, n: usize) -> &'static str {
    match (dated, i, n) {
        (false, _, _) => "",
        (true, 0, 2) => " — the older",
        (true, 1, 2) => " — the newer",
        (true, 0, _) => " — the oldest",
        (true, i, n) if i + 1 == n => " — the newest",
        _ => "",
    }
}

fn fix(ctx: &Context, group: &[&Socket], kin: Kin, dated: bool) -> Vec<String> {
    let port = ctx.port;
    let pid = |s: &Socket| facts::main_owner(ctx, s).map(|p| p.pid);
    match kin {
        Kin::Same | Kin::Pool => {
            return vec![format!(
                "nothing to do if this pool is what you started; portscope who {port} lists every holder"
            )];
        }
        Kin::Unknown => {
            return vec![format!(
                "sudo portscope who {port}   # see every owner: some are another user's processes"
            )];
        }
        Kin::OtherInstance | Kin::OtherProgram => {}
    }
    let mut fix = Vec::new();
    if kin == Kin::OtherInstance && dated {
        let (older, newest) = if group.len() == 2 {
            ("the older", "the newer")
        } else {
            ("an older", "the newest")
        };
        for s in &group[..group.len() - 1] {
            if let Some(p) = pid(s) {
                fix.push(format!(
                    "kill {p}   # {older} copy, {}; {newest} keeps serving",
                    ctx.owner_label(s)
                ));
            }
        }
    } else {
        for (i, s) in group.iter().enumerate() {
            if let Some(p) = pid(s) {
                fix.push(format!(
                    "kill {p}   # if {}{} should not serve here",
                    ctx.owner_label(s),
                    age(dated, i, group.len()).replace(" — ", ", ")
                ));
            }
        }
    }
    fix.push(format!(
        "then check that one is left: portscope doctor {}   (portscope kill {port} would stop every holder, all copies)", ctx.target
    ));
    fix.push("a zero-downtime restart that starts the new copy with SO_REUSEPORT must make the old one exit once the new one listens".into());
    fix
}
