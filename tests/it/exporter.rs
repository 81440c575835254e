//! Integration tests of `exporter`: the real binary serving real scrapes (by hand, by
//! `promtool check metrics`, and by a real Prometheus server), the textfile, the alert
//! rules. Ports are chosen at run time; every child process is killed on drop.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::harness::{self, Spawned, TempDir};

pub(crate) mod upstream;

pub(crate) fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A running exporter; standard error is collected in the background.
pub(crate) struct Exporter {
    proc: Spawned,
    pub(crate) port: u16,
    stderr: Arc<Mutex<String>>,
}

impl Exporter {
    /// Start `portscope exporter --listen 127.0.0.1:0 <extra>` and wait for its startup line.
    pub(crate) fn start(extra: &[&str]) -> Exporter {
        Exporter::start_on("127.0.0.1:0", extra)
    }

    fn start_on(listen: &str, extra: &[&str]) -> Exporter {
        use std::os::unix::process::CommandExt;
        let mut child = harness::portscope()
            .args(["exporter", "--listen", listen])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("spawn portscope exporter");
        let pid = child.id();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut first = String::new();
        stderr.read_line(&mut first).unwrap();
        let proc = Spawned {
            child,
            pid,
            words: first.split_whitespace().map(str::to_string).collect(),
        };
        let url = proc
            .words
            .iter()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in the startup line {first:?}"));
        let port = url
            .trim_end_matches("/metrics")
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let collected = Arc::new(Mutex::new(first.clone()));
        let sink = Arc::clone(&collected);
        std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = stderr.read_to_string(&mut rest);
            sink.lock().unwrap().push_str(&rest);
        });
        Exporter {
            proc,
            port,
            stderr: collected,
        }
    }

    fn get(&self, path: &str) -> Response {
        http_get(self.port, path, &format!("127.0.0.1:{}", self.port))
    }

    /// SIGTERM; wait (bounded) for the exit; status code and standard output.
    fn stop(mut self) -> (i32, String, String) {
        let pid = rustix::process::Pid::from_raw(self.proc.pid as i32).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(s) = self.proc.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "exporter did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut out = String::new();
        self.proc
            .child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        // the stderr thread ends with the process
        std::thread::sleep(Duration::from_millis(100));
        let err = self.stderr.lock().unwrap().clone();
        (status.code().unwrap_or(-1), out, err)
    }
}

