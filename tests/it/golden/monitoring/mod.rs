//! Golden tests of the monitoring verbs (see `golden/mod.rs`): `audit` (the table, `--show-allowed`,
//! `--sarif`), the Nagios plugins `check listen|connect|audit`, and `exporter` (its report and the
//! `/metrics` text). This module holds the audit fixtures the three share: findings of every
//! severity, one allowed, one socket with a hidden owner.
//!
//! The plugins decide their status line in private functions, so the `check` fixtures carry the
//! summary and long-output lines the plugin writes for the facts given (as docs/monitoring.md
//! shows them); what is pinned is how a report of that shape reads.

mod audit;
mod check;
mod exporter;

use std::net::SocketAddr;

use portscope::audit::{Allowed, AuditFinding, AuditReport, Subject};
use portscope::model::{Hidden, Severity};

const WILDCARD: &str = "0.0.0.0 is the wildcard address: every interface of this machine, so anything that can route to it";

/// Why an open Redis matters, and how to bind it to loopback (with and without `--no-probe`).
const REDIS_WHY: &str = "why it matters: without a password anyone who connects reads and \
                         overwrites every key, and CONFIG SET can make it write files as its user";
const REDIS_BIND: &str = "redis-server --bind 127.0.0.1 -::1 --protected-mode yes --port 6379   \
                          # redis.conf: bind 127.0.0.1 -::1";

/// The last fix of a TCP service on all interfaces: drop what does not come from loopback.
fn firewall(port: u16) -> String {
    format!(
        "or, if it must stay bound there, drop what does not come from loopback: sudo iptables -I \
         INPUT -p tcp --dport {port} ! -i lo -j DROP (and ip6tables; ufw: sudo ufw deny {port}/tcp)"
    )
}

/// What root could not see: one process in another user namespace.
fn hidden_as_root() -> Hidden {
    Hidden {
        sockets: 1,
        ownerless: 0,
        processes: 1,
        reason: "the file descriptors of 1 process(es) (uid 0) could not be read".into(),
        hint: "even root was refused: a security module (Yama ptrace scope, AppArmor, SELinux) or \
               another user namespace protects them; run portscope inside that namespace or \
               container to see them"
            .into(),
    }
}

/// A TCP subject: `port` on `address`, held by `process[pid]` when known.
fn tcp(port: u16, address: &str, owner: Option<(&str, u32)>) -> Subject {
    Subject {
        port: Some(port),
        proto: Some("tcp".into()),
        address: Some(address.into()),
        pid: owner.map(|(_, pid)| pid),
        process: owner.map(|(name, _)| name.to_string()),
    }
}

fn finding(
    code: &'static str,
    severity: Severity,
    title: &str,
    evidence: &[&str],
    fix: &[&str],
    subject: Subject,
) -> AuditFinding {
    AuditFinding {
        finding: crate::golden::finding(code, severity, title, evidence, fix),
        subject,
    }
}

fn redis_open() -> AuditFinding {
    finding(
        "AUD-EXPOSED-DATASTORE",
        Severity::Critical,
        "Redis (redis-server[4242]) answers without a password on all interfaces (0.0.0.0:6379): \
         anyone who can reach this machine can read and change its data",
        &[
            "tcp 0.0.0.0:6379 LISTEN, held by redis-server[4242] (user redis)",
            "probe of 127.0.0.1:6379: redis, Redis, reply \"+PONG\\r\\n\"",
            "it answered without credentials",
            "probe of 192.0.2.2:6379, a non-loopback address of this machine (not a loopback \
             client): answered without credentials too",
            WILDCARD,
            REDIS_WHY,
        ],
        &[
            REDIS_BIND,
            "require a password: requirepass <long random secret> in redis.conf (or ACL SETUSER \
             default on >secret), then restart",
            &firewall(6379),
        ],
        tcp(6379, "0.0.0.0", Some(("redis-server", 4242))),
    )
}

fn node_inspector() -> AuditFinding {
    finding(
        "AUD-EXPOSED-DEBUGGER",
        Severity::Critical,
        "Node.js inspector (node[4243]) listens on all interfaces (0.0.0.0:9229): anyone who can \
         reach this machine can run code as user dev",
        &[
            "tcp 0.0.0.0:9229 LISTEN, held by node[4243] (user dev)",
            "the command line of node[4243] names this port: --inspect=0.0.0.0:9229",
            WILDCARD,
            "why it matters: whoever connects runs any code in the Node process, as its user (and \
             web pages could, through DNS rebinding, before the 2018 Host check: CVE-2018-7160)",
        ],
        &[
            "node --inspect=127.0.0.1:9229 …   # plain --inspect binds 127.0.0.1:9229",
            &firewall(9229),
        ],
        tcp(9229, "0.0.0.0", Some(("node", 4243))),
    )
}

