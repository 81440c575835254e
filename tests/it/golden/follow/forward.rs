//! `forward`: the TCP and UDP reports when it stops, and its live lines.

use portscope::commands::Report;
use portscope::commands::forward::ForwardReport;
use portscope::traffic::Line;
use portscope::traffic::forward::{Cidr, End, ForwardLine, Totals};

use super::{addr, pin_lines};
use crate::golden::pin;

/// `forward` over TCP stopped by Ctrl-C, one client denied (docs/traffic.md).
#[test]
fn forward_tcp() {
    let report = ForwardReport {
        proto: "tcp",
        listen: addr("127.0.0.1:8080"),
        target: addr("127.0.0.1:3000"),
        totals: Totals {
            connections: 2,
            denied: 1,
            refused: 0,
            target_failed: 1,
            bytes_to_target: 1_048_582,
            bytes_to_client: 1_048_582,
        },
        stopped_by: "SIGINT".into(),
    };
    pin("follow-forward-tcp", &Report::Forward(Box::new(report)));
}

/// `forward --udp`: sessions, not connections.
#[test]
fn forward_udp() {
    let report = ForwardReport {
        proto: "udp",
        listen: addr("127.0.0.1:5353"),
        target: addr("127.0.0.1:5300"),
        totals: Totals {
            connections: 1,
            denied: 0,
            refused: 2,
            target_failed: 0,
            bytes_to_target: 5,
            bytes_to_client: 5,
        },
        stopped_by: "SIGTERM".into(),
    };
    pin("follow-forward-udp", &Report::Forward(Box::new(report)));
}

/// `forward`'s live lines: start with a warning, open, closes, denied, refused, target failed.
#[test]
fn forward_lines() {
    let cidr = |t| Cidr::parse(t).expect("cidr");
    let lines = [
        ForwardLine::Start {
            proto: "tcp",
            listen: addr("0.0.0.0:8080"),
            target: addr("127.0.0.1:3000"),
            allow: vec![cidr("127.0.0.0/8"), cidr("::1/128")],
            max_conns: 1024,
            idle_timeout_s: 600.0,
            warnings: vec![
                "0.0.0.0 is reachable from the network but only loopback clients are allowed: \
                 remote clients will be refused (allow them with --allow CIDR, e.g. --allow \
                 192.168.1.0/24)"
                    .into(),
            ],
        },
        ForwardLine::Open {
            id: 1,
            client: addr("127.0.0.1:54708"),
            target: addr("127.0.0.1:3000"),
        },
        ForwardLine::Close {
            id: 1,
            client: addr("127.0.0.1:54708"),
            bytes_to_target: 1_048_576,
            bytes_to_client: 1_048_576,
            duration_s: 0.012,
            end: End::BothClosed,
            error: None,
        },
        ForwardLine::Close {
            id: 2,
            client: addr("127.0.0.1:54714"),
            bytes_to_target: 6,
            bytes_to_client: 0,
            duration_s: 1.5,
            end: End::Reset,
            error: Some("Connection reset by peer (os error 104)".into()),
        },
        ForwardLine::Denied {
            client: addr("127.0.0.2:57841"),
        },
        ForwardLine::Refused {
            client: addr("127.0.0.1:55124"),
            max_conns: 1,
        },
        ForwardLine::TargetFailed {
            id: 3,
            client: addr("127.0.0.1:54740"),
            target: addr("127.0.0.1:3001"),
            reason: "Connection refused (os error 111)".into(),
        },
        ForwardLine::Start {
            proto: "udp",
            listen: addr("127.0.0.1:5353"),
            target: addr("127.0.0.1:5300"),
            allow: vec![cidr("127.0.0.0/8")],
            max_conns: 16,
            idle_timeout_s: 2.0,
            warnings: Vec::new(),
        },
        ForwardLine::Close {
            id: 1,
            client: addr("127.0.0.1:51872"),
            bytes_to_target: 5,
            bytes_to_client: 5,
            duration_s: 2.01,
            end: End::Idle,
            error: None,
        },
    ];
    let lines: Vec<Line> = lines.into_iter().map(Line::Forward).collect();
    pin_lines("follow-forward-lines", &lines);
}
