//! Reading portscope's JSON reports in tests: the sockets on a port, their pids, the finding
//! codes of a `doctor` or `audit` report and one finding by code. Re-exported by the harness.

/// The sockets of a JSON report whose local port is `port`.
pub fn on_port(report: &serde_json::Value, port: u32) -> Vec<serde_json::Value> {
    report["sockets"]
        .as_array()
        .expect("sockets array")
        .iter()
        .filter(|s| s["local"]["port"].as_u64() == Some(u64::from(port)))
        .cloned()
        .collect()
}

/// The `pids` array of a socket as numbers.
pub fn pids(socket: &serde_json::Value) -> Vec<u32> {
    socket["pids"]
        .as_array()
        .expect("pids array")
        .iter()
        .map(|p| p.as_u64().expect("pid") as u32)
        .collect()
}

/// The finding codes of a `doctor` (or `audit`) report, most serious first.
pub fn codes(r: &serde_json::Value) -> Vec<String> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// The finding of a report with `code`, or a panic showing the report.
pub fn finding<'a>(r: &'a serde_json::Value, code: &str) -> &'a serde_json::Value {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {r}"))
}
