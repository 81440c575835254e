//! The application-level attempt: what a client sends once connected. An `http(s)://` or
//! `ws(s)://` URL gets one GET with the URL's own Host and path (over TLS for `https`/`wss`).
//! Any other target that connected is probed read-only to learn what it speaks; a port that
//! speaks HTTP then gets the GET a browser sends to `http://HOST:PORT/`. The doctor says
//! "works" only on an exchange like this, never on a TCP handshake alone.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::Serialize;

use super::{HttpAttempt, HttpOutcome};
use crate::sys::attempt;
use crate::target::{Host, Target};

/// What the verdict rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Checked {
    /// A request as the client sends it (HTTP), and its answer.
    Request,
    /// The port's own protocol, identified by a read-only exchange (`postgresql`, `redis`…).
    Protocol,
    /// Only TCP connects: the protocol is unknown, so no request was tried.
    Connect,
    /// Test binds (`doctor --bind`).
    Bind,
}

/// How long the HTTP request may take, connect (and TLS handshake) included: under the
/// prober's deadline, so a diagnosis stays within 1.5 s.
const HTTP_DEADLINE: Duration = Duration::from_millis(1000);

/// Protocols that answer an HTTP request (portscope's HTTP family).
pub const SPEAKS_HTTP: &[&str] = &[
    "http",
    "https",
    "node-inspector",
    "deno-inspector",
    "chrome-devtools",
    "dart-vm-service",
    "jupyter",
    "docker-api",
    "elasticsearch",
    "prometheus-metrics",
];

/// What the exchange found.
#[derive(Debug, Default)]
pub struct Exchange {
    /// The HTTP request and its answer.
    pub http: Option<HttpAttempt>,
    /// What the port speaks (read-only probe).
    #[cfg(feature = "probe")]
    pub spoken: Option<crate::probe::engine::PortProbe>,
    /// The certificate a TLS client was shown, and whether verifying clients accept it.
    #[cfg(feature = "probe")]
    pub tls: Option<TlsSeen>,
}

/// A server's certificate as a client meets it.
#[cfg(feature = "probe")]
#[derive(Debug, Clone)]
pub struct TlsSeen {
    /// What the certificate says.
    pub facts: crate::probe::TlsFacts,
    /// Why a client that verifies against the system's CA bundle refuses it (`None`: it
    /// accepts it).
    pub refused: Option<String>,
}

impl Exchange {
    /// What the verdict can rest on: a request answered, a protocol identified, or only
    /// the connects.
    pub fn checked(&self) -> Checked {
        if self
            .http
            .as_ref()
            .is_some_and(|h| h.outcome != HttpOutcome::Failed)
        {
            return Checked::Request;
        }
        #[cfg(feature = "probe")]
        if self.protocol().is_some() {
            return Checked::Protocol;
        }
        Checked::Connect
    }

    /// The protocol the probe identified, when it did.
    pub fn protocol(&self) -> Option<String> {
        #[cfg(feature = "probe")]
        {
            let id = self.spoken.as_ref()?.identification.as_ref()?;
            Some(match &id.product {
                Some(p) => format!("{} ({p})", id.protocol),
                None => id.protocol.clone(),
            })
        }
        #[cfg(not(feature = "probe"))]
        None
    }
}

/// The scheme of a URL target, lower-case.
fn scheme(target: &Target) -> Option<&str> {
    match target {
        Target::Addr {
            scheme: Some(s), ..
        } => Some(s.as_str()),
        _ => None,
    }
}

/// Whether the target is a URL a client sends an HTTP request to, and whether over TLS.
fn http_url(target: &Target) -> Option<bool> {
    match scheme(target)? {
        "http" | "ws" => Some(false),
        "https" | "wss" => Some(true),
        _ => None,
    }
}

/// Whether an answer's status is judged strictly: the user named this URL (`http(s)://`),
/// so an error status is their failure. A bare port or a WebSocket URL is asked `GET /`,
/// which many working servers answer with 404 or 426.
pub fn strict(target: &Target) -> bool {
    matches!(scheme(target), Some("http" | "https"))
}

/// `Host` as a client writes it for `target` dialled at `addr`: the URL's or the name's
/// host and port (`localhost:PORT` for a bare port), the port left out when it is the
/// scheme's default.
fn host_header(target: &Target, addr: SocketAddr) -> String {
    let (host, default) = match target {
        Target::Addr { host, .. } => (
            host.clone(),
            match scheme(target) {
                Some("https" | "wss") => 443,
                Some(_) => 80,
                None => 0,
            },
        ),
        _ => (Host::Name("localhost".into()), 0),
    };
    let name = match &host {
        Host::Ip(IpAddr::V6(ip)) => format!("[{ip}]"),
        other => other.to_string(),
    };
    if addr.port() == default {
        name
    } else {
        format!("{name}:{}", addr.port())
    }
}

/// The name a TLS client sends (SNI): the URL's host name, none for an address.
#[cfg(feature = "probe")]
fn sni(target: &Target) -> Option<&str> {
    match target {
        Target::Addr {
            host: Host::Name(n),
            ..
        } => Some(n.as_str()),
        Target::Addr { .. } => None,
        _ => Some("localhost"),
    }
}