pub(crate) struct Response {
    pub(crate) status: u16,
    head: String,
    pub(crate) body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// One HTTP/1.1 request (`Connection: close`), bounded by a 20 s read timeout.
fn http_request(port: u16, request: &str) -> Response {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read the response");
    let text = String::from_utf8(raw).expect("UTF-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("a header block");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    Response {
        status,
        head: head.to_string(),
        body: if chunked {
            dechunk(body)
        } else {
            body.to_string()
        },
    }
}

/// The body of a `Transfer-Encoding: chunked` response.
fn dechunk(mut rest: &str) -> String {
    let mut body = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        body.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
    body
}

pub(crate) fn http_get(port: u16, path: &str, host: &str) -> Response {
    http_request(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
    )
}

/// Feed `text` to `promtool check metrics`; its complaints, if any.
fn promtool_check_metrics(promtool: &Path, text: &str) -> Result<(), String> {
    let out = harness::output_with_stdin(
        Command::new(promtool).args(["check", "metrics"]),
        text.as_bytes(),
    );
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && said.trim().is_empty() {
        Ok(())
    } else {
        Err(said)
    }
}

/// The `portscope_listener_info` line of `port`, if any.
fn listener_line(text: &str, port: u32) -> Option<&str> {
    text.lines().find(|l| {
        l.starts_with("portscope_listener_info{") && l.contains(&format!("port=\"{port}\""))
    })
}

#[test]
fn metrics_endpoint_serves_what_promtool_accepts() {
    let listener = harness::tcp_listener("127.0.0.1");
    let port = listener.num(0);
    let exporter = Exporter::start(&[]);

    let r = exporter.get("/metrics");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert_eq!(
        listener_line(&r.body, port),
        Some(
            format!(
                "portscope_listener_info{{port=\"{port}\",proto=\"tcp\",address=\"127.0.0.1\",\
                 exposure=\"loopback\",process=\"python3\"}} 1"
            )
            .as_str()
        ),
        "{}",
        r.body
    );
    for family in [
        "portscope_build_info{version=\"",
        "portscope_scrape_duration_seconds ",
        "portscope_scrape_collector_success{collector=\"listeners\"} 1",
        "portscope_scrape_errors_total{collector=\"audit\"} ",
        "portscope_sockets{proto=\"tcp\",state=\"listen\"} ",
        "portscope_hidden_sockets ",
        "# TYPE portscope_audit_findings gauge",
    ] {
        assert!(
            r.body.lines().any(|l| l.starts_with(family)),
            "no {family} in\n{}",
            r.body
        );
    }
    // no pid label, ever
    assert!(!r.body.contains("pid="), "{}", r.body);
    if let Some(promtool) = harness::needs(
        "metrics_endpoint_serves_what_promtool_accepts",
        "promtool",
        "prometheus",
    ) {
        promtool_check_metrics(&promtool, &r.body)
            .unwrap_or_else(|e| panic!("promtool check metrics: {e}\n{}", r.body));
    }

    // the rest of the surface
    let index = exporter.get("/");
    assert_eq!(index.status, 200);
    assert!(index.body.contains("href=\"/metrics\""));
    assert_eq!(exporter.get("/metrics/extra").status, 404);
    assert_eq!(exporter.get("/favicon.ico").status, 404);
    let post = http_request(
        exporter.port,
        "POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(post.status, 405);
    let with_body = http_request(
        exporter.port,
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    );
    assert_eq!(with_body.status, 413);
    // DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1
    let rebound = http_get(exporter.port, "/metrics", "evil.example:9797");
    assert_eq!(rebound.status, 403);
    assert!(!rebound.body.contains("portscope_listener_info"));
    let localhost = http_get(exporter.port, "/metrics", "localhost");
    assert_eq!(localhost.status, 200);

    let (code, stdout, stderr) = exporter.stop();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "", "stdout must stay empty without --json");
    assert!(
        stderr.starts_with("portscope exporter: serving http://127.0.0.1:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("portscope exporter: stopped by SIGTERM after "),
        "{stderr}"
    );
    drop(listener);
}

#[test]
fn listeners_carry_address_exposure_and_process() {
    let v4 = harness::tcp_listener("127.0.0.1");
    let any = harness::tcp_listener("0.0.0.0");
    let v6 = harness::tcp_listener("::1");
    let dir = TempDir::new("exporter-labels");
    let path = dir.0.join("portscope.prom");
    let r = harness::run(&["exporter", "--textfile", path.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&path).unwrap();
    for (proc, address, exposure) in [
        (&v4, "127.0.0.1", "loopback"),
        (&any, "0.0.0.0", "all_interfaces"),
        (&v6, "::1", "loopback"),
    ] {
        let port = proc.num(0);
        assert_eq!(
            listener_line(&text, port),
            Some(
                format!(
                    "portscope_listener_info{{port=\"{port}\",proto=\"tcp\",address=\"{address}\",\
                     exposure=\"{exposure}\",process=\"python3\"}} 1"
                )
                .as_str()
            ),
            "{text}"
        );
    }
}

#[test]
fn textfile_is_accepted_by_promtool_and_replaced_atomically() {
    let listener = harness::tcp_listener("127.0.0.1");
    let port = listener.num(0);
    let dir = TempDir::new("exporter-textfile");
    let path = dir.0.join("portscope.prom");
    let path_text = path.to_str().unwrap().to_string();

    let first = harness::run(&["exporter", "--textfile", &path_text]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(first.stdout, "", "silent on success");
    assert_eq!(first.stderr, "");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(listener_line(&text, port).is_some(), "{text}");
    assert!(
        !text.contains("portscope_scrape_errors_total"),
        "a one-shot file has no counters"
    );
    if let Some(promtool) = harness::needs(
        "textfile_is_accepted_by_promtool_and_replaced_atomically",
        "promtool",
        "prometheus",
    ) {
        promtool_check_metrics(&promtool, &text)
            .unwrap_or_else(|e| panic!("promtool check metrics: {e}\n{text}"));
    }

    // Rewrite it again and again while a reader (node_exporter's role) reads it: every
    // read sees a whole file, and the file is a new inode each time (renamed into place).
    use std::os::unix::fs::MetadataExt;
    // Held open, the old file keeps its inode (no reuse) and must keep its content.
    let mut old = std::fs::File::open(&path).unwrap();
    let inode_before = old.metadata().unwrap().ino();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (path, stop) = (path.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut reads = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let t = std::fs::read_to_string(&path).expect("the file is always there");
                assert!(
                    t.starts_with("# HELP portscope_build_info") && t.ends_with('\n'),
                    "a torn read: {} bytes",
                    t.len()
                );
                assert!(t.contains("# TYPE portscope_audit_allowed_findings gauge\n"));
                reads += 1;
            }
            reads
        })
    };
    for _ in 0..8 {
        let r = harness::run(&["exporter", "--textfile", &path_text]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads = reader.join().expect("no torn read");
    assert!(reads > 0);
    assert_ne!(std::fs::metadata(&path).unwrap().ino(), inode_before);
    let mut old_text = String::new();
    old.read_to_string(&mut old_text).unwrap();
    assert_eq!(
        old_text, text,
        "the old file was replaced, not rewritten in place"
    );
    let mode = std::fs::metadata(&path).unwrap().mode() & 0o777;
    assert_eq!(mode, 0o644, "node_exporter (another user) must read it");
    let names: Vec<String> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec!["portscope.prom".to_string()],
        "no temporaries left"
    );

    // JSON report on request
    let json = harness::json(&["exporter", "--textfile", &path_text]);
    assert_eq!(json["mode"], "textfile");
    assert_eq!(json["textfile"], path_text.as_str());
    assert!(json["samples"].as_u64().unwrap() > 10);

    // a directory that does not exist: exit 3, one line
    let missing = dir.0.join("no/such/dir/portscope.prom");
    let r = harness::run(&["exporter", "--textfile", missing.to_str().unwrap()]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
}

#[test]
fn refuses_a_bad_listen() {
    for bad in [
        "nonsense",
        "9797",
        "127.0.0.1",
        "127.0.0.1:65536",
        "127.0.0.1:-1",
        "::1:9797",
        "example.com:9797",
        "",
    ] {
        let r = harness::run(&["exporter", "--listen", bad]);
        assert_eq!(r.code, 2, "--listen {bad:?}: {}", r.stderr);
        assert_eq!(r.stdout, "");
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(r.stderr.starts_with("portscope: error: "), "{}", r.stderr);
    }
    // an address this host does not have
    let r = harness::run(&["exporter", "--listen", "192.0.2.1:9797"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("not an address of this host"),
        "{}",
        r.stderr
    );
    // --listen makes no sense with --textfile
    let r = harness::run(&[
        "exporter",
        "--listen",
        "127.0.0.1:0",
        "--textfile",
        "/tmp/x.prom",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // an allowlist that is not there, or not an allowlist: refused before serving
    let r = harness::run(&["exporter", "--allowlist", "/nonexistent/audit.toml"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("/nonexistent/audit.toml"), "{}", r.stderr);
    let dir = TempDir::new("exporter-allowlist");
    let bad = dir.0.join("audit.toml");
    std::fs::write(&bad, "this is = = not toml\n").unwrap();
    let r = harness::run(&["exporter", "--allowlist", bad.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
}

#[test]
fn port_in_use_is_exit_3_naming_the_holder() {
    let holder = harness::tcp_listener("127.0.0.1");
    let (port, pid) = (holder.num(0), holder.num(1));
    let r = harness::run(&["exporter", "--listen", &format!("127.0.0.1:{port}")]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("held by pid {pid} (python3)")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!("portscope who {port}")),
        "{}",
        r.stderr
    );
}

#[test]
fn non_loopback_listen_warns_once() {
    let exporter = Exporter::start_on("0.0.0.0:0", &["--json"]);
    // off loopback the Host check is off: Prometheus scrapes by host name
    let r = http_get(exporter.port, "/metrics", "myhost.example:9797");
    assert_eq!(r.status, 200);
    let (code, stdout, stderr) = exporter.stop();
    assert_eq!(code, 0);
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(warnings[0].contains("is not loopback"), "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["mode"], "server");
    assert_eq!(json["stopped_by"], "SIGTERM");
}

#[test]
fn concurrent_scrapes_share_collections() {
    let exporter = Exporter::start(&["--json"]);
    let started = Instant::now();
    let port = exporter.port;
    let clients: Vec<_> = (0..40)
        .map(|_| {
            std::thread::spawn(move || {
                let r = http_get(port, "/metrics", &format!("127.0.0.1:{port}"));
                assert_eq!(r.status, 200);
                r.body
            })
        })
        .collect();
    let bodies: Vec<String> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let seconds = started.elapsed().as_secs();
    assert!(bodies.iter().all(|b| b.contains("portscope_build_info")));
    let (code, stdout, stderr) = exporter.stop();
    assert_eq!(code, 0, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["responses"], 40);
    // at most one collection per second (plus one for a partial second)
    let collections = json["collections"].as_u64().unwrap();
    assert!(
        collections >= 1 && collections <= seconds + 2,
        "{collections} collections in {seconds} s"
    );
}

#[test]
fn alert_rules_pass_promtool() {
    let Some(promtool) = harness::needs("alert_rules_pass_promtool", "promtool", "prometheus")
    else {
        return;
    };
    let dir = repo().join("contrib/prometheus");
    for args in [
        vec!["check", "rules", "alerts.yml"],
        vec!["test", "rules", "alerts_test.yml"],
        vec!["check", "config", "prometheus.yml"],
    ] {
        let out = Command::new(&promtool)
            .args(&args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
