//! The prober's I/O: connect, read before write, run the protocol tables in the order the
//! owning process and the port suggest, complete a TLS handshake when the port speaks TLS,
//! and bound everything — connect, each read, bytes per connection, total time per port.
//!
//! A hostile or broken server (silent, trickling, endless, garbage, resets) costs at most the
//! port's deadline and [`Limits::max_bytes`] of memory per connection.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{
    Identification, Limits, PRINTER_PORTS, Probe, Send, TlsFacts, TlsUse, Verdict, banner, binary,
    evidence, http, tls,
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
}

/// Every probe of every family, first-line and refinements.
fn all_probes() -> impl Iterator<Item = &'static Probe> {
    banner::PROBES
        .iter()
        .chain(binary::PROBES)
        .chain(http::PROBES)
        .chain(tls::PROBES)
}

/// The rank of a probe for this port: process hint 0, port hint 1, generic 2 (HTTP first
/// among the generic ones, being by far the most common).
fn rank(p: &Probe, port: u16, ctx: &Context) -> (u8, u8) {
    let by_process = p.hints.processes.iter().any(|h| {
        let h = h.to_ascii_lowercase();
        ctx.process_words.iter().any(|w| w.contains(&h))
    });
    let tier = if by_process {
        0
    } else if p.hints.ports.contains(&port) {
        1
    } else {
        2
    };
    let http_first = u8::from(!matches!(p.send, Send::HttpGet(_)));
    (tier, http_first)
}

/// The clock of one port.
struct Budget {
    start: Instant,
    deadline: Instant,
}

impl Budget {
    fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    fn spent(&self) -> bool {
        self.remaining().is_zero()
    }

