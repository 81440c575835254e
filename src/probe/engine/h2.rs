//! HTTP/2 inside TLS. The handshake that reads a port's TLS facts offers ALPN `h2` and
//! `http/1.1`, so the facts say which the server chose; when it chose `h2`, the HTTP/2 probes
//! run inside TLS on connections offering `h2` alone (a gRPC server over TLS, nghttpd, a web
//! server that prefers HTTP/2), before the HTTP/1.1 and banner probes, which keep offering no
//! ALPN at all, so a server that speaks both still answers them in HTTP/1.1.

use super::*;
use crate::probe::h2 as family;
use crate::probe::tls_client::{alpn_config, h2_config};

/// The handshake whose facts are reported, offering ALPN `h2`, `http/1.1`. A server that
/// refuses the offer (alert `no_application_protocol`: it speaks neither) is asked once more,
/// offering nothing.
pub(super) fn facts_handshake(
    addr: SocketAddr,
    ctx: &Context,
    limits: &Limits,
    budget: &Budget,
) -> Option<Session> {
    let stream = connect(addr, limits, budget).ok()?;
    match handshake(stream, &alpn_config(), ctx, limits, budget) {
        Ok(session) => Some(session),
        Err(e) if refused_alpn(&e) => {
            let stream = connect(addr, limits, budget).ok()?;
            handshake(stream, &client_config(), ctx, limits, budget).ok()
        }
        Err(_) => None,
    }
}

/// Whether a handshake failed on the server's `no_application_protocol` alert.
fn refused_alpn(e: &io::Error) -> bool {
    use rustls::{AlertDescription, Error};
    e.get_ref()
        .and_then(|e| e.downcast_ref::<Error>())
        .is_some_and(|e| {
            matches!(
                e,
                Error::AlertReceived(AlertDescription::NoApplicationProtocol)
            )
        })
}

/// When the server chose ALPN `h2`: `GET /` in HTTP/2 inside TLS, refined as in clear text
/// (the gRPC reflection request). A gRPC server stays `grpc` (its TLS facts say TLS); a web
/// server is `https` with the detail `http_version` = `2`.
pub(super) fn inside_tls(
    addr: SocketAddr,
    ctx: &Context,
    limits: &Limits,
    budget: &Budget,
    out: &mut PortProbe,
) -> Option<Identification> {
    let chose_h2 = out.tls.as_ref()?.alpn.as_deref() == Some("h2");
    if !chose_h2 || budget.spent() {
        return None;
    }
    let config = h2_config();
    out.probes.push(family::GET.name);
    let reply = converse(addr, &family::GET, limits, budget, Some((&config, ctx)));
    if out.evidence.is_empty() && !reply.bytes.is_empty() {
        out.evidence = evidence(&reply.bytes, 96);
    }
    let found = reply.verdict.settled()?;
    let mut found = refine(addr, found, ctx, limits, budget, out, Some(&config));
    if found.protocol == "http2" {
        found.protocol = "https".into();
        found = found.detail("http_version", "2");
    }
    Some(found)
}
