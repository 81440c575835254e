//! A proxy in front of a backend, from the reply's headers: the proxy is what answered the
//! probe, so it is the product; the backend's `Server` header (which the proxy passed on) is a
//! detail. `Via` names the proxy (`1.1 varnish (Varnish/7.1)`, `1.1 vm (squid/5.7)`); Varnish
//! also says `X-Varnish`, Envoy `x-envoy-upstream-service-time`; a cache's `X-Cache` or a CDN's
//! `X-Served-By` shows that something stands in front even when nothing names it.

use super::parse::{Response, contains_ci};
use super::{VALUE_MAX, text};

/// What the headers say about a proxy that answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Proxy {
    /// Its name, when the headers give it (`Varnish`, `Squid`).
    pub product: Option<String>,
    /// Its version, when they give it.
    pub version: Option<String>,
    /// The header that showed it (`Via: 1.1 varnish (Varnish/7.1)`).
    pub evidence: String,
}

/// Proxies that name themselves in a `Via` comment or as its `received-by`, by the lower-case
/// name they use: (name, product).
const KNOWN: &[(&str, &str)] = &[
    ("varnish", "Varnish"),
    ("squid", "Squid"),
    ("tinyproxy", "tinyproxy"),
    ("apachetrafficserver", "Apache Traffic Server"),
    ("ats", "Apache Traffic Server"),
    ("caddy", "Caddy"),
    ("haproxy", "HAProxy"),
    ("envoy", "Envoy"),
    ("traefik", "Traefik"),
    ("nginx", "nginx"),
    ("apache", "Apache httpd"),
    ("privoxy", "Privoxy"),
    ("polipo", "Polipo"),
];

/// The proxy the reply's headers show, if any.
pub(super) fn proxy(r: &Response<'_>) -> Option<Proxy> {
    let via = r.headers_named("via").last().map(|v| text(v, VALUE_MAX));
    let named = via.as_deref().and_then(via_product);
    let evidence = |name: &str, value: &[u8]| format!("{name}: {}", text(value, VALUE_MAX));
    if let Some(x) = r.header("x-varnish") {
        let version = named
            .as_ref()
            .filter(|(p, _)| p == "Varnish")
            .and_then(|(_, v)| v.clone());
        return Some(Proxy {
            product: Some("Varnish".into()),
            version,
            evidence: via.map_or_else(|| evidence("X-Varnish", x), |v| format!("Via: {v}")),
        });
    }
    if let Some(via) = via {
        let (product, version) = named.map_or((None, None), |(p, v)| (Some(p), v));
        return Some(Proxy {
            product,
            version,
            evidence: format!("Via: {via}"),
        });
    }
    if let Some(t) = r.header("x-envoy-upstream-service-time") {
        return Some(Proxy {
            product: Some("Envoy".into()),
            version: None,
            evidence: evidence("x-envoy-upstream-service-time", t),
        });
    }
    ["x-cache", "x-served-by", "x-cache-lookup"]
        .iter()
        .find_map(|name| Some((*name, r.header(name)?)))
        .map(|(name, value)| Proxy {
            product: KNOWN
                .iter()
                .find(|(n, _)| contains_ci(value, n.as_bytes()))
                .map(|(_, p)| p.to_string()),
            version: None,
            evidence: evidence(name, value),
        })
}

/// The proxy a `Via` value names, closest to the client first (the last entry): from its
/// comment (`(Varnish/7.1)`, `(squid/5.7)`) or its `received-by` pseudonym (`varnish`,
/// `Caddy`). `None` when it names a host only.
fn via_product(via: &str) -> Option<(String, Option<String>)> {
    let last = via.rsplit(',').next()?.trim();
    let mut words = last.splitn(3, ' ');
    let _protocol = words.next()?;
    let received_by = words.next().unwrap_or_default();
    let comment = words
        .next()
        .unwrap_or_default()
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')');
    let from_comment = comment.split_whitespace().find_map(|token| {
        let (name, version) = token.split_once('/')?;
        let product = known(name)?;
        let version = version.trim_end_matches(')');
        Some((product, (!version.is_empty()).then(|| version.to_string())))
    });
    from_comment.or_else(|| {
        let name = received_by.split(':').next().unwrap_or_default();
        known(name).map(|p| (p, None))
    })
}

/// The product of a proxy name, case-insensitive.
fn known(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    KNOWN
        .iter()
        .find(|(n, _)| *n == lower)
        .map(|(_, p)| p.to_string())
}
