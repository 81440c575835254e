//! Listeners over time: what opened and closed between two looks at the kernel, and who held it.
//!
//! [`Tracker`] is the pure part: given the listeners seen now, it says which opened and which
//! closed since the last look. [`observe::Observer`] does the looking, cheaply: every tick it
//! asks the kernel for the listening sockets only, and walks processes' fd tables only when
//! that set changed, and then only far enough to find the new sockets' owners. `watch` (the
//! terminal view and `--events`), the history recorder (`daemon`, `watch --record`) and the
//! dashboard all stand on it.

pub mod observe;

use std::collections::HashMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::model::{Process, Proto, Socket};

/// What identifies one listening socket across looks: the same inode on the same address is
/// the same socket; a server that closes and re-binds the port gets a new inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// Protocol.
    pub proto: Proto,
    /// Local address.
    pub address: IpAddr,
    /// Local port.
    pub port: u16,
    /// Socket inode.
    pub inode: u64,
}

/// The process that held a listener when it was first seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Owner {
    /// Process id.
    pub pid: u32,
    /// Short command name (`comm`).
    pub process: String,
    /// Command line.
    pub cmdline: Vec<String>,
    /// User name, when the passwd database has one.
    pub user: Option<String>,
    /// Effective uid.
    pub uid: u32,
    /// Working directory, when readable.
    pub cwd: Option<String>,
    /// Container id (from the cgroup path), when the process runs in one.
    pub container: Option<String>,
    /// systemd unit, when the cgroup path names one.
    pub unit: Option<String>,
    /// Start time, Unix seconds: with the pid, it tells a process from a later one that got
    /// the same pid.
    pub start_time: Option<u64>,
    /// Other processes holding the same socket (forked workers), ascending.
    pub others: Vec<u32>,
}

impl Owner {
    /// The owner record for `proc`, with the other pids that share the socket.
    pub fn from_process(proc: &Process, others: Vec<u32>) -> Owner {
        Owner {
            pid: proc.pid,
            process: proc.comm.clone(),
            cmdline: proc.cmdline.clone(),
            user: proc.user.clone(),
            uid: proc.uid,
            cwd: proc.cwd.clone(),
            container: proc.origin.container_id.clone(),
            unit: proc.origin.systemd_unit.clone(),
            start_time: proc.start_time,
            others,
        }
    }
}

/// One listening socket (a TCP listener or a bound UDP socket) as tracked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listener {
    /// Protocol.
    pub proto: Proto,
    /// Local address (`0.0.0.0`/`::` for a wildcard bind).
    pub address: IpAddr,
    /// Local port.
    pub port: u16,
    /// Socket inode.
    pub inode: u64,
    /// The socket's uid (its creator's effective uid).
    pub uid: u32,
    /// The holding process, when it could be seen.
    pub owner: Option<Owner>,
    /// True when no owner was found and some processes could not be inspected.
    pub owner_hidden: bool,
}

impl Listener {
    /// Its identity across looks.
    pub fn key(&self) -> Key {
        Key {
            proto: self.proto,
            address: self.address,
            port: self.port,
            inode: self.inode,
        }
    }

    /// The listener for a socket; `None` for sockets that are not IP listeners.
    pub fn from_socket(s: &Socket) -> Option<Listener> {
        Some(Listener {
            proto: s.proto,
            address: s.local.ip()?,
            port: s.port()?,
            inode: s.inode,
            uid: s.uid,
            owner: None,
            owner_hidden: s.owner_hidden,
        })
    }
}

/// The key of a socket from the kernel's dump (`None` for non-IP sockets).
pub fn socket_key(s: &Socket) -> Option<Key> {
    Some(Key {
        proto: s.proto,
        address: s.local.ip()?,
        port: s.port()?,
        inode: s.inode,
    })
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EventKind {
    /// A listener appeared.
    #[serde(rename = "listen-opened")]
    Opened,
    /// A listener disappeared.
    #[serde(rename = "listen-closed")]
    Closed,
}

impl EventKind {
    /// The name in JSON and in the history store.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Opened => "listen-opened",
            EventKind::Closed => "listen-closed",
        }
    }
}

/// How a listener ended, as far as can be told from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ending {
    /// Its process is gone (exited, or was killed).
    ProcessExited,
    /// Its process still runs but closed the socket.
    SocketClosed,
    /// It was gone when the recorder started again; it closed while nothing was recording.
    WhileNotRecording,
    /// Its owner was never seen, so nothing can be said.
    Unknown,
}

