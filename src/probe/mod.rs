//! Identify what speaks on a port: a bounded, read-only conversation per protocol, ordered by
//! what portscope already knows (the owning process, the port), then generic probes.
//!
//! The split: [`engine`] does all I/O (connect, read before write, timeouts, byte caps, TLS,
//! concurrency); the protocol files are tables of [`Probe`]s whose parsers are pure functions
//! from the bytes a server sent to an [`Identification`] — fuzzed, and tested on fixtures.
//!
//! Safety rules every probe follows: read first (many servers speak first), send only
//! read-only requests, never send anything to printer ports 9100–9107, and read at most
//! [`Limits::max_bytes`] per connection within [`Limits::deadline`].

pub mod banner;
pub mod binary;
pub mod engine;
pub mod h2;
pub mod http;
pub mod listeners;
pub mod more;
pub mod products;
pub mod services;
pub mod tls;
pub mod tls_client;
pub mod udp;

use std::time::Duration;

use serde::Serialize;

/// How sure an identification is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// Nothing identified.
    Unknown,
    /// The reply fits, but other protocols could produce it (a bare HTTP 404, a 1-byte answer).
    Likely,
    /// The reply proves the protocol, not the product it is named after: a server that speaks
    /// Redis's protocol (`+PONG`) but did not show that it is Redis (no `redis_version` in
    /// `INFO`, or `INFO` refused). `product` is then empty, or names what the server says it is.
    Compatible,
    /// The reply carries the protocol's own signature (`SSH-2.0-`, a JDWP handshake), and the
    /// product, when one is named, is proven by the bytes too (Redis's `INFO` `redis_version`).
    Certain,
}

/// Whether the service demands authentication before it does anything useful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Auth {
    /// It answered a request that needs no credentials with data (Redis `+PONG`, Docker
    /// `/version`, Elasticsearch `/`): anyone who can connect can use it.
    NotRequired,
    /// It refused without credentials (`-NOAUTH`, HTTP 401/403 with a token demand).
    Required,
}

/// What one probe learned. Every field is read from the server's reply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Identification {
    /// Protocol, lower-case: `http`, `https`, `ssh`, `redis`, `postgresql`, `jdwp`, …
    pub protocol: String,
    /// Product, when the reply names it: `OpenSSH`, `Redis`, `nginx`, `Python http.server`…
    pub product: Option<String>,
    /// Version, when the reply states it.
    pub version: Option<String>,
    /// How sure.
    pub confidence: Option<Confidence>,
    /// Whether it demands authentication, when the reply tells.
    pub auth: Option<Auth>,
    /// Further facts (`framework` = `Vite`, `title` = `…`, `server` = `…`), in order.
    pub details: Vec<(String, String)>,
}

impl Identification {
    /// A new identification of `protocol` with the given confidence.
    pub fn new(protocol: &str, confidence: Confidence) -> Identification {
        Identification {
            protocol: protocol.to_string(),
            confidence: Some(confidence),
            ..Identification::default()
        }
    }

    /// Builder: set the product.
    pub fn product(mut self, product: impl Into<String>) -> Self {
        self.product = Some(product.into());
        self
    }

    /// Builder: set the version.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Builder: set the authentication state.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Builder: add a detail.
    pub fn detail(mut self, key: &str, value: impl Into<String>) -> Self {
        self.details.push((key.to_string(), value.into()));
        self
    }
}

/// What a probe sends after connecting (and after the banner wait).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Send {
    /// Nothing: wait for the server to speak first.
    Nothing,
    /// These bytes, verbatim.
    Bytes(&'static [u8]),
    /// An HTTP/1.1 `GET` of this path with `Host: localhost`, `Connection: close`.
    HttpGet(&'static str),
}

/// Hints that move a probe to the front of the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hints {
    /// Ports where this protocol usually lives.
    pub ports: &'static [u16],
    /// Substrings of the owning process's `comm` or command line (`redis-server`, `jdwp`).
    pub processes: &'static [&'static str],
}

/// Decide from the bytes received so far.
pub type Parser = fn(&[u8]) -> Verdict;

/// A parser's answer on the bytes received so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Identified.
    Match(Identification),
    /// Not this protocol (stop reading for this probe).
    NoMatch,
    /// Could be; read more bytes (the engine stops at its limits).
    NeedMore,
    /// Identified if the reply ends here; read on while more comes (a server that writes its
    /// reply in parts, and whose first part is a whole reply too: epmd's port, then its nodes).
    MatchIfEnds(Identification),
}

