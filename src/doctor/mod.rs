//! `portscope doctor`: why a port does not work, with the evidence and the fix.
//!
//! The doctor first *tries* (a short TCP connect to every address the client would dial),
//! gathers what the kernel knows about the port (every TCP socket on it and near it, with
//! owners in full), then runs rules. Each rule is a small pure function over that [`Context`]
//! in its own file, returning [`Finding`]s; the most serious come first.

use crate::sys::attempt;
mod backend;
mod bind;
mod client;
pub mod container;
mod exchange;
mod holder;
mod rules;
pub mod wider;

use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;

use crate::error::Result;
use crate::model::{Finding, Proto, Severity, Snapshot, Socket};
use crate::snapshot::{self, Owners, Request};
use crate::sys::SocketQuery;
use crate::sys::procfs::Detail;
use crate::sys::sysctl::{self, Resolution};
use crate::target::{Host, Target};
pub use attempt::{Attempt, BindAttempt, BindOutcome, HttpAttempt, HttpOutcome, Outcome};
pub use bind::bind;
pub use exchange::{Checked, SPEAKS_HTTP, request};

/// How far around the port to look for "the same program moved to the next port".
pub const NEARBY: u16 = 10;

/// Everything the rules may look at. Gathered once; rules do no I/O.
#[derive(Debug)]
pub struct Context {
    /// What the user asked about.
    pub target: Target,
    /// The port.
    pub port: u16,
    /// Connect attempts, one per address a client would dial, in dialing order.
    pub attempts: Vec<Attempt>,
    /// How the host name resolves here (for `localhost` and other names).
    pub resolution: Option<Resolution>,
    /// For a name: what each family of clients would dial, and reach.
    pub clients: Vec<crate::knowledge::clients::ClientView>,
    /// TCP sockets on ports `port - NEARBY ..= port + NEARBY`, with owners in full.
    pub snapshot: Snapshot,
    /// `--bind`: test binds, without and with `SO_REUSEADDR`.
    pub binds: Vec<BindAttempt>,
    /// `--bind`: the port sysctls read now (privileged-port limit, IPv6 switch).
    pub sysctls: sysctl::PortSysctls,
    /// `--bind`: whether portscope itself holds `CAP_NET_BIND_SERVICE` (as the program would
    /// when started the same way).
    pub cap_net_bind_service: Option<bool>,
    /// portscope's working directory (an earlier copy of the user's program often shares it).
    pub cwd: Option<String>,
    /// Connect mode, when nothing listens here: listeners on the port in other network
    /// namespaces, and how many processes' namespaces could not be read.
    pub foreign: (Vec<crate::sys::netns::ForeignListener>, usize),
    /// Connect mode, when an attempt failed: firewall rules that drop or reject the port,
    /// and hooked chains whose default policy drops it.
    pub firewall: Vec<crate::sys::firewall::BlockingRule>,
    /// Connect mode, when an attempt failed: which firewall tools were read, and chains whose
    /// answer could not be told.
    pub firewall_notes: crate::sys::firewall::Notes,
    /// For an `http://`/`https://` target: the clients that would send the request to a
    /// proxy (from the environment's proxy variables), and the `no_proxy` list they read.
    pub proxies: Vec<crate::knowledge::proxy::Route>,
    /// The `no_proxy` (else `NO_PROXY`) value, when set.
    pub no_proxy: Option<(String, String)>,
    /// Whose environment the proxy variables came from (`None`: portscope's own).
    pub env_from: Option<u32>,
    /// One GET as a client sends it, and its answer: for an `http(s)://` URL that
    /// connected, and for a port that speaks HTTP.
    pub http: Option<HttpAttempt>,
    /// For a request over TLS: the certificate the server showed, and whether clients that
    /// verify it accept it.
    #[cfg(feature = "probe")]
    pub tls: Option<exchange::TlsSeen>,
    /// Connect mode, when nothing listens: unix sockets and processes that name the port.
    pub wider: wider::Wider,
    /// Whether the loopback interface `lo` is up in this network namespace.
    pub loopback_up: Option<bool>,
    /// Inodes of the port's IPv6 listeners that take IPv6 only (`IPV6_V6ONLY`, as the kernel
    /// reports it); `None` when the kernel could not be asked (`[::]` then counts as dual-stack).
    pub v6only: Option<Vec<u64>>,
    /// What the port speaks (read-only probe of the first address that connected), unless a
    /// URL's request was answered.
    #[cfg(feature = "probe")]
    pub spoken: Option<crate::probe::engine::PortProbe>,
    /// Connect mode, when nothing listens: the last listener the history store recorded on
    /// the port (`portscope daemon`), if there is a store.
    #[cfg(feature = "history")]
    pub past: Option<crate::store::history::PastHolder>,
    /// Connect mode, when the exchange failed: the connect to where each `docker-proxy` on
    /// the port forwards (its container's address), made as the proxy makes it.
    pub backends: Vec<backend::Backend>,
    /// What the container engines and the NAT rules say about the port (and, with
    /// `--from-container`, the client's container).
    pub containers: container::Containers,
    /// `--bind`, when the port is in use: what supervises the sockets holding it (a unit
    /// that restarts the holder, a `.socket` unit, a socket-activation manager), by inode.
    pub supervisors: std::collections::HashMap<u64, crate::supervisors::Supervisor>,
}

