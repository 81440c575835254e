//! Parse every way a user writes a target: `8080`, `:8080`, `udp/53`, `127.0.0.1:8080`,
//! `[::1]:8080`, `http://localhost:3000/x`, `3000-3010`, `pid:1234`, `node`.
//!
//! Commands take "what to look at" as text pasted from logs, browsers, `ss` and `lsof`. This
//! module turns that text into one typed [`Target`], so no command re-parses strings and there is
//! one place that decides what ambiguous text means. Parsing is a pure function; every
//! rejection is a one-line [`crate::error::Error::BadInput`] that quotes the input (control
//! characters escaped) and says what is accepted. [`Target`]'s `Display` is canonical: `parse(&t.to_string())` gives back `t`.
//!
//! How ambiguous text is read, in this order:
//! - `tcp/…`, `udp/…`, `tcp:…`, `udp:…`, `…/tcp`, `…/udp` set the protocol (once); `pid:N` is a pid;
//! - `SCHEME://…` is a URL (user info, path, query ignored; a URL alone sets no protocol);
//! - all digits is a port (numbers too big are port errors, never process names); `:N` and `*:N`
//!   (as `ss` prints wildcard binds) are ports too; `A-B` of digits is a range;
//! - `localhost`, a bare IP and `HOST:` are errors asking for the port; `HOST:DIGITS` is an
//!   address; IPv6 must be bracketed (`[::1]:80`); zone ids (`%eth0`) are rejected;
//! - anything else of 1-64 characters from `A-Z a-z 0-9 . _ + @ : -` (not starting with `-`) is a
//!   process name, so `php-fpm8.2`, `my.app`, `foo:bar` and `8080x` are process names.

use std::fmt;
use std::net::IpAddr;

use serde::{Serialize, Serializer};

use crate::error::Result;
use crate::model::Proto;

/// The host part of an address target. Serialises as a plain string (`"::1"`, `"localhost"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Host {
    /// A literal IPv4 or IPv6 address.
    Ip(IpAddr),
    /// A host name such as `localhost` or `my-host.local`, lower-cased.
    Name(String),
}

impl fmt::Display for Host {
    /// The address or name, without brackets or port.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Name(name) => f.write_str(name),
        }
    }
}

/// What the user asked about, as [`parse`] understood it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Target {
    /// One port on any address: `8080`, `:8080`, `*:8080`, `8080/tcp`, `udp/53`.
    Port {
        /// The port, 1 to 65535.
        port: u16,
        /// The protocol, when the user gave one.
        proto: Option<Proto>,
    },
    /// One host and port: `127.0.0.1:8080`, `[::1]:8080`, `localhost:3000/udp`, or a URL
    /// (`https://example.test` is port 443).
    Addr {
        /// The address or host name.
        host: Host,
        /// The port, 1 to 65535 (the scheme's default when a URL gives none).
        port: u16,
        /// The protocol, when the user gave one (a URL alone gives none).
        proto: Option<Proto>,
        /// The lower-cased URL scheme (`http`, `wss`…) when the target was written as a URL.
        scheme: Option<String>,
        /// A URL's path and query (`/api/health?full=1`), when it has more than `/`: what a
        /// client requests there.
        #[serde(skip_serializing_if = "Option::is_none")]
        path: Option<String>,
    },
    /// A port range, both ends included: `3000-3010`, `3000-3010/udp`.
    Range {
        /// First port, 1 to 65535, at most `end`.
        start: u16,
        /// Last port, 1 to 65535.
        end: u16,
        /// The protocol, when the user gave one.
        proto: Option<Proto>,
    },
    /// A process id: `pid:1234` (serialised as `{"kind":"pid","pid":1234}`).
    #[serde(serialize_with = "serialize_pid")]
    Pid(u32),
    /// A process name: `node`, `php-fpm8.2` (serialised as `{"kind":"process","name":"node"}`).
    #[serde(serialize_with = "serialize_process")]
    Process(String),
}

fn serialize_pid<S: Serializer>(pid: &u32, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Pid {
        pid: u32,
    }
    Pid { pid: *pid }.serialize(s)
}

fn serialize_process<S: Serializer>(name: &str, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Process<'a> {
        name: &'a str,
    }
    Process { name }.serialize(s)
}

impl Target {
    /// The ports this target covers: `(p, p)` for a port or address, `(start, end)` for a
    /// range, `None` for a pid or process name.
    pub fn port_range(&self) -> Option<(u16, u16)> {
        match self {
            Target::Port { port, .. } | Target::Addr { port, .. } => Some((*port, *port)),
            Target::Range { start, end, .. } => Some((*start, *end)),
            Target::Pid(_) | Target::Process(_) => None,
        }
    }

    /// The protocol the user asked for, if any.
    pub fn proto(&self) -> Option<Proto> {
        match self {
            Target::Port { proto, .. }
            | Target::Addr { proto, .. }
            | Target::Range { proto, .. } => *proto,
            Target::Pid(_) | Target::Process(_) => None,
        }
    }
}

impl fmt::Display for Target {
    /// Canonical text: `8080/tcp`, `[::1]:53/udp`, `tcp/https://example.test:443`, `3000-3010`,
    /// `pid:1234`, `node`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Port { port, .. } => write!(f, "{port}")?,
            Target::Addr {
                host,
                port,
                proto,
                scheme: Some(scheme),
                path,
            } => {
                if let Some(p) = proto {
                    write!(f, "{}/", p.as_str())?;
                }
                let path = path.as_deref().unwrap_or_default();
                return write!(f, "{scheme}://{}{path}", host_port(host, port));
            }
            Target::Addr { host, port, .. } => f.write_str(&host_port(host, port))?,
            Target::Range { start, end, .. } => write!(f, "{start}-{end}")?,
            Target::Pid(pid) => return write!(f, "pid:{pid}"),
            Target::Process(name) => return f.write_str(name),
        }
        match self.proto() {
            Some(p) => write!(f, "/{}", p.as_str()),
            None => Ok(()),
        }
    }
}

/// `HOST:PORT`, with IPv6 addresses in brackets.
fn host_port(host: &Host, port: impl fmt::Display) -> String {
    match host {
        Host::Ip(IpAddr::V6(ip)) => format!("[{ip}]:{port}"),
        other => format!("{other}:{port}"),
    }
}

mod grammar;
#[cfg(test)]
mod tests;

pub use grammar::{parse, parse_port};