impl Ending {
    /// The name in JSON and in the history store.
    pub fn as_str(self) -> &'static str {
        match self {
            Ending::ProcessExited => "process-exited",
            Ending::SocketClosed => "socket-closed",
            Ending::WhileNotRecording => "while-not-recording",
            Ending::Unknown => "unknown",
        }
    }

    /// Parse [`Ending::as_str`] back (the history store).
    pub fn parse(text: &str) -> Option<Ending> {
        [
            Ending::ProcessExited,
            Ending::SocketClosed,
            Ending::WhileNotRecording,
            Ending::Unknown,
        ]
        .into_iter()
        .find(|e| e.as_str() == text)
    }
}

/// One listener opening or closing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Opened or closed.
    pub kind: EventKind,
    /// When it was seen, Unix seconds. A close is seen at the first look that misses the
    /// socket, so the real moment lies between the previous look and this one.
    pub time: f64,
    /// The listener (with the owner seen when it opened).
    pub listener: Listener,
    /// Closes: when the listener had been first seen.
    pub opened_at: Option<f64>,
    /// Closes: how it ended.
    pub ending: Option<Ending>,
}

/// A listener being tracked, with the time it was first seen.
#[derive(Debug, Clone, PartialEq)]
pub struct Tracked {
    /// The listener.
    pub listener: Listener,
    /// First seen, Unix seconds.
    pub opened_at: f64,
}

/// The set of open listeners, and the diff from one look to the next.
#[derive(Debug, Clone, Default)]
pub struct Tracker {
    open: HashMap<Key, Tracked>,
}

impl Tracker {
    /// An empty tracker: the first [`Tracker::update`] reports nothing, it only learns what is
    /// open (see [`Tracker::baseline`]).
    pub fn new() -> Tracker {
        Tracker::default()
    }

    /// Start from listeners known to be open (a recorder restarting from its store). The next
    /// update closes those that are gone and keeps those still there without a new event.
    pub fn seed(&mut self, tracked: impl IntoIterator<Item = Tracked>) {
        for t in tracked {
            self.open.insert(t.listener.key(), t);
        }
    }

    /// Learn what is open now without reporting it (the first look of a watcher).
    pub fn baseline(&mut self, now: f64, listeners: Vec<Listener>) {
        self.open = listeners
            .into_iter()
            .map(|l| {
                (
                    l.key(),
                    Tracked {
                        listener: l,
                        opened_at: now,
                    },
                )
            })
            .collect();
    }

    /// Whether the keys seen now differ from those tracked (the cheap test that decides
    /// whether owners need to be looked up at all).
    pub fn differs(&self, keys: &[Key]) -> bool {
        keys.len() != self.open.len() || keys.iter().any(|k| !self.open.contains_key(k))
    }

    /// Which of `keys` are not tracked yet.
    pub fn unknown<'a>(&self, keys: &'a [Key]) -> Vec<&'a Key> {
        keys.iter().filter(|k| !self.open.contains_key(k)).collect()
    }

    /// Take in the listeners open now. `current` must hold every listener open now; those
    /// already tracked keep their first-seen owner and time. `ending` says how a closed one
    /// ended. Events come closes first, then opens, each sorted by port.
    pub fn update(
        &mut self,
        now: f64,
        current: Vec<Listener>,
        ending: impl Fn(&Tracked) -> Ending,
    ) -> Vec<Event> {
        let mut next: HashMap<Key, Tracked> = HashMap::with_capacity(current.len());
        let mut opened = Vec::new();
        for l in current {
            let key = l.key();
            match self.open.remove(&key) {
                Some(mut t) => {
                    // Fill in an owner that could not be seen before.
                    if t.listener.owner.is_none() && l.owner.is_some() {
                        t.listener.owner = l.owner;
                        t.listener.owner_hidden = false;
                    }
                    next.insert(key, t);
                }
                None => {
                    opened.push(Event {
                        kind: EventKind::Opened,
                        time: now,
                        listener: l.clone(),
                        opened_at: None,
                        ending: None,
                    });
                    next.insert(
                        key,
                        Tracked {
                            listener: l,
                            opened_at: now,
                        },
                    );
                }
            }
        }
        let mut closed: Vec<Event> = self
            .open
            .drain()
            .map(|(_, t)| Event {
                kind: EventKind::Closed,
                time: now,
                ending: Some(ending(&t)),
                opened_at: Some(t.opened_at),
                listener: t.listener,
            })
            .collect();
        self.open = next;
        let order = |e: &Event| e.listener.key();
        closed.sort_by_key(order);
        opened.sort_by_key(order);
        closed.extend(opened);
        closed
    }

    /// The listeners open now, sorted by protocol, address, port.
    pub fn open(&self) -> Vec<&Tracked> {
        let mut v: Vec<&Tracked> = self.open.values().collect();
        v.sort_by_key(|t| t.listener.key());
        v
    }

    /// How many listeners are open.
    pub fn len(&self) -> usize {
        self.open.len()
    }

    /// True when no listener is open.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }
}

