//! Packet capture on an interface: an AF_PACKET socket with a kernel (classic BPF) filter.
//!
//! The socket is not bound to an interface (that needs a `sockaddr_ll`, which socket2 cannot
//! build without unsafe code); the filter itself checks the interface index instead. What
//! the socket queued before the filter was attached is thrown away.

use std::io::{ErrorKind, Read};
use std::time::Duration;

use socket2::{Domain, Protocol, SockFilter, Socket, Type};

use crate::error::{Error, Result};

/// `ETH_P_ALL`: every protocol.
const ETH_P_ALL: u16 = 0x0003;

/// How long one [`PacketSocket::recv`] waits before it returns with nothing.
pub const RECV_TIMEOUT: Duration = Duration::from_millis(200);

/// The index of network interface `name` (`/sys/class/net/NAME/ifindex`).
pub fn interface_index(name: &str) -> Result<u32> {
    let path = format!("/sys/class/net/{name}/ifindex");
    let text =
        std::fs::read_to_string(&path).map_err(|e| Error::io(format!("reading {path}"), e))?;
    text.trim().parse().map_err(|_| Error::Unsupported {
        what: format!("interface {name}"),
        why: format!("{path} does not hold a number"),
    })
}

/// A packet socket that sees only what its filter keeps.
#[derive(Debug)]
pub struct PacketSocket(Socket);

impl PacketSocket {
    /// Open a packet socket for every protocol, attach `filter` (`(code, jt, jf, k)`
    /// instructions), drop whatever arrived before it was attached, and make reads wait at
    /// most [`RECV_TIMEOUT`]. Needs root or CAP_NET_RAW.
    pub fn open(filter: &[(u16, u8, u8, u32)]) -> Result<PacketSocket> {
        let proto = Protocol::from(i32::from(ETH_P_ALL.to_be()));
        let sock =
            Socket::new(Domain::PACKET, Type::RAW, Some(proto)).map_err(|e| match e.kind() {
                ErrorKind::PermissionDenied => Error::PermissionDenied {
                    what: "opening a packet socket to capture on loopback".into(),
                    hint: "capturing needs root or CAP_NET_RAW: run it with sudo, or once \
                           sudo setcap cap_net_raw+ep \"$(command -v portscope)\""
                        .into(),
                },
                _ => Error::io("opening a packet socket (AF_PACKET)", e),
            })?;
        let failed = |what: &str, e| Error::io(format!("{what} on the packet socket"), e);
        // A bigger queue rides out bursts; the kernel caps it at net.core.rmem_max.
        let _ = sock.set_recv_buffer_size(4 << 20);
        let prog: Vec<SockFilter> = filter
            .iter()
            .map(|&(code, jt, jf, k)| SockFilter::new(code, jt, jf, k))
            .collect();
        sock.attach_filter(&prog)
            .map_err(|e| failed("attaching the capture filter", e))?;
        sock.set_nonblocking(true)
            .map_err(|e| failed("setting non-blocking mode", e))?;
        let mut buf = vec![0u8; 65_536];
        // Bounded: a flood cannot keep the drain going forever.
        for _ in 0..100_000 {
            match (&sock).read(&mut buf) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        sock.set_nonblocking(false)
            .map_err(|e| failed("setting blocking mode", e))?;
        sock.set_read_timeout(Some(RECV_TIMEOUT))
            .map_err(|e| failed("setting the read timeout", e))?;
        Ok(PacketSocket(sock))
    }

    /// Receive one frame into `buf` (a longer one is cut to its size): `Ok(None)` when none
    /// came within [`RECV_TIMEOUT`] or a signal interrupted the wait.
    pub fn recv(&self, buf: &mut [u8]) -> std::io::Result<Option<usize>> {
        match (&self.0).read(buf) {
            Ok(n) => Ok(Some(n)),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_an_index() {
        assert!(matches!(interface_index("lo"), Ok(n) if n > 0));
        assert!(interface_index("no-such-if0").is_err());
    }
}
