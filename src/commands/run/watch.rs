//! The watch over `run`'s child while it runs: reaping, the signals portscope caught, the
//! listening sockets of its process tree (announced once, or warned about when they are not
//! on its port), and stopping what it left behind.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use crate::commands::Ui;
use crate::knowledge::dev_servers;
use crate::model::{Snapshot, SockState};
use crate::snapshot::{self, Owners, Request};
use crate::sys::procfs::Detail;
use crate::sys::supervise::{self, Ended, Event, Watcher};
use crate::sys::{SocketQuery, sock_diag};

use super::{Advice, Holder, Options, Plan, RunNotice, Stopped};

/// How often the descendants' sockets are looked at.
const POLL: Duration = Duration::from_millis(200);
/// How long a listener on another port must stay before `run` warns (a server may open a
/// helper port just before its main one).
const GRACE: Duration = Duration::from_millis(500);
/// How long leftovers get between SIGTERM and SIGKILL.
const TERM_WAIT: Duration = Duration::from_secs(2);
/// Protocols the prober knows that are not HTTP: no URL for them.
const NOT_HTTP: &[&str] = &[
    "ssh",
    "redis",
    "postgresql",
    "mysql",
    "mongodb",
    "memcached",
    "amqp",
    "mqtt",
    "nats",
    "smtp",
    "ftp",
    "pop3",
    "imap",
    "vnc",
    "x11",
    "zeromq",
    "dns",
    "jdwp",
    "lsp",
    "dap",
    "erlang-dist",
];

/// The watch over a running child.
pub(super) struct Supervision {
    port: u16,
    host: String,
    name: Option<String>,
    probe: bool,
    /// The command has a TLS flag (`--https`, `--ssl-certfile`…).
    tls_flag: bool,
    /// The command as typed (with `$PORT` unreplaced), for advice.
    typed: Vec<String>,
    child: u32,
    /// The child's program name, for notices.
    program: String,
    own_pgid: u32,
    child_pgid: Option<u32>,
    /// Port → (order seen, when first seen, notice given).
    pub(super) seen: BTreeMap<u16, (usize, Instant, bool)>,
    /// Inodes of every TCP listener at the last look (to walk fds only when one appears).
    inodes: BTreeSet<u64>,
    /// The URL announced.
    pub(super) url: Option<String>,
    /// Signals passed on, by name.
    pub(super) forwarded: Vec<String>,
}

impl Supervision {
    pub(super) fn new(opts: &Options, plan: &Plan, port: u16, child: u32) -> Supervision {
        Supervision {
            port,
            host: plan.host.clone(),
            name: plan.name.clone(),
            probe: opts.probe,
            tls_flag: tls_in_command(&opts.command),
            typed: opts.command.clone(),
            child,
            program: program_name(&opts.command),
            own_pgid: supervise::own_pgid(),
            child_pgid: supervise::pgid_of(child),
            seen: BTreeMap::new(),
            inodes: BTreeSet::new(),
            url: None,
            forwarded: Vec::new(),
        }
    }

    /// Watch until the child ends: reap, forward-notice, look at sockets every [`POLL`].
    pub(super) fn until_child_ends(&mut self, ui: &dyn Ui, watcher: &Watcher) -> Ended {
        let mut next_poll = Instant::now();
        loop {
            if let Some((_, ended)) = supervise::reap()
                .into_iter()
                .find(|&(pid, _)| pid == self.child)
            {
                return ended;
            }
            if Instant::now() >= next_poll {
                if let Some(g) = supervise::pgid_of(self.child) {
                    self.child_pgid = Some(g);
                }
                self.look(ui);
                next_poll = Instant::now() + POLL;
            }
            let wait = next_poll.saturating_duration_since(Instant::now());
            match watcher.events.recv_timeout(wait) {
                Ok(Event::Signal(r)) => self.on_signal(ui, &r),
                Ok(Event::Child) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => std::thread::sleep(wait),
            }
        }
    }

    pub(super) fn on_signal(&mut self, ui: &dyn Ui, r: &supervise::Received) {
        let Some(to) = r.forwarded else {
            return;
        };
        let name = supervise::signal_name(r.signal);
        self.forwarded.push(name.clone());
        let (to, group) = match to {
            supervise::Forward::Child => (self.child, false),
            supervise::Forward::Group(g) => (g, true),
        };
        ui.run_notice(&RunNotice::Forwarded {
            signal: name,
            sender: r.sender,
            to,
            group,
        });
    }

