//! `serve`: the reports of http, echo and static servers when they stop, and their live lines.

use portscope::commands::Report;
use portscope::commands::serve::ServeReport;
use portscope::traffic::Line;
use portscope::traffic::serve::{Chosen, ServeLine};

use super::{addr, pin_lines};
use crate::golden::pin;

fn serve_report(kind: &'static str, address: &str, chosen: Chosen) -> ServeReport {
    let scheme = if matches!(kind, "echo" | "discard") {
        "tcp"
    } else {
        "http"
    };
    let slash = if scheme == "http" { "/" } else { "" };
    ServeReport {
        kind,
        address: addr(address),
        url: format!("{scheme}://{address}{slash}"),
        chosen,
        dir: None,
        requests: 0,
        connections: 0,
        bytes_in: 0,
        bytes_out: 0,
        stopped_by: "SIGTERM".into(),
    }
}

/// `serve` (http) stopped by Ctrl-C after two requests (docs/traffic.md).
#[test]
fn serve_http() {
    let mut r = serve_report("http", "127.0.0.1:62893", Chosen::Default);
    r.requests = 2;
    r.connections = 2;
    r.bytes_in = 279;
    r.bytes_out = 1229;
    r.stopped_by = "SIGINT".into();
    pin("follow-serve-http", &Report::Serve(Box::new(r)));
}

/// `serve echo` on a port the kernel chose: no request count.
#[test]
fn serve_echo() {
    let mut r = serve_report("echo", "127.0.0.1:42005", Chosen::DefaultTaken);
    r.connections = 1;
    r.bytes_in = 12;
    r.bytes_out = 12;
    pin("follow-serve-echo", &Report::Serve(Box::new(r)));
}

/// `serve static site --port 8123`: the directory is in the JSON.
#[test]
fn serve_static() {
    let mut r = serve_report("static", "127.0.0.1:8123", Chosen::Port);
    r.dir = Some("site".into());
    r.requests = 4;
    r.connections = 4;
    r.bytes_in = 348;
    r.bytes_out = 1126;
    pin("follow-serve-static", &Report::Serve(Box::new(r)));
}

/// `serve`'s live lines: started (three ways), a warning, requests, a closed connection.
#[test]
fn serve_lines() {
    let lines = [
        ServeLine::Serving {
            kind: "http",
            address: addr("127.0.0.1:62893"),
            url: "http://127.0.0.1:62893/".into(),
            chosen: Chosen::Default,
            dir: None,
        },
        ServeLine::Serving {
            kind: "echo",
            address: addr("127.0.0.1:42005"),
            url: "tcp://127.0.0.1:42005".into(),
            chosen: Chosen::DefaultTaken,
            dir: None,
        },
        ServeLine::Serving {
            kind: "static",
            address: addr("0.0.0.0:8123"),
            url: "http://0.0.0.0:8123/".into(),
            chosen: Chosen::Port,
            dir: Some("site".into()),
        },
        ServeLine::Warning {
            message: "0.0.0.0:8123 is not loopback: anyone who can reach this host can use \
                      this test server and read the directory's files"
                .into(),
        },
        ServeLine::Request {
            client: addr("127.0.0.1:56756"),
            method: "GET".into(),
            path: "/api/users?id=7".into(),
            status: 200,
            bytes: Some(196),
        },
        ServeLine::Request {
            client: addr("127.0.0.1:45324"),
            method: "GET".into(),
            path: "/%2e%2e/etc/passwd\x1b[2J".into(),
            status: 404,
            bytes: None,
        },
        ServeLine::Connection {
            client: addr("127.0.0.1:43304"),
            bytes_in: 12,
            bytes_out: 12,
            seconds: 0.002_171_094,
        },
    ];
    let lines: Vec<Line> = lines.into_iter().map(Line::Serve).collect();
    pin_lines("follow-serve-lines", &lines);
}