impl Context {
    /// The first address a connect attempt reached.
    pub fn first_connected(&self) -> Option<std::net::SocketAddr> {
        self.attempts
            .iter()
            .find(|a| a.outcome == Outcome::Connected)
            .map(|a| a.addr)
    }

    /// Whether the exchange shows that nothing serves the port: the request got no byte,
    /// or the probe got not a byte to any of its questions.
    pub fn unserved(&self) -> bool {
        if self
            .http
            .as_ref()
            .is_some_and(|h| h.outcome == HttpOutcome::NoAnswer)
        {
            return true;
        }
        #[cfg(feature = "probe")]
        if self.spoken.as_ref().is_some_and(|p| p.silent()) {
            return true;
        }
        false
    }

    /// Listening TCP sockets on exactly the port.
    pub fn listeners(&self) -> impl Iterator<Item = &Socket> {
        self.snapshot
            .sockets
            .iter()
            .filter(|s| s.is_listening() && s.port() == Some(self.port))
    }

    /// The owner of a socket as `comm[pid]`, or why there is none.
    pub fn owner_label(&self, s: &Socket) -> String {
        match s.pids.first().and_then(|p| self.snapshot.process(*p)) {
            Some(p) => format!("{}[{}]", p.comm, p.pid),
            None if s.owner_hidden => "a process you may not inspect".into(),
            None => "no process".into(),
        }
    }
}

/// The doctor's answer.
#[derive(Debug, Clone, Serialize)]
pub struct DoctorReport {
    /// What was diagnosed.
    pub target: Target,
    /// True when the client's exchange succeeded (an HTTP request answered, or the port's
    /// protocol identified) and no rule found a critical problem.
    pub works: bool,
    /// What the verdict rests on: `request`, `protocol`, `connect` (the protocol is unknown,
    /// so no request was tried: `works` is false) or `bind`.
    pub checked: Checked,
    /// The protocol the port was seen to speak (`http (Python http.server)`), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// One sentence: the verdict.
    pub verdict: String,
    /// `connect` ("why can't I connect?") or `bind` ("why can't my program listen?").
    pub mode: &'static str,
    /// What the connect attempts did (connect mode).
    pub attempts: Vec<Attempt>,
    /// For a name (a bare port means `localhost`): the resolver's answer and `/etc/hosts`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    /// For a name: what each family of clients dials, and the address it would reach.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<crate::knowledge::clients::ClientView>,
    /// What the test binds did (bind mode).
    pub binds: Vec<BindAttempt>,
    /// The HTTP request a client would send, and how it was answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpAttempt>,
    /// Findings, most serious first.
    pub findings: Vec<Finding>,
}

impl DoctorReport {
    /// A connect-mode diagnosis that could not decide: an address accepted TCP connections
    /// and nothing is known to be wrong, but the protocol is unknown, so no request was
    /// tried (`doctor` exits 3).
    pub fn undecided(&self) -> bool {
        !self.works
            && self.checked == Checked::Connect
            && self
                .attempts
                .iter()
                .any(|a| a.outcome == Outcome::Connected)
            && !self
                .findings
                .iter()
                .any(|f| f.severity == Severity::Critical)
    }
}

