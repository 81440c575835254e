//! The data portscope reasons about: sockets, processes and the snapshot that joins them.
//!
//! These are plain, serialisable values. `sys` fills them from the OS, `commands` turn them into
//! reports, `render` prints them. Field names here are part of the versioned JSON schema
//! (`docs/json.md`): rename nothing without bumping `render::json::SCHEMA_VERSION`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

/// Transport protocol of a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Proto {
    /// TCP (SOCK_STREAM over IP).
    Tcp,
    /// UDP (SOCK_DGRAM over IP).
    Udp,
    /// A unix-domain socket (any type).
    Unix,
}

impl Proto {
    /// Lower-case name as users type it (`tcp`, `udp`, `unix`).
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Unix => "unix",
        }
    }
}

/// Address family of a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Family {
    /// AF_INET.
    Ipv4,
    /// AF_INET6 (including v4-mapped addresses on dual-stack sockets).
    Ipv6,
    /// AF_UNIX.
    Unix,
}

/// Socket state, named as the kernel's TCP state machine names it.
///
/// UDP and unix sockets reuse the same numbers: an unconnected UDP socket is `Close`
/// (which `ss` prints as `UNCONN`), a connected one `Established`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SockState {
    /// TCP_ESTABLISHED (1).
    Established,
    /// TCP_SYN_SENT (2).
    SynSent,
    /// TCP_SYN_RECV (3).
    SynRecv,
    /// TCP_FIN_WAIT1 (4).
    FinWait1,
    /// TCP_FIN_WAIT2 (5).
    FinWait2,
    /// TCP_TIME_WAIT (6).
    TimeWait,
    /// TCP_CLOSE (7): for UDP, an unconnected (bound) socket.
    Close,
    /// TCP_CLOSE_WAIT (8).
    CloseWait,
    /// TCP_LAST_ACK (9).
    LastAck,
    /// TCP_LISTEN (10).
    Listen,
    /// TCP_CLOSING (11).
    Closing,
    /// TCP_NEW_SYN_RECV (12): a request socket not yet accepted.
    NewSynRecv,
    /// Any number the kernel may add later.
    Unknown,
}

impl SockState {
    /// Map the kernel's state number.
    pub fn from_kernel(n: u8) -> SockState {
        match n {
            1 => SockState::Established,
            2 => SockState::SynSent,
            3 => SockState::SynRecv,
            4 => SockState::FinWait1,
            5 => SockState::FinWait2,
            6 => SockState::TimeWait,
            7 => SockState::Close,
            8 => SockState::CloseWait,
            9 => SockState::LastAck,
            10 => SockState::Listen,
            11 => SockState::Closing,
            12 => SockState::NewSynRecv,
            _ => SockState::Unknown,
        }
    }

    /// The kernel's state number (inverse of [`SockState::from_kernel`]; `Unknown` is 0).
    pub fn kernel_number(self) -> u8 {
        match self {
            SockState::Established => 1,
            SockState::SynSent => 2,
            SockState::SynRecv => 3,
            SockState::FinWait1 => 4,
            SockState::FinWait2 => 5,
            SockState::TimeWait => 6,
            SockState::Close => 7,
            SockState::CloseWait => 8,
            SockState::LastAck => 9,
            SockState::Listen => 10,
            SockState::Closing => 11,
            SockState::NewSynRecv => 12,
            SockState::Unknown => 0,
        }
    }

    /// Every state portscope knows, in kernel order.
    pub const ALL: [SockState; 12] = [
        SockState::Established,
        SockState::SynSent,
        SockState::SynRecv,
        SockState::FinWait1,
        SockState::FinWait2,
        SockState::TimeWait,
        SockState::Close,
        SockState::CloseWait,
        SockState::LastAck,
        SockState::Listen,
        SockState::Closing,
        SockState::NewSynRecv,
    ];

