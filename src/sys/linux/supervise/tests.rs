//! Supervision's tests: the process tree below a root, where a caught signal is forwarded,
//! signal names, and that a spawned child is seen as a descendant.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn p(pid: u32, ppid: u32) -> ProcStat {
    ProcStat {
        pid,
        ppid,
        pgrp: 1,
        state: 'S',
        kernel_thread: false,
        start_ticks: 0,
    }
}

#[test]
fn tree() {
    let all = vec![
        p(10, 1),
        p(11, 10),
        p(12, 11),
        p(13, 1),
        p(14, 12),
        p(15, 10),
    ];
    let mut below: Vec<u32> = tree_below(10, all).iter().map(|d| d.pid).collect();
    below.sort_unstable();
    assert_eq!(below, vec![11, 12, 14, 15]);
    assert!(tree_below(99, vec![p(1, 0)]).is_empty());
}

#[test]
fn forwarding_rules() {
    let place = |child_pgid, session_leader| Place {
        own_pgid: 5,
        child_pgid,
        session_leader,
    };
    let same = place(Some(5), false);
    // kill -INT <portscope> from another process: pass it on.
    assert_eq!(
        forward_target(SIGINT, Some(77), false, same),
        Some(Forward::Child)
    );
    // sent from inside the tree (kill 0): the child got it already.
    assert_eq!(forward_target(SIGINT, Some(78), true, same), None);
    // the terminal's Ctrl+C: the child, in the same group, got it already.
    assert_eq!(forward_target(SIGINT, None, false, same), None);
    // … unless the child moved to a group of its own.
    assert_eq!(
        forward_target(SIGINT, None, false, place(Some(9), false)),
        Some(Forward::Group(9))
    );
    assert_eq!(
        forward_target(SIGINT, None, false, place(None, false)),
        None
    );
    // A hang-up reaches only the session leader: passed on when that is portscope.
    assert_eq!(forward_target(SIGHUP, None, false, same), None);
    assert_eq!(
        forward_target(SIGHUP, None, false, place(Some(5), true)),
        Some(Forward::Child)
    );
    assert_eq!(
        forward_target(SIGINT, None, false, place(Some(5), true)),
        None
    );
}

#[test]
fn names() {
    assert_eq!(signal_name(2), "INT");
    assert_eq!(signal_name(15), "TERM");
    assert_eq!(signal_name(9), "KILL");
    assert_eq!(signal_name(77), "77");
    assert!(is_terminating(SIGINT) && !is_terminating(SIGUSR1));
}

#[test]
fn a_child_is_below_this_process() {
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let pid = child.id();
    assert!(is_descendant(pid));
    assert!(descendants(None).iter().any(|d| d.pid == pid));
    assert_eq!(comm(pid), "sleep");
    let stopped = stop(&[signal::stat(pid).unwrap()], None, Duration::from_secs(5));
    let _ = child.wait();
    assert_eq!(stopped.len(), 1);
    assert_eq!((stopped[0].signal, stopped[0].gone), (Sig::Term, true));
    assert!(!is_descendant(std::os::unix::process::parent_id()));
}
