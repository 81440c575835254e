//! The prober's I/O: connect within the budget, wait for a banner, send one probe and read
//! its reply (plain or inside TLS), each read capped in time and size.

use super::*;

/// What a freshly connected server did during the banner wait.
pub(super) enum Banner {
    /// Sent these bytes first.
    Bytes(Vec<u8>),
    /// Closed without sending anything.
    Closed,
    /// Said nothing (the usual: it waits for the client).
    Silent,
}

pub(super) fn connect(
    addr: SocketAddr,
    limits: &Limits,
    budget: &Budget,
) -> Result<TcpStream, PortState> {
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

/// Listen for `wait` (see [`banner_wait`]) for a server that speaks first.
pub(super) fn read_banner(
    mut stream: TcpStream,
    wait: Duration,
    limits: &Limits,
    budget: &Budget,
) -> Banner {
    let banner = listen(&mut stream, wait, limits, budget);
    let _ = stream.shutdown(Shutdown::Both);
    banner
}

/// [`read_banner`] on any stream (a TLS session too): what the server said unprompted.
pub(super) fn listen(
    stream: &mut impl ReadTimeout,
    wait: Duration,
    limits: &Limits,
    budget: &Budget,
) -> Banner {
    let mut buf = Vec::new();
    let first = read_some(stream, &mut buf, budget.cap(wait), limits);
    match first {
        ReadResult::Data => {}
        ReadResult::Eof => return Banner::Closed,
        ReadResult::Timeout | ReadResult::Error => return Banner::Silent,
    }
    // Give a multi-part banner a moment to complete while some parser still wants more.
    while needs_more_banner(&buf) && !budget.spent() && buf.len() < limits.max_bytes {
        if read_some(
            stream,
            &mut buf,
            budget.cap(Duration::from_millis(50)),
            limits,
        ) != ReadResult::Data
        {
            break;
        }
    }
    Banner::Bytes(buf)
}

pub(super) fn needs_more_banner(bytes: &[u8]) -> bool {
    match_banner(bytes).is_none()
        && all_probes()
            .filter(|p| p.send == Send::Nothing)
            .any(|p| (p.parse)(bytes) == Verdict::NeedMore)
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum ReadResult {
    Data,
    Eof,
    Timeout,
    Error,
}

/// One read of at most what `max_bytes` still allows, with `timeout`.
pub(super) fn read_some(
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
pub(in crate::probe) trait ReadTimeout: Read + Write {
    fn set_timeout(&mut self, d: Duration) -> io::Result<()>;
}

impl ReadTimeout for TcpStream {
    fn set_timeout(&mut self, d: Duration) -> io::Result<()> {
        self.set_read_timeout(Some(d))?;
        self.set_write_timeout(Some(d))
    }
}

impl ReadTimeout for Session {
    fn set_timeout(&mut self, d: Duration) -> io::Result<()> {
        self.sock.set_timeout(d)
    }
}

/// The reply to one probe.
pub(super) struct Reply {
    pub(super) bytes: Vec<u8>,
    pub(super) verdict: Verdict,
}

/// The bytes a probe sends.
pub(super) fn request(p: &Probe) -> Vec<u8> {
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
pub(super) fn converse(
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

pub(super) fn exchange(
    mut s: impl ReadTimeout,
    p: &Probe,
    limits: &Limits,
    budget: &Budget,
) -> Reply {
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
                Verdict::NeedMore | Verdict::MatchIfEnds(_) => continue,
                verdict => return Reply { bytes, verdict },
            },
            ReadResult::Eof | ReadResult::Timeout | ReadResult::Error => break,
        }
    }
    // The reply ended (or a limit did): decide on what arrived.
    let verdict = match (p.parse)(&bytes) {
        Verdict::NeedMore => Verdict::NoMatch,
        Verdict::MatchIfEnds(id) => Verdict::Match(id),
        v => v,
    };
    Reply { bytes, verdict }
}

/// Try a TLS handshake; on success record the facts and run the TLS-capable probes inside.
/// Returns true when the port was identified (as TLS, or a protocol inside it).
pub(super) fn try_tls(
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
    let Some(session) = h2::facts_handshake(addr, ctx, limits, budget) else {
        return false;
    };
    out.tls = Some(session_facts(&session.conn));
    // A greeting inside (IMAPS…) settles it; a server that chose h2 is asked in HTTP/2.
    if tls_inside::greeting(session, addr, ctx, limits, budget, out, &config) {
        return true;
    }
    if let Some(found) = h2::inside_tls(addr, ctx, limits, budget, out) {
        out.identification = Some(found);
        return true;
    }
    let mut id = Identification::new("tls", crate::probe::Confidence::Certain);
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
            found.protocol = tls_inside::secure_name(&found.protocol);
            id = found;
            break;
        }
    }
    out.identification = Some(id);
    true
}
