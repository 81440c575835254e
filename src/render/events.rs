//! `watch --events` and `daemon --events`: one JSON object per line, flushed at once, so a
//! script reading the pipe sees each event as it happens.

use std::io::Write;

use serde::Serialize;

use crate::commands::watch::{Started, WatchReport};
use crate::watch::{Ending, Event, EventKind};

/// One event, flattened for scripts: the listener and its owner at the top level.
#[derive(Debug, Serialize)]
pub struct EventLine<'a> {
    /// `listen-opened` or `listen-closed`.
    pub event: EventKind,
    /// When it was seen, RFC 3339 UTC with milliseconds.
    pub time: String,
    /// The same, Unix seconds.
    pub unix: f64,
    /// `tcp` or `udp`.
    pub proto: &'static str,
    /// Local address.
    pub address: std::net::IpAddr,
    /// Local port.
    pub port: u16,
    /// Socket inode.
    pub inode: u64,
    /// Owning process (when seen).
    pub pid: Option<u32>,
    /// Its short name.
    pub process: Option<&'a str>,
    /// Its command line.
    pub cmdline: Option<&'a [String]>,
    /// Its user.
    pub user: Option<&'a str>,
    /// Its uid (the socket's, when the owner was not seen).
    pub uid: u32,
    /// Its working directory.
    pub cwd: Option<&'a str>,
    /// Its container id.
    pub container: Option<&'a str>,
    /// Its systemd unit.
    pub unit: Option<&'a str>,
    /// Other processes sharing the socket.
    #[serde(skip_serializing_if = "<[u32]>::is_empty")]
    pub others: &'a [u32],
    /// The owner could not be seen (permissions).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub owner_hidden: bool,
    /// Closes: when it had been first seen (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opened_at: Option<String>,
    /// Closes: how it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended: Option<Ending>,
}

impl<'a> EventLine<'a> {
    /// The line for `e`.
    pub fn new(e: &'a Event) -> EventLine<'a> {
        let l = &e.listener;
        let o = l.owner.as_ref();
        EventLine {
            event: e.kind,
            time: crate::time::rfc3339(e.time),
            unix: (e.time * 1000.0).round() / 1000.0,
            proto: l.proto.as_str(),
            address: l.address,
            port: l.port,
            inode: l.inode,
            pid: o.map(|o| o.pid),
            process: o.map(|o| o.process.as_str()),
            cmdline: o.map(|o| o.cmdline.as_slice()),
            user: o.and_then(|o| o.user.as_deref()),
            uid: o.map_or(l.uid, |o| o.uid),
            cwd: o.and_then(|o| o.cwd.as_deref()),
            container: o.and_then(|o| o.container.as_deref()),
            unit: o.and_then(|o| o.unit.as_deref()),
            others: o.map_or(&[], |o| o.others.as_slice()),
            owner_hidden: l.owner_hidden,
            opened_at: e.opened_at.map(crate::time::rfc3339),
            ended: e.ending,
        }
    }
}

/// The first line: the watcher has its baseline.
#[derive(Debug, Serialize)]
pub struct StartedLine<'a> {
    /// Always `watch-started`.
    pub event: &'static str,
    /// RFC 3339 UTC.
    pub time: String,
    /// The rest (with `unix`).
    #[serde(flatten)]
    pub started: &'a Started,
}

impl<'a> StartedLine<'a> {
    /// The line for `s`.
    pub fn new(s: &'a Started) -> StartedLine<'a> {
        StartedLine {
            event: "watch-started",
            time: crate::time::rfc3339(s.unix),
            started: s,
        }
    }
}

/// Print one value as a JSON line on standard output and flush.
pub fn print_line<T: Serialize>(value: &T) {
    if let Ok(mut line) = serde_json::to_string(value) {
        line.push('\n');
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(line.as_bytes());
        let _ = out.flush();
    }
}

/// The summary when `watch`/`daemon` stops: a `watch-stopped` JSON line after JSON lines, a
/// sentence after the daemon's quiet run, nothing after the terminal view.
pub fn summary(r: &WatchReport) -> String {
    if r.mode == "view" {
        return String::new();
    }
    if r.lines {
        #[derive(Serialize)]
        struct Stopped<'a> {
            event: &'static str,
            time: String,
            unix: f64,
            #[serde(flatten)]
            report: &'a WatchReport,
        }
        let now = crate::time::now();
        let line = Stopped {
            event: "watch-stopped",
            time: crate::time::rfc3339(now),
            unix: (now * 1000.0).round() / 1000.0,
            report: r,
        };
        return serde_json::to_string(&line).map_or_else(|_| String::new(), |l| l + "\n");
    }
    let place = r
        .recorded_to
        .as_ref()
        .map_or_else(String::new, |p| format!(" into {}", p.display()));
    format!(
        "recorded {} event(s){place} in {:.0}s (stopped by {})\n",
        r.events, r.seconds, r.stopped_by
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Proto;
    use crate::watch::Listener;

    #[test]
    fn lines_are_flat_and_omit_what_does_not_apply() {
        let e = Event {
            kind: EventKind::Closed,
            time: 1_795_305_612.5,
            listener: Listener {
                proto: Proto::Tcp,
                address: std::net::IpAddr::from([127, 0, 0, 1]),
                port: 8000,
                inode: 42,
                uid: 0,
                owner: None,
                owner_hidden: true,
            },
            opened_at: Some(1_795_305_600.0),
            ending: Some(Ending::Unknown),
        };
        let v = serde_json::to_value(EventLine::new(&e)).unwrap_or_default();
        assert_eq!(v["event"], "listen-closed");
        assert_eq!(v["time"], "2026-11-22T00:00:12.500Z");
        assert_eq!(v["port"], 8000);
        assert_eq!(v["pid"], serde_json::Value::Null);
        assert_eq!(v["owner_hidden"], true);
        assert_eq!(v["ended"], "unknown");
        assert!(v.get("others").is_none());
    }
}
