//! Golden tests of the inspect verbs (see `golden/mod.rs`): `ls`, `who`, `explain`, `probe`,
//! `doctor`, one file each, every report built here with fixed values. This file holds what
//! they share: addresses, sockets, processes, `who` reports and the hidden-owner footer.

mod containers;
mod doctor;
mod explain;
mod ls;
mod probe;
mod who;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use portscope::commands::who::{WhoReport, WhoSocket};
use portscope::knowledge::addr_class::Exposure;
use portscope::model::{
    Ancestor, Endpoint, Family, Hidden, ProcState, Process, Proto, SockState, Socket,
};
use portscope::target::{self, Target};

use super::pin;

const LO4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const ANY4: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
const LO6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);
const ANY6: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

/// When the processes `who` and `explain` show in full were started: 2026-12-04 09:12:40 UTC,
/// the moment `doctor --bind`'s node[4242] has been "running since". `who` prints
/// "started <UTC> (<age> ago)" with the age against the real clock; the harness masks both.
const STARTED: u64 = 1_796_375_560;

/// The Next.js dev server on 3000, and the client connected to it.
const NEXT_DEV: &[&str] = &["node", "/home/dev/app/node_modules/.bin/next", "dev"];
const CURL_HEALTH: &[&str] = &["curl", "-s", "http://127.0.0.1:3000/api/health"];

fn target(text: &str) -> Target {
    target::parse(text).expect("fixture target parses")
}

fn at(ip: IpAddr, port: u16) -> SocketAddr {
    SocketAddr::new(ip, port)
}

/// A socket: `local`, optional `remote`, its state, inode, uid and owners.
fn sock(
    proto: Proto,
    state: SockState,
    local: (IpAddr, u16),
    remote: Option<(IpAddr, u16)>,
    inode: u64,
    uid: u32,
    pids: &[u32],
) -> Socket {
    let (recv_q, send_q) = if state == SockState::Listen {
        (0, 511)
    } else {
        (0, 0)
    };
    Socket {
        proto,
        family: if local.0.is_ipv4() {
            Family::Ipv4
        } else {
            Family::Ipv6
        },
        state,
        local: Endpoint::inet(local.0, local.1),
        remote: remote.map(|(ip, port)| Endpoint::inet(ip, port)),
        inode,
        peer_inode: None,
        uid,
        recv_q,
        send_q,
        netns: Some(4_026_531_840),
        pids: pids.to_vec(),
        owner_hidden: false,
        ownerless: false,
    }
}

fn listen(proto: Proto, ip: IpAddr, port: u16, inode: u64, uid: u32, pids: &[u32]) -> Socket {
    let state = if proto == Proto::Udp {
        SockState::Close
    } else {
        SockState::Listen
    };
    sock(proto, state, (ip, port), None, inode, uid, pids)
}

/// An established TCP connection from `local` to `remote`.
fn connected(
    local: (IpAddr, u16),
    remote: (IpAddr, u16),
    inode: u64,
    uid: u32,
    pids: &[u32],
) -> Socket {
    sock(
        Proto::Tcp,
        SockState::Established,
        local,
        Some(remote),
        inode,
        uid,
        pids,
    )
}

/// A socket whose owner could not be inspected.
fn hidden_owner(mut s: Socket) -> Socket {
    s.owner_hidden = true;
    s.pids.clear();
    s
}

/// A process of user `dev` with only what `ls` reads (basic detail: no exe, cwd, ancestry,
/// origin or network namespace).
fn basic(pid: u32, comm: &str, cmdline: &[&str]) -> Process {
    Process {
        pid,
        ppid: 1,
        pgid: Some(pid),
        comm: comm.into(),
        cmdline: cmdline.iter().map(|s| (*s).to_string()).collect(),
        exe: None,
        cwd: None,
        uid: 1000,
        user: Some("dev".into()),
        start_time: Some(1_796_366_000),
        state: ProcState::Sleeping,
        ancestry: vec![],
        origin: Default::default(),
        netns: None,
    }
}

/// A process in full, as `who` reads it: command line, exe, cwd, start, ancestry, unit.
fn full(pid: u32, comm: &str, cmdline: &[&str], exe: &str, ancestry: &[(u32, &str)]) -> Process {
    let mut p = basic(pid, comm, cmdline);
    p.ppid = ancestry.first().map_or(1, |a| a.0);
    p.netns = Some(4_026_531_840);
    p.exe = Some(exe.into());
    p.cwd = Some("/home/dev/app".into());
    p.start_time = Some(STARTED);
    p.ancestry = ancestry
        .iter()
        .map(|&(pid, comm)| Ancestor {
            pid,
            comm: comm.into(),
        })
        .collect();
    p.origin.cgroup = Some("/user.slice/user-1000.slice/session-2.scope".into());
    p.origin.systemd_unit = Some("session-2.scope".into());
    p
}

fn processes(list: Vec<Process>) -> BTreeMap<u32, Process> {
    list.into_iter().map(|p| (p.pid, p)).collect()
}

/// What a non-root user is told about processes it may not inspect.
fn hidden(sockets: usize, processes: usize) -> Hidden {
    Hidden {
        sockets,
        ownerless: 0,
        processes,
        reason: format!(
            "the file descriptors of {processes} process(es) (uid 0) could not be read"
        ),
        hint: "to see them, run as root (sudo portscope …) or grant CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH (sudo setcap cap_sys_ptrace,cap_dac_read_search+ep \"$(command -v portscope)\")".into(),
    }
}

/// The `who` report of `text` (held when there are sockets), without a probe or a past holder.
fn who_report(
    text: &str,
    sockets: Vec<WhoSocket>,
    procs: Vec<Process>,
    hidden: Hidden,
) -> WhoReport {
    WhoReport {
        target: target(text),
        held: !sockets.is_empty(),
        sockets,
        processes: processes(procs),
        hidden,
        container_note: None,
        published: Vec::new(),
        clients: vec![],
        probe: None,
        last_holder: None,
    }
}

/// A listener as `who` shows it: its exposure, no other end.
fn who_listener(exposure: Exposure, socket: Socket) -> WhoSocket {
    WhoSocket {
        exposure: Some(exposure),
        peer: None,
        container: None,
        supervisor: None,
        socket,
    }
}

/// The `who` report of a port nothing holds.
fn who_free(text: &str) -> WhoReport {
    who_report(text, vec![], vec![], Hidden::default())
}
