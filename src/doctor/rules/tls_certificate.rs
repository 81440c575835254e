//! Rule: the request over TLS was answered, but over a certificate that clients verifying
//! against the system's CA bundle (curl, browsers, Node, Python, Go) refuse: expired,
//! self-signed, issued by an unknown CA, or not naming the host the URL dials. portscope
//! accepts any certificate so that it can read it; the user's client does not.

use crate::doctor::Context;
use crate::model::{Finding, Severity};

/// DOC-TLS-UNTRUSTED, with what the certificate says.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let Some(seen) = &ctx.tls else {
        return Vec::new();
    };
    let Some(why) = &seen.refused else {
        return Vec::new();
    };
    let tls = &seen.facts;
    let addr = ctx
        .http
        .as_ref()
        .map(|h| h.addr.to_string())
        .unwrap_or_default();
    let mut evidence = vec![
        format!("verifying the certificate as curl does: {why}"),
        format!(
            "certificate of {addr}: subject {}, issuer {}, valid {} to {}",
            tls.subject.as_deref().unwrap_or("?"),
            tls.issuer.as_deref().unwrap_or("?"),
            tls.not_before.as_deref().unwrap_or("?"),
            tls.not_after.as_deref().unwrap_or("?")
        ),
    ];
    if !tls.san.is_empty() {
        evidence.push(format!("names it is valid for: {}", tls.san.join(", ")));
    }
    let what = if tls.expired == Some(true) {
        "an expired certificate"
    } else if tls.self_signed == Some(true) {
        "a self-signed certificate"
    } else {
        "a certificate clients do not trust"
    };
    let mut fix = Vec::new();
    if tls.expired == Some(true) {
        fix.push("renew the certificate (a dev server makes a new one when its certificate cache is cleared)".to_string());
    }
    fix.push("trust its CA for this client (curl --cacert CA.pem, NODE_EXTRA_CA_CERTS=CA.pem, REQUESTS_CA_BUNDLE=CA.pem), or serve a certificate from a CA the system trusts (mkcert -install makes one for development)".into());
    vec![Finding {
        code: "DOC-TLS-UNTRUSTED",
        severity: Severity::Critical,
        title: format!(
            "{addr} answers over {what}: curl, browsers and other clients that verify certificates refuse the connection"
        ),
        evidence,
        fix,
    }]
}
