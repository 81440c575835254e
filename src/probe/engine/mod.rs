//! The prober's I/O: connect, read before write, run the protocol tables in the order the
//! owning process and the port suggest, complete a TLS handshake when the port speaks TLS,
//! and bound everything — connect, each read, bytes per connection, total time per port.
//!
//! A hostile or broken server (silent, trickling, endless, garbage, resets) costs at most the
//! port's deadline and [`Limits::max_bytes`] of memory per connection.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::tls_client::{Session, client_config, handshake, session_facts};
use super::{
    Hints, Identification, Limits, PRINTER_PORTS, Probe, Send, TlsFacts, TlsUse, Verdict, banner,
    binary, evidence, http, more, products, services, tls,
};

/// What happened when portscope tried the port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PortState {
    /// It accepted a connection.
    Open,
    /// Connection refused: nothing listens there.
    Refused,
    /// The connect did not complete in time (filtered, or an overloaded backlog).
    Timeout,
    /// Another error (unreachable, reset during connect, …).
    Error,
}

/// The outcome for one address.
#[derive(Debug, Clone, Serialize)]
pub struct PortProbe {
    /// The address probed (reports carry it as `addr` + `port`).
    #[serde(skip)]
    pub addr: SocketAddr,
    /// Connect outcome.
    pub state: PortState,
    /// What speaks there, if identified.
    pub identification: Option<Identification>,
    /// TLS facts when a handshake completed.
    pub tls: Option<TlsFacts>,
    /// The first bytes the server sent (escaped), as evidence.
    pub evidence: String,
    /// Names of the probes tried, in order.
    pub probes: Vec<&'static str>,
    /// Wall time spent on this address, milliseconds.
    pub elapsed_ms: f64,
    /// Why probing stopped early, if it did (deadline, printer port, error text).
    pub note: Option<String>,
}

/// What portscope knows about a port before touching it: the owning process's name and
/// command line, used to try the likely protocol first.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Owner `comm` and arguments (lower-cased substrings are matched against probe hints).
    pub process_words: Vec<String>,
    /// Server name to send in TLS SNI (a host name the user typed, else `localhost`).
    pub sni: Option<String>,
    /// Probe over UDP instead of TCP (the [`super::udp`] table).
    pub udp: bool,
}

impl Context {
    /// The words probe hints are matched against: the owner's `comm` and arguments, lower-cased.
    pub fn process_words(p: &crate::model::Process) -> Vec<String> {
        std::iter::once(&p.comm)
            .chain(&p.cmdline)
            .map(|w| w.to_ascii_lowercase())
            .filter(|w| !w.is_empty())
            .collect()
    }
}

/// Every probe of every family, first-line and refinements.
fn all_probes() -> impl Iterator<Item = &'static Probe> {
    banner::PROBES
        .iter()
        .chain(binary::PROBES)
        .chain(http::PROBES)
        .chain(tls::PROBES)
        .chain(more::PROBES)
        .chain(services::PROBES)
        .chain(super::h2::PROBES)
        .chain(products::PROBES)
}

/// The rank of a probe for this port: process hint 0, port hint 1, generic 2 (HTTP first
/// among the generic ones, being by far the most common).
fn rank(p: &Probe, port: u16, ctx: &Context) -> (u8, u8) {
    let http_first = u8::from(!matches!(p.send, Send::HttpGet(_)));
    (tier(&p.hints, port, ctx), http_first)
}

/// Process hint 0, port hint 1, generic 2 (TCP and UDP tables alike).
fn tier(hints: &Hints, port: u16, ctx: &Context) -> u8 {
    let by_process = hints
        .processes
        .iter()
        .any(|h| ctx.process_words.iter().any(|w| hint_matches(h, w)));
    if by_process {
        0
    } else if hints.ports.contains(&port) {
        1
    } else {
        2
    }
}

/// Whether a process hint names this word of a command line. A one-word hint (`redis`,
/// `X`, `master`) must be a whole token of the word, optionally followed by digits
/// (`python3`), so `X` does not match every path with an x in it and `master` does not match
/// `postmaster`; a hint with punctuation (`--inspect`, `redis-server`) may appear anywhere.
fn hint_matches(hint: &str, word: &str) -> bool {
    let hint = hint.to_ascii_lowercase();
    let word = word.to_ascii_lowercase();
    if !hint.chars().all(|c| c.is_ascii_alphanumeric()) {
        return word.contains(&hint);
    }
    word.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|token| {
            token
                .strip_prefix(hint.as_str())
                .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit()))
        })
}

