//! Rule: the connection is accepted, but the request a client sends is not answered well —
//! an error status (a dev server's allowed-hosts check answers 403 or 400 for a Host it does
//! not know), an empty reply (the handler crashed), a reset, or no byte at all (nothing
//! accepts: the listening socket's owner never calls accept, or the handler hangs), or a
//! TLS handshake that fails. A TCP handshake alone is not "works". A URL the user named is
//! judged strictly (an error status is their failure); the `GET /` sent to a bare port is
//! not (an API server answers 404 there), unless the server refuses the Host itself.

use crate::doctor::{Context, HttpOutcome, holder};
use crate::model::{Finding, Severity};

/// DOC-HTTP-STATUS, DOC-HTTP-EMPTY-REPLY, DOC-HTTP-RESET, DOC-HTTP-NO-ANSWER, DOC-TLS-FAILED.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let Some(h) = &ctx.http else {
        return Vec::new();
    };
    // A docker-proxy whose container refuses or is gone: that rule names the cause.
    if matches!(
        h.outcome,
        HttpOutcome::EmptyReply | HttpOutcome::Reset | HttpOutcome::NoAnswer
    ) && super::docker_proxy::explains(ctx).is_some()
    {
        return Vec::new();
    }
    let holder: Vec<String> = ctx.listeners().map(|s| ctx.owner_label(s)).collect();
    let holder = if holder.is_empty() {
        "the listener".to_string()
    } else {
        holder.join(", ")
    };
    let mut evidence = vec![format!(
        "sent to {}: {} ({} ms)",
        h.addr,
        h.request,
        h.elapsed_ms.round()
    )];
    evidence.extend(middlemen(ctx));
    let (code, title, fix): (&'static str, String, Vec<String>) = match h.outcome {
        HttpOutcome::Answered => {
            let Some(status) = h.status.filter(|s| *s >= 400) else {
                return Vec::new();
            };
            let line = h.first_line.clone().unwrap_or_default();
            evidence.push(format!("answer: {line}"));
            if let Some(server) = &h.server {
                evidence.push(format!("Server: {server}"));
            }
            if let Some(body) = &h.body_start {
                evidence.push(format!("body: {body}"));
            }
            let mentions_host = h
                .body_start
                .as_deref()
                .is_some_and(|b| b.to_ascii_lowercase().contains("host"));
            let refuses_host = matches!(status, 400 | 403 | 421) && mentions_host;
            let strict = crate::doctor::exchange::strict(&ctx.target);
            if !strict && !refuses_host && status < 500 {
                return Vec::new();
            }
            let mut fix = Vec::new();
            if refuses_host {
                fix.push(format!(
                    "the server refuses the Host header {}: add it to its allowed hosts (Vite: server.allowedHosts; webpack-dev-server: allowedHosts; Django: ALLOWED_HOSTS; Rails: config.hosts; Angular: --allowed-hosts)",
                    h.request.split("Host: ").nth(1).unwrap_or("?")
                ));
            } else if status >= 500 {
                fix.push(format!(
                    "the server failed the request: read {holder}'s output or log"
                ));
            } else {
                fix.push("check the URL's path and host, and the server's routes".into());
            }
            let finding = Finding {
                code: "DOC-HTTP-STATUS",
                severity: if strict || refuses_host {
                    Severity::Critical
                } else {
                    Severity::Warning
                },
                title: format!(
                    "{holder} accepts the connection but answers the request with {line}"
                ),
                evidence,
                fix,
            };
            return vec![finding];
        }
        HttpOutcome::EmptyReply => (
            "DOC-HTTP-EMPTY-REPLY",
            format!(
                "{holder} accepts the connection, then closes it without answering the request (curl: Empty reply from server)"
            ),
            vec![format!(
                "read {holder}'s output or log: a request handler that crashes closes the connection like this"
            )],
        ),
        HttpOutcome::Reset => {
            if let Some(e) = &h.error {
                evidence.push(format!("error: {e}"));
            }
            (
                "DOC-HTTP-RESET",
                format!("{holder} accepts the connection, then resets it instead of answering"),
                vec![format!(
                    "read {holder}'s output or log; a proxy in front of a dead backend (docker-proxy, a port forward) resets like this too"
                )],
            )
        }
        HttpOutcome::NoAnswer => {
            for s in ctx.listeners() {
                if s.recv_q > 0 {
                    evidence.push(format!(
                        "{} listens with {} connection(s) waiting in its accept queue: nothing accepts them",
                        s.local, s.recv_q
                    ));
                }
            }
            (
                "DOC-HTTP-NO-ANSWER",
                format!(
                    "{holder} accepts the connection, but no byte of an answer came within {} ms",
                    h.elapsed_ms.round()
                ),
                vec![
                    format!("portscope who {}   # who holds the socket, and whether it is the server you think", h.addr.port()),
                    "a process that inherited the listening socket and never accepts (a child of a server that died) must be stopped: portscope kill PORT".into(),
                ],
            )
        }
        HttpOutcome::TlsFailed => {
            // A port seen to speak something else is named by the protocol-mismatch rule.
            #[cfg(feature = "probe")]
            if ctx
                .spoken
                .as_ref()
                .is_some_and(|p| p.identification.is_some() && p.tls.is_none())
            {
                return Vec::new();
            }
            if let Some(e) = &h.error {
                evidence.push(format!("TLS handshake: {e}"));
            }
            (
                "DOC-TLS-FAILED",
                format!("{holder} accepts the connection, but the TLS handshake fails"),
                vec![
                    format!("portscope probe {}   # what the port speaks", h.addr),
                    "if it speaks plain HTTP, use http://; else check the server's TLS settings"
                        .into(),
                ],
            )
        }
        HttpOutcome::NotHttp | HttpOutcome::Failed => return Vec::new(),
    };
    vec![Finding {
        code,
        severity: Severity::Critical,
        title,
        evidence,
        fix,
    }]
}

/// What a holder of the port is when it only stands in front of the server (docker-proxy,
/// systemd's socket activation): the answer comes from behind it.
fn middlemen(ctx: &Context) -> Vec<String> {
    ctx.listeners()
        .flat_map(|s| {
            s.pids
                .iter()
                .filter_map(|pid| ctx.snapshot.process(*pid))
                .filter_map(move |p| holder::describe(p, s))
        })
        .collect()
}