    /// `d`, cut to what is left (never zero: a zero timeout means "block forever" to the OS).
    fn cap(&self, d: Duration) -> Duration {
        d.min(self.remaining()).max(Duration::from_millis(1))
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
    // 1. Connect and listen: servers that speak first are identified without sending a byte.
    let banner = match connect(addr, limits, budget) {
        Ok(stream) => read_banner(stream, limits, budget),
        Err(state) => {
            out.state = state;
            return;
        }
    };
    match banner {
        Banner::Bytes(bytes) => {
            out.evidence = evidence(&bytes, 96);
            out.probes.push("banner");
            out.identification = match_banner(&bytes);
            if out.identification.is_none()
                && tls::looks_like_tls(&bytes) != Verdict::NoMatch
            {
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
            out.note = Some("the server closed the connection without a word (tcpwrapped)".into());
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
    let tls_first = TLS_PORTS.contains(&addr.port());
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
        if let Verdict::Match(id) = reply.verdict {
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
/// matches wins, keeping the first identification's details.
fn refine(
    addr: SocketAddr,
    id: Identification,
    ctx: &Context,
    limits: &Limits,
    budget: &Budget,
    out: &mut PortProbe,
    tls: Option<&Arc<rustls::ClientConfig>>,
) -> Identification {
    let mut refinements: Vec<&'static Probe> = all_probes()
        .filter(|p| p.refines == Some(id.protocol.as_str()))
        .filter(|p| tls.is_none() || p.tls == TlsUse::Both)
        .collect();
    refinements.sort_by_key(|p| rank(p, addr.port(), ctx));
    for p in refinements {
        if budget.spent() {
            break;
        }
        out.probes.push(p.name);
        let reply = converse(addr, p, limits, budget, tls.map(|c| (c, ctx)));
        if let Verdict::Match(mut better) = reply.verdict {
            for d in id.details {
                if !better.details.iter().any(|(k, _)| *k == d.0) {
                    better.details.push(d);
                }
            }
            return better;
        }
    }
    id
}

/// Run every speak-first parser on a banner.
fn match_banner(bytes: &[u8]) -> Option<Identification> {
    all_probes()
        .filter(|p| p.send == Send::Nothing)
        .find_map(|p| match (p.parse)(bytes) {
            Verdict::Match(id) => Some(id),
            _ => None,
        })
}

/// What a freshly connected server did during the banner wait.
enum Banner {
    /// Sent these bytes first.
    Bytes(Vec<u8>),
    /// Closed without sending anything.
    Closed,
    /// Said nothing (the usual: it waits for the client).
    Silent,
}

fn connect(addr: SocketAddr, limits: &Limits, budget: &Budget) -> Result<TcpStream, PortState> {
    match TcpStream::connect_timeout(&addr, budget.cap(limits.connect)) {
        Ok(s) => {
            let _ = s.set_nodelay(true);
            Ok(s)
        }
        Err(e) => Err(match e.kind() {
            io::ErrorKind::ConnectionRefused => PortState::Refused,
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => PortState::Timeout,
            _ => PortState::Error,
        }),
    }
}

fn read_banner(mut stream: TcpStream, limits: &Limits, budget: &Budget) -> Banner {
    let mut buf = Vec::new();
    let first = read_some(
        &mut stream,
        &mut buf,
        budget.cap(limits.banner_wait),
        limits,
    );
    match first {
        ReadResult::Data => {}
        ReadResult::Eof => return Banner::Closed,
        ReadResult::Timeout | ReadResult::Error => return Banner::Silent,
    }
    // Give a multi-part banner a moment to complete while some parser still wants more.
    while needs_more_banner(&buf) && !budget.spent() && buf.len() < limits.max_bytes {
        if read_some(
            &mut stream,
            &mut buf,
            budget.cap(Duration::from_millis(50)),
            limits,
        ) != ReadResult::Data
        {
            break;
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
    Banner::Bytes(buf)
}

fn needs_more_banner(bytes: &[u8]) -> bool {
    match_banner(bytes).is_none()
        && all_probes()
            .filter(|p| p.send == Send::Nothing)
            .any(|p| (p.parse)(bytes) == Verdict::NeedMore)
}

#[derive(Debug, PartialEq, Eq)]
enum ReadResult {
    Data,
    Eof,
    Timeout,
    Error,
}

/// One read of at most what `max_bytes` still allows, with `timeout`.
fn read_some(
    r: &mut impl ReadTimeout,
    buf: &mut Vec<u8>,
    timeout: Duration,
    limits: &Limits,
) -> ReadResult {
    let room = limits.max_bytes.saturating_sub(buf.len()).min(16 * 1024);
    if room == 0 {
        return ReadResult::Eof;
    }
    if r.set_timeout(timeout).is_err() {
        return ReadResult::Error;
    }
    let mut chunk = [0u8; 16 * 1024];
    match r.read(&mut chunk[..room]) {
        Ok(0) => ReadResult::Eof,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            ReadResult::Data
        }
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            ReadResult::Timeout
        }
        Err(_) => ReadResult::Error,
    }
}

/// A readable stream whose read timeout can be set (plain TCP, or TLS over TCP).
trait ReadTimeout: Read + Write {
    fn set_timeout(&mut self, d: Duration) -> io::Result<()>;
}

impl ReadTimeout for TcpStream {
    fn set_timeout(&mut self, d: Duration) -> io::Result<()> {
        self.set_read_timeout(Some(d))?;
        self.set_write_timeout(Some(d))
    }
}

impl ReadTimeout for rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    fn set_timeout(&mut self, d: Duration) -> io::Result<()> {
        self.sock.set_timeout(d)
    }
}

/// The reply to one probe.
struct Reply {
    bytes: Vec<u8>,
    verdict: Verdict,
}

/// The bytes a probe sends.
fn request(p: &Probe) -> Vec<u8> {
    match p.send {
        Send::Nothing => Vec::new(),
        Send::Bytes(b) => b.to_vec(),
        Send::HttpGet(path) => format!(
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: portscope-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n"
        )
        .into_bytes(),
    }
}

/// One probe on a fresh connection (inside TLS when `tls` is given): wait out a banner,
/// send, read until the parser decides or a limit is hit.
fn converse(
    addr: SocketAddr,
    p: &Probe,
    limits: &Limits,
    budget: &Budget,
    tls: Option<(&Arc<rustls::ClientConfig>, &Context)>,
) -> Reply {
    let no = |bytes| Reply {
        bytes,
        verdict: Verdict::NoMatch,
    };
    let Ok(stream) = connect(addr, limits, budget) else {
        return no(Vec::new());
    };
    match tls {
        None => exchange(stream, p, limits, budget),
        Some((config, ctx)) => match handshake(stream, config, ctx, limits, budget) {
            Ok(tls) => exchange(tls, p, limits, budget),
            Err(_) => no(Vec::new()),
        },
    }
}

fn exchange(mut s: impl ReadTimeout, p: &Probe, limits: &Limits, budget: &Budget) -> Reply {
    let mut bytes = Vec::new();
    let req = request(p);
    if s.set_timeout(budget.cap(limits.read)).is_err()
        || s.write_all(&req).and_then(|()| s.flush()).is_err()
    {
        return Reply {
            bytes,
            verdict: Verdict::NoMatch,
        };
    }
    loop {
        if budget.spent() {
            break;
        }
        match read_some(&mut s, &mut bytes, budget.cap(limits.read), limits) {
            ReadResult::Data => match (p.parse)(&bytes) {
                Verdict::NeedMore => continue,
                verdict => return Reply { bytes, verdict },
            },
            ReadResult::Eof | ReadResult::Timeout | ReadResult::Error => break,
        }
    }
    // The reply ended (or a limit did): decide on what arrived.
    let verdict = match (p.parse)(&bytes) {
        Verdict::NeedMore => Verdict::NoMatch,
        v => v,
    };
    Reply { bytes, verdict }
}

/// Try a TLS handshake; on success record the facts and run the TLS-capable probes inside.
/// Returns true when the port was identified (as TLS, or a protocol inside it).
fn try_tls(
    addr: SocketAddr,
    ctx: &Context,
    limits: &Limits,
    budget: &Budget,
    out: &mut PortProbe,
) -> bool {
    if budget.spent() {
        return false;
    }
    out.probes.push("tls-handshake");
    let config = client_config();
    let Ok(stream) = connect(addr, limits, budget) else {
        return false;
    };
    let Ok(session) = handshake(stream, &config, ctx, limits, budget) else {
        return false;
    };
    out.tls = Some(session_facts(&session.conn));
    drop(session);
    let mut id = Identification::new("tls", super::Confidence::Certain);
    let mut inner: Vec<&'static Probe> = all_probes()
        .filter(|p| p.tls == TlsUse::Both && p.refines.is_none() && p.send != Send::Nothing)
        .collect();
    inner.sort_by_key(|p| rank(p, addr.port(), ctx));
    for p in inner {
        if budget.spent() {
            break;
        }
        out.probes.push(p.name);
        let reply = converse(addr, p, limits, budget, Some((&config, ctx)));
        if out.evidence.is_empty() && !reply.bytes.is_empty() {
            out.evidence = evidence(&reply.bytes, 96);
        }
        if let Verdict::Match(found) = reply.verdict {
            let mut found = refine(addr, found, ctx, limits, budget, out, Some(&config));
            if found.protocol == "http" {
                found.protocol = "https".into();
            }
            id = found;
            break;
        }
    }
    out.identification = Some(id);
    true
}

fn handshake(
    stream: TcpStream,
    config: &Arc<rustls::ClientConfig>,
    ctx: &Context,
    limits: &Limits,
    budget: &Budget,
) -> io::Result<rustls::StreamOwned<rustls::ClientConnection, TcpStream>> {
    let name = ctx.sni.clone().unwrap_or_else(|| "localhost".into());
    let server = rustls::pki_types::ServerName::try_from(name)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let conn =
        rustls::ClientConnection::new(Arc::clone(config), server).map_err(io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, stream);
    while tls.conn.is_handshaking() {
        if budget.spent() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        tls.sock.set_timeout(budget.cap(limits.read))?;
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(tls)
}

/// Version, cipher, ALPN and certificate facts of a finished handshake.
fn session_facts(conn: &rustls::ClientConnection) -> TlsFacts {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let mut facts = conn
        .peer_certificates()
        .and_then(|certs| certs.first())
        .map(|leaf| tls::facts_from_der(leaf.as_ref(), now))
        .unwrap_or_default();
    facts.version = conn.protocol_version().map(|v| match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_string(),
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_string(),
        other => format!("{other:?}"),
    });
    facts.cipher = conn
        .negotiated_cipher_suite()
        .map(|c| format!("{:?}", c.suite()));
    facts.alpn = conn
        .alpn_protocol()
        .map(|a| String::from_utf8_lossy(a).into_owned());
    facts
}

/// A client that completes any handshake: portscope inspects certificates, it does not trust
/// them (signatures are still checked, so the facts are the server's own).
fn client_config() -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(AcceptAnyCertificate(Arc::clone(&provider)));
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map(|b| {
            b.dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth()
        });
    match config {
        Ok(c) => Arc::new(c),
        // Both versions are compiled in (features ring + tls12); this cannot fail, but
        // if it did, a default config still makes the handshake attempt safe.
        Err(_) => Arc::new(
            rustls::ClientConfig::builder()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth(),
        ),
    }
}

#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Probe many addresses with at most `concurrency` at a time; `progress(done, total)` is
/// called after each.
pub fn probe_all(
    jobs: &[(SocketAddr, Context)],
    limits: &Limits,
    concurrency: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Vec<PortProbe> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let workers = concurrency.clamp(1, 64).min(jobs.len().max(1));
    let mut results: Vec<(usize, PortProbe)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((addr, ctx)) = jobs.get(i) else {
                            break;
                        };
                        mine.push((i, probe(*addr, ctx, limits)));
                        progress(done.fetch_add(1, Ordering::Relaxed) + 1, jobs.len());
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().ok())
            .flatten()
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}