/// The addresses clients dial for a target: the resolver's answer in its order, and for
/// `localhost` (a bare port means it) both loopback addresses, which curl and browsers use
/// whatever the resolver says (RFC 6761).
fn dial_addresses(target: &Target) -> Result<(Vec<IpAddr>, Option<Resolution>)> {
    let name = match target {
        Target::Addr {
            host: Host::Ip(ip), ..
        } => return Ok((vec![*ip], None)),
        Target::Addr {
            host: Host::Name(name),
            ..
        } => name.as_str(),
        _ => "localhost",
    };
    let res = snapshot::resolve_name(name)?;
    let addrs = crate::knowledge::clients::as_curl_dials(name, &res.addresses);
    Ok((addrs, Some(res)))
}

/// The one port a target names, or a bad-input error.
fn one_tcp_port(target: &Target) -> Result<u16> {
    let Some((port, _)) = target.port_range().filter(|(lo, hi)| lo == hi) else {
        return Err(crate::error::Error::bad_input(
            format!("doctor needs one port, not {target}"),
            "expected e.g. 3000, 127.0.0.1:3000, localhost:3000 or http://localhost:3000/",
        ));
    };
    if target.proto() == Some(Proto::Udp) {
        return Err(crate::error::Error::bad_input(
            format!("{target} is UDP"),
            "doctor diagnoses TCP: expected e.g. 3000 or 127.0.0.1:3000",
        ));
    }
    Ok(port)
}

/// Sockets on and around the port, owners in full, and the rest of the context.
fn gather(
    target: Target,
    port: u16,
    attempts: Vec<Attempt>,
    binds: Vec<BindAttempt>,
    resolution: Option<Resolution>,
) -> Result<Context> {
    let snapshot = snapshot::take(&Request {
        sockets: SocketQuery {
            udp: false,
            port_range: Some((
                port.saturating_sub(NEARBY).max(1),
                port.saturating_add(NEARBY),
            )),
            ..SocketQuery::default()
        },
        owners: Owners::Targeted,
        detail: Detail::Full,
        threads: 0,
    })?;
    Ok(Context {
        target,
        port,
        attempts,
        resolution,
        clients: Vec::new(),
        snapshot,
        binds,
        sysctls: sysctl::port_sysctls(),
        cap_net_bind_service: crate::sys::procfs::has_effective_cap(10),
        cwd: std::env::current_dir()
            .ok()
            .map(|d| d.to_string_lossy().into_owned()),
        #[cfg(feature = "probe")]
        spoken: None,
        proxies: Vec::new(),
        no_proxy: None,
        env_from: None,
        http: None,
        #[cfg(feature = "probe")]
        tls: None,
        loopback_up: sysctl::interface_up("lo"),
        v6only: crate::sys::sock_diag::v6only_listeners(port).ok(),
        foreign: (Vec::new(), 0),
        firewall: Vec::new(),
        firewall_notes: Default::default(),
        wider: Default::default(),
        #[cfg(feature = "history")]
        past: None,
        backends: Vec::new(),
        containers: Default::default(),
        supervisors: Default::default(),
    })
}

/// Who the client is: whose environment holds its proxy settings, and the container it
/// runs in.
#[derive(Debug, Clone, Copy, Default)]
pub struct Client<'a> {
    /// Judge proxies with this process's environment (`None`: portscope's own).
    pub env_from: Option<u32>,
    /// The client runs in this container (name or id): look at the port from inside it.
    pub from_container: Option<&'a str>,
}

