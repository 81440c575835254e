//! Rule: the port answers, but not in the protocol the URL asks for: TLS behind an `http://`
//! URL, plain HTTP behind `https://`, or something that is not HTTP at all.

use crate::doctor::{Context, SPEAKS_HTTP};
use crate::model::{Finding, Severity};
use crate::target::Target;

/// DOC-PROTOCOL-MISMATCH.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let (
        Target::Addr {
            scheme: Some(scheme),
            ..
        },
        Some(spoken),
    ) = (&ctx.target, &ctx.spoken)
    else {
        return Vec::new();
    };
    let Some(id) = &spoken.identification else {
        return Vec::new();
    };
    let over_tls = spoken.tls.is_some();
    let http_family = SPEAKS_HTTP.contains(&id.protocol.as_str()) || id.protocol == "https";
    let wants_tls = matches!(scheme.as_str(), "https" | "wss");
    let wants_http = matches!(scheme.as_str(), "http" | "https" | "ws" | "wss");
    let addr = spoken.addr;
    let (title, fix) = if wants_http && !wants_tls && over_tls {
        (
            format!(
                "{addr} speaks TLS, but the URL says {scheme}://: the server expects an encrypted handshake"
            ),
            vec![format!("use https://{addr}/ (or wss:// for WebSockets)")],
        )
    } else if wants_tls && !over_tls && http_family {
        (
            format!(
                "{addr} speaks plain HTTP, but the URL says {scheme}://: the TLS handshake fails"
            ),
            vec![
                format!("use http://{addr}/"),
                "or put TLS in front of it (a reverse proxy with a certificate)".into(),
            ],
        )
    } else if wants_http && !http_family && id.protocol != "tls" {
        (
            format!(
                "{addr} speaks {}, not HTTP: a browser or HTTP client cannot talk to it",
                id.protocol
            ),
            vec![
                format!("use a {} client for {addr}", id.protocol),
                format!("portscope probe {addr}   # what it is, in full"),
            ],
        )
    } else {
        return Vec::new();
    };
    let mut evidence = vec![format!(
        "read-only probe of {addr}: {}{}",
        id.protocol,
        id.product
            .as_deref()
            .map(|p| format!(" ({p})"))
            .unwrap_or_default()
    )];
    if let Some(t) = &spoken.tls {
        evidence.push(format!(
            "TLS handshake completed: {}",
            t.version.as_deref().unwrap_or("version unknown")
        ));
    }
    if !spoken.evidence.is_empty() {
        evidence.push(format!("first bytes: {}", spoken.evidence));
    }
    vec![Finding {
        code: "DOC-PROTOCOL-MISMATCH",
        severity: Severity::Critical,
        title,
        evidence,
        fix,
    }]
}
