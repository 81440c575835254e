//! `probe` pinned: identified services (HTTP, Redis proven by INFO, a password-locked Redis-protocol
//! server whose product is not shown (confidence `compatible`), HTTPS with
//! its certificate), a port that closes without a word, one nothing identifies, and a refusal.

use std::net::SocketAddr;

use portscope::commands::Report;
use portscope::commands::probe::{OwnerRef, ProbeReport, ProbeResult};
use portscope::model::Proto;
use portscope::probe::engine::{PortProbe, PortState};
use portscope::probe::{Auth, Confidence, Identification, TlsFacts};

use super::{LO4, LO6, at, pin};

fn probed(
    addr: SocketAddr,
    state: PortState,
    identification: Option<Identification>,
    first_bytes: &[u8],
    probes: Vec<&'static str>,
    owner: Option<(u32, &str)>,
) -> ProbeResult {
    ProbeResult {
        target: addr.to_string(),
        addr: addr.ip(),
        port: addr.port(),
        proto: Proto::Tcp,
        probe: PortProbe {
            addr,
            state,
            identification,
            tls: None,
            evidence: portscope::probe::evidence(first_bytes, 64),
            probes,
            elapsed_ms: 3.5,
            note: None,
        },
        owner: owner.map(|(pid, comm)| OwnerRef {
            pid,
            comm: comm.into(),
        }),
    }
}

fn probe(results: Vec<ProbeResult>) -> Report {
    Report::Probe(Box::new(ProbeReport {
        results,
        deadline_ms: 1200,
        clients: vec![],
    }))
}

/// `probe` (no target: every TCP listener, by port): a port that closed without a word, a Vite
/// dev server over HTTP, Redis without and with a password, HTTPS with its certificate facts.
#[test]
fn mixed() {
    let vite = Identification::new("http", Confidence::Certain)
        .product("Vite")
        .detail("status", "200 OK")
        .detail("title", "My App")
        .detail("framework", "Vite");
    let redis_open = Identification::new("redis", Confidence::Certain)
        .product("Redis")
        .version("7.2.4")
        .auth(Auth::NotRequired)
        .detail("mode", "standalone");
    // INFO refused too: Redis's protocol is proven, the product is not.
    let redis_auth = Identification::new("redis", Confidence::Compatible)
        .auth(Auth::Required)
        .detail(
            "info",
            "refused (NOAUTH Authentication required.): the product is not shown without credentials",
        )
        .detail("error", "NOAUTH Authentication required.");
    let https = Identification::new("https", Confidence::Certain)
        .product("nginx")
        .version("1.24.0")
        .detail("status", "200 OK")
        .detail("server", "nginx/1.24.0");
    let mut tls = probed(
        at(LO4, 8443),
        PortState::Open,
        Some(https),
        b"HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\n",
        vec!["tls-hello", "http-get"],
        Some((2210, "nginx")),
    );
    tls.probe.tls = Some(TlsFacts {
        version: Some("TLSv1.3".into()),
        cipher: Some("TLS13_AES_256_GCM_SHA384".into()),
        alpn: Some("http/1.1".into()),
        subject: Some("CN=app.local".into()),
        san: vec!["app.local".into(), "127.0.0.1".into()],
        issuer: Some("CN=app.local".into()),
        not_before: Some("2026-01-05 09:00:00 UTC".into()),
        not_after: Some("2027-01-05 09:00:00 UTC".into()),
        expired: Some(false),
        self_signed: Some(true),
    });
    let mut wrapped = probed(
        at(LO4, 2024),
        PortState::Open,
        None,
        b"",
        vec!["banner", "http-get"],
        None,
    );
    wrapped.probe.note =
        Some("the server closed the connection without a word (tcpwrapped)".into());
    let report = probe(vec![
        wrapped,
        probed(
            at(LO4, 5173),
            PortState::Open,
            Some(vite),
            b"HTTP/1.1 200 OK\r\nVary: Origin\r\nContent-Type: text/html\r\n",
            vec!["banner", "http-get"],
            Some((4311, "node")),
        ),
        probed(
            at(LO4, 6379),
            PortState::Open,
            Some(redis_open),
            b"+PONG\r\n",
            vec!["redis-ping", "redis-info"],
            Some((1733, "redis-server")),
        ),
        probed(
            at(LO6, 6380),
            PortState::Open,
            Some(redis_auth),
            b"-NOAUTH Authentication required.\r\n",
            vec!["redis-ping", "redis-info"],
            Some((1790, "redis-server")),
        ),
        tls,
    ]);
    pin("inspect-probe-mixed", &report);
}

/// `probe 127.0.0.1:62893 9000`: the first is open but nothing the probes know answered; on
/// the second nothing listens, so `127.0.0.1` refused.
#[test]
fn unidentified_and_refused() {
    let r = probed(
        at(LO4, 62893),
        PortState::Open,
        None,
        b"\x00\x00\x00\x0b\x01\x00\x00\x00\x02\xde\xad",
        vec!["jdwp", "banner", "http-get", "tls-hello"],
        Some((4398, "java")),
    );
    let mut refused = probed(at(LO4, 9000), PortState::Refused, None, b"", vec![], None);
    refused.target = "9000".into();
    refused.probe.elapsed_ms = 0.2;
    pin("inspect-probe-unidentified", &probe(vec![r, refused]));
}

/// `probe localhost:5173` with Vite on `[::1]` only and `/etc/hosts` giving `127.0.0.1`:
/// both loopback addresses probed, and which clients of the name reach the server.
#[test]
fn localhost_clients_part_ways() {
    let vite = Identification::new("http", Confidence::Certain).product("Vite");
    let mut v4 = probed(at(LO4, 5173), PortState::Refused, None, b"", vec![], None);
    let mut v6 = probed(
        at(LO6, 5173),
        PortState::Open,
        Some(vite),
        b"HTTP/1.1 200 OK\r\n",
        vec!["http-get"],
        Some((5120, "node")),
    );
    v4.target = "localhost:5173".into();
    v6.target = "localhost:5173".into();
    let Report::Probe(mut report) = probe(vec![v4, v6]) else {
        unreachable!()
    };
    report.clients = vec![portscope::commands::probe::NameClients {
        target: "localhost:5173".into(),
        port: 5173,
        clients: portscope::knowledge::clients::views("localhost", &[LO4], |ip| ip == LO6),
    }];
    pin("inspect-probe-localhost", &Report::Probe(report));
}