/// The path a client requests.
fn path(target: &Target) -> &str {
    match target {
        Target::Addr { path: Some(p), .. } => p.as_str(),
        _ => "/",
    }
}

/// Make the exchange with `addr`, the first address that connected.
pub fn exchange(target: &Target, addr: Option<SocketAddr>) -> Exchange {
    let mut out = Exchange::default();
    let Some(addr) = addr else {
        return out;
    };
    let header = host_header(target, addr);
    match http_url(target) {
        Some(false) => {
            out.http = Some(attempt::http_get(
                addr,
                &header,
                path(target),
                HTTP_DEADLINE,
            ));
        }
        Some(true) => https(target, addr, &header, &mut out, HTTP_DEADLINE),
        None => {}
    }
    // A request that was answered needs no probe; one that met silence would only meet it
    // again (and fill the accept queue that shows nothing accepts).
    #[cfg(feature = "probe")]
    if !out
        .http
        .as_ref()
        .is_some_and(|h| h.outcome == HttpOutcome::Answered || h.outcome == HttpOutcome::NoAnswer)
    {
        // What the port speaks: the answer to a bare port, and the reason a URL's request
        // failed (TLS behind http://, Redis behind http://).
        let spoken = probe(target, addr);
        let http_family = spoken
            .identification
            .as_ref()
            .is_some_and(|id| SPEAKS_HTTP.contains(&id.protocol.as_str()));
        if out.http.is_none() && http_family {
            if spoken.tls.is_some() {
                https(target, addr, &header, &mut out, HTTP_DEADLINE);
            } else {
                out.http = Some(attempt::http_get(addr, &header, "/", HTTP_DEADLINE));
            }
        }
        out.spoken = Some(spoken);
    }
    out
}

/// One GET of the target's path at `addr`, as a client of `target` sends it (over TLS for an
/// `https://` or `wss://` URL), and nothing more: no probe when it fails, for a caller that
/// asks again and again (`wait --http`).
/// `deadline` bounds it all (connect, handshake, answer).
pub fn request(target: &Target, addr: SocketAddr, deadline: Duration) -> HttpAttempt {
    let header = host_header(target, addr);
    if http_url(target) == Some(true) {
        let mut out = Exchange::default();
        https(target, addr, &header, &mut out, deadline);
        if let Some(h) = out.http {
            return h;
        }
    }
    attempt::http_get(addr, &header, path(target), deadline)
}

/// One GET over TLS; a failed handshake is the attempt's outcome.
#[cfg_attr(not(feature = "probe"), allow(unused_variables))]
fn https(target: &Target, addr: SocketAddr, header: &str, out: &mut Exchange, deadline: Duration) {
    let start = std::time::Instant::now();
    #[cfg(feature = "probe")]
    match crate::probe::tls_client::connect(addr, sni(target), deadline) {
        Ok((mut session, sock, facts)) => {
            let refused = crate::probe::tls_client::verify_like_clients(
                &session.conn,
                sni(target),
                addr.ip(),
            )
            .err();
            let left = deadline.saturating_sub(start.elapsed());
            out.http = Some(attempt::http_over(
                &mut session,
                &sock,
                (addr, header, path(target)),
                left.max(Duration::from_millis(1)),
                start,
            ));
            out.tls = Some(TlsSeen { facts, refused });
        }
        Err(e) => {
            let mut h = HttpAttempt::new(addr, header, path(target));
            // Silence to the ClientHello is silence, as to a request in clear.
            h.outcome = if matches!(
                e.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) {
                HttpOutcome::NoAnswer
            } else {
                HttpOutcome::TlsFailed
            };
            h.error = Some(e.to_string());
            h.elapsed_ms = start.elapsed().as_secs_f64() * 1000.0;
            out.http = Some(h);
        }
    }
    #[cfg(not(feature = "probe"))]
    {
        let mut h = HttpAttempt::new(addr, header, path(target));
        h.error = Some("TLS needs portscope's probe feature".into());
        h.elapsed_ms = start.elapsed().as_secs_f64() * 1000.0;
        out.http = Some(h);
    }
}

/// A read-only probe as quick as a loopback server allows: servers that speak first do so
/// within a few milliseconds here (a slower one is recognised from its answer to the first
/// request), and one request tells the family — no refinements. One second in all, so that a
/// whole diagnosis stays within 1.5 s.
#[cfg(feature = "probe")]
fn probe(target: &Target, addr: SocketAddr) -> crate::probe::engine::PortProbe {
    let limits = crate::probe::Limits {
        banner_wait: Duration::from_millis(25),
        greeting_wait: Duration::from_millis(25),
        deadline: Duration::from_millis(1000),
        refine: false,
        ..crate::probe::Limits::default()
    };
    let ctx = crate::probe::engine::Context {
        sni: sni(target).map(str::to_string),
        ..crate::probe::engine::Context::default()
    };
    crate::probe::engine::probe(addr, &ctx, &limits)
}
