//! `exporter`: Prometheus metrics about this machine's ports, served over HTTP (loopback
//! unless `--listen` says otherwise) or written once, atomically, to a textfile for
//! node_exporter's textfile collector.
//!
//! The command checks the allowlist, binds the port (so a bad address or a held port is a
//! one-line error with the right exit code), then hands the socket to
//! [`crate::web::metrics_server`]. What one scrape measures is in [`collect`]; how it reads
//! as text is `render::prometheus`.

pub mod collect;

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use collect::Collector;

/// Where `exporter` puts its metrics and what they cover. The default is `portscope
/// exporter`: served on 127.0.0.1:9797, no probes, the allowlist from its default places.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Where to serve /metrics (port 0: any free port); unused with `textfile`.
    pub listen: SocketAddr,
    /// Write the metrics once to this file instead, replacing it atomically, and exit.
    pub textfile: Option<PathBuf>,
    /// Probe listeners for the audit metrics.
    pub probe: bool,
    /// The allowlist for the audit metrics (`None`: the default places, when present).
    pub allowlist: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            listen: SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 9797),
            textfile: None,
            probe: false,
            allowlist: None,
        }
    }
}

/// How the exporter ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Served `/metrics` until a signal stopped it.
    Server,
    /// Wrote the metrics once to a file.
    Textfile,
}

/// A collector that failed, and why.
#[derive(Debug, Clone, Serialize)]
pub struct CollectorError {
    /// The collector (`listeners`, `sockets`, `audit`).
    pub collector: Collector,
    /// The error.
    pub error: String,
}

/// What the exporter did (printed only with `--json`: the exporter's output is its metrics).
#[derive(Debug, Clone, Serialize)]
pub struct ExporterReport {
    /// `server` or `textfile`.
    pub mode: Mode,
    /// Server: the address it served on (with the real port when `--listen` asked for 0).
    pub listen: Option<SocketAddr>,
    /// Server: fresh collections made (scrapes within a second of one another share one).
    pub collections: u64,
    /// Server: `/metrics` responses sent.
    pub responses: u64,
    /// Server: the signal that stopped it (`SIGINT`, `SIGTERM`).
    pub stopped_by: Option<String>,
    /// Textfile: the file written.
    pub textfile: Option<PathBuf>,
    /// Textfile: samples written.
    pub samples: usize,
    /// Textfile: bytes written.
    pub bytes: usize,
    /// Textfile: collectors that failed (their series are missing from the file, and
    /// `portscope_scrape_collector_success` is 0 for them).
    pub failed: Vec<CollectorError>,
}

impl ExporterReport {
    /// An empty report of this mode.
    pub fn new(mode: Mode) -> ExporterReport {
        ExporterReport {
            mode,
            listen: None,
            collections: 0,
            responses: 0,
            stopped_by: None,
            textfile: None,
            samples: 0,
            bytes: 0,
            failed: Vec::new(),
        }
    }
}

/// Write `bytes` to a temporary file beside `path` (a name node_exporter ignores: it reads
/// only `*.prom`), fsync it, rename it over `path`, fsync the directory. A reader sees the
/// old file or the new one, never a torn one; a crash leaves at worst a stray temporary.
pub fn replace_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let name = path.file_name().ok_or_else(|| {
        Error::bad_input(
            format!(
                "--textfile {} names no file",
                crate::text::echo(&path.to_string_lossy())
            ),
            "expected a file path such as /var/lib/prometheus/node-exporter/portscope.prom",
        )
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = dir.join(temp_name);
    let write = || -> io::Result<()> {
        // A leftover from a crashed run with the same pid is ours to replace.
        let _ = std::fs::remove_file(&temp);
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&temp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&temp, path)?;
        std::fs::File::open(&dir)?.sync_all()
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        Error::io(
            format!(
                "writing the textfile {}",
                crate::text::echo(&path.to_string_lossy())
            ),
            e,
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn textfile_is_replaced_atomically() {
        let dir = std::env::temp_dir().join(format!("portscope-textfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("portscope.prom");
        replace_atomically(&path, b"a 1\n").unwrap();
        replace_atomically(&path, b"a 2\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a 2\n");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("portscope.prom")]);
        let missing = dir.join("no/such/dir/x.prom");
        assert!(replace_atomically(&missing, b"").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
