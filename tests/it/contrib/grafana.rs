//! The Grafana dashboard contrib/grafana/portscope.json: importable anywhere (no
//! datasource, id or repeated panel id of its own), and every PromQL expression of every
//! panel and variable returns data from a real Prometheus scraping a real `portscope
//! exporter`. So that a panel never shows "No data" because of a misspelt metric or label.

use std::collections::BTreeSet;
use std::time::Duration;

use super::{Daemon, contrib_text, wait_for};
use crate::exporter::upstream::{JOB, start_prometheus};
use crate::exporter::{Exporter, http_get};
use crate::harness::{self, TempDir};

fn dashboard() -> serde_json::Value {
    serde_json::from_str(&contrib_text("grafana/portscope.json")).expect("the dashboard is JSON")
}

/// Every panel, rows' nested panels included.
fn panels(dashboard: &serde_json::Value) -> Vec<&serde_json::Value> {
    fn walk<'a>(list: &'a serde_json::Value, out: &mut Vec<&'a serde_json::Value>) {
        for p in list.as_array().into_iter().flatten() {
            out.push(p);
            walk(&p["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&dashboard["panels"], &mut out);
    out
}

/// `(panel title, expr)` of every query target of every panel.
fn expressions(dashboard: &serde_json::Value) -> Vec<(String, String)> {
    panels(dashboard)
        .iter()
        .flat_map(|p| {
            p["targets"].as_array().into_iter().flatten().map(move |t| {
                let expr = t["expr"].as_str().expect("every target has an expr");
                (p["title"].as_str().unwrap().to_string(), expr.to_string())
            })
        })
        .collect()
}

/// Every `"datasource"` value anywhere in the dashboard.
fn datasources(v: &serde_json::Value, out: &mut Vec<serde_json::Value>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                if k == "datasource" {
                    out.push(v.clone());
                }
                datasources(v, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| datasources(v, out)),
        _ => {}
    }
}

#[test]
fn grafana_dashboard_names_no_datasource_of_its_own() {
    let d = dashboard();
    assert!(
        d["schemaVersion"].as_u64().unwrap() >= 36,
        "{}",
        d["schemaVersion"]
    );
    assert!(
        d.get("id").is_none_or(|id| id.is_null()),
        "an importable dashboard has no id"
    );
    let variables = d["templating"]["list"].as_array().unwrap();
    let ds = variables
        .iter()
        .find(|v| v["name"] == "datasource")
        .expect("a datasource variable");
    assert_eq!(ds["type"], "datasource");
    assert_eq!(ds["query"], "prometheus");
    let mut found = Vec::new();
    datasources(&d, &mut found);
    assert!(found.len() > 10, "{found:?}");
    for v in &found {
        assert_eq!(v["type"], "prometheus", "{v}");
        assert_eq!(v["uid"], "${datasource}", "a hard-coded datasource: {v}");
    }
    let ids: Vec<u64> = panels(&d)
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect();
    let unique: BTreeSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "panel ids repeat: {ids:?}");
    for p in panels(&d) {
        assert!(p["gridPos"]["w"].as_u64().unwrap() <= 24, "{}", p["title"]);
        let refs: Vec<&str> = p["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| t["refId"].as_str().unwrap())
            .collect();
        let unique: BTreeSet<_> = refs.iter().collect();
        assert_eq!(unique.len(), refs.len(), "{}: refIds repeat", p["title"]);
    }
}

/// Grafana's variables as the test's Prometheus has them: the job, every instance (the
/// variable's "All"), and fixed intervals.
fn substitute(expr: &str) -> String {
    let text = expr
        .replace("$__rate_interval", "1m")
        .replace("$__interval", "1m")
        .replace("$__range", "5m")
        .replace("$job", JOB)
        .replace("$instance", ".+");
    assert!(
        !text.contains('$'),
        "a variable this test does not know in {expr}"
    );
    text
}

/// Percent-encode a query parameter.
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Ask Prometheus an instant query; its JSON answer.
fn prometheus_query(port: u16, query: &str) -> serde_json::Value {
    let path = format!("/api/v1/query?query={}", url_encode(query));
    let r = http_get(port, &path, &format!("127.0.0.1:{port}"));
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {} {}", r.status, r.body))
}

/// The series of a successful instant query.
fn series(port: u16, query: &str) -> Vec<serde_json::Value> {
    let answer = prometheus_query(port, query);
    assert_eq!(answer["status"], "success", "{query}: {answer}");
    answer["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn every_grafana_expression_returns_data() {
    let test = "every_grafana_expression_returns_data";
    let Some(prometheus) = harness::needs(test, "prometheus", "prometheus") else {
        return;
    };
    let d = dashboard();
    let exprs = expressions(&d);
    assert!(exprs.len() >= 10, "{exprs:?}");

    // Something for every panel: listeners on loopback and on every interface (exposure),
    // one of them an audit finding and the other's finding allowlisted.
    let dir = TempDir::new("contrib-grafana");
    let local = harness::tcp_listener("127.0.0.1");
    let exposed = harness::tcp_listener("0.0.0.0");
    let accepted = harness::tcp_listener("0.0.0.0");
    let allowlist = dir.join("audit.toml");
    std::fs::write(
        &allowlist,
        format!(
            "[[allow]]\nrule = \"AUD-EXPOSED-SERVICE\"\nport = {}\nreason = \"the test's own\"\n",
            accepted.num(0)
        ),
    )
    .unwrap();
    let exporter = Exporter::start(&["--allowlist", &allowlist]);
    let (server, port) = start_prometheus(&prometheus, &dir, exporter.port, None);
    // stopped with SIGTERM like the other daemons, not killed
    let server = Daemon(server);

    // scraped at least three times: rates and increases have two samples in their window
    let scrapes = format!("count_over_time(up{{job=\"{JOB}\"}}[1m])");
    wait_for(
        Duration::from_secs(60),
        || {
            let s = series(port, &scrapes);
            let n: f64 = s.first()?["value"][1].as_str()?.parse().ok()?;
            (n >= 3.0).then_some(())
        },
        || {
            format!(
                "Prometheus did not scrape the exporter three times in 60 s: {}\n{}",
                prometheus_query(port, &scrapes),
                std::fs::read_to_string(dir.0.join("prometheus.log")).unwrap_or_default()
            )
        },
    );
    let up = series(port, &format!("up{{job=\"{JOB}\"}}"));
    assert_eq!(up[0]["value"][1], "1", "{up:?}");

    // the variables' own queries: label_values(SELECTOR, LABEL) has that label
    for v in d["templating"]["list"].as_array().unwrap() {
        let Some(q) = v["query"]["query"].as_str() else {
            continue;
        };
        let inner = q
            .strip_prefix("label_values(")
            .and_then(|r| r.strip_suffix(')'))
            .unwrap_or_else(|| panic!("variable {}: {q}", v["name"]));
        let (selector, label) = inner.rsplit_once(',').unwrap();
        let found = series(port, &substitute(selector.trim()));
        assert!(
            found.iter().any(|s| s["metric"][label.trim()].is_string()),
            "variable {}: {q}: {found:?}",
            v["name"]
        );
        eprintln!(
            "{test}: variable {}: {q} -> {} series",
            v["name"],
            found.len()
        );
    }

    let mut exposures = BTreeSet::new();
    for (title, expr) in &exprs {
        let query = substitute(expr);
        let found = series(port, &query);
        assert!(
            !found.is_empty(),
            "panel {title:?}: {query} returned no series"
        );
        if expr.contains("by (exposure)") {
            exposures.extend(
                found
                    .iter()
                    .filter_map(|s| s["metric"]["exposure"].as_str().map(str::to_string)),
            );
        }
        eprintln!("{test}: {title}: {query} -> {} series", found.len());
    }
    assert!(
        exposures.contains("loopback") && exposures.contains("all_interfaces"),
        "{exposures:?}"
    );
    drop((local, exposed, accepted, server, exporter));
}