    /// One look at the listening sockets of the child's process tree.
    fn look(&mut self, ui: &dyn Ui) {
        let query = SocketQuery {
            udp: false,
            states: 1 << SockState::Listen.kernel_number(),
            ..SocketQuery::default()
        };
        // Cheap first: the kernel's list of listeners, no process walk. The descendants' fds
        // are walked only when a listener appeared, or a port waits out its grace.
        let Ok(listening) = sock_diag::dump(&query) else {
            return; // a passing failure: the next look will tell
        };
        let inodes: BTreeSet<u64> = listening.iter().map(|s| s.inode).collect();
        let appeared = inodes.iter().any(|i| !self.inodes.contains(i));
        let ports: BTreeSet<u16> = listening.iter().filter_map(|s| s.port()).collect();
        let waiting = self.seen.iter().any(|(p, e)| !e.2 && ports.contains(p));
        if !appeared && !waiting {
            self.inodes = inodes;
            return;
        }
        let pids: Vec<u32> = supervise::descendants(None).iter().map(|d| d.pid).collect();
        if pids.is_empty() {
            return;
        }
        let Ok(snap) = snapshot::take(&Request {
            sockets: query,
            owners: Owners::OnlyPids(pids),
            detail: Detail::Basic,
            threads: 1,
        }) else {
            return; // a passing failure: the next look will tell
        };
        self.inodes = inodes; // looked at: only new ones will be walked for
        // Ports in order, the assigned one first: it decides how the others are read.
        let mut listeners: Vec<_> = snap
            .sockets
            .iter()
            .filter(|s| s.is_listening() && !s.pids.is_empty())
            .filter_map(|s| Some((s.port()?, s.local.ip()?, s.pids[0])))
            .collect();
        listeners.sort_by_key(|&(p, ip, _)| (p != self.port, p, ip.is_unspecified()));
        listeners.dedup_by_key(|l| l.0);
        let now = Instant::now();
        for (port, ip, pid) in listeners {
            let order = self.seen.len();
            let entry = self.seen.entry(port).or_insert((order, now, false));
            if entry.2 {
                continue;
            }
            let first_seen = entry.1;
            let notice = if port == self.port {
                Some(self.listening(&snap, ip, pid))
            } else if self.seen.get(&self.port).is_some_and(|e| e.2) {
                Some(RunNotice::AlsoListening {
                    port,
                    address: SocketAddr::new(ip, port).to_string(),
                    pid,
                    process: comm(&snap, pid),
                })
            } else if now.duration_since(first_seen) >= GRACE {
                Some(self.other_port(&snap, port, ip, pid))
            } else {
                None
            };
            if let Some(n) = notice {
                if let Some(e) = self.seen.get_mut(&port) {
                    e.2 = true;
                }
                ui.run_notice(&n);
            }
        }
    }

    fn listening(&mut self, snap: &Snapshot, ip: IpAddr, pid: u32) -> RunNotice {
        let (connect, host) = url_host(ip, &self.host);
        let mut tls = self.tls_flag && !self.probe;
        let protocol = if self.probe {
            let ctx = crate::probe::engine::Context {
                process_words: snap
                    .process(pid)
                    .map(crate::probe::engine::Context::process_words)
                    .unwrap_or_default(),
                ..Default::default()
            };
            let limits = crate::probe::Limits::default();
            let addr = SocketAddr::new(connect, self.port);
            let found = crate::probe::engine::probe(addr, &ctx, &limits);
            tls = found.tls.is_some();
            found
                .identification
                .map(|id| id.protocol)
                .or_else(|| tls.then(|| "tls".to_string()))
        } else {
            None
        };
        let scheme = match protocol.as_deref() {
            _ if tls => Some("https"),
            Some("https") => Some("https"),
            Some(p) if NOT_HTTP.contains(&p) => None,
            _ => Some("http"),
        };
        let url = scheme.map(|s| format!("{s}://{host}:{}/", self.port));
        self.url.clone_from(&url);
        let loopback_host = self
            .host
            .parse::<IpAddr>()
            .map_or(self.host == "localhost", |h| h.is_loopback());
        RunNotice::Listening {
            port: self.port,
            address: SocketAddr::new(ip, self.port).to_string(),
            url,
            protocol,
            pid,
            process: comm(snap, pid),
            every_interface: ip.is_unspecified() && loopback_host,
        }
    }

    fn other_port(&self, snap: &Snapshot, port: u16, ip: IpAddr, pid: u32) -> RunNotice {
        let cmdline = snap
            .process(pid)
            .map(|p| p.cmdline.clone())
            .unwrap_or_default();
        RunNotice::OtherPort {
            port,
            assigned: self.port,
            address: SocketAddr::new(ip, port).to_string(),
            pid,
            process: comm(snap, pid),
            advice: advice(&self.typed, &cmdline, self.name.as_deref()),
        }
    }

    /// Stop what the child left running: its descendants (portscope is their subreaper) and
    /// the members of the child's own process group, if it made one. SIGTERM, up to
    /// [`TERM_WAIT`], then SIGKILL; again for what they started meanwhile (three rounds).
    pub(super) fn stop_leftovers(&self, ui: &dyn Ui) -> Vec<Stopped> {
        let group = self.child_pgid.filter(|&g| g != self.own_pgid && g != 0);
        let mut out = Vec::new();
        for round in 0..3 {
            supervise::reap();
            let left = supervise::descendants(group);
            if left.is_empty() {
                break;
            }
            if round == 0 {
                ui.run_notice(&RunNotice::Stopping {
                    child: self.child,
                    program: self.program.clone(),
                    processes: left
                        .iter()
                        .map(|p| Holder {
                            pid: Some(p.pid),
                            process: Some(supervise::comm(p.pid)),
                            address: String::new(),
                        })
                        .collect(),
                    wait_seconds: TERM_WAIT.as_secs_f64(),
                });
            }
            let stopped = supervise::stop(&left, group, TERM_WAIT);
            supervise::reap();
            out.extend(stopped.into_iter().map(|l| Stopped {
                pid: l.pid,
                process: l.comm,
                signal: l.signal.name().to_string(),
                gone: l.gone,
            }));
        }
        out
    }
}