/// Told as each step of a diagnosis begins: what it does, its number from 0, how many.
pub type Step<'a> = &'a (dyn Fn(&'static str, usize, usize) + Sync);

/// The steps of [`connect`], in order, as [`Step`] names them.
const STEPS: [&str; 5] = [
    "dialling as clients do",
    "asking the server",
    "reading sockets and processes",
    "looking wider (namespaces, containers, history)",
    "reading the firewall",
];

/// Diagnose why connecting to `target` fails (or confirm that it works). `state_dir` holds
/// the history store (read only with the `history` feature); `step` hears as each step
/// begins.
#[cfg_attr(not(feature = "history"), allow(unused_variables))]
pub fn connect(
    target: Target,
    timeout: Duration,
    client: Client<'_>,
    state_dir: Option<&std::path::Path>,
    step: Step,
) -> Result<DoctorReport> {
    let Client {
        env_from,
        from_container,
    } = client;
    let port = one_tcp_port(&target)?;
    let (addrs, resolution) = dial_addresses(&target)?;
    let at = |n: usize| step(STEPS[n], n, STEPS.len());
    at(0);
    // All addresses at once, so that a dropping firewall costs one timeout, not one per
    // address. The exchange that follows sees a server that closes at once: no need to wait
    // for that after each handshake.
    #[cfg_attr(not(feature = "probe"), allow(unused_mut))]
    let mut attempts: Vec<Attempt> = std::thread::scope(|s| {
        let dials: Vec<_> = addrs
            .iter()
            .map(|ip| {
                let addr = std::net::SocketAddr::new(*ip, port);
                (
                    addr,
                    s.spawn(move || attempt::connect_watching(addr, timeout, false)),
                )
            })
            .collect();
        dials
            .into_iter()
            .map(|(addr, dial)| {
                dial.join().unwrap_or_else(|_| Attempt {
                    addr,
                    outcome: Outcome::Failed,
                    error: Some("the connect attempt's thread panicked".into()),
                    elapsed_ms: 0.0,
                })
            })
            .collect()
    });
    let env = client::client_env(env_from)?;
    at(1);
    let first = attempts
        .iter()
        .find(|a| a.outcome == Outcome::Connected)
        .map(|a| a.addr);
    // Before the snapshot, so that the accept queue shows connections nobody accepted.
    let exchange = exchange::exchange(&target, first);
    #[cfg(feature = "probe")]
    if let Some(a) = attempts.iter_mut().find(|a| {
        exchange
            .spoken
            .as_ref()
            .is_some_and(|p| p.closed_at_once() && p.addr == a.addr)
    }) {
        a.outcome = Outcome::ClosedAtOnce;
    }
    let checked = exchange.checked();
    let protocol = exchange.protocol();
    at(2);
    let mut ctx = gather(target, port, attempts, Vec::new(), resolution)?;
    if let Some(res) = &ctx.resolution {
        let attempts = &ctx.attempts;
        ctx.clients = crate::knowledge::clients::views(&res.name, &res.addresses, |ip| {
            attempts
                .iter()
                .any(|a| a.addr.ip() == ip && a.outcome == Outcome::Connected)
        });
    }
    ctx.env_from = env_from;
    client::proxy_routes(&mut ctx, &env);
    ctx.http = exchange.http;
    #[cfg(feature = "probe")]
    {
        ctx.spoken = exchange.spoken;
        ctx.tls = exchange.tls;
    }
    at(3);
    if ctx.listeners().next().is_none() {
        ctx.foreign = crate::sys::netns::foreign_listeners(port);
        ctx.wider = wider::look(port);
        #[cfg(feature = "history")]
        {
            ctx.past = crate::store::history::last_recorded(&ctx.target, state_dir);
        }
    }
    ctx.backends = backend::gather(&ctx);
    ctx.containers = container::gather(&ctx, from_container)?;
    let failed: Vec<IpAddr> = ctx
        .attempts
        .iter()
        .filter(|a| a.outcome != Outcome::Connected)
        .map(|a| a.addr.ip())
        .collect();
    if needs_firewall(&ctx, &failed) {
        at(4);
        let fw = crate::sys::firewall::read(port, &failed);
        (ctx.firewall, ctx.firewall_notes) = (fw.blocking, fw.notes);
    }
    step("", STEPS.len(), STEPS.len());
    let mut findings = findings(&ctx, rules::CONNECT);
    // Nothing explains a failure: say what was looked at (most serious, so first).
    findings.splice(0..0, rules::unexplained::check(&ctx, &findings));
    let connected = ctx.attempts.iter().any(|a| a.outcome == Outcome::Connected);
    let sound = connected && !findings.iter().any(|f| f.severity == Severity::Critical);
    let works = sound && checked != Checked::Connect;
    let by: Vec<String> = ctx.listeners().map(|s| ctx.owner_label(s)).collect();
    let by = if by.is_empty() {
        String::new()
    } else {
        format!(" (held by {})", by.join(", "))
    };
    let verdict = if works {
        let answer = match (&ctx.http, &protocol) {
            (Some(h), _) if h.outcome == HttpOutcome::Answered => format!(
                "{} answered {}",
                h.request.split(" HTTP/").next().unwrap_or("GET /"),
                h.first_line.as_deref().unwrap_or("?")
            ),
            (_, Some(p)) => format!("it answers as {p}"),
            _ => "it answers".into(),
        };
        format!("{} works: {answer}{by}", ctx.target)
    } else if sound {
        undecided_verdict(&ctx, &by)
    } else {
        verdict(&ctx, &findings)
    };
    Ok(report(
        ctx,
        ("connect", checked, protocol),
        works,
        verdict,
        findings,
    ))
}

/// Whether a failed attempt could be the firewall's doing: not when every failure is a
/// refusal at an address no listener here receives (the other loopback family of a
/// healthy server), which the listeners already explain. Reading the rules runs `nft` and
/// `iptables-save`, so a healthy diagnosis skips it.
fn needs_firewall(ctx: &Context, failed: &[IpAddr]) -> bool {
    if failed.is_empty() {
        return false;
    }
    let listeners: Vec<&Socket> = ctx.listeners().collect();
    if listeners.is_empty() {
        return true;
    }
    ctx.attempts
        .iter()
        .filter(|a| failed.contains(&a.addr.ip()))
        .any(|a| {
            a.outcome != Outcome::Refused
                || listeners.iter().any(|s| {
                    s.local
                        .ip()
                        .is_some_and(|b| crate::knowledge::addr_class::receives_for(b, a.addr.ip()))
                })
        })
}

fn findings(ctx: &Context, rules: &[rules::Rule]) -> Vec<Finding> {
    let mut found: Vec<Finding> = rules.iter().flat_map(|rule| rule(ctx)).collect();
    found.sort_by_key(|f| std::cmp::Reverse(f.severity));
    found
}

/// The report; `how` is the mode, what the verdict rests on and the protocol spoken.
fn report(
    ctx: Context,
    how: (&'static str, Checked, Option<String>),
    works: bool,
    verdict: String,
    findings: Vec<Finding>,
) -> DoctorReport {
    let (mode, checked, protocol) = how;
    DoctorReport {
        target: ctx.target,
        works,
        checked,
        protocol,
        verdict,
        mode,
        attempts: ctx.attempts,
        resolution: ctx.resolution,
        clients: ctx.clients,
        binds: ctx.binds,
        http: ctx.http,
        findings,
    }
}

/// Connected, nothing known to be wrong, protocol unknown: say what was checked.
fn undecided_verdict(ctx: &Context, by: &str) -> String {
    let target = &ctx.target;
    let test = "give the URL a client uses to test a request (portscope doctor http://…)";
    #[cfg(feature = "probe")]
    if let Some(p) = &ctx.spoken {
        if p.silent() {
            return format!(
                "{target} accepts TCP connections{by} but answered none of {} read-only questions ({}) in {:.0} ms: it speaks a protocol portscope does not know, or hangs before answering; {test}",
                p.probes.len(),
                p.probes.join(", "),
                p.elapsed_ms
            );
        }
        if !p.evidence.is_empty() {
            return format!(
                "{target} accepts TCP connections{by} and answers, in a protocol portscope does not know (first bytes: {}), so no request was tried; {test}",
                p.evidence
            );
        }
    }
    format!(
        "{target} accepts TCP connections{by}, but its protocol is unknown, so no request was tried; {test}"
    )
}

fn verdict(ctx: &Context, findings: &[Finding]) -> String {
    match findings.first() {
        Some(f) => f.title.clone(),
        None => format!(
            "{} does not work, and no rule explains why: see the attempts below",
            ctx.target
        ),
    }
}
