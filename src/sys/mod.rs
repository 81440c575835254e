//! The OS boundary: the only module that reads the kernel, `/proc` or sysctls.
//!
//! Everything above it works on [`crate::model`] values. Linux is implemented in [`linux`];
//! other systems get [`crate::error::Error::Unsupported`] from the same functions.

#[cfg(target_os = "linux")]
pub mod linux;

#[cfg(all(target_os = "linux", feature = "web"))]
pub use linux::splice;
#[cfg(target_os = "linux")]
pub use linux::{
    attempt, bounded, browser, creds, engine, environ, firewall, fsmeta, local, netns, output,
    packet, proc_net, procfs, random, rlimit, sched, services, signal, sock_diag, stop, supervise,
    sysctl, systemd, terminal, users,
};

#[cfg(not(target_os = "linux"))]
compile_error!(
    "portscope reads Linux interfaces (netlink sock_diag, /proc); other systems will get their own backend behind src/sys"
);

/// Which sockets to ask the kernel for. Filters here are applied in the kernel where it can
/// (protocol, family, state mask, port range), so a narrow question costs less than a full dump.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SocketQuery {
    /// Include TCP sockets.
    pub tcp: bool,
    /// Include UDP sockets.
    pub udp: bool,
    /// Include unix-domain sockets.
    pub unix: bool,
    /// Include IPv4 sockets.
    pub ipv4: bool,
    /// Include IPv6 sockets.
    pub ipv6: bool,
    /// Kernel state mask: bit `n` set = include state number `n` (see
    /// [`crate::model::SockState::kernel_number`]). `u32::MAX` = every state.
    pub states: u32,
    /// Only sockets whose local *or* remote port lies in this inclusive range (IP only).
    pub port_range: Option<(u16, u16)>,
}

impl Default for SocketQuery {
    /// Every TCP and UDP socket, both families, every state; no unix sockets.
    fn default() -> Self {
        SocketQuery {
            tcp: true,
            udp: true,
            unix: false,
            ipv4: true,
            ipv6: true,
            states: u32::MAX,
            port_range: None,
        }
    }
}
