//! Refinements of `http`: requests that turn "a web server" into the service it really is,
//! each one of the dangerous ones when reachable without authentication (see
//! `shared/guide/FACTS.md`).

use serde_json::Value;

use super::parse::{Response, contains_ci};
use super::{VALUE_MAX, response, status_text, text};
use crate::probe::{Auth, Confidence, Identification, Verdict};

/// The reply's body as JSON, when it parses.
fn json(r: &Response<'_>) -> Option<Value> {
    serde_json::from_slice(&r.body).ok()
}

/// A `200` reply whose body is JSON, or the verdict to return instead.
fn ok_json(bytes: &[u8]) -> Result<(Response<'_>, Value), Verdict> {
    let r = response(bytes, true)?;
    if r.status != 200 {
        return Err(Verdict::NoMatch);
    }
    let doc = json(&r).ok_or(Verdict::NoMatch)?;
    Ok((r, doc))
}

fn is_tornado(r: &Response<'_>) -> bool {
    r.header("server")
        .is_some_and(|s| s.len() >= 13 && s[..13].eq_ignore_ascii_case(b"TornadoServer"))
}

fn string_field(v: &Value, key: &str) -> Option<String> {
    v.get(key)?.as_str().map(|s| text(s.as_bytes(), VALUE_MAX))
}

/// `GET /json/version`: the V8 inspector protocol's version document. `node.js/v…` is the
/// Node inspector; `Chrome/…` (or `HeadlessChrome`, `Edg/`) with a `webSocketDebuggerUrl` is
/// Chrome DevTools. Both run code for whoever connects.
pub fn parse_json_version(bytes: &[u8]) -> Verdict {
    let (_, doc) = match ok_json(bytes) {
        Ok(found) => found,
        Err(v) => return v,
    };
    let Some(browser) = string_field(&doc, "Browser") else {
        return Verdict::NoMatch;
    };
    let (name, version) = browser.split_once('/').unwrap_or((&browser, ""));
    let version = version.strip_prefix('v').unwrap_or(version);
    let has_ws = doc.get("webSocketDebuggerUrl").is_some();
    let user_agent = string_field(&doc, "User-Agent").unwrap_or_default();
    let mut id = match name.to_ascii_lowercase().as_str() {
        "node.js" => Identification::new("node-inspector", Confidence::Certain)
            .product("Node.js")
            .detail(
                "risk",
                "remote code execution by design: anyone who can connect can run code in this process",
            ),
        "deno" => Identification::new("deno-inspector", Confidence::Certain)
            .product("Deno")
            .detail(
                "risk",
                "remote code execution by design: anyone who can connect can run code in this process",
            ),
        "chrome" | "headlesschrome" | "chromium" | "edg" | "electron" | "opera" => {
            let product = match name {
                "Edg" => "Microsoft Edge",
                "HeadlessChrome" => "Chrome",
                other => other,
            };
            let confidence = if has_ws {
                Confidence::Certain
            } else {
                Confidence::Likely
            };
            let mut id = Identification::new("chrome-devtools", confidence).product(product);
            if name == "HeadlessChrome" || user_agent.contains("HeadlessChrome") {
                id = id.detail("headless", "yes");
            }
            id.detail(
                "risk",
                "full control of the browser: anyone who can connect can read cookies and run script in every tab",
            )
        }
        _ if has_ws && doc.get("Protocol-Version").is_some() => {
            Identification::new("chrome-devtools", Confidence::Likely).product(name)
        }
        _ => return Verdict::NoMatch,
    };
    if !version.is_empty() {
        id.version = Some(version.to_string());
    }
    if let Some(p) = string_field(&doc, "Protocol-Version") {
        id = id.detail("protocol_version", p);
    }
    Verdict::Match(id.auth(Auth::NotRequired))
}

/// `GET /api`: Jupyter's `{"version": "…"}` (open even when a token is required). The
/// `username-…` cookie that jupyter_server 2 sets for an anonymous user means authentication
/// is off; otherwise the auth state is left to `GET /api/kernels`.
pub fn parse_jupyter_api(bytes: &[u8]) -> Verdict {
    let (r, doc) = match ok_json(bytes) {
        Ok(found) => found,
        Err(v) => return v,
    };
    let Some(version) = string_field(&doc, "version") else {
        return Verdict::NoMatch;
    };
    let only_version = doc.as_object().is_some_and(|o| o.len() == 1);
    let confidence = match (is_tornado(&r), only_version) {
        (true, _) => Confidence::Certain,
        (false, true) => Confidence::Likely,
        (false, false) => return Verdict::NoMatch,
    };
    // Notebook < 7 served the API itself (versions 4–6); jupyter_server is 1.x/2.x.
    let classic = version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .is_some_and(|major| (4..7).contains(&major));
    let product = if classic {
        "Jupyter Notebook"
    } else {
        "Jupyter Server"
    };
    let mut id = Identification::new("jupyter", confidence)
        .product(product)
        .version(version);
    let anonymous = r
        .headers_named("set-cookie")
        .any(|c| c.len() >= 9 && c[..9].eq_ignore_ascii_case(b"username-"));
    if anonymous {
        id = id.auth(Auth::NotRequired).detail(
            "risk",
            "no token: anyone who can connect can run code in a kernel",
        );
    }
    Verdict::Match(id)
}