    /// The name `ss` prints for this state, for the given protocol (UDP `Close` is `UNCONN`).
    pub fn ss_name(self, proto: Proto) -> &'static str {
        match self {
            SockState::Established => "ESTAB",
            SockState::SynSent => "SYN-SENT",
            SockState::SynRecv => "SYN-RECV",
            SockState::FinWait1 => "FIN-WAIT-1",
            SockState::FinWait2 => "FIN-WAIT-2",
            SockState::TimeWait => "TIME-WAIT",
            SockState::Close if proto == Proto::Tcp => "CLOSE",
            SockState::Close => "UNCONN",
            SockState::CloseWait => "CLOSE-WAIT",
            SockState::LastAck => "LAST-ACK",
            SockState::Listen => "LISTEN",
            SockState::Closing => "CLOSING",
            SockState::NewSynRecv => "NEW-SYN-RECV",
            SockState::Unknown => "UNKNOWN",
        }
    }

    /// The user-facing, lower-case name used by `--state` and in JSON (`listen`, `time_wait`, …).
    pub fn name(self) -> &'static str {
        match self {
            SockState::Established => "established",
            SockState::SynSent => "syn_sent",
            SockState::SynRecv => "syn_recv",
            SockState::FinWait1 => "fin_wait1",
            SockState::FinWait2 => "fin_wait2",
            SockState::TimeWait => "time_wait",
            SockState::Close => "close",
            SockState::CloseWait => "close_wait",
            SockState::LastAck => "last_ack",
            SockState::Listen => "listen",
            SockState::Closing => "closing",
            SockState::NewSynRecv => "new_syn_recv",
            SockState::Unknown => "unknown",
        }
    }

    /// Parse a state as users write it: `listen`, `LISTEN`, `time-wait`, `time_wait`, `estab`,
    /// `established`, `unconn` (= close). Returns `None` for anything else.
    pub fn parse(text: &str) -> Option<SockState> {
        let t = text.trim().to_ascii_lowercase().replace('-', "_");
        let found = match t.as_str() {
            "estab" => SockState::Established,
            "unconn" => SockState::Close,
            "fin_wait_1" => SockState::FinWait1,
            "fin_wait_2" => SockState::FinWait2,
            other => *SockState::ALL.iter().find(|s| s.name() == other)?,
        };
        Some(found)
    }

    /// Whether this is a "listening" state in the sense of `ss -l`: TCP `Listen`, or an
    /// unconnected (bound) UDP socket.
    pub fn is_listening(self, proto: Proto) -> bool {
        match proto {
            Proto::Tcp => self == SockState::Listen,
            Proto::Udp => self == SockState::Close,
            Proto::Unix => self == SockState::Listen,
        }
    }
}

/// One end of a socket.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Endpoint {
    /// An IP endpoint. `scope_id` is the interface index of an IPv6 link-local address.
    Inet {
        /// The address (unspecified `0.0.0.0` / `::` for a wildcard bind).
        addr: IpAddr,
        /// The port (0 for an unbound or unconnected end).
        port: u16,
        /// Interface index the socket is bound to, if any (`SO_BINDTODEVICE`, IPv6 scope).
        #[serde(skip_serializing_if = "Option::is_none")]
        ifindex: Option<u32>,
    },
    /// A unix-domain address: a path, an abstract name (`@name`), or empty (unnamed).
    Unix {
        /// The path or `@abstract` name; empty when the socket has no name.
        path: String,
    },
}

impl Endpoint {
    /// Shorthand for an IP endpoint with no interface index.
    pub fn inet(addr: IpAddr, port: u16) -> Endpoint {
        Endpoint::Inet {
            addr,
            port,
            ifindex: None,
        }
    }

    /// The port of an IP endpoint; `None` for unix.
    pub fn port(&self) -> Option<u16> {
        match self {
            Endpoint::Inet { port, .. } => Some(*port),
            Endpoint::Unix { .. } => None,
        }
    }

    /// The address of an IP endpoint; `None` for unix.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Endpoint::Inet { addr, .. } => Some(*addr),
            Endpoint::Unix { .. } => None,
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Inet {
                addr: IpAddr::V6(a),
                port,
                ..
            } => write!(f, "[{a}]:{port}"),
            Endpoint::Inet {
                addr: IpAddr::V4(a),
                port,
                ..
            } => write!(f, "{a}:{port}"),
            Endpoint::Unix { path } if path.is_empty() => f.write_str("(unnamed)"),
            Endpoint::Unix { path } => f.write_str(path),
        }
    }
}