/// How long to listen before sending: [`Limits::greeting_wait`] when the port or the owning
/// process names a protocol whose server speaks first (some VNC servers greet 130–230 ms after
/// the accept, later than the usual banner wait), else [`Limits::banner_wait`].
fn banner_wait(port: u16, ctx: &Context, limits: &Limits) -> Duration {
    let greets = all_probes()
        .filter(|p| p.send == Send::Nothing && p.refines.is_none())
        .any(|p| rank(p, port, ctx).0 < 2);
    if greets {
        limits.banner_wait.max(limits.greeting_wait)
    } else {
        limits.banner_wait
    }
}

/// A debugger waiting for a JVM to attach (`jdb -listen`, `SocketListen`) gives up its wait
/// when anyone connects and leaves, `gdbserver --once` kills its inferior when its first
/// client leaves, and `dlv dap` (Delve's single-use DAP server) exits when its first client
/// leaves — even one that sent nothing: such ports are not probed at all.
fn fragile_listener(ctx: &Context) -> Option<&'static str> {
    let words = &ctx.process_words;
    let has = |s: &str| words.iter().any(|w| w.contains(s));
    let named = |hint: &str| words.iter().any(|w| hint_matches(hint, w));
    if has("socketlisten") || (named("jdb") && has("-listen")) {
        return Some(
            "a debugger waiting for a JVM (jdb -listen): connecting would end its wait, so it was not probed",
        );
    }
    if named("dlv") && words.iter().any(|w| w == "dap") {
        return Some(
            "dlv dap serves one client and exits when it leaves: connecting would end it, so it was not probed",
        );
    }
    if named("dlv") && has("--headless") && !has("--accept-multiclient") {
        return Some(
            "a headless Delve without --accept-multiclient serves one client: connecting would take its place, so it was not probed",
        );
    }
    (named("gdbserver") && words.iter().any(|w| w == "--once"))
        .then_some("gdbserver --once: any connection that ends would end its session and kill the program it debugs, so it was not probed")
}

/// The clock of one port.
pub(super) struct Budget {
    start: Instant,
    deadline: Instant,
}

impl Budget {
    fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    pub(super) fn spent(&self) -> bool {
        self.remaining().is_zero()
    }

    /// `d`, cut to what is left (never zero: a zero timeout means "block forever" to the OS).
    pub(super) fn cap(&self, d: Duration) -> Duration {
        d.min(self.remaining()).max(Duration::from_millis(1))
    }
}

/// The note of a port that accepted and closed before a byte was sent either way.
pub const CLOSED_AT_ONCE: &str = "the server closed the connection without a word (tcpwrapped)";

impl PortProbe {
    /// The server accepted, then closed before a byte went either way.
    pub fn closed_at_once(&self) -> bool {
        self.note.as_deref() == Some(CLOSED_AT_ONCE)
    }

    /// Not a byte came back to any probe, and the server did not close either: silence.
    pub fn silent(&self) -> bool {
        self.state == PortState::Open
            && self.identification.is_none()
            && self.evidence.is_empty()
            && self.tls.is_none()
            && !self.closed_at_once()
    }
}

/// Probe one address.
pub fn probe(addr: SocketAddr, ctx: &Context, limits: &Limits) -> PortProbe {
    let start = Instant::now();
    let budget = Budget {
        start,
        deadline: start + limits.deadline,
    };
    let mut out = PortProbe {
        addr,
        state: PortState::Open,
        identification: None,
        tls: None,
        evidence: String::new(),
        probes: Vec::new(),
        elapsed_ms: 0.0,
        note: None,
    };
    run(addr, ctx, limits, &budget, &mut out);
    out.elapsed_ms = budget.start.elapsed().as_secs_f64() * 1000.0;
    out
}

