//! The exporter against the real consumers of its output: a Prometheus server that scrapes
//! it and loads the alert rules, and node_exporter serving the textfile.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Exporter, TempDir, http_get, listener_line, repo};
use crate::harness::{self, Spawned};

/// A free loopback port for a program that cannot be told to use port 0 and report back:
/// bind port 0, read the number, close. (The port may be taken again before it is used;
/// the caller retries.)
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Start a server that takes its port on the command line (`args(port)`) on a free
/// loopback port, logging to `dir/log`; `None` if it exited at once (the port was taken in
/// the meantime) or did not listen within 15 s.
fn start_on_free_port(
    program: &Path,
    dir: &Path,
    log: &str,
    args: impl Fn(u16) -> Vec<String>,
) -> Option<(Spawned, u16)> {
    use std::os::unix::process::CommandExt;
    let port = free_port();
    let log = std::fs::File::create(dir.join(log)).unwrap();
    let mut child = Command::new(program)
        .args(args(port))
        .stdout(Stdio::null())
        .stderr(log)
        .process_group(0)
        .spawn()
        .unwrap();
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return None;
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            let proc = Spawned {
                child,
                pid,
                words: vec![],
            };
            return Some((proc, port));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Try `start_on_free_port` three times; panic with the server's log if it never starts.
fn start_server(
    program: &Path,
    dir: &Path,
    log: &str,
    args: impl Fn(u16) -> Vec<String>,
) -> (Spawned, u16) {
    (0..3)
        .find_map(|_| start_on_free_port(program, dir, log, &args))
        .unwrap_or_else(|| {
            panic!(
                "{} did not start:\n{}",
                program.display(),
                std::fs::read_to_string(dir.join(log)).unwrap_or_default()
            )
        })
}

/// The job name Prometheus scrapes the exporter under (as in contrib/prometheus/prometheus.yml).
pub(crate) const JOB: &str = "portscope";

/// Start Prometheus on a free loopback port, with its configuration, data and log
/// (`prometheus.log`) in `dir`, scraping `127.0.0.1:target` as [`JOB`] every second and
/// evaluating the alert rules in `rules`, if any; the server and its port.
pub(crate) fn start_prometheus(
    program: &Path,
    dir: &TempDir,
    target: u16,
    rules: Option<&Path>,
) -> (Spawned, u16) {
    let config = dir.0.join("prometheus.yml");
    let rule_files = rules.map_or(String::new(), |r| {
        format!("rule_files:\n  - {}\n", r.display())
    });
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             {rule_files}\
             scrape_configs:\n  - job_name: {JOB}\n    static_configs:\n      - targets: ['127.0.0.1:{target}']\n"
        ),
    )
    .unwrap();
    let data = dir.0.join("data");
    let (server, port) = start_server(program, &dir.0, "prometheus.log", |p| {
        vec![
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", data.display()),
            format!("--web.listen-address=127.0.0.1:{p}"),
        ]
    });
    // Listening is not ready: until its storage is open, Prometheus answers 503 to queries.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = http_get(port, "/-/ready", &format!("127.0.0.1:{port}"));
        if ready.status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus not ready after 30 s: {} {}",
            ready.status,
            ready.body
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, port)
}

#[test]
fn node_exporter_serves_the_textfile() {
    let Some(node_exporter) = harness::needs(
        "node_exporter_serves_the_textfile",
        "prometheus-node-exporter",
        "prometheus-node-exporter",
    ) else {
        return;
    };
    let listener = harness::tcp_listener("127.0.0.1");
    let port = listener.num(0);
    let dir = TempDir::new("exporter-node");
    let textfiles = dir.0.join("textfile");
    std::fs::create_dir_all(&textfiles).unwrap();
    let prom = textfiles.join("portscope.prom");
    let r = harness::run(&["exporter", "--textfile", prom.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (server, web) = start_server(&node_exporter, &dir.0, "node_exporter.log", |p| {
        vec![
            "--collector.disable-defaults".into(),
            "--collector.textfile".into(),
            format!("--collector.textfile.directory={}", textfiles.display()),
            format!("--web.listen-address=127.0.0.1:{p}"),
        ]
    });
    let r = http_get(web, "/metrics", &format!("127.0.0.1:{web}"));
    assert_eq!(r.status, 200);
    assert!(
        r.body.lines().any(|l| l == "node_textfile_scrape_error 0"),
        "node_exporter could not read the file:\n{}\nlog:\n{}",
        r.body,
        std::fs::read_to_string(dir.0.join("node_exporter.log")).unwrap_or_default()
    );
    assert_eq!(
        listener_line(&r.body, port),
        Some(
            format!(
                "portscope_listener_info{{address=\"127.0.0.1\",exposure=\"loopback\",port=\"{port}\",\
                 process=\"python3\",proto=\"tcp\"}} 1"
            )
            .as_str()
        ),
        "{}",
        r.body
    );
    drop(server);
}

#[test]
fn a_real_prometheus_scrapes_the_exporter() {
    let Some(prometheus) = harness::needs(
        "a_real_prometheus_scrapes_the_exporter",
        "prometheus",
        "prometheus",
    ) else {
        return;
    };
    let listener = harness::tcp_listener("127.0.0.1");
    let port = listener.num(0);
    let exporter = Exporter::start(&[]);
    let dir = TempDir::new("exporter-prometheus");
    let alerts = repo().join("contrib/prometheus/alerts.yml");
    let (server, web) = start_prometheus(&prometheus, &dir, exporter.port, Some(&alerts));

    // portscope_listener_info{port="<port>"}, URL-encoded
    let query = format!("/api/v1/query?query=portscope_listener_info%7Bport%3D%22{port}%22%7D");
    let deadline = Instant::now() + Duration::from_secs(30);
    let series = loop {
        let r = http_get(web, &query, &format!("127.0.0.1:{web}"));
        let answer: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
        if let Some(s) = answer["data"]["result"]
            .as_array()
            .filter(|a| !a.is_empty())
        {
            break s.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no series for port {port} in Prometheus after 30 s; last answer: {}\nexporter: {}\nprometheus log:\n{}",
            r.body,
            exporter.stderr.lock().unwrap(),
            std::fs::read_to_string(dir.0.join("prometheus.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(series.len(), 1, "{series:?}");
    let metric = &series[0]["metric"];
    assert_eq!(metric["job"], "portscope");
    assert_eq!(metric["instance"], format!("127.0.0.1:{}", exporter.port));
    assert_eq!(metric["proto"], "tcp");
    assert_eq!(metric["address"], "127.0.0.1");
    assert_eq!(metric["exposure"], "loopback");
    assert_eq!(metric["process"], "python3");
    assert_eq!(series[0]["value"][1], "1");

    // the alert rules loaded into the real server
    let rules = http_get(web, "/api/v1/rules", &format!("127.0.0.1:{web}"));
    let rules: serde_json::Value = serde_json::from_str(&rules.body).unwrap();
    let names: Vec<&str> = rules["data"]["groups"][0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(names.contains(&"PortscopeExposedDebugger"), "{names:?}");
    drop(server);
    let (code, _, stderr) = exporter.stop();
    assert_eq!(code, 0, "{stderr}");
}
