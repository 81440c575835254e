//! `bench`: see [`crate::traffic::bench`]. Checks the flags, picks or starts the servers,
//! runs the measurements in order (round trips, connects, throughput; then the same over unix
//! sockets with `--unix`) and returns the figures.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use serde::Serialize;

use crate::commands::{Report, Ui};
use crate::error::Result;
use crate::exit::Exit;
use crate::sys::stop::StopSignals;
use crate::traffic::Line;
use crate::traffic::bench::{
    BenchLine, Endpoint, Stats, Stop, THROUGHPUT_CHUNK, Throughput, UnixServers, measure_connects,
    measure_discard, measure_echo_throughput, measure_round_trips, round,
};
use crate::traffic::serve::ServeKind;

/// Most connects one run makes (each leaves a TIME_WAIT socket behind).
pub const MAX_CONNECTS: u64 = 10_000;
/// Most round trips one run makes.
pub const MAX_REQUESTS: u64 = 1_000_000;
/// Largest request.
pub const MAX_SIZE: u64 = 1 << 20;
/// Most bytes all round trips together may send (and read back).
pub const MAX_ROUND_TRIP_BYTES: u64 = 1 << 30;
/// Shortest throughput measurement.
pub const MIN_DURATION: Duration = Duration::from_millis(10);
/// Longest throughput measurement.
pub const MAX_DURATION: Duration = Duration::from_secs(60);

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

/// What `bench` is asked to measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// An echo-capable loopback target (`None`: a `serve echo` and a `serve discard` started
    /// for the run).
    pub target: Option<SocketAddr>,
    /// A loopback discard target for throughput (`None`: the discard server started for the
    /// run; with a `target` and no `discard`, throughput is measured through the echo).
    pub discard: Option<SocketAddr>,
    /// Fresh TCP connections to time (1 to [`MAX_CONNECTS`]).
    pub connects: u64,
    /// Request round trips to time on one connection (1 to [`MAX_REQUESTS`]).
    pub requests: u64,
    /// Bytes per request (1 to [`MAX_SIZE`]; `requests × size` at most
    /// [`MAX_ROUND_TRIP_BYTES`]).
    pub size: u64,
    /// How long to measure throughput ([`MIN_DURATION`] to [`MAX_DURATION`]).
    pub duration: Duration,
    /// Also measure over unix sockets and compare.
    pub unix: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            target: None,
            discard: None,
            connects: 200,
            requests: 1000,
            size: 64,
            duration: Duration::from_secs(2),
            unix: false,
        }
    }
}

/// Run `bench`.
pub fn run(opts: &Options, ui: &dyn Ui) -> Result<(Report, Exit)> {
    bench(opts, ui).map(|(r, code)| (Report::Bench(Box::new(r)), code))
}

fn bench(plan: &Options, ui: &dyn Ui) -> Result<(BenchReport, Exit)> {
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
        plan,
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
            plan,
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
    plan: &Options,
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