fn jdwp_loopback() -> AuditFinding {
    finding(
        "AUD-DEBUGGER-LOOPBACK",
        Severity::Warning,
        "JDWP debug agent (java[4250]) listens on 127.0.0.1:5005: any local user or process can \
         attach and run code as user dev",
        &[
            "tcp 127.0.0.1:5005 LISTEN, held by java[4250] (user dev)",
            "the command line of java[4250] names this port: \
             -agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=127.0.0.1:5005",
            "why it matters: whoever connects runs any code in the JVM, as its user",
        ],
        &[
            "let the IDE listen and the JVM connect out: \
             -agentlib:jdwp=transport=dt_socket,server=n,address=127.0.0.1:PORT",
            "when the debug session is over, stop it: kill 4250 (or restart the program without \
             the debug flag)",
        ],
        tcp(5005, "127.0.0.1", Some(("java", 4250))),
    )
}

fn world_writable_socket() -> AuditFinding {
    finding(
        "AUD-UNIX-WORLD-WRITABLE",
        Severity::Warning,
        "/run/acme/agent.sock: a unix socket of a root process (acme-agent[812] (user root)) is \
         writable by every user",
        &[
            "stat /proc/812/root/run/acme/agent.sock: socket, mode 0777 (srwxrwxrwx), owner uid 0, \
             group gid 0",
            "every directory above it is searchable by others (o+x)",
            "listening, held by acme-agent[812] (user root)",
        ],
        &[
            "sudo chmod 660 /run/acme/agent.sock && sudo chgrp GROUP /run/acme/agent.sock   # only \
             GROUP's members may connect",
            "make it last: the daemon's own socket-mode option, or in its systemd socket unit \
             SocketMode=0660 and SocketGroup=GROUP (else it comes back on restart)",
        ],
        Subject {
            port: None,
            proto: Some("unix".into()),
            address: Some("/run/acme/agent.sock".into()),
            pid: Some(812),
            process: Some("acme-agent".into()),
        },
    )
}

fn hidden_service() -> AuditFinding {
    finding(
        "AUD-EXPOSED-SERVICE",
        Severity::Info,
        "an unidentified service (owner hidden) listens on all interfaces (0.0.0.0:2024)",
        &[
            "tcp 0.0.0.0:2024 LISTEN, held by a process portscope may not inspect (the socket was \
             created by uid 0)",
            "probe of 127.0.0.1:2024: not identified: the server closed the connection without a \
             word (tcpwrapped)",
            WILDCARD,
        ],
        &[
            "if nothing outside this machine needs it, bind it to 127.0.0.1 (its own listen/bind \
             option); see what it is: portscope who 2024",
            &firewall(2024),
        ],
        tcp(2024, "0.0.0.0", None),
    )
}

fn ssh_allowed() -> Allowed {
    Allowed {
        finding: finding(
            "AUD-EXPOSED-AUTHENTICATED",
            Severity::Warning,
            "SSH server (sshd[611]) listens on all interfaces (0.0.0.0:22): it asks for \
             credentials, but its login is open to the network",
            &[
                "tcp 0.0.0.0:22 and [::]:22 LISTEN, held by sshd[611] (user root)",
                "probe of 127.0.0.1:22: ssh, OpenSSH 9.2p1, reply \
                 \"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\\r\\n\"",
                WILDCARD,
                "why it matters: password guessing and pre-authentication bugs are tried on every \
                 reachable SSH server",
            ],
            &[
                "if only local or VPN users need it: ListenAddress 127.0.0.1 (or the VPN address) \
                 in /etc/ssh/sshd_config",
                "PasswordAuthentication no and PermitRootLogin prohibit-password in \
                 /etc/ssh/sshd_config",
            ],
            tcp(22, "0.0.0.0", Some(("sshd", 611))),
        ),
        reason: "keys only, fail2ban watches it".into(),
    }
}

/// Findings of every severity (sorted as the audit sorts them: most severe first, then by port,
/// unix sockets last), one allowed, one socket with a hidden owner.
fn audit_report() -> AuditReport {
    AuditReport {
        findings: vec![
            redis_open(),
            node_inspector(),
            jdwp_loopback(),
            world_writable_socket(),
            hidden_service(),
        ],
        allowed: vec![ssh_allowed()],
        listeners: 9,
        allowlist: Some("/etc/portscope/audit.toml".into()),
        hidden: hidden_as_root(),
        probed: true,
    }
}

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("a socket address")
}
