//! Tests of the sock_diag dumps against real sockets of this process.

use super::super::proc_net::tests::{fixture, inode_of, query};
use super::*;
use crate::model::SockState;
use std::collections::BTreeSet;
use std::os::fd::AsRawFd;

fn find(socks: &[Socket], fd: &impl AsRawFd) -> Socket {
    let ino = inode_of(fd);
    let hits: Vec<_> = socks.iter().filter(|s| s.inode == ino).collect();
    assert_eq!(hits.len(), 1, "inode {ino} in dump: {hits:?}");
    hits[0].clone()
}

fn ep(addr: std::io::Result<std::net::SocketAddr>) -> Endpoint {
    let addr = addr.unwrap();
    Endpoint::inet(addr.ip(), addr.port())
}

type Shape = (Proto, Family, SockState, Endpoint, Option<Endpoint>);

fn shape(s: &Socket) -> Shape {
    let ends = (s.local.clone(), s.remote.clone());
    (s.proto, s.family, s.state, ends.0, ends.1)
}

#[test]
fn finds_own_sockets_with_exact_fields() {
    use {Family::*, Proto::*, SockState::*};
    let f = fixture();
    let all = dump_netlink(&SocketQuery::default()).unwrap();
    let l4 = find(&all, &f.l4);
    assert_eq!(shape(&l4), (Tcp, Ipv4, Listen, ep(f.l4.local_addr()), None));
    let me = rustix::process::geteuid().as_raw();
    assert_eq!(
        (l4.uid, l4.recv_q, l4.send_q > 0),
        (me, 0, true),
        "send_q = backlog"
    );
    let l6 = find(&all, &f.l6);
    assert_eq!(shape(&l6), (Tcp, Ipv6, Listen, ep(f.l6.local_addr()), None));
    let u = find(&all, &f.udp);
    assert_eq!(shape(&u), (Udp, Ipv4, Close, ep(f.udp.local_addr()), None));
    for end in [&f.client, &f.server] {
        let s = find(&all, end);
        let (local, peer) = (ep(end.local_addr()), Some(ep(end.peer_addr())));
        assert_eq!(shape(&s), (Tcp, Ipv4, Established, local, peer));
        assert_eq!((s.netns, s.pids.len(), s.owner_hidden), (None, 0, false));
    }
}

#[test]
fn port_range_is_filtered_in_the_kernel() {
    let f = fixture();
    let p = f.l4.local_addr().unwrap().port();
    let q = query(|q| q.port_range = Some((p, p)));
    // The kernel filter alone (v2 per family, then compat), no userspace safety net.
    let (mut diag, mut raw) = (Diag::open().unwrap(), Vec::new());
    for (proto, family) in inet_tables(&q) {
        let outcome = diag.dump_inet(&q, proto, family, &mut raw).unwrap();
        assert!(matches!(outcome, Outcome::Done), "{outcome:?}");
    }
    assert!(
        diag.dump_tcp_both(&q, &mut raw).unwrap(),
        "TCPDIAG_GETSOCK refused"
    );
    assert!(
        raw.iter().all(|s| wanted(&q, s)),
        "kernel let through {raw:?}"
    );
    let mut full = dump_netlink(&SocketQuery::default()).unwrap();
    full.retain(|s| wanted(&q, s));
    let ours = [inode_of(&f.l4), inode_of(&f.client), inode_of(&f.server)];
    let pick = |v: &[Socket]| -> BTreeSet<_> {
        let key = |s: &Socket| (shape(s), s.inode);
        v.iter()
            .filter(|s| ours.contains(&s.inode))
            .map(key)
            .collect()
    };
    assert_eq!(
        raw.iter().filter(|s| ours.contains(&s.inode)).count(),
        6,
        "twice"
    );
    assert_eq!(
        pick(&raw).len(),
        3,
        "listener, both connection ends: {raw:?}"
    );
    assert_eq!(pick(&raw), pick(&full));
    let others = [inode_of(&f.l6), inode_of(&f.udp)];
    assert!(!raw.iter().any(|s| others.contains(&s.inode)));
}

