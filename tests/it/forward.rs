//! `portscope forward`: a real relay between real sockets — 1,000 connections at once with
//! checksums, fd and RSS bounds, the allow list, half-close, idle timeout, max-conns, UDP and
//! bad input.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use crate::bad_input::assert_bad_input;
use crate::harness::run;
use crate::stream::EventStream;

/// A running `portscope forward --json` and its start line; killed on drop.
struct Fwd {
    stream: EventStream,
    listen: SocketAddr,
    start: serde_json::Value,
}

impl Fwd {
    fn start(args: &[&str]) -> Fwd {
        let mut all = vec!["--json", "forward"];
        all.extend_from_slice(args);
        let stream = EventStream::start_until(&all, "start");
        let start = stream.started.clone();
        let listen = start["listen"].as_str().unwrap().parse().unwrap();
        Fwd {
            stream,
            listen,
            start,
        }
    }

    fn pid(&self) -> u32 {
        self.stream.pid
    }

    /// The next line with this `event` (others are skipped), within 20 s.
    fn expect(&mut self, event: &str) -> serde_json::Value {
        self.stream.next_event(event)
    }

    /// SIGTERM it and return (exit code, the final JSON report).
    fn stop(mut self) -> (i32, serde_json::Value) {
        let code = self.stream.stop(rustix::process::Signal::TERM);
        let last = self.stream.seen.last().cloned().unwrap_or_default();
        (code, last)
    }
}

/// A thread-per-connection echo server on 127.0.0.1 (lives as long as the test).
fn echo_server() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            std::thread::spawn(move || {
                let mut r = s.try_clone().unwrap();
                let _ = std::io::copy(&mut r, &mut s);
            });
        }
    });
    addr
}

fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Pseudo-random bytes (xorshift) and their FNV-1a checksum.
fn data(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn read_all(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    s.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut got = Vec::new();
    s.read_to_end(&mut got)?;
    Ok(got)
}

#[test]
fn a_thousand_connections_at_once_keep_their_data_and_give_back_their_fds() {
    const CONNS: usize = 1000;
    const SIZE: usize = 48 * 1024;
    let nofile = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    let _ = rustix::process::setrlimit(
        rustix::process::Resource::Nofile,
        rustix::process::Rlimit {
            current: nofile.maximum,
            maximum: nofile.maximum,
        },
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let echo = rt.block_on(async {
        // A deep accept queue: 1,000 connections arrive in a burst.
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let l = sock.listen(4096).unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let mut s = match l.accept().await {
                    Ok((s, _)) => s,
                    Err(e) => {
                        eprintln!("echo server: accept: {e}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                tokio::spawn(async move {
                    let (mut r, mut w) = s.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        addr
    });
    let fwd = Fwd::start(&[
        "127.0.0.1:0",
        &echo.to_string(),
        "--max-conns",
        "2000",
        "--quiet",
    ]);
    let pid = fwd.pid();
    let baseline = fd_count(pid);
    let to = fwd.listen;
    let peak_rss = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let results = rt.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(CONNS + 1));
        let mut tasks = Vec::new();
        // Connect at most 100 at a time (a burst of 1,000 SYNs trips SYN-flood cookies),
        // then hold every connection open until all are.
        let connecting = std::sync::Arc::new(tokio::sync::Semaphore::new(100));
        for i in 0..CONNS {
            let barrier = std::sync::Arc::clone(&barrier);
            let connecting = std::sync::Arc::clone(&connecting);
            tasks.push(tokio::spawn(async move {
                let permit = connecting.acquire().await.unwrap();
                let mut s = tokio::net::TcpStream::connect(to).await.unwrap();
                drop(permit);
                barrier.wait().await;
                let sent = data(i as u64 + 1, SIZE);
                let (mut r, mut w) = s.split();
                let write = async {
                    w.write_all(&sent).await.unwrap();
                    w.shutdown().await.unwrap();
                };
                let read = async {
                    let mut got = Vec::with_capacity(SIZE);
                    r.read_to_end(&mut got).await.unwrap();
                    got
                };
                let ((), got) = tokio::join!(write, read);
                (fnv(&sent), fnv(&got), got.len())
            }));
        }
        // Every connection is open now (all reached the barrier).
        let all = tokio::time::timeout(Duration::from_secs(60), barrier.wait()).await;
        assert!(all.is_ok(), "1,000 connections did not open within 60 s");
        let wait = Instant::now() + Duration::from_secs(20);
        while fd_count(pid) < baseline + 2 * CONNS && Instant::now() < wait {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let open_fds = fd_count(pid);
        assert!(
            open_fds >= baseline + 2 * CONNS,
            "forward holds {open_fds} fds with {CONNS} connections open (baseline {baseline})"
        );
        peak_rss.store(rss_kib(pid), std::sync::atomic::Ordering::Relaxed);
        let mut results = Vec::new();
        for t in tasks {
            results.push(
                tokio::time::timeout(Duration::from_secs(60), t)
                    .await
                    .expect("a connection took over 60 s")
                    .unwrap(),
            );
        }
        results
    });
    for (i, (sent, got, len)) in results.iter().enumerate() {
        assert_eq!(*len, SIZE, "connection {i} got {len} bytes back");
        assert_eq!(sent, got, "connection {i}: checksum differs");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while fd_count(pid) > baseline && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(fd_count(pid), baseline, "fds not back to baseline");
    let rss = rss_kib(pid).max(peak_rss.load(std::sync::atomic::Ordering::Relaxed));
    assert!(rss > 0 && rss < 256 * 1024, "RSS {rss} KiB");
    let (code, report) = fwd.stop();
    assert_eq!(code, 0);
    assert_eq!(report["connections"], CONNS as u64, "{report}");
    assert_eq!(report["bytes_to_target"], (CONNS * SIZE) as u64, "{report}");
    assert_eq!(report["bytes_to_client"], (CONNS * SIZE) as u64, "{report}");
}

#[test]
fn allow_denies_a_source_outside_the_list_and_admits_one_inside() {
    let echo = echo_server();
    let mut fwd = Fwd::start(&["127.0.0.1:0", &echo.to_string(), "--allow", "127.0.0.1/32"]);
    assert_eq!(fwd.start["allow"][0], "127.0.0.1/32");
    // From 127.0.0.2: closed at once, no data.
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(&"127.0.0.2:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    sock.connect(&fwd.listen.into()).unwrap();
    let mut outside: TcpStream = sock.into();
    let _ = outside.write_all(b"hello");
    let got = read_all(&mut outside).unwrap_or_default();
    assert!(got.is_empty(), "a denied client got {got:?}");
    let denied = fwd.expect("denied");
    assert!(denied["client"].as_str().unwrap().starts_with("127.0.0.2:"));
    // From 127.0.0.1: relayed.
    let mut inside = TcpStream::connect(fwd.listen).unwrap();
    inside.write_all(b"hello").unwrap();
    inside.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_all(&mut inside).unwrap(), b"hello");
    let open = fwd.expect("open");
    assert_eq!(open["target"], echo.to_string());
    let close = fwd.expect("close");
    assert_eq!(close["end"], "both-closed");
    assert_eq!(close["bytes_to_target"], 5);
    assert_eq!(close["bytes_to_client"], 5);
    let (code, report) = fwd.stop();
    assert_eq!(code, 0);
    assert_eq!(report["denied"], 1, "{report}");
    assert_eq!(report["connections"], 1, "{report}");
}

#[test]
fn half_close_lets_the_reply_through() {
    // The target reads to end-of-file, then answers and closes.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = l.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        let reply = format!("got {} bytes, sum {}", got.len(), fnv(&got));
        s.write_all(reply.as_bytes()).unwrap();
    });
    let mut fwd = Fwd::start(&["0", &target.to_string()]);
    let mut c = TcpStream::connect(fwd.listen).unwrap();
    let sent = data(7, 300_000);
    c.write_all(&sent).unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let reply = String::from_utf8(read_all(&mut c).unwrap()).unwrap();
    assert_eq!(reply, format!("got 300000 bytes, sum {}", fnv(&sent)));
    let close = fwd.expect("close");
    assert_eq!(close["end"], "both-closed");
    assert_eq!(close["bytes_to_target"], 300_000);
}

#[test]
fn a_silent_connection_is_closed_after_the_idle_timeout() {
    let echo = echo_server();
    let mut fwd = Fwd::start(&["0", &echo.to_string(), "--idle-timeout", "1s"]);
    let mut c = TcpStream::connect(fwd.listen).unwrap();
    c.write_all(b"x").unwrap();
    let mut one = [0u8; 1];
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    c.read_exact(&mut one).unwrap();
    let t = Instant::now();
    let rest = read_all(&mut c).unwrap();
    assert!(rest.is_empty());
    assert!(
        t.elapsed() >= Duration::from_millis(800),
        "{:?}",
        t.elapsed()
    );
    let close = fwd.expect("close");
    assert_eq!(close["end"], "idle");
}

#[test]
fn max_conns_refuses_the_extra_connection() {
    let echo = echo_server();
    let mut fwd = Fwd::start(&["0", &echo.to_string(), "--max-conns", "1"]);
    let mut first = TcpStream::connect(fwd.listen).unwrap();
    first.write_all(b"a").unwrap();
    let mut one = [0u8; 1];
    first
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    first.read_exact(&mut one).unwrap();
    fwd.expect("open");
    let mut second = TcpStream::connect(fwd.listen).unwrap();
    let _ = second.write_all(b"b");
    assert!(read_all(&mut second).unwrap_or_default().is_empty());
    let refused = fwd.expect("refused");
    assert_eq!(refused["max_conns"], 1);
    // The first one still works.
    first.write_all(b"c").unwrap();
    first.read_exact(&mut one).unwrap();
    assert_eq!(&one, b"c");
}

#[test]
fn an_unreachable_target_closes_the_client_with_a_reason() {
    // A port nobody listens on: bind, note, close.
    let gone = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut fwd = Fwd::start(&["0", &gone.to_string()]);
    let mut c = TcpStream::connect(fwd.listen).unwrap();
    assert!(read_all(&mut c).unwrap_or_default().is_empty());
    let failed = fwd.expect("target-failed");
    assert!(
        failed["reason"].as_str().unwrap().contains("refused"),
        "{failed}"
    );
}

#[test]
fn udp_round_trip() {
    let echo = UdpSocket::bind("127.0.0.1:0").unwrap();
    let target = echo.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = echo.recv_from(&mut buf) {
            let mut reply = b"echo:".to_vec();
            reply.extend_from_slice(&buf[..n]);
            let _ = echo.send_to(&reply, from);
        }
    });
    let mut fwd = Fwd::start(&["--udp", "0", &target.to_string(), "--idle-timeout", "1s"]);
    assert_eq!(fwd.start["proto"], "udp");
    let c = UdpSocket::bind("127.0.0.1:0").unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut buf = [0u8; 2048];
    for msg in [&b"one"[..], b"two"] {
        c.send_to(msg, fwd.listen).unwrap();
        let (n, from) = c.recv_from(&mut buf).unwrap();
        assert_eq!(from, fwd.listen);
        assert_eq!(&buf[..n], [b"echo:", msg].concat().as_slice());
    }
    fwd.expect("open");
    let close = fwd.expect("close");
    assert_eq!(close["end"], "idle");
    assert_eq!(close["bytes_to_target"], 6);
    assert_eq!(close["bytes_to_client"], 16);
}

