//! Hostile and broken servers (small programs of our own, in this test process): the prober
//! must return within its deadline + 10 %, keep its memory bounded, and never panic.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::portscope;

/// Bind 127.0.0.1:0 and serve every connection with `behave` on its own thread, for the rest
/// of the test process's life. Returns the port.
fn serve(behave: fn(TcpStream)) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in l.incoming().flatten() {
            std::thread::spawn(move || behave(conn));
        }
    });
    port
}

/// What one probe run cost.
struct Outcome {
    json: serde_json::Value,
    wall: Duration,
    peak_rss_kib: u64,
    stderr: String,
}

/// Run `portscope probe 127.0.0.1:PORT --deadline MS --json`, sampling its peak RSS.
fn probe(port: u16, deadline_ms: u64) -> Outcome {
    let start = Instant::now();
    let mut child = portscope()
        .args([
            "probe",
            &format!("127.0.0.1:{port}"),
            "--deadline",
            &deadline_ms.to_string(),
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() {
        // Until it has exec'd, the child is a copy of this test process (under the whole
        // suite, ~120 MB of it): only portscope's own figures count.
        if let Ok(status) = std::fs::read_to_string(&status_path)
            && status.lines().any(|l| l == "Name:\tportscope")
        {
            let hwm = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
                .unwrap_or(0);
            peak = peak.max(hwm);
        }
        assert!(start.elapsed() < Duration::from_secs(10), "probe hung");
        std::thread::sleep(Duration::from_millis(5));
    }
    let wall = start.elapsed();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit {:?}", out.status);
    Outcome {
        json: serde_json::from_slice(&out.stdout).unwrap(),
        wall,
        peak_rss_kib: peak,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The common assertions: within deadline + 10 %, bounded memory, no panic, one result.
fn assert_bounded(name: &str, o: &Outcome, deadline_ms: u64) -> serde_json::Value {
    let r = o.json["results"][0].clone();
    let elapsed = r["elapsed_ms"].as_f64().unwrap();
    let limit = deadline_ms as f64 * 1.1;
    assert!(
        elapsed <= limit,
        "{name}: probing took {elapsed} ms > {limit}"
    );
    // The whole process: the probe plus start-up, snapshot and exit.
    assert!(
        o.wall.as_secs_f64() * 1000.0 <= limit + 300.0,
        "{name}: process took {:?}",
        o.wall
    );
    assert!(
        o.peak_rss_kib < 64 * 1024,
        "{name}: peak RSS {} KiB",
        o.peak_rss_kib
    );
    assert!(!o.stderr.contains("panicked"), "{name}: {}", o.stderr);
    // A server that resets during the handshake may make the connect itself fail.
    let states: &[&str] = if name == "reset" {
        &["open", "error"]
    } else {
        &["open"]
    };
    assert!(
        states.contains(&r["state"].as_str().unwrap_or("")),
        "{name}: {r}"
    );
    r
}

#[test]
fn silent_server_costs_one_deadline() {
    let port = serve(|s| {
        std::thread::sleep(Duration::from_secs(30));
        drop(s);
    });
    let o = probe(port, 500);
    let r = assert_bounded("silent", &o, 500);
    assert!(
        r["identification"].is_null() || r["identification"]["protocol"] == "tls",
        "{r}"
    );
}

#[test]
fn trickling_server_is_cut_off() {
    // One byte every 200 ms, forever: each read succeeds, so only the deadline stops it.
    let port = serve(|mut s| {
        for _ in 0..300 {
            if s.write_all(b"S").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let o = probe(port, 600);
    assert_bounded("trickle", &o, 600);
}

#[test]
fn endless_stream_is_capped_in_bytes_and_time() {
    let port = serve(|mut s| {
        let chunk = [b'x'; 64 * 1024];
        // About 1 GiB at most, as fast as the socket takes it.
        for _ in 0..16 * 1024 {
            if s.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    let o = probe(port, 500);
    // Half a second of probing: portscope's own memory was sampled.
    assert!(o.peak_rss_kib > 0, "endless: no RSS sample");
    let r = assert_bounded("endless", &o, 500);
    assert!(r["evidence"].as_str().unwrap().starts_with("xxxx"), "{r}");
}

#[test]
fn endless_reply_after_a_request_is_capped() {
    // Waits for the client to speak, then answers with headers that never end.
    let port = serve(|mut s| {
        let mut buf = [0u8; 1024];
        if s.read(&mut buf).unwrap_or(0) == 0 {
            return;
        }
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\n");
        for i in 0..1_000_000u32 {
            if s.write_all(format!("X-Header-{i}: {}\r\n", "y".repeat(200)).as_bytes())
                .is_err()
            {
                return;
            }
        }
    });
    let o = probe(port, 500);
    assert_bounded("endless reply", &o, 500);
}

#[test]
fn garbage_and_tls_junk_do_not_crash_it() {
    let garbage = serve(|mut s| {
        let mut x: u32 = 0x1234_5678;
        let bytes: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        let _ = s.write_all(&bytes);
        std::thread::sleep(Duration::from_secs(5));
    });
    let o = probe(garbage, 500);
    let r = assert_bounded("garbage", &o, 500);
    assert!(r["identification"].is_null(), "{r}");
    // Answers every request with a TLS record header followed by junk.
    let tls_junk = serve(|mut s| {
        let mut buf = [0u8; 2048];
        while s.read(&mut buf).unwrap_or(0) > 0 {
            let _ = s.write_all(b"\x16\x03\x03\x40\x00\x02\xff\xff\xff\xfe\xfd\xfc garbage");
        }
    });
    let o = probe(tls_junk, 500);
    assert_bounded("tls junk", &o, 500);
}

#[test]
fn resets_are_survived() {
    // Accept, then reset (SO_LINGER 0 + close), before and after reading.
    let port = serve(|s| {
        let _ = rustix::net::sockopt::set_socket_linger(&s, Some(Duration::ZERO));
        drop(s);
    });
    let o = probe(port, 500);
    assert_bounded("reset", &o, 500);
}