/// `GET /api/kernels` (after `jupyter` was identified): 200 with a JSON list = no
/// authentication (and the number of running kernels); 401/403 = a token or password is
/// required.
pub fn parse_jupyter_kernels(bytes: &[u8]) -> Verdict {
    let r = match response(bytes, true) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let id = Identification::new("jupyter", Confidence::Certain);
    match r.status {
        200 => match json(&r) {
            Some(Value::Array(kernels)) => Verdict::Match(
                id.auth(Auth::NotRequired)
                    .detail("kernels", kernels.len().to_string())
                    .detail(
                        "risk",
                        "no token: anyone who can connect can run code in a kernel",
                    ),
            ),
            _ => Verdict::NoMatch,
        },
        401 | 403 if is_tornado(&r) || json(&r).is_some() => {
            Verdict::Match(id.auth(Auth::Required))
        }
        _ => Verdict::NoMatch,
    }
}

/// `GET /version`: the Docker Engine API (or Podman's compatible one) answers JSON with
/// `ApiVersion`. Reachable without TLS client certificates it is root on the host.
pub fn parse_docker_version(bytes: &[u8]) -> Verdict {
    let r = match response(bytes, true) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let docker_header = r
        .header("server")
        .is_some_and(|s| s.len() >= 7 && s[..7].eq_ignore_ascii_case(b"Docker/"));
    if matches!(r.status, 401 | 403) && docker_header {
        return Verdict::Match(
            Identification::new("docker-api", Confidence::Likely)
                .product("Docker Engine")
                .auth(Auth::Required)
                .detail("status", status_text(&r)),
        );
    }
    if r.status != 200 {
        return Verdict::NoMatch;
    }
    let Some(doc) = json(&r) else {
        return Verdict::NoMatch;
    };
    let (Some(api), Some(version)) = (
        string_field(&doc, "ApiVersion"),
        string_field(&doc, "Version"),
    ) else {
        return Verdict::NoMatch;
    };
    let podman = doc
        .get("Components")
        .and_then(Value::as_array)
        .is_some_and(|c| {
            c.iter()
                .filter_map(|c| c.get("Name").and_then(Value::as_str))
                .any(|n| n.contains("Podman"))
        });
    let mut id = Identification::new("docker-api", Confidence::Certain)
        .product(if podman { "Podman" } else { "Docker Engine" })
        .version(version)
        .auth(Auth::NotRequired)
        .detail("api_version", api);
    if let (Some(os), Some(arch)) = (string_field(&doc, "Os"), string_field(&doc, "Arch")) {
        id = id.detail("platform", format!("{os}/{arch}"));
    }
    Verdict::Match(id.detail(
        "risk",
        "root on the host: anyone who can connect can start a privileged container",
    ))
}

/// `GET /metrics`: the Prometheus text exposition format (`# HELP` / `# TYPE` lines). That is
/// true of the path, not of the product: InfluxDB, etcd, Grafana, exporters all serve it. So the
/// port stays `http`, with detail `metrics` = `prometheus-text` (or `openmetrics`) and
/// `families` (the `# TYPE` lines in the body prefix read); the product is what the body
/// proves — a `…_build_info` sample (`node_exporter_build_info{version="1.5.0"}`) — else what
/// the `Server` header said (etcd, whose `/metrics` names it only past the prefix read, stays
/// unnamed).
pub fn parse_metrics(bytes: &[u8]) -> Verdict {
    let r = match response(bytes, true) {
        Ok(r) => r,
        Err(v) => return v,
    };
    if r.status != 200 {
        return Verdict::NoMatch;
    }
    let mut families = 0usize;
    let mut helps = 0usize;
    let mut build: Option<(String, Option<String>)> = None;
    for line in r.body.split(|&b| b == b'\n') {
        if line.starts_with(b"# TYPE ") {
            families += 1;
        } else if line.starts_with(b"# HELP ") {
            helps += 1;
        } else if build.is_none() {
            build = build_info(line);
        }
    }
    if families == 0 && helps == 0 {
        return Verdict::NoMatch;
    }
    let open_metrics = r
        .header("content-type")
        .is_some_and(|c| contains_ci(c, b"openmetrics"));
    let format = if open_metrics {
        "openmetrics"
    } else {
        "prometheus-text"
    };
    let mut id = Identification::new("http", Confidence::Certain)
        .auth(Auth::NotRequired)
        .detail("metrics", format)
        .detail("families", families.max(helps).to_string());
    if let Some((product, version)) = build {
        id.product = Some(product);
        id.version = version;
    }
    Verdict::Match(id)
}

/// `node_exporter_build_info{…,version="1.5.0"} 1` → (`node_exporter`, `1.5.0`).
fn build_info(line: &[u8]) -> Option<(String, Option<String>)> {
    let line = std::str::from_utf8(line).ok()?;
    let (name, rest) = line.split_once('{')?;
    let product = name.strip_suffix("_build_info")?;
    if product.is_empty()
        || !product
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return None;
    }
    let labels = rest.split_once('}').map_or(rest, |(l, _)| l);
    let version = labels
        .split(',')
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == "version")
        .map(|(_, v)| text(v.trim_matches('"').as_bytes(), 40))
        .filter(|v| !v.is_empty());
    Some((text(product.as_bytes(), 60), version))
}