/// A TCP listener on 127.0.0.1:`port` held by python3 (pid `pid`, user alice, a systemd
/// unit, a forked worker `pid + 1`), for unit tests.
#[cfg(test)]
pub(crate) fn fixture_listener(port: u16, inode: u64, pid: u32) -> Listener {
    Listener {
        proto: Proto::Tcp,
        address: IpAddr::from([127, 0, 0, 1]),
        port,
        inode,
        uid: 1000,
        owner: Some(Owner {
            pid,
            process: "python3".into(),
            cmdline: vec!["/usr/bin/python3".into(), "-m".into(), "http.server".into()],
            user: Some("alice".into()),
            uid: 1000,
            cwd: Some("/srv/www".into()),
            container: None,
            unit: Some("web.service".into()),
            start_time: Some(1_700_000_000),
            others: vec![pid + 1],
        }),
        owner_hidden: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::fixture_listener as listener;

    #[test]
    fn first_look_is_a_baseline_then_diffs() {
        let mut t = Tracker::new();
        t.baseline(1.0, vec![listener(80, 1, 10)]);
        assert_eq!(t.len(), 1);
        let ev = t.update(2.0, vec![listener(80, 1, 10), listener(81, 2, 11)], |_| {
            Ending::Unknown
        });
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].kind, EventKind::Opened);
        assert_eq!(ev[0].listener.port, 81);
        let ev = t.update(3.0, vec![listener(81, 2, 11)], |_| Ending::ProcessExited);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].kind, EventKind::Closed);
        assert_eq!(ev[0].opened_at, Some(1.0));
        assert_eq!(ev[0].ending, Some(Ending::ProcessExited));
    }

    #[test]
    fn rebinding_the_same_port_is_a_close_and_an_open() {
        let mut t = Tracker::new();
        t.baseline(1.0, vec![listener(80, 1, 10)]);
        assert!(t.differs(&[listener(80, 2, 12).key()]));
        let ev = t.update(2.0, vec![listener(80, 2, 12)], |_| Ending::SocketClosed);
        let kinds: Vec<_> = ev.iter().map(|e| (e.kind, e.listener.inode)).collect();
        assert_eq!(
            kinds,
            vec![(EventKind::Closed, 1), (EventKind::Opened, 2)],
            "closes come first"
        );
    }

    #[test]
    fn seeded_listeners_still_open_stay_silent_and_gone_ones_close() {
        let mut t = Tracker::new();
        t.seed([
            Tracked {
                listener: listener(80, 1, 10),
                opened_at: 5.0,
            },
            Tracked {
                listener: listener(81, 2, 11),
                opened_at: 6.0,
            },
        ]);
        let ev = t.update(9.0, vec![listener(80, 1, 10)], |_| {
            Ending::WhileNotRecording
        });
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].listener.port, 81);
        assert_eq!(ev[0].opened_at, Some(6.0));
        assert_eq!(t.open()[0].opened_at, 5.0, "the first-seen time is kept");
        assert!(!t.differs(&[listener(80, 1, 10).key()]));
    }

    #[test]
    fn an_owner_seen_later_is_filled_in_without_an_event() {
        let mut t = Tracker::new();
        let mut hidden = listener(80, 1, 10);
        hidden.owner = None;
        hidden.owner_hidden = true;
        t.baseline(1.0, vec![hidden]);
        let ev = t.update(2.0, vec![listener(80, 1, 10)], |_| Ending::Unknown);
        assert!(ev.is_empty());
        assert_eq!(t.open()[0].listener.owner.as_ref().map(|o| o.pid), Some(10));
    }

    #[test]
    fn endings_round_trip() {
        for e in [
            Ending::ProcessExited,
            Ending::SocketClosed,
            Ending::WhileNotRecording,
            Ending::Unknown,
        ] {
            assert_eq!(Ending::parse(e.as_str()), Some(e));
        }
        assert_eq!(Ending::parse("nope"), None);
    }
}