fn run(addr: SocketAddr, ctx: &Context, limits: &Limits, budget: &Budget, out: &mut PortProbe) {
    if let Some(why) = fragile_listener(ctx) {
        out.note = Some(why.into());
        return;
    }
    if ctx.udp {
        udp::probe(addr, ctx, limits, budget, out);
        return;
    }
    // 1. Connect and listen: servers that speak first are identified without sending a byte.
    let banner = match connect(addr, limits, budget) {
        Ok(stream) => read_banner(
            stream,
            banner_wait(addr.port(), ctx, limits),
            limits,
            budget,
        ),
        Err(state) => {
            out.state = state;
            return;
        }
    };
    match banner {
        Banner::Bytes(bytes) => {
            out.evidence = evidence(&bytes, 96);
            out.probes.push("banner");
            // A greeting names the protocol; its refinements ask more (VNC: the security
            // types; an HTTP/2 preface: is it gRPC?).
            out.identification =
                match_banner(&bytes).map(|id| refine(addr, id, ctx, limits, budget, out, None));
            if out.identification.is_none() && tls::looks_like_tls(&bytes) != Verdict::NoMatch {
                out.note = Some("unprompted TLS bytes".into());
            }
            if out.identification.is_none() {
                out.note.get_or_insert_with(|| {
                    "the server spoke first with something unknown; nothing was sent to it".into()
                });
            }
            return;
        }
        Banner::Closed => {
            out.note = Some(CLOSED_AT_ONCE.into());
            return;
        }
        Banner::Silent => {}
    }
    if PRINTER_PORTS.contains(&addr.port()) {
        out.note =
            Some("printer port (9100-9107): nothing is sent there, it would be printed".into());
        return;
    }
    // 2. Ask, in the order the context suggests; TLS is tried after the first HTTP probe,
    //    or first when the port is a TLS port.
    let mut queue: Vec<&'static Probe> = all_probes()
        .filter(|p| p.refines.is_none() && p.send != Send::Nothing)
        .collect();
    queue.sort_by_key(|p| rank(p, addr.port(), ctx));
    let tls_first = tls_inside::tls_first(addr.port(), ctx);
    let mut tls_tried = false;
    for p in queue {
        if budget.spent() {
            out.note = Some("deadline reached".into());
            break;
        }
        if tls_first && !tls_tried {
            tls_tried = true;
            if try_tls(addr, ctx, limits, budget, out) {
                return;
            }
        }
        out.probes.push(p.name);
        let reply = converse(addr, p, limits, budget, None);
        if out.evidence.is_empty() && !reply.bytes.is_empty() {
            out.evidence = evidence(&reply.bytes, 96);
        }
        // A server that speaks first but was slower than the banner wait answers every
        // probe with its banner: recognise it there too.
        let found = match reply.verdict {
            Verdict::Match(id) => Some(id),
            _ => match_banner(&reply.bytes),
        };
        if let Some(id) = found {
            // A TLS port refusing plain HTTP ("400 The plain HTTP request was sent to HTTPS
            // port") is TLS: what answers inside is reported.
            if !tls_tried
                && tls_inside::refused_plain_http(addr, &id, &reply.bytes, ctx, limits, budget, out)
            {
                return;
            }
            out.identification = Some(refine(addr, id, ctx, limits, budget, out, None));
            return;
        }
        if !tls_tried
            && (matches!(p.send, Send::HttpGet(_))
                || tls::looks_like_tls(&reply.bytes) != Verdict::NoMatch)
        {
            tls_tried = true;
            if try_tls(addr, ctx, limits, budget, out) {
                return;
            }
        }
    }
}

/// Ports where TLS is the norm: try the handshake before anything in clear text.
const TLS_PORTS: &[u16] = &[
    443, 465, 636, 853, 993, 995, 2376, 5986, 6443, 8443, 9443, 10250,
];

/// Run the refinements of `id.protocol` (e.g. `/json/version` after `http`): the first that
/// matches wins and is refined in turn (`/api/kernels` after `jupyter`); each probe runs once.
fn refine(
    addr: SocketAddr,
    mut id: Identification,
    ctx: &Context,
    limits: &Limits,
    budget: &Budget,
    out: &mut PortProbe,
    tls: Option<&Arc<rustls::ClientConfig>>,
) -> Identification {
    if !limits.refine {
        return id;
    }
    let mut tried: Vec<&'static str> = Vec::new();
    'levels: loop {
        let mut refinements: Vec<&'static Probe> = all_probes()
            .filter(|p| p.refines == Some(id.protocol.as_str()) && !tried.contains(&p.name))
            .filter(|p| tls.is_none() || p.tls == TlsUse::Both)
            .collect();
        refinements.sort_by_key(|p| rank(p, addr.port(), ctx));
        for p in refinements {
            if budget.spent() {
                break 'levels;
            }
            tried.push(p.name);
            out.probes.push(p.name);
            let reply = converse(addr, p, limits, budget, tls.map(|c| (c, ctx)));
            if let Verdict::Match(better) = reply.verdict {
                id = merge(better, id);
                continue 'levels;
            }
        }
        break;
    }
    id
}

/// A refinement's identification, completed with what the earlier one knew (its guesses —
/// the `hint` detail — are dropped: the refinement answered them).
fn merge(mut better: Identification, earlier: Identification) -> Identification {
    better.product = better.product.or(earlier.product);
    better.version = better.version.or(earlier.version);
    better.auth = better.auth.or(earlier.auth);
    for (k, v) in earlier.details {
        if k != "hint" && !better.details.iter().any(|(bk, _)| *bk == k) {
            better.details.push((k, v));
        }
    }
    better
}

/// Run every speak-first parser on a banner.
fn match_banner(bytes: &[u8]) -> Option<Identification> {
    all_probes()
        .filter(|p| p.send == Send::Nothing)
        .find_map(|p| (p.parse)(bytes).settled())
}

mod batch;
mod h2;
mod tls_inside;
mod udp;
mod wire;

