//! `tap`: the reports of a capture written to a pcap and of one that fell behind, and its live
//! lines.

use portscope::commands::Report;
use portscope::commands::tap::TapReport;
use portscope::traffic::Line;
use portscope::traffic::tap::{self, TapLine};

use super::pin_lines;
use crate::golden::pin;

fn tap_report() -> TapReport {
    TapReport {
        port: 33161,
        interface: "lo".into(),
        packets: 0,
        bytes: 0,
        connections: 0,
        open_at_stop: 0,
        flows_evicted: 0,
        missed_bytes: 0,
        pcap: None,
        pcap_packets: 0,
        duration_s: 0.0,
        stopped_by: "signal",
    }
}

/// `tap -w` stopped by Ctrl-C (docs/traffic.md).
#[test]
fn tap_pcap() {
    let mut r = tap_report();
    r.packets = 25;
    r.bytes = 17_002;
    r.connections = 2;
    r.pcap = Some("/tmp/demo.pcap".into());
    r.pcap_packets = 25;
    r.duration_s = 2.512;
    pin("follow-tap-pcap", &Report::Tap(Box::new(r)));
}

/// A capture that fell behind, with the flow table full and one connection still open.
#[test]
fn tap_missed() {
    let mut r = tap_report();
    r.port = 36967;
    r.packets = 234;
    r.bytes = 8_400_012;
    r.connections = 1;
    r.open_at_stop = 1;
    r.flows_evicted = 12;
    r.missed_bytes = 25_270_681;
    r.duration_s = 30.0;
    r.stopped_by = "duration";
    pin("follow-tap-missed", &Report::Tap(Box::new(r)));
}

/// A TCP connection from `client` to `server` that ended `ended` (`[request, response]`
/// packets, bytes and first lines), nothing missed.
fn conn(
    (client, server): (&str, &str),
    ended: &'static str,
    (start, duration_s): (f64, f64),
    [request_packets, response_packets]: [u64; 2],
    [request_bytes, response_bytes]: [u64; 2],
    [request_first_line, response_first_line]: [Option<&str>; 2],
) -> tap::Conn {
    tap::Conn {
        proto: "tcp",
        client: client.into(),
        server: server.into(),
        ended,
        start,
        duration_s,
        request_bytes,
        response_bytes,
        request_packets,
        response_packets,
        request_first_line: request_first_line.map(Into::into),
        response_first_line: response_first_line.map(Into::into),
        request_missed_bytes: 0,
        response_missed_bytes: 0,
    }
}

/// `tap`'s live lines: started, open, ends (fin with first lines, rst, UDP open at the stop
/// with escaped payload, missed bytes).
#[test]
fn tap_lines() {
    let first = ("127.0.0.1:55028", "127.0.0.1:33161");
    let fin = conn(
        first,
        "fin",
        (1_795_332_848.252_127, 0.009_564),
        [6, 5],
        [79, 14_631],
        [Some("GET / HTTP/1.1"), Some("HTTP/1.0 200 OK")],
    );
    let reset = conn(
        ("127.0.0.2:55030", "127.0.0.1:33161"),
        "rst",
        (1_795_332_850.1, 0.000_412),
        [2, 1],
        [0, 0],
        [None, None],
    );
    let mut udp = conn(
        ("[::1]:42818", "[::1]:36102"),
        "open",
        (1_795_332_851.0, 0.000_181),
        [1, 1],
        [9, 4],
        [Some("ping\\x01\\x1b[2J"), Some("pong")],
    );
    udp.proto = "udp";
    let mut missed = conn(
        ("127.0.0.1:46450", "127.0.0.1:36967"),
        "fin",
        (1_795_332_860.5, 0.703_118),
        [176, 58],
        [8_283_750, 0],
        [Some("xxxxxxxx"), None],
    );
    missed.request_missed_bytes = 25_270_681;
    let lines = [
        TapLine::Started(tap::Started {
            port: 33161,
            interface: "lo".into(),
            pcap: Some("/tmp/demo.pcap".into()),
        }),
        TapLine::Open(tap::Open {
            proto: "tcp",
            client: first.0.into(),
            server: first.1.into(),
            time: 1_795_332_848.252_127,
        }),
        TapLine::End(fin),
        TapLine::End(reset),
        TapLine::End(udp),
        TapLine::End(missed),
    ];
    let lines: Vec<Line> = lines.into_iter().map(Line::Tap).collect();
    pin_lines("follow-tap-lines", &lines);
}
