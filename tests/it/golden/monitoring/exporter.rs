//! `exporter`: the server's and `--textfile`'s reports (with a failed collector), and the
//! `/metrics` text of a scrape, whole and with the audit collector failed.

use portscope::audit::AuditFinding;
use portscope::commands::Report;
use portscope::commands::exporter::collect::{
    self, Collector, CollectorRun, Holder, ListenerSeries, Metrics, StateCount,
};
use portscope::commands::exporter::{CollectorError, ExporterReport, Mode};
use portscope::knowledge::addr_class::Exposure;
use portscope::model::{Proto, SockState};

use super::{addr, audit_report};
use crate::golden::{pin, pin_text};

/// Why the audit collector failed, in the report and in `/metrics` alike.
const COLLECTOR_REFUSED: &str =
    "netlink sock_diag: the kernel refused the dump: Operation not permitted (os error 1)";

/// Where `--textfile` writes, in these fixtures.
const PROM_FILE: &str = "/var/lib/prometheus/node-exporter/portscope.prom";

fn pin_exporter(name: &str, report: ExporterReport) {
    pin(name, &Report::Exporter(Box::new(report)));
}

fn exporter_report(mode: Mode) -> ExporterReport {
    ExporterReport::new(mode)
}

/// The server stopped by SIGINT: its report (nothing in the table: the exporter's output is
/// its metrics).
#[test]
fn exporter_server() {
    let mut r = exporter_report(Mode::Server);
    r.listen = Some(addr("127.0.0.1:9797"));
    r.collections = 42;
    r.responses = 57;
    r.stopped_by = Some("SIGINT".into());
    pin_exporter("monitoring-exporter-server", r);
}

/// `--textfile`: the file written.
#[test]
fn exporter_textfile() {
    let mut r = exporter_report(Mode::Textfile);
    r.textfile = Some(PROM_FILE.into());
    r.samples = 55;
    r.bytes = 6107;
    pin_exporter("monitoring-exporter-textfile", r);
}

/// `--textfile` with a collector that failed (exit 3; the file is still written: the text of
/// `monitoring-exporter-metrics-collector-failed`).
#[test]
fn exporter_textfile_failed() {
    let mut r = exporter_report(Mode::Textfile);
    r.textfile = Some(PROM_FILE.into());
    r.samples = 32;
    r.bytes = 3829;
    r.failed = vec![CollectorError {
        collector: Collector::Audit,
        error: COLLECTOR_REFUSED.into(),
    }];
    pin_exporter("monitoring-exporter-textfile-failed", r);
}

fn series(
    port: u16,
    proto: Proto,
    address: &str,
    exposure: Exposure,
    process: Holder,
) -> ListenerSeries {
    ListenerSeries {
        port,
        proto,
        address: address.into(),
        exposure,
        process,
        container: None,
    }
}

/// One scrape of a server, built as `collect::collect` builds it from fixed values.
fn metrics() -> Metrics {
    let named = |n: &str| Holder::Process(n.into());
    let tcp = |state: SockState| match state {
        SockState::Established => 4,
        SockState::TimeWait => 78,
        SockState::Listen => 7,
        SockState::CloseWait => 1,
        _ => 0,
    };
    let mut sockets: Vec<StateCount> = SockState::ALL
        .iter()
        .map(|&state| StateCount {
            proto: Proto::Tcp,
            state,
            count: tcp(state),
        })
        .collect();
    sockets.push(StateCount {
        proto: Proto::Udp,
        state: SockState::Established,
        count: 0,
    });
    sockets.push(StateCount {
        proto: Proto::Udp,
        state: SockState::Close,
        count: 2,
    });
    let report = audit_report();
    let allowed: Vec<AuditFinding> = report.allowed.iter().map(|a| a.finding.clone()).collect();
    Metrics {
        listeners: vec![
            series(
                22,
                Proto::Tcp,
                "0.0.0.0",
                Exposure::AllInterfaces,
                named("sshd"),
            ),
            series(22, Proto::Tcp, "::", Exposure::AllInterfaces, named("sshd")),
            series(
                68,
                Proto::Udp,
                "0.0.0.0",
                Exposure::AllInterfaces,
                Holder::Nobody,
            ),
            series(
                2024,
                Proto::Tcp,
                "0.0.0.0",
                Exposure::AllInterfaces,
                Holder::Hidden,
            ),
            series(
                5005,
                Proto::Tcp,
                "127.0.0.1",
                Exposure::Loopback,
                named("java"),
            ),
            series(
                6379,
                Proto::Tcp,
                "0.0.0.0",
                Exposure::AllInterfaces,
                named("redis-server"),
            ),
            ListenerSeries {
                container: Some(("web1".into(), "nginx:1.27".into())),
                ..series(
                    8080,
                    Proto::Tcp,
                    "127.0.0.1",
                    Exposure::Loopback,
                    named("docker-proxy"),
                )
            },
            series(
                9229,
                Proto::Tcp,
                "0.0.0.0",
                Exposure::AllInterfaces,
                named("node"),
            ),
            series(
                9797,
                Proto::Tcp,
                "127.0.0.1",
                Exposure::Loopback,
                named("portscope"),
            ),
        ],
        sockets,
        hidden_sockets: Some(1),
        ownerless_sockets: Some(1),
        hidden_processes: Some(1),
        findings: collect::with_every_rule(collect::finding_counts(&report.findings)),
        finding_series: collect::finding_series(&report.findings),
        allowed: collect::finding_counts(&allowed),
        collectors: vec![
            CollectorRun {
                collector: Collector::Listeners,
                seconds: 0.004_127,
                error: None,
            },
            CollectorRun {
                collector: Collector::Sockets,
                seconds: 0.001_305,
                error: None,
            },
            CollectorRun {
                collector: Collector::Audit,
                seconds: 0.006_388,
                error: None,
            },
        ],
        errors_total: Some([0, 0, 0]),
        seconds: 0.011_820,
    }
}

/// `/metrics` of a server: every family, label escaping of nothing unusual, every rule counted.
#[test]
fn exporter_metrics() {
    let text = portscope::render::prometheus::metrics(&metrics());
    pin_text("monitoring-exporter-metrics.txt", &text, &[]);
}

/// `--textfile` with the audit collector failed: its series are missing, its success is 0, and
/// a one-shot file has no errors counter.
#[test]
fn exporter_metrics_collector_failed() {
    let mut m = metrics();
    m.findings.clear();
    m.finding_series.clear();
    m.allowed.clear();
    m.errors_total = None;
    if let Some(audit) = m.collectors.last_mut() {
        audit.error = Some(COLLECTOR_REFUSED.into());
    }
    let text = portscope::render::prometheus::metrics(&m);
    pin_text(
        "monitoring-exporter-metrics-collector-failed.txt",
        &text,
        &[],
    );
}