pub use batch::{Watch, probe_all};
pub(super) use wire::ReadTimeout;
use wire::*;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{Auth, Confidence};

    #[test]
    fn a_refinement_keeps_what_the_first_probe_knew_but_not_its_guesses() {
        let first = Identification::new("http", Confidence::Certain)
            .product("TornadoServer")
            .version("6.4")
            .detail("status", "200 OK")
            .detail("hint", "node-inspector?");
        let better = Identification::new("jupyter", Confidence::Certain)
            .auth(Auth::Required)
            .detail("status", "403 Forbidden");
        let merged = merge(better, first);
        assert_eq!(merged.protocol, "jupyter");
        assert_eq!(merged.product.as_deref(), Some("TornadoServer"));
        assert_eq!(merged.version.as_deref(), Some("6.4"));
        assert_eq!(merged.auth, Some(Auth::Required));
        assert_eq!(
            merged.details,
            vec![("status".to_string(), "403 Forbidden".to_string())]
        );
    }

    #[test]
    fn hints_match_whole_tokens() {
        assert!(hint_matches("redis", "/usr/bin/redis-server"));
        assert!(hint_matches("python", "python3"));
        assert!(hint_matches("X", "/usr/bin/X"));
        assert!(!hint_matches("X", "/usr/lib/xorg/xserver-wrapper-box"));
        assert!(!hint_matches("master", "postmaster"));
        assert!(hint_matches("jdwp", "-agentlib:jdwp=transport=dt_socket"));
        assert!(hint_matches("--inspect", "--inspect=127.0.0.1:9229"));
        let jdb = Context {
            process_words: vec!["jdb".into(), "-listen".into(), "8000".into()],
            ..Context::default()
        };
        assert!(fragile_listener(&jdb).is_some());
        assert!(fragile_listener(&Context::default()).is_none());
        let once = Context {
            process_words: vec!["gdbserver".into(), "--once".into(), ":2345".into()],
            ..Context::default()
        };
        assert!(fragile_listener(&once).is_some());
        let dap = Context {
            process_words: vec!["dlv".into(), "dap".into(), "--listen".into()],
            ..Context::default()
        };
        assert!(fragile_listener(&dap).is_some_and(|w| w.contains("dlv dap")));
        let multi = Context {
            process_words: ["dlv", "exec", "--headless", "--accept-multiclient", "./app"]
                .map(String::from)
                .to_vec(),
            ..Context::default()
        };
        assert!(fragile_listener(&multi).is_none());
        let reopening = Context {
            process_words: vec!["/usr/bin/gdbserver".into(), ":2345".into()],
            ..Context::default()
        };
        assert!(fragile_listener(&reopening).is_none());
    }

    #[test]
    fn speak_first_hints_listen_longer() {
        let limits = Limits::default();
        let none = Context::default();
        assert_eq!(banner_wait(5901, &none, &limits), limits.greeting_wait);
        assert_eq!(banner_wait(5999, &none, &limits), limits.greeting_wait);
        assert_eq!(banner_wait(8080, &none, &limits), limits.banner_wait);
        let x11vnc = Context {
            process_words: vec!["x11vnc".into(), "-rfbport".into(), "40000".into()],
            ..Context::default()
        };
        assert_eq!(banner_wait(40000, &x11vnc, &limits), limits.greeting_wait);
        let quick = Limits {
            greeting_wait: Duration::from_millis(10),
            ..limits
        };
        assert_eq!(banner_wait(5901, &none, &quick), limits.banner_wait);
    }

    #[test]
    fn every_probe_is_in_the_docs_table_of_what_is_sent() {
        let docs = include_str!("../../../docs/inspect.md");
        let Some(table) = docs.split("### What each probe sends").nth(1) else {
            panic!("docs/inspect.md has no table of what each probe sends");
        };
        let rows: Vec<&str> = table.lines().filter(|l| l.starts_with('|')).collect();
        let udp = crate::probe::udp::PROBES.iter().map(|p| p.name);
        for name in all_probes().map(|p| p.name).chain(udp) {
            assert!(
                rows.iter().any(|r| r.contains(&format!("`{name}`"))),
                "{name} is not in docs/inspect.md's table of what each probe sends"
            );
        }
    }

    #[test]
    fn hints_order_probes() {
        let ctx = Context {
            process_words: vec!["redis-server".into(), "*:6379".into()],
            ..Context::default()
        };
        let mut queue: Vec<&Probe> = all_probes()
            .filter(|p| p.refines.is_none() && p.send != Send::Nothing)
            .collect();
        queue.sort_by_key(|p| rank(p, 40000, &ctx));
        assert!(queue[0].name.contains("redis"), "{}", queue[0].name);
        let plain = Context::default();
        queue.sort_by_key(|p| rank(p, 40000, &plain));
        assert_eq!(
            queue[0].send,
            Send::HttpGet("/"),
            "HTTP first when nothing is known"
        );
    }
}