#[test]
fn state_mask_and_protocol_selection() {
    let f = fixture();
    let listen = 1 << SockState::Listen.kernel_number();
    let got = dump_netlink(&query(|q| (q.udp, q.states) = (false, listen))).unwrap();
    let tcp_listen = |s: &Socket| s.state == SockState::Listen && s.proto == Proto::Tcp;
    assert!(got.iter().all(tcp_listen));
    find(&got, &f.l4);
    find(&got, &f.l6);
    let got = dump_netlink(&query(|q| (q.tcp, q.ipv6) = (false, false))).unwrap();
    assert!(
        got.iter()
            .all(|s| (s.proto, s.family) == (Proto::Udp, Family::Ipv4))
    );
    find(&got, &f.udp);
}

/// The jump-free 32-byte variant: op1's `yes` (24) skips op2, so op0's `no` target is not
/// on the `yes` chain and the kernel's `valid_cc` rejects the program.
fn thirty_two_byte_program(lo: u16, hi: u16) -> Vec<u8> {
    let ops = [(2, 8, 16), (0, 0, lo), (3, 24, 8), (0, 0, hi)];
    let ops2 = [(4, 8, 20), (0, 0, lo), (5, 8, 12), (0, 0, hi)];
    let op = |(c, y, n): (u8, u8, u16)| [c, y, n.to_ne_bytes()[0], n.to_ne_bytes()[1]];
    ops.into_iter().chain(ops2).flat_map(op).collect()
}

#[test]
fn kernel_errors_become_netlink_errors() {
    let mut diag = Diag::open().unwrap();
    let request = emitted(&inet_request(Proto::Tcp, Family::Ipv4, u32::MAX));
    let code = thirty_two_byte_program(1, 2);
    diag.encode(SOCK_DIAG_BY_FAMILY, &request, Some(&code));
    let err = diag.run(|_| Ok(())).unwrap().needs_fallback().unwrap_err();
    assert!(
        matches!(&err, Error::Netlink(m) if m.contains("Invalid argument")),
        "{err}"
    );
}

/// `inet_diag_bc_audit` then `inet_diag_bc_run` (net/ipv4/inet_diag.c) for NOP, JMP and
/// the port ops; `None` = the audit rejects the program (EINVAL). Offsets count from the
/// start here; the kernel counts the remaining length, which is the same walk.
fn kernel_run(code: &[u8], sport: u16, dport: u16) -> Option<bool> {
    let word = |i: usize| usize::from(u16::from_ne_bytes([code[i], code[i + 1]]));
    let op = |i: usize| (code[i], usize::from(code[i + 1]), word(i + 2));
    let arg = |i: usize| word(i + 6);
    let total = code.len();
    let on_yes_chain = |target: usize| {
        let mut i = 0;
        while i < target && op(i).1 >= 4 && op(i).1.is_multiple_of(4) {
            i += op(i).1;
        }
        i == target
    };
    let mut i = 0;
    while i < total {
        let (c, yes, no) = op(i);
        let (min, len) = (if c <= 1 { 4 } else { 8 }, total - i);
        let bad = |j: usize| j < min || j > len + 4 || !j.is_multiple_of(4);
        if bad(yes) || (c != 0 && (bad(no) || (no < len && !on_yes_chain(i + no)))) {
            return None;
        }
        i += yes;
    }
    if i != total {
        return None;
    }
    let mut i = 0;
    while i < total {
        let (c, yes, no) = op(i);
        let (s, d, p) = (usize::from(sport), usize::from(dport), arg(i));
        let hit = [true, false, s >= p, s <= p, d >= p, d <= p][usize::from(c)];
        i += if hit { yes } else { no };
    }
    Some(i == total)
}

#[test]
fn bytecode_passes_audit_and_matches_the_predicate() {
    let ports = [0u16, 1, 79, 80, 81, 1000, 8079, 8080, 8081, 65534, 65535];
    let pairs = || {
        ports
            .iter()
            .flat_map(|&a| ports.iter().map(move |&b| (a, b)))
    };
    for (lo, hi) in pairs() {
        let code = port_range_bytecode(lo, hi);
        for (s, d) in pairs() {
            let want = (lo..=hi).contains(&s) || (lo..=hi).contains(&d);
            assert_eq!(kernel_run(&code, s, d), Some(want), "{lo}-{hi} s{s} d{d}");
        }
    }
    assert_eq!(kernel_run(&thirty_two_byte_program(80, 80), 80, 1), None);
}
