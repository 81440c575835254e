//! Golden tests of the monitoring verbs (see `golden/mod.rs`): `audit` (the table, `--show-allowed`,
//! `--sarif`), the Nagios plugins `check listen|connect|audit`, and `exporter` (its report and the
//! `/metrics` text).
//!
//! The plugins decide their status line in private functions, so these fixtures carry the
//! summary and long-output lines the plugin writes for the facts given (as docs/monitoring.md
//! shows them); what is pinned is how a report of that shape reads.

use std::net::SocketAddr;

use portscope::audit::sarif;
use portscope::audit::{Allowed, AuditFinding, AuditReport, Subject};
use portscope::commands::Report;
use portscope::commands::audit::AuditCommandReport;
use portscope::commands::check::audit::AuditFacts;
use portscope::commands::check::connect::ConnectFacts;
use portscope::commands::check::dial::Outcome;
use portscope::commands::check::listen::{BindRule, ListenFacts, Listener};
use portscope::commands::check::threshold::Range;
use portscope::commands::check::{CheckReport, Perf, State};
use portscope::commands::exporter::collect::{
    self, Collector, CollectorRun, Holder, ListenerSeries, Metrics, StateCount,
};
use portscope::commands::exporter::{CollectorError, ExporterReport, Mode};
use portscope::knowledge::addr_class::Exposure;
use portscope::model::{Finding, Hidden, Proto, Severity, SockState};

use super::pin;