#[test]
fn bad_input_exits_2_with_one_line() {
    for (args, what) in [
        (&["0", "1", "--allow", "10.0.0.0/33"][..], "--allow"),
        (&["0", "1", "--allow", "nonsense"][..], "--allow"),
        (&["host:80", "1"][..], "LISTEN"),
        (&["0", "nowhere"][..], "TARGET"),
        (&["0", "1", "--max-conns", "0"][..], "--max-conns"),
        (&["0", "1", "--max-conns", "100001"][..], "--max-conns"),
        (&["0", "1", "--idle-timeout", "soon"][..], "--idle-timeout"),
    ] {
        let args = [&["forward"][..], args].concat();
        assert_bad_input(&run(&args), &args, what);
    }
}

#[test]
fn a_relay_to_itself_is_refused_before_any_connection() {
    // The test holds the ports, so whatever forward did would show as a connection (or a
    // datagram) here; and a build without the check fails to bind them instead of looping.
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    held.set_nonblocking(true).unwrap();
    let port = held.local_addr().unwrap().port().to_string();
    let same = format!("127.0.0.1:{port}");
    let any4 = format!("0.0.0.0:{port}");
    let any6 = format!("[::]:{port}");
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_nonblocking(true).unwrap();
    let udp_same = udp.local_addr().unwrap().to_string();
    let mut cases = vec![
        vec![same.as_str(), same.as_str()],
        vec![port.as_str(), port.as_str()], // a bare port is on 127.0.0.1
        vec![any4.as_str(), same.as_str()], // a wildcard receives 127.0.0.1's connections
        vec!["--udp", udp_same.as_str(), udp_same.as_str()],
    ];
    // `::` receives IPv4 too unless net.ipv6.bindv6only says otherwise.
    let v6only = std::fs::read_to_string("/proc/sys/net/ipv6/bindv6only").unwrap_or_default();
    if v6only.trim() != "1" {
        cases.push(vec![any6.as_str(), same.as_str()]);
    }
    for args in cases {
        let args = [&["forward"][..], &args].concat();
        assert_bad_input(&run(&args), &args, "forward would relay to itself");
    }
    let accepted = held.accept();
    assert!(
        matches!(&accepted, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "a connection reached the target: {accepted:?}"
    );
    let mut buf = [0u8; 64];
    assert!(
        udp.recv_from(&mut buf).is_err(),
        "a datagram reached the target"
    );
}

#[test]
fn allow_with_a_v4_mapped_address_admits_that_ipv4_client() {
    let echo = echo_server();
    for (allow, shown, admitted) in [
        ("::ffff:127.0.0.1", "127.0.0.1/32", true),
        ("::ffff:127.0.0.2", "127.0.0.2/32", false),
    ] {
        let mut fwd = Fwd::start(&["127.0.0.1:0", &echo.to_string(), "--allow", allow]);
        // The start line says what is admitted, as clients are compared: IPv4 (loopback,
        // so no warning about exposure).
        assert_eq!(fwd.start["allow"][0], shown, "{}", fwd.start);
        assert_eq!(fwd.start["warnings"].as_array().map(Vec::len), Some(0));
        let mut c = TcpStream::connect(fwd.listen).unwrap();
        let _ = c.write_all(b"mapped");
        let _ = c.shutdown(Shutdown::Write);
        let got = read_all(&mut c).unwrap_or_default();
        let (want, event): (&[u8], _) = if admitted {
            (b"mapped", "open")
        } else {
            (b"", "denied")
        };
        assert_eq!(got, want, "--allow {allow}");
        let client = &fwd.expect(event)["client"];
        assert!(
            client.as_str().unwrap().starts_with("127.0.0.1:"),
            "{client}"
        );
    }
}