/// One socket as the kernel reports it, with the processes that hold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Socket {
    /// Transport protocol.
    pub proto: Proto,
    /// Address family.
    pub family: Family,
    /// Kernel state.
    pub state: SockState,
    /// Local end.
    pub local: Endpoint,
    /// Remote end (`None` for listeners, unconnected UDP, and unix sockets without a peer).
    pub remote: Option<Endpoint>,
    /// Socket inode: the number in `/proc/<pid>/fd/N -> socket:[inode]`; 0 for sockets no file
    /// refers to any more (TIME_WAIT, orphaned FIN_WAIT…).
    pub inode: u64,
    /// Unix sockets: inode of the peer socket, if connected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_inode: Option<u64>,
    /// Owner uid as the kernel records it (the creator's effective uid).
    pub uid: u32,
    /// Listeners: connections waiting in the accept queue. Others: bytes not yet read.
    pub recv_q: u32,
    /// Listeners: the accept-queue limit (backlog). Others: bytes not yet acknowledged/sent.
    pub send_q: u32,
    /// Inode of the network namespace the socket lives in (`/proc/self/ns/net` for the
    /// namespace portscope queried), when known.
    pub netns: Option<u64>,
    /// Pids of every process with an open file descriptor on this socket, ascending.
    pub pids: Vec<u32>,
    /// True when no owner was found *and* a process that could not be inspected may hold it:
    /// one running as the socket's uid (see `snapshot` for why the uid decides), or any, when
    /// the socket's namespace is unknown. Such a socket is never reported as ownerless or free.
    pub owner_hidden: bool,
    /// True when the socket still has a file (its inode is not 0) but no process holds a
    /// descriptor on it, and none portscope could not inspect could: its process is exiting,
    /// or its only descriptor is in flight in a unix socket's queue (`SCM_RIGHTS`). No
    /// permission would show more. Serialized only when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ownerless: bool,
}

impl Socket {
    /// Local port (None for unix).
    pub fn port(&self) -> Option<u16> {
        self.local.port()
    }

    /// `ss -l` sense of listening (see [`SockState::is_listening`]).
    pub fn is_listening(&self) -> bool {
        self.state.is_listening(self.proto)
    }
}

/// Run state of a process, from `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProcState {
    /// R
    Running,
    /// S
    Sleeping,
    /// D
    DiskSleep,
    /// T: stopped by a signal (SIGSTOP, SIGTSTP / Ctrl-Z). It cannot accept connections.
    Stopped,
    /// t
    TracingStop,
    /// Z
    Zombie,
    /// X
    Dead,
    /// I
    Idle,
    /// Anything else.
    Other,
}

impl ProcState {
    /// Map the single-letter state of `/proc/<pid>/stat`.
    pub fn from_char(c: char) -> ProcState {
        match c {
            'R' => ProcState::Running,
            'S' => ProcState::Sleeping,
            'D' => ProcState::DiskSleep,
            'T' => ProcState::Stopped,
            't' => ProcState::TracingStop,
            'Z' => ProcState::Zombie,
            'X' | 'x' => ProcState::Dead,
            'I' => ProcState::Idle,
            _ => ProcState::Other,
        }
    }

    /// True for states in which the process does not run its code (stopped, traced, zombie).
    pub fn is_frozen(self) -> bool {
        matches!(
            self,
            ProcState::Stopped | ProcState::TracingStop | ProcState::Zombie | ProcState::Dead
        )
    }
}

/// One link of a process's ancestry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ancestor {
    /// Pid.
    pub pid: u32,
    /// Short command name (`comm`).
    pub comm: String,
}

/// Where a process came from, read from `/proc/<pid>/cgroup`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Origin {
    /// The cgroup path (v2 unified hierarchy, or the `name=systemd`/first v1 line).
    pub cgroup: Option<String>,
    /// The systemd unit (`nginx.service`, `session-3.scope`, `user@1000.service`…).
    pub systemd_unit: Option<String>,
    /// A container id (64 hex digits) found in the cgroup path (docker, containerd, podman, cri-o).
    pub container_id: Option<String>,
    /// The container runtime the id belongs to, when the path says (`docker`, `libpod`, `cri-containerd`…).
    pub container_runtime: Option<String>,
}

