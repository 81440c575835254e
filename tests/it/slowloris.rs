//! No local user can blind the dashboard or the exporter by opening connections that never
//! finish a request (slowloris): a request's head must arrive within 5 s, so trickling
//! connections are closed at that deadline; and while they hold every slot, a real request
//! still gets one (the connection that has waited longest for its head makes room), answered
//! within 2 s throughout.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::exporter::{Exporter, http_get};
use crate::ui::Ui;

/// The servers' head deadline.
const HEAD: Duration = Duration::from_secs(5);

/// `n` connections to `addr` that send `first` and then one header line a second, never the
/// blank line that ends a request's head. Watched on a thread; joins to the seconds each
/// stayed open (`None`: still open after `HEAD` + 3 s).
fn trickle(addr: &str, n: usize, first: &str) -> std::thread::JoinHandle<Vec<Option<f64>>> {
    let mut socks: Vec<(TcpStream, Instant)> = (0..n)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            let opened = Instant::now();
            s.write_all(first.as_bytes()).unwrap();
            s.set_nonblocking(true).unwrap();
            (s, opened)
        })
        .collect();
    std::thread::spawn(move || {
        let mut open_for: Vec<Option<f64>> = vec![None; socks.len()];
        let start = Instant::now();
        let mut last_line = Instant::now();
        while start.elapsed() < HEAD + Duration::from_secs(3) {
            let line = last_line.elapsed() >= Duration::from_secs(1);
            for (i, (s, opened)) in socks.iter_mut().enumerate() {
                if open_for[i].is_some() {
                    continue;
                }
                let mut buf = [0u8; 512];
                let closed = match s.read(&mut buf) {
                    Ok(0) => true,
                    Ok(_) => false, // an answer (a 408 or so) before the close
                    Err(e) if e.kind() == ErrorKind::WouldBlock => false,
                    Err(_) => true,
                };
                if closed {
                    open_for[i] = Some(opened.elapsed().as_secs_f64());
                } else if line {
                    let _ = s.write_all(b"X-Trickle: 1\r\n");
                }
            }
            if line {
                last_line = Instant::now();
            }
            if open_for.iter().all(Option::is_some) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        open_for
    })
}

/// While the trickling connections live, ask `legit` every 250 ms; the slowest answer.
fn slowest_answer(legit: impl Fn() -> u16) -> Duration {
    let start = Instant::now();
    let mut slowest = Duration::ZERO;
    while start.elapsed() < HEAD + Duration::from_secs(2) {
        let t = Instant::now();
        let status = legit();
        assert_eq!(status, 200, "a real request was refused");
        slowest = slowest.max(t.elapsed());
        std::thread::sleep(Duration::from_millis(250));
    }
    slowest
}

/// Every trickling connection was closed, none later than the head deadline (plus the
/// watcher's second of slack).
fn all_closed_by_the_deadline(open_for: &[Option<f64>]) {
    let latest = open_for
        .iter()
        .copied()
        .try_fold(0.0f64, |m, x| Some(m.max(x?)));
    let latest = latest.unwrap_or_else(|| {
        let open = open_for.iter().filter(|x| x.is_none()).count();
        panic!(
            "{open} trickling connection(s) still open after {:?}",
            HEAD + Duration::from_secs(3)
        )
    });
    assert!(
        latest <= HEAD.as_secs_f64() + 1.0,
        "one stayed open {latest:.2} s"
    );
}

fn exporter_under(n: usize) {
    let e = Exporter::start(&[]);
    let addr = format!("127.0.0.1:{}", e.port);
    let host = addr.clone();
    let watcher = trickle(
        &addr,
        n,
        &format!("GET /metrics HTTP/1.1\r\nHost: {host}\r\n"),
    );
    let slowest = slowest_answer(|| http_get(e.port, "/metrics", &host).status);
    assert!(
        slowest < Duration::from_secs(2),
        "{n} trickling: a scrape took {slowest:?}"
    );
    all_closed_by_the_deadline(&watcher.join().unwrap());
    eprintln!("exporter, {n} trickling connections: slowest scrape {slowest:?}");
}

fn ui_under(n: usize) {
    let ui = Ui::start();
    let first = format!("GET / HTTP/1.1\r\nHost: {}\r\n", ui.host);
    let watcher = trickle(&ui.host, n, &first);
    let cookie = ui.cookie();
    let slowest = slowest_answer(|| ui.get("/", &cookie).status);
    assert!(
        slowest < Duration::from_secs(2),
        "{n} trickling: a request took {slowest:?}"
    );
    all_closed_by_the_deadline(&watcher.join().unwrap());
    eprintln!("ui, {n} trickling connections: slowest request {slowest:?}");
}

#[test]
fn the_exporter_answers_past_64_trickling_connections() {
    exporter_under(64);
}

#[test]
fn the_exporter_answers_past_200_trickling_connections() {
    exporter_under(200);
}

#[test]
fn the_dashboard_answers_past_64_trickling_connections() {
    ui_under(64);
}

#[test]
fn the_dashboard_answers_past_200_trickling_connections() {
    ui_under(200);
}
