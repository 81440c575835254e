//! `bench`: TCP only, an echo target of the user's, TCP beside unix with their ratios, and its
//! progress lines.

use portscope::commands::Report;
use portscope::commands::bench::{BenchReport, Ratios, TransportReport};
use portscope::traffic::Line;
use portscope::traffic::bench::{BenchLine, Stats, Throughput, round};

use super::pin_lines;
use crate::golden::pin;

fn stats(count: u64, us: [f64; 6]) -> Stats {
    let [min_us, p50_us, p90_us, p99_us, max_us, mean_us] = us;
    Stats {
        count,
        min_us,
        p50_us,
        p90_us,
        p99_us,
        max_us,
        mean_us,
    }
}

fn ratios(tcp: &TransportReport, unix: &TransportReport) -> Ratios {
    let r = |a: f64, b: f64| round(a / b, 3);
    Ratios {
        connect_p50: r(tcp.connect.p50_us, unix.connect.p50_us),
        round_trip_p50: r(tcp.round_trip.p50_us, unix.round_trip.p50_us),
        round_trip_p99: r(tcp.round_trip.p99_us, unix.round_trip.p99_us),
        throughput: r(
            tcp.throughput.bits_per_second,
            unix.throughput.bits_per_second,
        ),
    }
}

/// One transport's figures, measured against the echo server `echo`.
fn figures(
    transport: &'static str,
    echo: &str,
    [connect, round_trip]: [Stats; 2],
    throughput: Throughput,
) -> TransportReport {
    TransportReport {
        transport,
        echo: echo.into(),
        connect,
        round_trip,
        throughput,
    }
}

/// Pin a `bench` report of the echo `target` (with TCP_NODELAY, as always), with the TCP ÷ unix
/// ratios when there are unix figures.
fn pin_bench(
    name: &str,
    (target, target_started): (&str, bool),
    size_bytes: u64,
    tcp: TransportReport,
    unix: Option<TransportReport>,
) {
    let report = BenchReport {
        target: target.into(),
        target_started,
        size_bytes,
        tcp_nodelay: true,
        tcp_over_unix: unix.as_ref().map(|u| ratios(&tcp, u)),
        tcp,
        unix,
    };
    pin(name, &Report::Bench(Box::new(report)));
}

/// `bench` against the servers it started, TCP only.
#[test]
fn bench_tcp() {
    let tcp = figures(
        "tcp",
        "127.0.0.1:37483",
        [
            stats(200, [16.6, 17.7, 23.9, 67.8, 3_240.0, 47.9]),
            stats(1000, [19.8, 22.4, 36.5, 70.4, 149.3, 26.4]),
        ],
        Throughput::new("discard", "127.0.0.1:42095".into(), 2_047_868_928, 2.000_4),
    );
    pin_bench("follow-bench-tcp", ("127.0.0.1:37483", true), 64, tcp, None);
}

/// `bench 9007 --size 4KiB`: an echo target of the user's, throughput through the echo.
#[test]
fn bench_echo_target() {
    let tcp = figures(
        "tcp",
        "127.0.0.1:9007",
        [
            stats(200, [18.7, 22.4, 25.3, 59.6, 4_110.0, 43.6]),
            stats(500, [24.1, 30.9, 35.5, 118.9, 4_300.0, 42.5]),
        ],
        Throughput::new("echo", "127.0.0.1:9007".into(), 889_192_448, 1.0),
    );
    let target = ("127.0.0.1:9007", false);
    pin_bench("follow-bench-echo-target", target, 4096, tcp, None);
}

/// `bench --unix`: TCP and unix side by side, with the TCP ÷ unix ratios.
#[test]
fn bench_unix() {
    let dir = "/tmp/portscope-bench-3997-330510203";
    let tcp = figures(
        "tcp",
        "127.0.0.1:40639",
        [
            stats(200, [16.8, 18.034, 20.3, 93.6, 4_090.0, 40.6]),
            stats(1000, [20.6, 21.4, 22.4, 41.6, 102.4, 22.3]),
        ],
        Throughput::new("discard", "127.0.0.1:46425".into(), 2_410_676_224, 1.000_2),
    );
    let unix = figures(
        "unix",
        &format!("{dir}/echo.sock"),
        [
            stats(200, [4.4, 4.968, 6.9, 68.6, 193.2, 8.8]),
            stats(1000, [9.3, 10.0, 14.7, 18.8, 189.5, 11.7]),
        ],
        Throughput::new(
            "discard",
            format!("{dir}/discard.sock"),
            3_030_384_640,
            1.000_1,
        ),
    );
    let target = ("127.0.0.1:40639", true);
    pin_bench("follow-bench-unix", target, 64, tcp, Some(unix));
}

/// `bench`'s progress lines (standard error, text; the JSON form is the `--json` schema).
#[test]
fn bench_lines() {
    let dir = "/tmp/portscope-bench-3997-330510203";
    let lines = [
        BenchLine::ServerStarted {
            kind: "echo",
            transport: "tcp",
            address: "127.0.0.1:40639".into(),
        },
        BenchLine::PhaseStarted {
            transport: "tcp",
            phase: "round_trip",
            target: "127.0.0.1:40639".into(),
            count: Some(1000),
            size_bytes: Some(64),
            duration_s: None,
            mode: None,
        },
        BenchLine::PhaseStarted {
            transport: "tcp",
            phase: "connect",
            target: "127.0.0.1:40639".into(),
            count: Some(200),
            size_bytes: None,
            duration_s: None,
            mode: None,
        },
        BenchLine::PhaseStarted {
            transport: "tcp",
            phase: "throughput",
            target: "127.0.0.1:46425".into(),
            count: None,
            size_bytes: Some(65_536),
            duration_s: Some(1.0),
            mode: Some("discard"),
        },
        BenchLine::ServerStarted {
            kind: "discard",
            transport: "unix",
            address: format!("{dir}/discard.sock"),
        },
        BenchLine::PhaseStarted {
            transport: "unix",
            phase: "round_trip",
            target: format!("{dir}/echo.sock"),
            count: Some(1000),
            size_bytes: Some(64),
            duration_s: None,
            mode: None,
        },
        BenchLine::PhaseStarted {
            transport: "unix",
            phase: "throughput",
            target: format!("{dir}/echo.sock"),
            count: None,
            size_bytes: Some(65_536),
            duration_s: Some(0.5),
            mode: Some("echo"),
        },
    ];
    let lines: Vec<Line> = lines.into_iter().map(Line::Bench).collect();
    pin_lines("follow-bench-lines", &lines);
}