/// The first word of a command without its directory (`./serve.sh` → `serve.sh`).
fn program_name(command: &[String]) -> String {
    command
        .first()
        .map(|c| c.rsplit('/').next().unwrap_or(c).to_string())
        .unwrap_or_default()
}

fn comm(snap: &Snapshot, pid: u32) -> String {
    snap.process(pid)
        .map_or_else(|| "?".into(), |p| p.comm.clone())
}

/// Whether a command line asks its server for TLS: a flag such as `--https`,
/// `--experimental-https`, `--ssl-keyfile`, `--tls-cert`, `--cert`.
fn tls_in_command(words: &[String]) -> bool {
    words.iter().any(|w| {
        let flag = w.split('=').next().unwrap_or(w).to_ascii_lowercase();
        flag.starts_with("--")
            && (flag.contains("https")
                || flag.starts_with("--ssl")
                || flag.starts_with("--tls")
                || flag.starts_with("--cert"))
    })
}

/// Where to connect to a listener on `ip`, and the host to show in its URL: the listener's
/// own address when it is specific; for a wildcard listener, `HOST` (loopback when `HOST` is
/// itself a wildcard or a name).
fn url_host(ip: IpAddr, host: &str) -> (IpAddr, String) {
    let loopback = if ip.is_ipv4() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        IpAddr::V6(Ipv6Addr::LOCALHOST)
    };
    let show = |a: IpAddr| match a {
        IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    };
    if !ip.is_unspecified() {
        // A specific address: connect there; keep a host name (localhost) for loopback.
        let name = host.parse::<IpAddr>().is_err() && ip.is_loopback();
        return (ip, if name { host.to_string() } else { show(ip) });
    }
    match host.parse::<IpAddr>() {
        Ok(h) if !h.is_unspecified() => (h, show(h)),
        Ok(_) => (loopback, show(loopback)),
        Err(_) => (loopback, host.to_string()),
    }
}

/// What to tell a server that listens elsewhere: the table's entry for the listening
/// process (or the command), and the command rewritten to pass the port.
fn advice(typed: &[String], listener_cmdline: &[String], name: Option<&str>) -> Advice {
    let Some(s) = dev_servers::find(listener_cmdline).or_else(|| dev_servers::find(typed)) else {
        return Advice {
            server: None,
            port_env: None,
            default_port: None,
            pass: None,
            command: None,
            example: None,
        };
    };
    let command = dev_servers::rewrite(typed, s.port_arg, s.extra).map(|cmd| {
        let mut full = vec!["portscope".to_string(), "run".to_string()];
        if let Some(n) = name {
            full.extend(["--name".to_string(), n.to_string()]);
        }
        full.push("--".into());
        full.extend(cmd);
        full
    });
    Advice {
        server: Some(s.name),
        port_env: s.port_env,
        default_port: s.default_port,
        pass: Some(match s.port_arg {
            dev_servers::PortArg::Flag { flag, value } => format!("{flag} {value}"),
            dev_servers::PortArg::After { word, value } => format!("{value} after {word}"),
        }),
        command,
        example: Some(s.example),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(url_host(ip("0.0.0.0"), "127.0.0.1").1, "127.0.0.1");
        assert_eq!(url_host(ip("0.0.0.0"), "0.0.0.0").1, "127.0.0.1");
        assert_eq!(url_host(ip("::"), "::"), (ip("::1"), "[::1]".into()));
        assert_eq!(url_host(ip("::1"), "127.0.0.1").1, "[::1]");
        assert_eq!(url_host(ip("127.0.0.1"), "localhost").1, "localhost");
        assert_eq!(url_host(ip("0.0.0.0"), "localhost").1, "localhost");
    }

    #[test]
    fn tls_flags() {
        let w = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        assert!(tls_in_command(&w("next dev --experimental-https")));
        assert!(tls_in_command(&w("uvicorn app:app --ssl-keyfile=k.pem")));
        assert!(tls_in_command(&w("vite --https")));
        assert!(!tls_in_command(&w("python3 -m http.server 8000")));
        assert!(!tls_in_command(&w("curl https://example.com")));
    }

    #[test]
    fn advice_for_vite_behind_npm() {
        let w = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        let a = advice(
            &w("npm run dev"),
            &w("node /app/node_modules/.bin/vite"),
            Some("web"),
        );
        assert_eq!(a.server, Some("Vite"));
        assert_eq!(
            a.command.unwrap().join(" "),
            "portscope run --name web -- npm run dev -- --port $PORT --strictPort"
        );
        let none = advice(&w("./server"), &w("./server"), None);
        assert_eq!(none.server, None);
    }
}
