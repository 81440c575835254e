//! Looking at the kernel once per tick, as cheaply as the answer allows.
//!
//! A tick asks netlink for the listening sockets only (no process walk). When the set of
//! (protocol, address, port, inode) is the one already tracked, that is the whole cost. When
//! it changed, the new sockets' owners are found by the targeted walk (processes of the
//! sockets' uids first, stopping once each has an owner), and a closed listener's ending is
//! told by whether its process (same pid, same start time) still runs.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Ending, Event, Listener, Owner, Tracked, Tracker, socket_key};
use crate::error::Result;
use crate::model::{Hidden, ProcState, Proto, SockState, Socket};
use crate::snapshot;
use crate::sys::SocketQuery;
use crate::sys::procfs::{self, Detail, ProcContext};
use crate::sys::sock_diag;

/// Which listeners to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kinds {
    /// TCP listeners.
    pub tcp: bool,
    /// Bound (unconnected) UDP sockets.
    pub udp: bool,
}

impl Default for Kinds {
    fn default() -> Self {
        Kinds {
            tcp: true,
            udp: true,
        }
    }
}

/// What one tick saw.
#[derive(Debug, Clone, Default)]
pub struct Tick {
    /// When (Unix seconds).
    pub time: f64,
    /// What opened and closed since the previous tick (empty on the first one).
    pub events: Vec<Event>,
    /// Whether the process walk ran (the socket set changed, or this was the first look).
    pub walked: bool,
}

/// Follows listeners from tick to tick.
#[derive(Debug)]
pub struct Observer {
    kinds: Kinds,
    tracker: Tracker,
    looked: bool,
    resumed: bool,
    hidden: Hidden,
}

impl Observer {
    /// A new observer; its first tick is a baseline (no events).
    pub fn new(kinds: Kinds) -> Observer {
        Observer {
            kinds,
            tracker: Tracker::new(),
            looked: false,
            resumed: false,
            hidden: Hidden::default(),
        }
    }

    /// Start from listeners a store recorded as open: the first tick then reports those
    /// gone as closed ([`Ending::WhileNotRecording`]) and the new ones as opened.
    pub fn resume(&mut self, open: Vec<Tracked>) {
        self.tracker.seed(open);
        self.looked = true;
        self.resumed = true;
    }

    /// Look once.
    pub fn tick(&mut self) -> Result<Tick> {
        let sockets: Vec<Socket> = sock_diag::dump(&self.query())?
            .into_iter()
            .filter(|s| s.is_listening() && s.inode != 0)
            .collect();
        let time = crate::time::now();
        let keys: Vec<_> = sockets.iter().filter_map(socket_key).collect();
        if self.looked && !self.tracker.differs(&keys) {
            return Ok(Tick {
                time,
                events: Vec::new(),
                walked: false,
            });
        }
        let fresh: Vec<Socket> = {
            let unknown: std::collections::HashSet<_> =
                self.tracker.unknown(&keys).into_iter().copied().collect();
            sockets
                .iter()
                .filter(|s| socket_key(s).is_some_and(|k| unknown.contains(&k)))
                .cloned()
                .collect()
        };
        let mut owned = std::collections::HashMap::new();
        if !fresh.is_empty() {
            let snap = snapshot::with_owners(fresh, Detail::Full)?;
            if !snap.hidden.is_empty() {
                self.hidden.reason.clone_from(&snap.hidden.reason);
                self.hidden.hint.clone_from(&snap.hidden.hint);
                self.hidden.processes = snap.hidden.processes;
            }
            for s in &snap.sockets {
                let Some(mut l) = Listener::from_socket(s) else {
                    continue;
                };
                l.owner = s.pids.first().and_then(|pid| {
                    let others = s.pids.iter().copied().filter(|p| p != pid).collect();
                    snap.process(*pid).map(|p| Owner::from_process(p, others))
                });
                owned.insert(l.key(), l);
            }
        }
        let current: Vec<Listener> = sockets
            .iter()
            .filter_map(|s| {
                let key = socket_key(s)?;
                owned.remove(&key).or_else(|| Listener::from_socket(s))
            })
            .collect();
        let events = if self.looked {
            let resumed = std::mem::take(&mut self.resumed);
            let ctx = ProcContext::new();
            self.tracker.update(time, current, |t| {
                if resumed {
                    Ending::WhileNotRecording
                } else {
                    ending(&ctx, t)
                }
            })
        } else {
            self.tracker.baseline(time, current);
            Vec::new()
        };
        self.looked = true;
        self.hidden.sockets = self
            .tracker
            .open()
            .iter()
            .filter(|t| t.listener.owner_hidden)
            .count();
        if self.hidden.sockets == 0 {
            self.hidden = Hidden::default();
        }
        Ok(Tick {
            time,
            events,
            walked: true,
        })
    }

    /// The listeners open as of the last tick, sorted by protocol, address and port.
    pub fn open(&self) -> Vec<&Tracked> {
        self.tracker.open()
    }

    /// Listeners whose owner could not be seen, and why.
    pub fn hidden(&self) -> &Hidden {
        &self.hidden
    }

    fn query(&self) -> SocketQuery {
        let mut states = 0;
        if self.kinds.tcp {
            states |= 1 << SockState::Listen.kernel_number();
        }
        if self.kinds.udp {
            states |= 1 << SockState::Close.kernel_number();
        }
        SocketQuery {
            tcp: self.kinds.tcp,
            udp: self.kinds.udp,
            states,
            ..SocketQuery::default()
        }
    }
}

/// How a tracked listener that is gone ended.
fn ending(ctx: &ProcContext, t: &Tracked) -> Ending {
    let Some(owner) = &t.listener.owner else {
        return Ending::Unknown;
    };
    let alive = [owner.pid]
        .iter()
        .chain(&owner.others)
        .filter_map(|pid| procfs::process(ctx, *pid, Detail::Basic))
        // A killed child its parent has not reaped yet is a zombie: it has exited.
        .filter(|p| !matches!(p.state, ProcState::Zombie | ProcState::Dead))
        .any(|p| p.pid != owner.pid || p.start_time == owner.start_time);
    if alive {
        Ending::SocketClosed
    } else {
        Ending::ProcessExited
    }
}

/// Sockets by protocol and state, for a view's header.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StateCounts {
    /// `(proto, state) → count`, keyed by the names `ss` prints (`tcp`, `LISTEN`).
    pub counts: BTreeMap<(Proto, SockState), usize>,
}

/// Count every TCP and UDP socket by state (one netlink dump, no process walk).
pub fn state_counts() -> Result<StateCounts> {
    let mut counts = BTreeMap::new();
    for s in sock_diag::dump(&SocketQuery::default())? {
        *counts.entry((s.proto, s.state)).or_insert(0) += 1;
    }
    Ok(StateCounts { counts })
}