/// Pin text that is not a report's table or envelope (SARIF, `/metrics`) as `NAME.txt`, with
/// portscope's version masked wherever the format carries it.
fn pin_text(name: &str, text: &str) {
    let version = format!(
        r#""(version|semanticVersion)": "{}""#,
        env!("CARGO_PKG_VERSION").replace('.', r"\.")
    );
    insta::with_settings!({
        snapshot_path => "snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
        filters => vec![
            (version.as_str(), r#""${1}": "[VERSION]""#),
            (
                r#"portscope_build_info\{version="[^"]+"\}"#,
                r#"portscope_build_info{version="[VERSION]"}"#,
            ),
        ],
    }, {
        insta::assert_snapshot!(format!("{name}.txt"), text);
    });
}

// ---------------------------------------------------------------------------------------------
// Fixtures shared by `audit` and `check audit`.

const WILDCARD: &str = "0.0.0.0 is the wildcard address: every interface of this machine, so anything that can route to it";

/// What root could not see: one process in another user namespace.
fn hidden_as_root() -> Hidden {
    Hidden {
        sockets: 1,
        processes: 1,
        reason: "the file descriptors of 1 process(es) (uid 0) could not be read".into(),
        hint: "even root was refused: a security module (Yama ptrace scope, AppArmor, SELinux) or \
               another user namespace protects them; run portscope inside that namespace or \
               container to see them"
            .into(),
    }
}

/// What an unprivileged user could not see.
fn hidden_as_user() -> Hidden {
    Hidden {
        sockets: 1,
        processes: 86,
        reason: "the file descriptors of 86 process(es) (uid 0) could not be read".into(),
        hint: "to see them, run as root (sudo portscope …) or grant CAP_SYS_PTRACE and \
               CAP_DAC_READ_SEARCH (sudo setcap cap_sys_ptrace,cap_dac_read_search+ep \
               \"$(command -v portscope)\")"
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
        finding: Finding {
            code,
            severity,
            title: title.into(),
            evidence: evidence.iter().map(|e| e.to_string()).collect(),
            fix: fix.iter().map(|f| f.to_string()).collect(),
        },
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
            "why it matters: without a password anyone who connects reads and overwrites every \
             key, and CONFIG SET can make it write files as its user",
        ],
        &[
            "redis-server --bind 127.0.0.1 -::1 --protected-mode yes --port 6379   # redis.conf: \
             bind 127.0.0.1 -::1",
            "require a password: requirepass <long random secret> in redis.conf (or ACL SETUSER \
             default on >secret), then restart",
            "or, if it must stay bound there, drop what does not come from loopback: sudo \
             iptables -I INPUT -p tcp --dport 6379 ! -i lo -j DROP (and ip6tables; ufw: sudo ufw \
             deny 6379/tcp)",
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
            "or, if it must stay bound there, drop what does not come from loopback: sudo \
             iptables -I INPUT -p tcp --dport 9229 ! -i lo -j DROP (and ip6tables; ufw: sudo ufw \
             deny 9229/tcp)",
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
            "or, if it must stay bound there, drop what does not come from loopback: sudo \
             iptables -I INPUT -p tcp --dport 2024 ! -i lo -j DROP (and ip6tables; ufw: sudo ufw \
             deny 2024/tcp)",
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

fn audit_command(audit: AuditReport, show_allowed: bool, sarif: bool) -> Report {
    let failed = audit.worst().is_some_and(|w| w >= Severity::Warning);
    Report::Audit(Box::new(AuditCommandReport {
        audit,
        fail_on: "warning",
        failed,
        sarif,
        show_allowed,
    }))
}

// ---------------------------------------------------------------------------------------------
// `audit`

/// Critical, warning and info findings with evidence and fixes; the allowed one only counted.
#[test]
fn audit_findings() {
    pin(
        "monitoring-audit-findings",
        &audit_command(audit_report(), false, false),
    );
}

/// `--show-allowed`: the allowlisted finding listed with its reason and the allowlist's path.
#[test]
fn audit_show_allowed() {
    pin(
        "monitoring-audit-show-allowed",
        &audit_command(audit_report(), true, false),
    );
}

/// A clean machine: no findings, nothing allowed, nothing hidden.
#[test]
fn audit_clean() {
    let audit = AuditReport {
        listeners: 4,
        probed: true,
        ..AuditReport::default()
    };
    pin(
        "monitoring-audit-clean",
        &audit_command(audit, false, false),
    );
}

/// `--no-probe`: a Redis that could not be asked is a warning, and the table says why.
#[test]
fn audit_no_probe() {
    let redis = finding(
        "AUD-EXPOSED-DATASTORE",
        Severity::Warning,
        "Redis (redis-server[4242]) listens on all interfaces (0.0.0.0:6379); whether it asks for \
         a password is unknown (not probed)",
        &[
            "tcp 0.0.0.0:6379 LISTEN, held by redis-server[4242] (user redis)",
            WILDCARD,
            "why it matters: without a password anyone who connects reads and overwrites every \
             key, and CONFIG SET can make it write files as its user",
        ],
        &[
            "redis-server --bind 127.0.0.1 -::1 --protected-mode yes --port 6379   # redis.conf: \
             bind 127.0.0.1 -::1",
        ],
        tcp(6379, "0.0.0.0", Some(("redis-server", 4242))),
    );
    let audit = AuditReport {
        findings: vec![redis],
        listeners: 1,
        probed: false,
        ..AuditReport::default()
    };
    pin(
        "monitoring-audit-no-probe",
        &audit_command(audit, false, false),
    );
}

/// `--sarif`: the SARIF 2.1.0 log in place of the table (every rule, one result per finding,
/// the allowed one suppressed, the hidden owner as a notification). With `--json` the envelope
/// is printed instead, the same as `monitoring-audit-findings.json`.
#[test]
fn audit_sarif() {
    let report = audit_command(audit_report(), false, true);
    let text = portscope::render::report(
        &report,
        &portscope::config::Config {
            json: false,
            color: false,
            pretty: true,
            progress: false,
        },
    );
    let log: serde_json::Value = serde_json::from_str(&text).expect("SARIF is JSON");
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(log["$schema"], sarif::SCHEMA);
    pin_text("monitoring-audit-sarif", &text);
}

// ---------------------------------------------------------------------------------------------
// `check …`

fn check(
    plugin: &'static str,
    service: &'static str,
    state: State,
    summary: &str,
    perfdata: Vec<Perf>,
    details: &[&str],
) -> CheckReport {
    CheckReport {
        plugin,
        service,
        state,
        exit_code: state.code(),
        summary: summary.into(),
        perfdata,
        details: details.iter().map(|d| d.to_string()).collect(),
        listen: None,
        connect: None,
        audit: None,
    }
}

fn pin_check(name: &str, report: CheckReport) {
    pin(name, &Report::Check(Box::new(report)));
}

fn listener(address: &str, exposure: Exposure, owners: &[(&str, u32)]) -> Listener {
    Listener {
        address: address.into(),
        exposure,
        pids: owners.iter().map(|(_, pid)| *pid).collect(),
        processes: owners
            .iter()
            .map(|(name, _)| Some(name.to_string()))
            .collect(),
        owner_hidden: false,
    }
}

fn listen_facts(
    port: u16,
    bind: Option<BindRule>,
    process: Option<&str>,
    listeners: Vec<Listener>,
    hidden: Hidden,
) -> ListenFacts {
    ListenFacts {
        port,
        proto: Proto::Tcp,
        bind,
        process: process.map(str::to_string),
        listeners,
        hidden,
    }
}

/// `check listen 8000 --bind loopback --process python3`: OK.
#[test]
fn check_listen_ok() {
    let mut r = check(
        "listen",
        "LISTEN",
        State::Ok,
        "TCP port 8000: python3[4242] on 127.0.0.1 (loopback only)",
        vec![Perf::count("listeners", 1)],
        &[],
    );
    r.listen = Some(listen_facts(
        8000,
        Some(BindRule::Loopback),
        Some("python3"),
        vec![listener(
            "127.0.0.1",
            Exposure::Loopback,
            &[("python3", 4242)],
        )],
        Hidden::default(),
    ));
    pin_check("monitoring-check-listen-ok", r);
}

/// `check listen 80`: OK with several listeners, one long-output line each.
#[test]
fn check_listen_several() {
    let mut r = check(
        "listen",
        "LISTEN",
        State::Ok,
        "TCP port 80: nginx[1201],nginx[1202],+2 on 0.0.0.0 (all interfaces), \
         nginx[1201],nginx[1202],+2 on :: (all interfaces)",
        vec![Perf::count("listeners", 2)],
        &[
            "tcp nginx[1201],nginx[1202],+2 on 0.0.0.0 (all interfaces)",
            "tcp nginx[1201],nginx[1202],+2 on :: (all interfaces)",
        ],
    );
    let workers = [
        ("nginx", 1201),
        ("nginx", 1202),
        ("nginx", 1203),
        ("nginx", 1204),
    ];
    r.listen = Some(listen_facts(
        80,
        None,
        None,
        vec![
            listener("0.0.0.0", Exposure::AllInterfaces, &workers),
            listener("::", Exposure::AllInterfaces, &workers),
        ],
        Hidden::default(),
    ));
    pin_check("monitoring-check-listen-several", r);
}

/// `check listen 6379 --bind loopback`: CRITICAL, it listens on all interfaces.
#[test]
fn check_listen_critical_bind() {
    let mut r = check(
        "listen",
        "LISTEN",
        State::Critical,
        "TCP port 6379 listens on 0.0.0.0 (all interfaces, redis-server[4242]), not on loopback \
         only",
        vec![Perf::count("listeners", 1)],
        &[],
    );
    r.listen = Some(listen_facts(
        6379,
        Some(BindRule::Loopback),
        None,
        vec![listener(
            "0.0.0.0",
            Exposure::AllInterfaces,
            &[("redis-server", 4242)],
        )],
        Hidden::default(),
    ));
    pin_check("monitoring-check-listen-critical-bind", r);
}

/// `check listen 9229 --bind loopback`: WARNING, it listens on one LAN address (reachable only by
/// whoever can route to it).
#[test]
fn check_listen_warning_specific() {
    let mut r = check(
        "listen",
        "LISTEN",
        State::Warning,
        "TCP port 9229 listens on 192.168.1.20 (this address only, node[4243]), not on loopback \
         only",
        vec![Perf::count("listeners", 1)],
        &[],
    );
    r.listen = Some(listen_facts(
        9229,
        Some(BindRule::Loopback),
        None,
        vec![listener(
            "192.168.1.20",
            Exposure::Specific,
            &[("node", 4243)],
        )],
        Hidden::default(),
    ));
    pin_check("monitoring-check-listen-warning-specific", r);
}

/// `check listen 8001`: CRITICAL, nothing listens.
#[test]
fn check_listen_nothing() {
    let mut r = check(
        "listen",
        "LISTEN",
        State::Critical,
        "nothing listens on TCP port 8001",
        vec![Perf::count("listeners", 0)],
        &[],
    );
    r.listen = Some(listen_facts(8001, None, None, vec![], Hidden::default()));
    pin_check("monitoring-check-listen-nothing", r);
}

/// `check listen 8000 --process python3` as an unprivileged user: UNKNOWN, the owner is hidden;
/// the hidden-owner line follows.
#[test]
fn check_listen_unknown_hidden() {
    let hidden = hidden_as_user();
    let detail = format!(
        "{} socket(s) with a hidden owner: {}; {}",
        hidden.sockets, hidden.reason, hidden.hint
    );
    let mut r = check(
        "listen",
        "LISTEN",
        State::Unknown,
        "cannot see the owner of TCP port 8000 on 127.0.0.1, so cannot tell whether it is \
         python3; run as root (sudo portscope …)",
        vec![Perf::count("listeners", 1)],
        &[&detail],
    );
    r.listen = Some(listen_facts(
        8000,
        None,
        Some("python3"),
        vec![Listener {
            address: "127.0.0.1".into(),
            exposure: Exposure::Loopback,
            pids: vec![],
            processes: vec![],
            owner_hidden: true,
        }],
        hidden,
    ));
    pin_check("monitoring-check-listen-unknown-hidden", r);
}

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("a socket address")
}

fn range(text: &str, flag: &str) -> Range {
    Range::parse(text, flag).expect("a Nagios range")
}

/// The `time` perfdata item, as check_tcp writes it.
fn time_perf(secs: f64, warn: Option<&str>, crit: Option<&str>, timeout: f64) -> Perf {
    Perf {
        label: "time".into(),
        value: secs,
        uom: "s",
        warn: warn.map(str::to_string),
        crit: crit.map(str::to_string),
        min: Some(0.0),
        max: Some(timeout),
        decimals: Some(6),
    }
}

fn connect_facts(host: &str, port: u16, outcome: Outcome, time_seconds: f64) -> ConnectFacts {
    let address = addr(&format!("127.0.0.1:{port}"));
    ConnectFacts {
        host: host.into(),
        port,
        address: Some(address),
        addresses: vec![address],
        outcome,
        error: None,
        time_seconds,
        timeout_seconds: 10.0,
        warning: None,
        critical: None,
        expect: vec![],
        expect_all: false,
        expect_matched: None,
        banner: None,
    }
}

const SSH_BANNER: &str = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n";

/// `check connect localhost:2222 -w 0.5 -c 1 -e SSH`: OK with the banner; `localhost` tried
/// `::1` (refused) before `127.0.0.1`.
#[test]
fn check_connect_ok_banner() {
    let mut r = check(
        "connect",
        "TCP",
        State::Ok,
        "0.010 second response time on localhost port 2222 [SSH-2.0-OpenSSH_9.2p1 \
         Debian-2+deb12u10]",
        vec![time_perf(0.010_328, Some("0.5"), Some("1"), 10.0)],
        &[],
    );
    let mut facts = connect_facts("localhost", 2222, Outcome::Connected, 0.010_328);
    facts.addresses = vec![addr("[::1]:2222"), addr("127.0.0.1:2222")];
    facts.warning = Some(range("0.5", "-w"));
    facts.critical = Some(range("1", "-c"));
    facts.expect = vec!["SSH".into()];
    facts.expect_matched = Some(true);
    facts.banner = Some(SSH_BANNER.into());
    r.connect = Some(facts);
    pin_check("monitoring-check-connect-ok-banner", r);
}

/// `check connect 127.0.0.1:6379 -w 0.0000001`: WARNING on the response time alone.
#[test]
fn check_connect_warning_time() {
    let mut r = check(
        "connect",
        "TCP",
        State::Warning,
        "0.000 second response time on 127.0.0.1 port 6379",
        vec![time_perf(0.000_063, Some("0.0000001"), None, 10.0)],
        &[],
    );
    let mut facts = connect_facts("127.0.0.1", 6379, Outcome::Connected, 0.000_063);
    facts.warning = Some(range("0.0000001", "-w"));
    r.connect = Some(facts);
    pin_check("monitoring-check-connect-warning-time", r);
}

/// `check connect 127.0.0.1:2222 --expect 220`: WARNING, the banner is not the one expected
/// (its `\r\n` made safe on the status line, whole in JSON).
#[test]
fn check_connect_warning_mismatch() {
    let mut r = check(
        "connect",
        "TCP",
        State::Warning,
        "Unexpected response from 127.0.0.1 port 2222: SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10 \
         (expected '220')",
        vec![time_perf(2.008_726, None, None, 10.0)],
        &[],
    );
    let mut facts = connect_facts("127.0.0.1", 2222, Outcome::Connected, 2.008_726);
    facts.expect = vec!["220".into()];
    facts.expect_matched = Some(false);
    facts.banner = Some(SSH_BANNER.into());
    r.connect = Some(facts);
    pin_check("monitoring-check-connect-warning-mismatch", r);
}

/// `check connect 127.0.0.1:8001`: CRITICAL, refused; no perfdata.
#[test]
fn check_connect_refused() {
    let mut r = check(
        "connect",
        "TCP",
        State::Critical,
        "connect to address 127.0.0.1 and port 8001: Connection refused",
        vec![],
        &[],
    );
    let mut facts = connect_facts("127.0.0.1", 8001, Outcome::Refused, 0.000_211);
    facts.error = Some("Connection refused (os error 111)".into());
    r.connect = Some(facts);
    pin_check("monitoring-check-connect-refused", r);
}

/// `check connect 10.0.0.9:5432 -t 1`: CRITICAL, no connection within the timeout.
#[test]
fn check_connect_timeout() {
    let mut r = check(
        "connect",
        "TCP",
        State::Critical,
        "Socket timeout after 1 seconds connecting to 10.0.0.9 port 5432",
        vec![],
        &[],
    );
    let mut facts = connect_facts("10.0.0.9", 5432, Outcome::TimedOut, 1.000_734);
    facts.address = Some(addr("10.0.0.9:5432"));
    facts.addresses = vec![addr("10.0.0.9:5432")];
    facts.timeout_seconds = 1.0;
    r.connect = Some(facts);
    pin_check("monitoring-check-connect-timeout", r);
}

/// `check connect 127.0.0.1:8000 -w 10:5`: a bad argument is `PORTSCOPE UNKNOWN`, with no facts.
#[test]
fn check_connect_bad_range() {
    let err = Range::parse("10:5", "-w").expect_err("the start is greater than the end");
    let summary = portscope::commands::check::safe(&err.to_string());
    let r = check(
        "connect",
        "PORTSCOPE",
        State::Unknown,
        &summary,
        vec![],
        &[],
    );
    pin_check("monitoring-check-connect-bad-range", r);
}

fn audit_facts(findings: Vec<AuditFinding>, allowed: usize, hidden: Hidden) -> AuditFacts {
    let count = |s: Severity| findings.iter().filter(|f| f.finding.severity == s).count();
    AuditFacts {
        critical: count(Severity::Critical),
        warning: count(Severity::Warning),
        info: count(Severity::Info),
        allowed,
        listeners: 9,
        findings,
        hidden,
    }
}

fn severity_perf(critical: usize, warning: usize, info: usize) -> Vec<Perf> {
    vec![
        Perf::count("critical", critical),
        Perf::count("warning", warning),
        Perf::count("info", info),
    ]
}

/// `check audit`: CRITICAL naming the top three, `+1 more`, the allowed and hidden counts; one
/// long-output line per finding, then the hidden-owner line.
#[test]
fn check_audit_critical() {
    let report = audit_report();
    let hidden = report.hidden.clone();
    let hidden_line = format!(
        "{} socket(s) with a hidden owner: {}; {}",
        hidden.sockets, hidden.reason, hidden.hint
    );
    let mut r = check(
        "audit",
        "AUDIT",
        State::Critical,
        "2 critical, 2 warning: AUD-EXPOSED-DATASTORE on 6379/tcp, AUD-EXPOSED-DEBUGGER on \
         9229/tcp, AUD-DEBUGGER-LOOPBACK on 5005/tcp (+1 more); 1 allowed; 1 socket(s) with a \
         hidden owner",
        severity_perf(2, 2, 1),
        &[
            "[critical] AUD-EXPOSED-DATASTORE on 6379/tcp 0.0.0.0 redis-server[4242]: Redis \
             (redis-server[4242]) answers without a password on all interfaces (0.0.0.0:6379): \
             anyone who can reach this machine can read and change its data",
            "[critical] AUD-EXPOSED-DEBUGGER on 9229/tcp 0.0.0.0 node[4243]: Node.js inspector \
             (node[4243]) listens on all interfaces (0.0.0.0:9229): anyone who can reach this \
             machine can run code as user dev",
            "[warning] AUD-DEBUGGER-LOOPBACK on 5005/tcp 127.0.0.1 java[4250]: JDWP debug agent \
             (java[4250]) listens on 127.0.0.1:5005: any local user or process can attach and \
             run code as user dev",
            "[warning] AUD-UNIX-WORLD-WRITABLE on /run/acme/agent.sock acme-agent[812]: \
             /run/acme/agent.sock: a unix socket of a root process (acme-agent[812] (user root)) \
             is writable by every user",
            "[info] AUD-EXPOSED-SERVICE on 2024/tcp 0.0.0.0: an unidentified service (owner \
             hidden) listens on all interfaces (0.0.0.0:2024)",
            &hidden_line,
        ],
    );
    r.audit = Some(audit_facts(report.findings, report.allowed.len(), hidden));
    pin_check("monitoring-check-audit-critical", r);
}

/// `check audit`: WARNING when the worst finding is a warning.
#[test]
fn check_audit_warning() {
    let mut r = check(
        "audit",
        "AUDIT",
        State::Warning,
        "1 warning: AUD-DEBUGGER-LOOPBACK on 5005/tcp",
        severity_perf(0, 1, 0),
        &[
            "[warning] AUD-DEBUGGER-LOOPBACK on 5005/tcp 127.0.0.1 java[4250]: JDWP debug agent \
             (java[4250]) listens on 127.0.0.1:5005: any local user or process can attach and \
             run code as user dev",
        ],
    );
    r.audit = Some(audit_facts(vec![jdwp_loopback()], 0, Hidden::default()));
    pin_check("monitoring-check-audit-warning", r);
}

/// `check audit`: OK with only an informational finding (counted in the text).
#[test]
fn check_audit_ok_info() {
    let mut r = check(
        "audit",
        "AUDIT",
        State::Ok,
        "1 informational finding(s) on 9 listening socket(s)",
        severity_perf(0, 0, 1),
        &[
            "[info] AUD-EXPOSED-SERVICE on 2024/tcp 0.0.0.0: an unidentified service (owner \
             hidden) listens on all interfaces (0.0.0.0:2024)",
        ],
    );
    r.audit = Some(audit_facts(vec![hidden_service()], 0, Hidden::default()));
    pin_check("monitoring-check-audit-ok-info", r);
}

/// `check audit`: OK, no findings.
#[test]
fn check_audit_clean() {
    let mut r = check(
        "audit",
        "AUDIT",
        State::Ok,
        "no findings on 9 listening socket(s)",
        severity_perf(0, 0, 0),
        &[],
    );
    r.audit = Some(audit_facts(vec![], 0, Hidden::default()));
    pin_check("monitoring-check-audit-clean", r);
}

// ---------------------------------------------------------------------------------------------
// `exporter`

fn exporter_report(mode: Mode) -> ExporterReport {
    ExporterReport {
        mode,
        listen: None,
        collections: 0,
        responses: 0,
        stopped_by: None,
        textfile: None,
        samples: 0,
        bytes: 0,
        failed: vec![],
    }
}

/// The server stopped by SIGINT: its report (nothing in the table: the exporter's output is
/// its metrics).
#[test]
fn exporter_server() {
    let mut r = exporter_report(Mode::Server);
    r.listen = Some(addr("127.0.0.1:9797"));
    r.collections = 42;
    r.responses = 57;
    r.stopped_by = Some("SIGINT".into());
    pin("monitoring-exporter-server", &Report::Exporter(Box::new(r)));
}

/// `--textfile`: the file written.
#[test]
fn exporter_textfile() {
    let mut r = exporter_report(Mode::Textfile);
    r.textfile = Some("/var/lib/prometheus/node-exporter/portscope.prom".into());
    r.samples = 55;
    r.bytes = 6107;
    pin(
        "monitoring-exporter-textfile",
        &Report::Exporter(Box::new(r)),
    );
}

/// `--textfile` with a collector that failed (exit 3; the file is still written: the text of
/// `monitoring-exporter-metrics-collector-failed`).
#[test]
fn exporter_textfile_failed() {
    let mut r = exporter_report(Mode::Textfile);
    r.textfile = Some("/var/lib/prometheus/node-exporter/portscope.prom".into());
    r.samples = 32;
    r.bytes = 3829;
    r.failed = vec![CollectorError {
        collector: Collector::Audit,
        error: "netlink sock_diag: the kernel refused the dump: Operation not permitted (os \
                error 1)"
            .into(),
    }];
    pin(
        "monitoring-exporter-textfile-failed",
        &Report::Exporter(Box::new(r)),
    );
}

fn series(
    port: u16,
    proto: Proto,
    address: &str,
    exposure: Exposure,
    process: Holder,
) -> ListenerSeries {
    ListenerSeries {
        port,
        proto,
        address: address.into(),
        exposure,
        process,
    }
}

/// One scrape of a server, built as `collect::collect` builds it from fixed values.
fn metrics() -> Metrics {
    let named = |n: &str| Holder::Process(n.into());
    let tcp = |state: SockState| match state {
        SockState::Established => 4,
        SockState::TimeWait => 78,
        SockState::Listen => 7,
        SockState::CloseWait => 1,
        _ => 0,
    };
    let mut sockets: Vec<StateCount> = SockState::ALL
        .iter()
        .map(|&state| StateCount {
            proto: Proto::Tcp,
            state,
            count: tcp(state),
        })
        .collect();
    sockets.push(StateCount {
        proto: Proto::Udp,
        state: SockState::Established,
        count: 0,
    });
    sockets.push(StateCount {
        proto: Proto::Udp,
        state: SockState::Close,
        count: 2,
    });
    let report = audit_report();
    let allowed: Vec<AuditFinding> = report.allowed.iter().map(|a| a.finding.clone()).collect();
    Metrics {
        listeners: vec![
            series(
                22,
                Proto::Tcp,
                "0.0.0.0",
                Exposure::AllInterfaces,
                named("sshd"),
            ),
            series(22, Proto::Tcp, "::", Exposure::AllInterfaces, named("sshd")),
            series(
                68,
                Proto::Udp,
                "0.0.0.0",
                Exposure::AllInterfaces,
                Holder::Nobody,
            ),
            series(
                2024,
                Proto::Tcp,
                "0.0.0.0",
                Exposure::AllInterfaces,
                Holder::Hidden,
            ),
            series(
                5005,
                Proto::Tcp,
                "127.0.0.1",
                Exposure::Loopback,
                named("java"),
            ),
            series(
                6379,
                Proto::Tcp,
                "0.0.0.0",
                Exposure::AllInterfaces,
                named("redis-server"),
            ),
            series(
                9229,
                Proto::Tcp,
                "0.0.0.0",
                Exposure::AllInterfaces,
                named("node"),
            ),
            series(
                9797,
                Proto::Tcp,
                "127.0.0.1",
                Exposure::Loopback,
                named("portscope"),
            ),
        ],
        sockets,
        hidden_sockets: Some(1),
        hidden_processes: Some(1),
        findings: collect::with_every_rule(collect::finding_counts(&report.findings)),
        finding_series: collect::finding_series(&report.findings),
        allowed: collect::finding_counts(&allowed),
        collectors: vec![
            CollectorRun {
                collector: Collector::Listeners,
                seconds: 0.004_127,
                error: None,
            },
            CollectorRun {
                collector: Collector::Sockets,
                seconds: 0.001_305,
                error: None,
            },
            CollectorRun {
                collector: Collector::Audit,
                seconds: 0.006_388,
                error: None,
            },
        ],
        errors_total: Some([0, 0, 0]),
        seconds: 0.011_820,
    }
}

/// `/metrics` of a server: every family, label escaping of nothing unusual, every rule counted.
#[test]
fn exporter_metrics() {
    let text = portscope::render::prometheus::metrics(&metrics());
    pin_text("monitoring-exporter-metrics", &text);
}

/// `--textfile` with the audit collector failed: its series are missing, its success is 0, and
/// a one-shot file has no errors counter.
#[test]
fn exporter_metrics_collector_failed() {
    let mut m = metrics();
    m.findings.clear();
    m.finding_series.clear();
    m.allowed.clear();
    m.errors_total = None;
    if let Some(audit) = m.collectors.last_mut() {
        audit.error = Some(
            "netlink sock_diag: the kernel refused the dump: Operation not permitted (os error \
             1)"
            .into(),
        );
    }
    let text = portscope::render::prometheus::metrics(&m);
    pin_text("monitoring-exporter-metrics-collector-failed", &text);
}
