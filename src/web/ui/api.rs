//! The dashboard's JSON API under `/api/`: each endpoint runs the same command as the CLI
//! (on the blocking pool) and answers with the same envelope as `--json`
//! (docs/json.md, section `ui`). Bad input is a 400 with `{"error": "…"}`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::Shared;
use crate::commands::watch::NoAsk;
use crate::error::{Error, Result};

type Params = std::result::Result<Query<HashMap<String, String>>, QueryRejection>;

/// `GET /api/ls`: what `portscope --json ls` prints.
pub async fn ls() -> Response {
    blocking("ls", || {
        crate::commands::ls::run(&crate::commands::ls::Options::default(), &NoAsk).map(|(r, _)| r)
    })
    .await
}

/// `GET /api/who?target=T`: what `portscope --json who T` prints.
pub async fn who(State(shared): State<Arc<Shared>>, params: Params) -> Response {
    let target = match required(params, "target", "/api/who?target=8080") {
        Ok(t) => t,
        Err(why) => return bad_request(&why),
    };
    let state_dir = shared.state_dir.clone();
    blocking("who", move || {
        let opts = crate::commands::who::Options {
            target: crate::target::parse(&target)?,
            probe: false,
            state_dir,
        };
        crate::commands::who::run(&opts, &NoAsk).map(|(r, _)| r)
    })
    .await
}

/// `GET /api/history[?target=T]`: what `portscope --json history [T]` prints (the report
/// says so when there is no store).
pub async fn history(State(shared): State<Arc<Shared>>, params: Params) -> Response {
    let params = match params {
        Ok(Query(p)) => p,
        Err(e) => return bad_request(&e.body_text()),
    };
    let target = match params
        .get("target")
        .map(String::as_str)
        .map(crate::target::parse)
        .transpose()
    {
        Ok(t) => t,
        Err(e) => return bad_request(&e.to_string()),
    };
    let opts = crate::commands::history::Options {
        target,
        state_dir: shared.state_dir.clone(),
        ..crate::commands::history::Options::default()
    };
    blocking("history", move || {
        crate::commands::history::run(&opts, &NoAsk).map(|(r, _)| r)
    })
    .await
}

/// `GET /api/audit?probe=0|1`: what `portscope --json audit` prints (no probes unless
/// `probe=1`).
pub async fn audit(params: Params) -> Response {
    let probe = match params {
        Ok(Query(p)) => match p.get("probe").map(String::as_str) {
            None | Some("0") => false,
            Some("1") => true,
            Some(_) => return bad_request("probe must be 0 or 1, e.g. /api/audit?probe=1"),
        },
        Err(e) => return bad_request(&e.body_text()),
    };
    let opts = crate::commands::audit::Options {
        fail_on: crate::commands::audit::FailOn::Warning,
        allowlist: None,
        probe,
        sarif: false,
        show_allowed: false,
        ports: Vec::new(),
    };
    blocking("audit", move || {
        crate::commands::audit::run(&opts, &NoAsk).map(|(r, _)| r)
    })
    .await
}

/// `GET /api/probe[?target=T]`: what `portscope --json probe [T]` prints: with no target,
/// every listening TCP port, each probe read-only and bounded (1.2 s per address, 16 at a
/// time). One probe run at a time for the whole dashboard: others wait their turn.
pub async fn probe(State(shared): State<Arc<Shared>>, params: Params) -> Response {
    let params = match params {
        Ok(Query(p)) => p,
        Err(e) => return bad_request(&e.body_text()),
    };
    let texts: Vec<String> = params
        .get("target")
        .filter(|t| !t.trim().is_empty())
        .cloned()
        .into_iter()
        .collect();
    let Ok(_turn) = shared.probing.acquire().await else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "the dashboard is stopping");
    };
    blocking("probe", move || {
        let targets = texts
            .into_iter()
            .map(|text| {
                Ok(crate::commands::probe::ProbeTarget {
                    target: crate::target::parse(&text)?,
                    text,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let opts = crate::commands::probe::Options {
            targets,
            deadline: std::time::Duration::from_millis(1200),
            concurrency: 16,
        };
        crate::commands::probe::run(&opts, &NoAsk).map(|(r, _)| r)
    })
    .await
}

/// `GET /api/graph`: the loopback connection graph ([`super::graph::Graph`]) from one
/// snapshot of every TCP socket.
pub async fn graph() -> Response {
    blocking("graph", super::graph::take).await
}

/// The body of `POST /api/kill`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KillRequest {
    /// What to free, as `kill` accepts it: `8000`, `127.0.0.1:8000/tcp`, `udp/53`.
    pub target: String,
    /// Only plan: show what would be stopped.
    pub dry_run: bool,
}

/// `POST /api/kill` with `{"target": "127.0.0.1:8000/tcp", "dry_run": false}`: what
/// `portscope --json kill --yes TARGET` prints (SIGTERM, then SIGKILL after 5 s).
pub async fn kill(body: Bytes) -> Response {
    let req: KillRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return bad_request(&format!(
                "the body is not {{\"target\": \"8000/tcp\", \"dry_run\": true}} ({e})"
            ));
        }
    };
    let target = match crate::target::parse(&req.target) {
        Ok(t) => t,
        Err(e) => return bad_request(&e.to_string()),
    };
    let opts = crate::commands::kill::Options {
        yes: true,
        dry_run: req.dry_run,
        ..crate::commands::kill::Options::new(vec![target])
    };
    blocking("kill", move || {
        crate::commands::kill::run(&opts, &NoAsk).map(|(r, _)| r)
    })
    .await
}

/// The value of a required query parameter, or why it is missing.
fn required(params: Params, name: &str, example: &str) -> std::result::Result<String, String> {
    match params {
        Ok(Query(mut p)) => match p.remove(name) {
            Some(v) if !v.trim().is_empty() => Ok(v),
            _ => Err(format!("{name} is required, e.g. {example}")),
        },
        Err(e) => Err(e.body_text()),
    }
}

/// Run `work` on the blocking pool and answer with its report in the `--json` envelope.
async fn blocking<T, F>(command: &'static str, work: F) -> Response
where
    T: Serialize + Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(report)) => match crate::render::json::to_string(command, &report, false) {
            Ok(text) => json(StatusCode::OK, text),
            Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        },
        Ok(Err(e @ Error::BadInput { .. })) => bad_request(&e.to_string()),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("the {command} task failed: {e}"),
        ),
    }
}

fn json(status: StatusCode, text: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        text + "\n",
    )
        .into_response()
}

/// A 400 with `{"error": "…"}`.
pub fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, message)
}

/// `{"error": "…"}` (one line) with `status`.
pub fn error(status: StatusCode, message: &str) -> Response {
    let one_line = message.replace(['\n', '\r'], " ");
    let body = serde_json::json!({ "error": one_line }).to_string();
    json(status, body)
}
