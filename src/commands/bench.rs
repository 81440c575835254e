//! `bench`: see [`crate::traffic::bench`]. Checks the flags, picks or starts the servers,
//! runs the measurements in order (round trips, connects, throughput; then the same over unix
//! sockets with `--unix`) and returns the figures.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use serde::Serialize;

use crate::cli::BenchArgs;
use crate::commands::Ui;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::sys::stop::StopSignals;
use crate::traffic::Line;
use crate::traffic::bench::{
    BenchLine, Endpoint, Stats, Stop, THROUGHPUT_CHUNK, Throughput, UnixServers, measure_connects,
    measure_discard, measure_echo_throughput, measure_round_trips, round,
};
use crate::traffic::serve::ServeKind;

/// Most connects one run makes (each leaves a TIME_WAIT socket behind).
const MAX_CONNECTS: u64 = 10_000;
/// Most round trips one run makes.
const MAX_REQUESTS: u64 = 1_000_000;
/// Largest request.
const MAX_SIZE: u64 = 1 << 20;
/// Most bytes all round trips together may send (and read back).
const MAX_ROUND_TRIP_BYTES: u64 = 1 << 30;
/// Longest throughput measurement.
const MAX_DURATION: Duration = Duration::from_secs(60);

/// What `bench` measured.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// The TCP echo target (IP:PORT).
    pub target: String,
    /// `true` when the target is a `serve echo` started for this run (no TARGET given).
    pub target_started: bool,
    /// Bytes per round-trip request.
    pub size_bytes: u64,
    /// The round-trip connection had TCP_NODELAY set (always `true`).
    pub tcp_nodelay: bool,
    /// The figures over TCP.
    pub tcp: TransportReport,
    /// The figures over unix sockets (with `--unix`).
    pub unix: Option<TransportReport>,
    /// TCP's figures divided by the unix socket's (with `--unix`).
    pub tcp_over_unix: Option<Ratios>,
}

/// The figures over one transport.
#[derive(Debug, Clone, Serialize)]
pub struct TransportReport {
    /// `tcp` or `unix`.
    pub transport: &'static str,
    /// The echo server measured (IP:PORT or a socket path).
    pub echo: String,
    /// Fresh connections, each timed to completion.
    pub connect: Stats,
    /// Requests on one connection, each timed until its echo was read in full.
    pub round_trip: Stats,
    /// Bulk transfer.
    pub throughput: Throughput,
}

/// TCP ÷ unix, per figure (above 1: TCP's number is larger).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Ratios {
    /// Median connect time.
    pub connect_p50: f64,
    /// Median round trip.
    pub round_trip_p50: f64,
    /// 99th-percentile round trip.
    pub round_trip_p99: f64,
    /// Throughput in bytes per second.
    pub throughput: f64,
}

/// The checked flags.
#[derive(Debug, Clone, PartialEq)]
struct Plan {
    target: Option<SocketAddr>,
    discard: Option<SocketAddr>,
    connects: u64,
    requests: u64,
    size: u64,
    duration: Duration,
    unix: bool,
}

/// Run `bench`.
pub fn run(args: &BenchArgs, ui: &dyn Ui) -> Result<(BenchReport, Exit)> {
    let plan = plan(args)?;
    // Ctrl+C ends the run between samples, so the servers and the unix sockets' directory
    // are cleaned up.
    let signals = StopSignals::install()?;
    let stop = || signals.arrived();
    let say = |l: BenchLine| ui.traffic(&Line::Bench(l));
    // Servers started for the run live until the end of this function.
    let mut _background = Vec::new();
    let mut start = |kind: ServeKind, name: &'static str| -> Result<SocketAddr> {
        let any = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
        let server = crate::traffic::serve::background(kind, any)?;
        let addr = server.addr;
        _background.push(server);
        say(BenchLine::ServerStarted {
            kind: name,
            transport: "tcp",
            address: addr.to_string(),
        });
        Ok(addr)
    };
    let (target, started) = match plan.target {
        Some(t) => (t, false),
        None => (start(ServeKind::Echo, "echo")?, true),
    };
    let discard = match (plan.discard, started) {
        (Some(d), _) => Some(d),
        (None, true) => Some(start(ServeKind::Discard, "discard")?),
        (None, false) => None,
    };
    let tcp = measure(
        &plan,
        &Endpoint::Tcp(target),
        discard.map(Endpoint::Tcp).as_ref(),
        &say,
        &stop,
    )?;
    let unix = if plan.unix {
        let servers = UnixServers::start()?;
        for (kind, path) in [("echo", &servers.echo), ("discard", &servers.discard)] {
            say(BenchLine::ServerStarted {
                kind,
                transport: "unix",
                address: path.display().to_string(),
            });
        }
        // The same throughput mode as TCP's, so the two compare.
        let discard = discard.map(|_| Endpoint::Unix(servers.discard.clone()));
        Some(measure(
            &plan,
            &Endpoint::Unix(servers.echo.clone()),
            discard.as_ref(),
            &say,
            &stop,
        )?)
    } else {
        None
    };
    let tcp_over_unix = unix.as_ref().map(|u| ratios(&tcp, u));
    let report = BenchReport {
        target: target.to_string(),
        target_started: started,
        size_bytes: plan.size,
        tcp_nodelay: true,
        tcp,
        unix,
        tcp_over_unix,
    };
    Ok((report, Exit::Success))
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { round(a / b, 3) } else { 0.0 }
}

