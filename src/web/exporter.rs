//! The `exporter` verb: Prometheus metrics about this machine's ports, served over HTTP
//! (loopback unless `--listen` says otherwise) by [`super::metrics_server`], or written once,
//! atomically, to a textfile for node_exporter's textfile collector. What one scrape measures
//! is `commands::exporter::collect`; how it reads as text is `render::prometheus`. The
//! start-up, warning and stop lines go through [`Ui::notice`].

use std::net::SocketAddr;
use std::path::Path;

use crate::commands::exporter::collect::CollectOptions;
use crate::commands::exporter::{self, CollectorError, ExporterReport, Mode, Options};
use crate::commands::{Report, Ui};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::render::prometheus as text;

/// Run `exporter`: exit 0, or 3 when a textfile was written with a collector missing.
pub fn run(opts: &Options, ui: &dyn Ui) -> Result<(Report, Exit)> {
    let collect = CollectOptions {
        probe: opts.probe,
        allowlist: opts.allowlist.clone(),
    };
    // A missing or malformed allowlist is bad input now (exit 2), not a failed audit
    // collector on every scrape later.
    crate::audit::allowlist::resolve(collect.allowlist.as_deref())?;
    let (report, code) = match &opts.textfile {
        Some(path) => write_textfile(path, &collect, ui)?,
        None => serve(opts.listen, collect, ui)?,
    };
    Ok((Report::Exporter(Box::new(report)), code))
}

/// Bind, announce, serve until SIGINT/SIGTERM.
fn serve(wanted: SocketAddr, opts: CollectOptions, ui: &dyn Ui) -> Result<(ExporterReport, Exit)> {
    let listener = crate::server::bind::bind(wanted, "--listen")?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("reading the exporter's address", e))?;
    ui.notice(&text::startup_line(addr));
    if let Some(warning) = text::exposure_warning(addr) {
        ui.notice(&warning);
    }
    let served = super::metrics_server::serve(listener, opts)?;
    ui.notice(&text::stopped_line(&served.stopped_by, served.collections));
    let mut report = ExporterReport::new(Mode::Server);
    report.listen = Some(addr);
    report.collections = served.collections;
    report.responses = served.responses;
    report.stopped_by = Some(served.stopped_by);
    Ok((report, Exit::Success))
}

/// `--textfile`: collect once, render, replace the file atomically.
fn write_textfile(
    path: &Path,
    opts: &CollectOptions,
    ui: &dyn Ui,
) -> Result<(ExporterReport, Exit)> {
    if path.extension().and_then(|e| e.to_str()) != Some("prom") {
        ui.notice(&text::textfile_name_warning(path));
    }
    let metrics = exporter::collect::collect(opts);
    let body = text::metrics(&metrics);
    exporter::replace_atomically(path, body.as_bytes())?;
    let mut report = ExporterReport::new(Mode::Textfile);
    report.textfile = Some(path.to_path_buf());
    report.samples = text::sample_count(&body);
    report.bytes = body.len();
    report.failed = metrics
        .failures()
        .map(|(collector, error)| CollectorError {
            collector,
            error: error.to_string(),
        })
        .collect();
    for f in &report.failed {
        ui.notice(&text::collector_line(f.collector, Some(&f.error)));
    }
    let code = if report.failed.is_empty() {
        Exit::Success
    } else {
        Exit::Failure
    };
    Ok((report, code))
}