/// Everything portscope knows about one process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Process {
    /// Process id.
    pub pid: u32,
    /// Parent pid (0 for pid 1 and kernel threads' parent).
    pub ppid: u32,
    /// Process group id: the pid of the job's leader (what a shell started), which may have
    /// exited while this process lives on.
    pub pgid: Option<u32>,
    /// Short name from `/proc/<pid>/comm` (at most 15 bytes, may be set by the program).
    pub comm: String,
    /// Arguments from `/proc/<pid>/cmdline`; empty for kernel threads and zombies.
    pub cmdline: Vec<String>,
    /// Target of `/proc/<pid>/exe`, when readable.
    pub exe: Option<String>,
    /// Target of `/proc/<pid>/cwd`, when readable.
    pub cwd: Option<String>,
    /// Effective uid (what `ps -o user` shows).
    pub uid: u32,
    /// User name of `uid` from the passwd database, when it has one.
    pub user: Option<String>,
    /// Start time, seconds since the Unix epoch.
    pub start_time: Option<u64>,
    /// Run state.
    pub state: ProcState,
    /// Parent chain, nearest first, ending at pid 1 (or where it could not be read further).
    pub ancestry: Vec<Ancestor>,
    /// cgroup, systemd unit, container.
    pub origin: Origin,
    /// Inode of the process's network namespace (`/proc/<pid>/ns/net`), when readable.
    pub netns: Option<u64>,
}

#[cfg(all(test, feature = "cli"))]
impl Process {
    /// A sleeping root process `comm` with pid `pid` and nothing else known (unit tests).
    pub(crate) fn fixture(pid: u32, comm: &str) -> Process {
        Process {
            pid,
            ppid: 1,
            pgid: None,
            comm: comm.into(),
            cmdline: vec![],
            exe: None,
            cwd: None,
            uid: 0,
            user: None,
            start_time: None,
            state: ProcState::Sleeping,
            ancestry: vec![],
            origin: Default::default(),
            netns: None,
        }
    }
}

/// What could not be seen, and how to see it. Never silently dropped: every report carries it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Hidden {
    /// Sockets whose owner could not be determined because some processes' fds were unreadable.
    pub sockets: usize,
    /// Processes whose `/proc/<pid>/fd` could not be read (permission).
    pub processes: usize,
    /// Why, in one sentence (empty when nothing is hidden).
    pub reason: String,
    /// How to see them (empty when nothing is hidden).
    pub hint: String,
    /// Sockets no process holds right now (see [`Socket::ownerless`]): not hidden, so not in
    /// `sockets`. Serialized only when not 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub ownerless: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Hidden {
    /// True when nothing was hidden.
    pub fn is_empty(&self) -> bool {
        self.sockets == 0 && self.processes == 0
    }

    /// Count the hidden and the ownerless among `sockets` (a report's subset of a snapshot),
    /// keeping the reason; nothing at all when neither is left and no process was unreadable.
    pub fn recount<'a>(&self, sockets: impl IntoIterator<Item = &'a Socket>) -> Hidden {
        let (mut hidden, mut ownerless) = (0, 0);
        for s in sockets {
            hidden += usize::from(s.owner_hidden);
            ownerless += usize::from(s.ownerless);
        }
        if hidden == 0 && self.processes == 0 {
            return Hidden {
                ownerless,
                ..Hidden::default()
            };
        }
        Hidden {
            sockets: hidden,
            ownerless,
            ..self.clone()
        }
    }
}

/// A consistent picture of sockets and their owners at one instant.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Snapshot {
    /// Sockets, in the order the kernel dumped them (commands sort as they need).
    pub sockets: Vec<Socket>,
    /// Every process that owns one of `sockets`, plus their ancestors, by pid.
    pub processes: BTreeMap<u32, Process>,
    /// What could not be seen.
    pub hidden: Hidden,
    /// Network namespace the sockets were read from (inode of `/proc/self/ns/net`).
    pub netns: Option<u64>,
    /// Effective uid portscope ran as.
    pub euid: u32,
    /// When the snapshot was taken, seconds since the Unix epoch (fractional).
    pub taken_at: f64,
}

impl Snapshot {
    /// The process record for `pid`, if it was read.
    pub fn process(&self, pid: u32) -> Option<&Process> {
        self.processes.get(&pid)
    }
}

/// How serious a [`Finding`] is (doctor, audit, check share it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Severity {
    /// Worth knowing; nothing is broken.
    Info,
    /// Likely to cause trouble, or a partial cause.
    Warning,
    /// This is why it does not work.
    Critical,
}

/// One diagnosis: a stable code, what was seen, and the commands that fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable identifier (`DOC-REFUSED-NOTHING-LISTENING`): scripts and docs key on it.
    pub code: &'static str,
    /// How serious.
    pub severity: Severity,
    /// The verdict in one sentence.
    pub title: String,
    /// Facts seen on this machine that support it, one per line.
    pub evidence: Vec<String>,
    /// What to do, as commands or one-line instructions, most direct first.
    pub fix: Vec<String>,
}