fn ratios(tcp: &TransportReport, unix: &TransportReport) -> Ratios {
    Ratios {
        connect_p50: ratio(tcp.connect.p50_us, unix.connect.p50_us),
        round_trip_p50: ratio(tcp.round_trip.p50_us, unix.round_trip.p50_us),
        round_trip_p99: ratio(tcp.round_trip.p99_us, unix.round_trip.p99_us),
        throughput: ratio(
            tcp.throughput.bits_per_second,
            unix.throughput.bits_per_second,
        ),
    }
}

/// All three measurements against one transport: round trips first (they check the target
/// echoes), then connects, then throughput (to `discard`, or through the echo without one).
fn measure(
    plan: &Plan,
    echo: &Endpoint,
    discard: Option<&Endpoint>,
    say: &dyn Fn(BenchLine),
    stop: Stop,
) -> Result<TransportReport> {
    let transport = echo.transport();
    say(BenchLine::PhaseStarted {
        transport,
        phase: "round_trip",
        target: echo.address(),
        count: Some(plan.requests),
        size_bytes: Some(plan.size),
        duration_s: None,
        mode: None,
    });
    let size = usize::try_from(plan.size).unwrap_or(1);
    let round_trip = measure_round_trips(echo, plan.requests, size, stop)?;
    say(BenchLine::PhaseStarted {
        transport,
        phase: "connect",
        target: echo.address(),
        count: Some(plan.connects),
        size_bytes: None,
        duration_s: None,
        mode: None,
    });
    let connect = measure_connects(echo, plan.connects, stop)?;
    let to = discard.unwrap_or(echo);
    say(BenchLine::PhaseStarted {
        transport,
        phase: "throughput",
        target: to.address(),
        count: None,
        size_bytes: Some(THROUGHPUT_CHUNK as u64),
        duration_s: Some(plan.duration.as_secs_f64()),
        mode: Some(if discard.is_some() { "discard" } else { "echo" }),
    });
    let throughput = match discard {
        Some(d) => measure_discard(d, plan.duration, stop)?,
        None => measure_echo_throughput(echo, plan.duration, stop)?,
    };
    Ok(TransportReport {
        transport,
        echo: echo.address(),
        connect,
        round_trip,
        throughput,
    })
}

fn plan(args: &BenchArgs) -> Result<Plan> {
    let target = args
        .target
        .as_deref()
        .map(|t| loopback(t, "TARGET"))
        .transpose()?;
    let discard = args
        .discard
        .as_deref()
        .map(|t| loopback(t, "--discard"))
        .transpose()?;
    let connects = match &args.connects {
        Some(t) => count(t, "--connects", MAX_CONNECTS)?,
        None => 200,
    };
    let requests = match &args.requests {
        Some(t) => count(t, "--requests", MAX_REQUESTS)?,
        None => 1000,
    };
    let size = match &args.size {
        Some(t) => bytes(t)?,
        None => 64,
    };
    let duration = match &args.duration {
        Some(t) => {
            let d = crate::input::duration(t, "--duration")?;
            if d < Duration::from_millis(10) || d > MAX_DURATION {
                return Err(Error::bad_input(
                    format!("--duration {} is out of range", crate::text::terminal(t)),
                    "expected 10ms to 60s, e.g. --duration 2s or --duration 500ms",
                ));
            }
            d
        }
        None => Duration::from_secs(2),
    };
    if requests.saturating_mul(size) > MAX_ROUND_TRIP_BYTES {
        return Err(Error::bad_input(
            format!("--requests {requests} × --size {size} is more than 1GiB of round trips"),
            "expected at most 1GiB in all, e.g. --requests 100 --size 1MiB",
        ));
    }
    Ok(Plan {
        target,
        discard,
        connects,
        requests,
        size,
        duration,
        unix: args.unix,
    })
}

