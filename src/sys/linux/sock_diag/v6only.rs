//! Which IPv6 listeners on a port take IPv6 only (`IPV6_V6ONLY`): a `[::]:P` listener
//! without it also takes IPv4 clients, one with it refuses them. The kernel says so in each
//! AF_INET6 listener's `INET_DIAG_SKV6ONLY` attribute (a `u8`, sent for LISTEN and CLOSE
//! sockets without being asked). A separate question from [`super::dump`], so the socket
//! model, and the JSON of `ls` and `who`, stay as they are.

use netlink_packet_core::{NlasIterator, Parseable};
use netlink_packet_sock_diag::{INET_DIAG_SKV6ONLY, SOCK_DIAG_BY_FAMILY, inet::InetResponseHeader};

use super::{Diag, emitted, inet_request, port_range_bytecode};
use crate::error::{Error, Result};
use crate::model::{Family, Proto, SockState};

/// Size of `struct inet_diag_msg` before its attributes.
const INET_MSG_LEN: usize = 72;

/// The inodes of the TCP IPv6 listeners on `port` that have `IPV6_V6ONLY` set, ascending.
/// Netlink only: an error when the kernel cannot be asked (`/proc/net/tcp6` does not carry
/// the flag).
pub fn v6only_listeners(port: u16) -> Result<Vec<u64>> {
    let mut diag = Diag::open().map_err(|e| Error::io("opening a NETLINK_SOCK_DIAG socket", e))?;
    let listen = 1 << SockState::Listen.kernel_number();
    let request = emitted(&inet_request(Proto::Tcp, Family::Ipv6, listen));
    let filter = port_range_bytecode(port, port);
    diag.encode(SOCK_DIAG_BY_FAMILY, &request, Some(&filter));
    let mut found = Vec::new();
    let outcome = diag.run(|payload| {
        if let (inode, Some(true)) = v6only_of(payload, port)? {
            found.push(inode);
        }
        Ok(())
    })?;
    if outcome.needs_fallback()? {
        return Err(Error::Netlink(
            "the kernel has no inet_diag handler for TCP over IPv6".into(),
        ));
    }
    found.sort_unstable();
    found.dedup();
    Ok(found)
}

/// One `inet_diag_msg`: its inode, and its `INET_DIAG_SKV6ONLY` flag when the message is a
/// listener on `port` that carries it (`None`: no such attribute, or another port — the
/// kernel filter also lets a remote port through).
fn v6only_of(payload: &[u8], port: u16) -> Result<(u64, Option<bool>)> {
    let bad = |e: &dyn std::fmt::Display| Error::Netlink(format!("bad inet_diag_msg: {e}"));
    let h = InetResponseHeader::parse(payload).map_err(|e| bad(&e))?;
    let inode = u64::from(h.inode);
    if h.socket_id.source_port != port {
        return Ok((inode, None));
    }
    for nla in NlasIterator::new(payload.get(INET_MSG_LEN..).unwrap_or_default()) {
        let nla = nla.map_err(|e| bad(&e))?;
        if nla.kind() == INET_DIAG_SKV6ONLY {
            return Ok((inode, nla.value().first().map(|&b| b != 0)));
        }
    }
    Ok((inode, None))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// A TCP listener on `[::]:port` (0: any), with or without `IPV6_V6ONLY`.
    fn listener(v6only: bool, port: u16) -> socket2::Socket {
        use socket2::{Domain, Socket, Type};
        let s = Socket::new(Domain::IPV6, Type::STREAM, None).unwrap();
        s.set_only_v6(v6only).unwrap();
        s.bind(&std::net::SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, port)).into())
            .unwrap();
        s.listen(4).unwrap();
        s
    }

    fn port_of(s: &socket2::Socket) -> u16 {
        s.local_addr().unwrap().as_socket().unwrap().port()
    }

    #[test]
    fn the_kernel_says_which_listener_is_ipv6_only() {
        let only = listener(true, 0);
        let port = port_of(&only);
        let inode = crate::sys::linux::proc_net::tests::inode_of(&only);
        assert_eq!(v6only_listeners(port).unwrap(), vec![inode]);
        let dual = listener(false, 0);
        assert_eq!(v6only_listeners(port_of(&dual)).unwrap(), Vec::<u64>::new());
    }

    /// An `inet_diag_msg` for inode 77 on source port 8080, then the attributes given.
    fn message(attrs: &[u8]) -> Vec<u8> {
        let mut m = vec![0u8; INET_MSG_LEN];
        m[0] = 10; // AF_INET6
        m[1] = 10; // TCP_LISTEN
        m[4..6].copy_from_slice(&8080u16.to_be_bytes());
        m[68..72].copy_from_slice(&77u32.to_ne_bytes());
        m.extend_from_slice(attrs);
        m
    }

    #[test]
    fn the_flag_is_read_from_its_attribute() {
        // struct nlattr { u16 len = 5; u16 type = 11 }, one byte, padded to 8.
        let attr = |v: u8| {
            let mut a = 5u16.to_ne_bytes().to_vec();
            a.extend_from_slice(&INET_DIAG_SKV6ONLY.to_ne_bytes());
            a.extend_from_slice(&[v, 0, 0, 0]);
            a
        };
        assert_eq!(
            v6only_of(&message(&attr(1)), 8080).unwrap(),
            (77, Some(true))
        );
        assert_eq!(
            v6only_of(&message(&attr(0)), 8080).unwrap(),
            (77, Some(false))
        );
        assert_eq!(v6only_of(&message(&[]), 8080).unwrap(), (77, None));
        assert_eq!(v6only_of(&message(&attr(1)), 8081).unwrap(), (77, None));
        assert!(v6only_of(&message(&[]), 8080).is_ok());
        assert!(v6only_of(&[0u8; 10], 8080).is_err());
    }
}
