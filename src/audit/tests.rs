//! The audit rules against fixture contexts: each rule's findings, allowlisting, ordering.

use super::*;
use crate::model::{Endpoint, Family, Origin, ProcState, SockState, Socket};
use crate::probe::Identification;
use crate::probe::engine::PortState;

/// A process as the snapshot records it.
pub(crate) fn process(pid: u32, comm: &str, uid: u32) -> Process {
    Process {
        pid,
        ppid: 1,
        pgid: Some(pid),
        comm: comm.into(),
        cmdline: vec![comm.into()],
        exe: None,
        cwd: None,
        uid,
        user: Some(if uid == 0 {
            "root".into()
        } else {
            format!("u{uid}")
        }),
        start_time: None,
        state: ProcState::Sleeping,
        ancestry: Vec::new(),
        origin: Origin::default(),
        netns: None,
    }
}

/// A socket as the snapshot records it: `proto`/`state` on `addr:port` (family IPv4 whatever
/// `addr` is), held by `pids`, uid 0, inode 1.
pub(crate) fn socket(
    proto: Proto,
    state: SockState,
    addr: &str,
    port: u16,
    pids: &[u32],
) -> Socket {
    Socket {
        proto,
        family: Family::Ipv4,
        state,
        local: Endpoint::inet(addr.parse().unwrap(), port),
        remote: None,
        inode: 1,
        peer_inode: None,
        uid: 0,
        recv_q: 0,
        send_q: 0,
        netns: None,
        pids: pids.to_vec(),
        owner_hidden: false,
        ownerless: false,
    }
}

/// A TCP listener on `addr:port` held by `pids` (uid of the first process's choosing).
pub(crate) fn listener(addr: &str, port: u16, pids: &[u32]) -> Listener {
    Listener {
        proto: Proto::Tcp,
        port,
        addrs: vec![addr.parse().unwrap()],
        pids: pids.to_vec(),
        owner_hidden: false,
        uid: 1000,
        probe: None,
        outside: None,
    }
}

/// A probe result that identified `id`, as the engine returns it.
pub(crate) fn probed(l: &Listener, id: Identification, reply: &str) -> Option<PortProbe> {
    let ip = match l.addr() {
        IpAddr::V4(a) if a.is_unspecified() => "127.0.0.1".parse().unwrap(),
        other => other,
    };
    Some(PortProbe {
        addr: std::net::SocketAddr::new(ip, l.port),
        state: PortState::Open,
        identification: Some(id),
        tls: None,
        evidence: reply.into(),
        probes: vec!["test"],
        elapsed_ms: 1.0,
        note: None,
    })
}

/// A context with these processes, probed, the default unprivileged port start.
pub(crate) fn with(processes: Vec<Process>) -> Context {
    Context {
        processes: processes.into_iter().map(|p| (p.pid, p)).collect(),
        probed: true,
        unprivileged_port_start: 1024,
        ..Context::default()
    }
}

/// The codes of `findings` about `port`.
pub(crate) fn codes_on(findings: &[AuditFinding], port: u16) -> Vec<&'static str> {
    findings
        .iter()
        .filter(|f| f.subject.port == Some(port))
        .map(|f| f.finding.code)
        .collect()
}

#[test]
fn findings_are_sorted_most_severe_first_and_allowed_ones_set_aside() {
    use crate::probe::{Auth, Confidence};
    let mut ctx = with(vec![process(5, "redis-server", 0), process(6, "sshd", 0)]);
    let mut redis = listener("0.0.0.0", 6379, &[5]);
    redis.probe = probed(
        &redis,
        Identification::new("redis", Confidence::Certain).auth(Auth::NotRequired),
        "+PONG\\r\\n",
    );
    let ssh = listener("0.0.0.0", 22, &[6]);
    ctx.listeners = vec![ssh, redis];
    let report = evaluate(&ctx, None);
    let severities: Vec<Severity> = report.findings.iter().map(|f| f.finding.severity).collect();
    let mut sorted = severities.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(severities, sorted);
    assert_eq!(report.findings[0].finding.code, "AUD-EXPOSED-DATASTORE");
    assert_eq!(report.worst(), Some(Severity::Critical));

    let allow = Allowlist::parse(
        "[[allow]]\nrule = \"AUD-EXPOSED-DATASTORE\"\nport = 6379\nreason = \"lab\"\n",
        std::path::Path::new("/x/portscope-audit.toml"),
    )
    .unwrap();
    let report = evaluate(&ctx, Some(&allow));
    assert!(
        codes_on(&report.findings, 6379)
            .iter()
            .all(|c| *c != "AUD-EXPOSED-DATASTORE")
    );
    assert_eq!(report.allowed.len(), 1);
    assert_eq!(report.allowed[0].reason, "lab");
    assert_eq!(
        report.allowlist.as_deref(),
        Some(std::path::Path::new("/x/portscope-audit.toml"))
    );
}

#[test]
fn locations_are_one_word() {
    let s = |proto: &str, address: &str, port: Option<u16>| Subject {
        proto: Some(proto.into()),
        address: Some(address.into()),
        port,
        ..Subject::default()
    };
    assert_eq!(
        s("tcp", "0.0.0.0", Some(6379)).location(),
        "tcp/0.0.0.0:6379"
    );
    assert_eq!(s("tcp", "::", Some(22)).location(), "tcp/[::]:22");
    assert_eq!(
        s("unix", "/run/x.sock", None).location(),
        "unix:/run/x.sock"
    );
}