/// A loopback endpoint (127.0.0.0/8 or ::1, port 1-65535).
fn loopback(text: &str, what: &str) -> Result<SocketAddr> {
    let addr = crate::input::endpoint(text, what)?;
    let shown = crate::text::terminal(text);
    if !addr.ip().to_canonical().is_loopback() {
        return Err(Error::bad_input(
            format!("{what} {shown} is not a loopback address"),
            "bench measures loopback only: expected a port on 127.0.0.0/8 or [::1], e.g. 8080, \
             127.0.0.1:8080 or [::1]:8080",
        ));
    }
    if addr.port() == 0 {
        return Err(Error::bad_input(
            format!("{what} {shown} has port 0"),
            "expected a port from 1 to 65535, e.g. 8080",
        ));
    }
    Ok(addr)
}

/// A whole number from 1 to `max`.
fn count(text: &str, flag: &str, max: u64) -> Result<u64> {
    match text.trim().parse::<u64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(Error::bad_input(
            format!("{flag} {} is not a count", crate::text::terminal(text)),
            format!("expected a whole number from 1 to {max}, e.g. {flag} 100"),
        )),
    }
}

/// `64`, `4KiB`, `1MiB`, `1000B` → bytes, from 1 to 1 MiB.
fn bytes(text: &str) -> Result<u64> {
    let bad = || {
        Error::bad_input(
            format!(
                "--size {} is not a request size",
                crate::text::terminal(text)
            ),
            "expected 1 byte to 1MiB, e.g. --size 64, --size 4KiB or --size 1MiB",
        )
    };
    match crate::input::bytes(text) {
        Some(b) if (1..=MAX_SIZE).contains(&b) => Ok(b),
        _ => Err(bad()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn args(f: impl FnOnce(&mut BenchArgs)) -> BenchArgs {
        let mut a = BenchArgs::default();
        f(&mut a);
        a
    }

    #[test]
    fn defaults() {
        let p = plan(&BenchArgs::default()).unwrap();
        assert_eq!(p.target, None);
        assert_eq!((p.connects, p.requests, p.size), (200, 1000, 64));
        assert_eq!(p.duration, Duration::from_secs(2));
    }

    #[test]
    fn flags() {
        let p = plan(&args(|a| {
            a.target = Some("9000".into());
            a.size = Some("4KiB".into());
            a.requests = Some("10".into());
            a.duration = Some("500ms".into());
        }))
        .unwrap();
        assert_eq!(p.target.unwrap().to_string(), "127.0.0.1:9000");
        assert_eq!((p.size, p.requests), (4096, 10));
        assert_eq!(bytes("1MiB").unwrap(), 1 << 20);
        assert_eq!(loopback("[::1]:80", "TARGET").unwrap().port(), 80);
        assert!(loopback("127.3.4.5:80", "TARGET").is_ok());
    }

    #[test]
    fn refusals() {
        let bad: [fn(&mut BenchArgs); 12] = [
            |a| {
                a.requests = Some("2000".into());
                a.size = Some("1MiB".into());
            },
            |a| a.target = Some("10.0.0.1:80".into()),
            |a| a.target = Some("0.0.0.0:80".into()),
            |a| a.target = Some("127.0.0.1:0".into()),
            |a| a.discard = Some("[2001:db8::1]:9".into()),
            |a| a.size = Some("0".into()),
            |a| a.size = Some("2MiB".into()),
            |a| a.size = Some("-1".into()),
            |a| a.requests = Some("abc".into()),
            |a| a.connects = Some("0".into()),
            |a| a.duration = Some("2m".into()),
            |a| a.duration = Some("0".into()),
        ];
        for f in bad {
            let e = plan(&args(f)).unwrap_err();
            assert!(matches!(e, Error::BadInput { .. }), "{e}");
            assert!(!e.to_string().contains('\n'), "{e}");
        }
    }
}