impl Verdict {
    /// What the verdict means for a reply that has ended: an identification, or none.
    pub fn settled(self) -> Option<Identification> {
        match self {
            Verdict::Match(id) | Verdict::MatchIfEnds(id) => Some(id),
            Verdict::NoMatch | Verdict::NeedMore => None,
        }
    }
}

/// One table entry: what to send, how to read the reply, when to try it first.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    /// Short name (`redis`, `http-get`, `ssh-banner`).
    pub name: &'static str,
    /// What to send.
    pub send: Send,
    /// Reads the reply.
    pub parse: Parser,
    /// When to try it first.
    pub hints: Hints,
    /// Only run inside a TLS session (HTTP over TLS), or only in clear text.
    pub tls: TlsUse,
    /// Run only after another probe identified this protocol, to refine it (`/json/version`
    /// after `http` finds a Node inspector). `None` = a first-line probe.
    pub refines: Option<&'static str>,
}

/// Whether a probe runs in clear text, inside TLS, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsUse {
    /// Only on the plain connection.
    Plain,
    /// Plain, and again inside TLS when the port speaks TLS.
    Both,
}

/// TLS facts read from a completed handshake (any certificate accepted: this is inspection,
/// not trust).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TlsFacts {
    /// Negotiated version (`TLSv1.3`).
    pub version: Option<String>,
    /// Negotiated cipher suite.
    pub cipher: Option<String>,
    /// ALPN protocol the server chose (`h2`, `http/1.1`).
    pub alpn: Option<String>,
    /// Leaf certificate subject (RFC 4514 string).
    pub subject: Option<String>,
    /// Subject alternative names (DNS names and IPs).
    pub san: Vec<String>,
    /// Issuer (RFC 4514 string).
    pub issuer: Option<String>,
    /// Validity start, `YYYY-MM-DD HH:MM:SS UTC`.
    pub not_before: Option<String>,
    /// Validity end, `YYYY-MM-DD HH:MM:SS UTC`.
    pub not_after: Option<String>,
    /// True when the certificate has expired at probe time.
    pub expired: Option<bool>,
    /// True when subject equals issuer (and the signature is by its own key, when checkable).
    pub self_signed: Option<bool>,
}

/// Bounds on one port's probing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connect timeout.
    pub connect: Duration,
    /// How long to wait for a server that speaks first.
    pub banner_wait: Duration,
    /// How long to wait for it when the port or the owning process names a protocol whose
    /// server speaks first (VNC on 5900–5999, `sshd`, `x11vnc`…): some greet late.
    pub greeting_wait: Duration,
    /// Per-read timeout once a request was sent.
    pub read: Duration,
    /// Total time for one port, all probes included.
    pub deadline: Duration,
    /// Most bytes read on one connection.
    pub max_bytes: usize,
    /// Whether an identification is refined with further requests (`/json/version` after
    /// `http`): a caller that needs only the protocol family sends one request, not five.
    pub refine: bool,
}

impl Default for Limits {
    /// Sized for loopback: a banner arrives in well under 100 ms there.
    fn default() -> Self {
        Limits {
            connect: Duration::from_millis(300),
            banner_wait: Duration::from_millis(120),
            greeting_wait: Duration::from_millis(300),
            read: Duration::from_millis(250),
            deadline: Duration::from_millis(1200),
            max_bytes: 64 * 1024,
            refine: true,
        }
    }
}

/// Printer ports (HP JetDirect/RAW): anything sent there gets printed. Never send to them.
pub const PRINTER_PORTS: std::ops::RangeInclusive<u16> = 9100..=9107;

/// Show the first bytes of a reply safely: printable ASCII as is, the rest as `\xNN`, at most
/// `max` input bytes.
pub fn evidence(bytes: &[u8], max: usize) -> String {
    let mut out = String::new();
    for &b in bytes.iter().take(max) {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    if bytes.len() > max {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_is_printable() {
        assert_eq!(evidence(b"SSH-2.0-x\r\n", 64), "SSH-2.0-x\\r\\n");
        assert_eq!(evidence(&[0xff, 0, b'a'], 2), "\\xff\\x00…");
        assert!(evidence(b"\x1b[31m", 10).chars().all(|c| !c.is_control()));
    }
}
