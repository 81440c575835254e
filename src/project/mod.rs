//! A project's `ports.toml`: the ports its services use, parsed and validated into plain
//! data. Finding the file and reading it is here too; what the ports collide with is
//! `commands::project`'s business.
//!
//! The format:
//!
//! ```toml
//! [project]
//! name = "shop"          # optional; default: the directory holding ports.toml
//!
//! [services.web]
//! port = 3000            # a fixed port
//!
//! [services.api]
//! port = 8000
//! proto = "tcp"          # tcp (default) or udp
//! host = "127.0.0.1"     # optional: the address it binds
//!
//! [services.worker-metrics]
//! # no port: `portscope env` reserves one in the registry as "shop/worker-metrics"
//! ```
//!
//! Unknown keys and bad values are rejected with the file, the line and what is accepted.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::{Error, Result};
use crate::model::Proto;

/// The file name looked for in the current directory and its parents.
pub const FILE_NAME: &str = "ports.toml";

/// What the format accepts, in one line (the second half of every parse error).
const ACCEPTED: &str = "ports.toml takes an optional [project] table with name = \"NAME\", and \
    one [services.NAME] table per service with optional port = 1-65535, proto = \"tcp\" or \
    \"udp\", host = \"IP address\" (see `portscope check-config --help`)";

/// Longest project name: with `/` and the longest service name it stays within a
/// reservation name's 128 characters.
const MAX_PROJECT: usize = 64;
/// Longest service name.
const MAX_SERVICE: usize = 63;

/// A parsed, valid `ports.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    /// The project's name: `[project] name`, else the directory's name made valid.
    pub name: String,
    /// The file it was read from.
    pub file: PathBuf,
    /// The project directory: the one holding the file.
    pub dir: PathBuf,
    /// The services, in the order the file declares them.
    pub services: Vec<Service>,
}

/// One `[services.NAME]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    /// The name: letters, digits, `-` and `_`, starting with a letter.
    pub name: String,
    /// The declared port; `None` = reserve one in the registry.
    pub port: Option<u16>,
    /// `tcp` (default) or `udp`.
    pub proto: Proto,
    /// The address it binds, when declared.
    pub host: Option<IpAddr>,
    /// The line of its `[services.NAME]` header in the file.
    pub line: usize,
}

impl Service {
    /// The environment variable `env` prints for it: `worker-metrics` → `WORKER_METRICS_PORT`.
    pub fn env_var(&self) -> String {
        env_var(&self.name)
    }
}

impl Project {
    /// The registry name of a service's reservation: `<project>/<service>`.
    pub fn reservation_name(&self, service: &str) -> String {
        format!("{}/{service}", self.name)
    }

    /// The service a registry name of this project refers to (`shop/web` → `web`), if the
    /// name has this project's prefix.
    pub fn service_of<'a>(&self, reservation: &'a str) -> Option<&'a str> {
        reservation
            .strip_prefix(self.name.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
    }
}

/// The variable name for a service name: upper-cased, `-` → `_`, then `_PORT`.
pub fn env_var(service: &str) -> String {
    let mut var: String = service
        .chars()
        .map(|c| match c {
            '-' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    var.push_str("_PORT");
    var
}

/// Whether two services binding `a` and `b` (`None` = not declared, so possibly every
/// address) on the same port would clash: the same address, `0.0.0.0` and any IPv4
/// address, `::` and anything (dual-stack); IPv4-mapped IPv6 addresses count as IPv4.
pub fn overlaps(a: Option<IpAddr>, b: Option<IpAddr>) -> bool {
    let canon = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    let wildcard_over = |w: IpAddr, other: IpAddr| match w {
        // The IPv6 wildcard is dual-stack unless bindv6only is set: assume the clash.
        IpAddr::V6(v6) => v6.is_unspecified(),
        IpAddr::V4(v4) => v4.is_unspecified() && other.is_ipv4(),
    };
    match (a.map(canon), b.map(canon)) {
        (Some(a), Some(b)) => a == b || wildcard_over(a, b) || wildcard_over(b, a),
        _ => true,
    }
}

/// Where something binds: what [`clashes`] compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    /// The port.
    pub port: u16,
    /// The protocol.
    pub proto: Proto,
    /// The address, when known.
    pub host: Option<IpAddr>,
}

/// Groups of indexes into `bindings` that clash: same port and protocol, overlapping
/// addresses. Each group lists, ascending, every binding that clashes with another of the
/// group's port and protocol; groups are ordered by their first index.
pub fn clashes(bindings: &[Binding]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut seen = vec![false; bindings.len()];
    for (i, a) in bindings.iter().enumerate() {
        if seen[i] {
            continue;
        }
        let same: Vec<usize> = (i..bindings.len())
            .filter(|&j| bindings[j].port == a.port && bindings[j].proto == a.proto)
            .collect();
        for &j in &same {
            seen[j] = true;
        }
        let group: Vec<usize> = same
            .iter()
            .copied()
            .filter(|&j| {
                same.iter()
                    .any(|&k| k != j && overlaps(bindings[j].host, bindings[k].host))
            })
            .collect();
        if group.len() > 1 {
            groups.push(group);
        }
    }
    groups
}

/// The project file to use: `config` when given (a directory means its `ports.toml`),
/// else `ports.toml` in `start` or its nearest parent.
pub fn locate(config: Option<&Path>, start: &Path) -> Result<PathBuf> {
    if let Some(given) = config {
        let path = if given.is_dir() {
            given.join(FILE_NAME)
        } else {
            given.to_path_buf()
        };
        return Ok(path);
    }
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            Error::bad_input(
                match start.parent() {
                    Some(_) => format!(
                        "no {FILE_NAME} in {} or any directory above it",
                        start.display()
                    ),
                    None => format!("no {FILE_NAME} in {}", start.display()),
                },
                format!(
                    "run portscope in the project (or a directory below it), create {FILE_NAME} there \
                     (format: `portscope check-config --help`), or pass --config FILE"
                ),
            )
        })
}

/// Read and parse the project file at `path` (the project directory is its directory,
/// with symbolic links resolved).
pub fn load(path: &Path) -> Result<Project> {
    let unreadable = |e: std::io::Error| {
        Error::bad_input(
            format!(
                "cannot read the project file {}: {e}",
                crate::text::echo(&path.to_string_lossy())
            ),
            format!(
                "pass --config FILE naming a readable {FILE_NAME}, or run portscope where one is"
            ),
        )
    };
    let file = std::fs::canonicalize(path).map_err(unreadable)?;
    let bytes = std::fs::read(&file).map_err(unreadable)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = line_of(e.as_bytes(), e.utf8_error().valid_up_to());
        Error::bad_input(
            format!("{} line {line}: not UTF-8 text", file.display()),
            ACCEPTED,
        )
    })?;
    let dir = file.parent().unwrap_or(Path::new("/")).to_path_buf();
    parse(&text, &file, &dir)
}

mod file;

use file::line_of;
pub use file::parse;
#[cfg(test)]
mod tests;
