//! One TCP listener asked about by its address and port (`inet_diag`'s exact request, not a
//! dump): the kernel looks it up in its listening hash, as it would for a connection, and
//! answers with that one socket. Whether a listener seen a moment ago is still open, at the
//! cost of one lookup: a dump filtered by port still visits every listener (0.16 ms at 10k
//! with warm caches, ~2.5 ms right after `ss -tanp`).

use netlink_packet_core::{NLM_F_REQUEST, NetlinkBuffer};
use netlink_packet_sock_diag::SOCK_DIAG_BY_FAMILY;

use super::{Diag, emitted, inet_request, inet_socket};
use crate::model::{Endpoint, Proto, SockState, Socket};

/// `Some(true)` when the kernel finds `listener` (a TCP listener from a dump) open still: the
/// lookup by its address, port and interface answers with its inode. `None` when that does
/// not tell: the socket is not a TCP listener, the kernel refused or found nothing, or it
/// answered with another socket on the same address (a sibling in an `SO_REUSEPORT` group).
/// The caller then asks by a dump.
pub fn listener_open(listener: &Socket) -> Option<bool> {
    let Endpoint::Inet {
        addr,
        port,
        ifindex,
    } = listener.local
    else {
        return None;
    };
    if listener.proto != Proto::Tcp || listener.state != SockState::Listen || listener.inode == 0 {
        return None;
    }
    let listen = 1 << SockState::Listen.kernel_number();
    let mut request = inet_request(Proto::Tcp, listener.family, listen);
    request.socket_id.source_address = addr;
    request.socket_id.source_port = port;
    request.socket_id.interface_id = ifindex.unwrap_or(0);
    // INET_DIAG_NOCOOKIE: whichever socket the lookup finds.
    request.socket_id.cookie = [0xff; 8];
    let mut diag = Diag::open().ok()?;
    diag.encode(SOCK_DIAG_BY_FAMILY, &emitted(&request), None);
    // An exact request, not a dump: one answer, the socket or an error.
    diag.req[6..8].copy_from_slice(&NLM_F_REQUEST.to_ne_bytes());
    diag.sock.send(&diag.req, 0).ok()?;
    let len = diag.recv().ok()?;
    let mut off = 0;
    while off < len {
        let msg = NetlinkBuffer::new_checked(&diag.buf[off..len]).ok()?;
        off += (msg.length() as usize).next_multiple_of(4);
        if msg.sequence_number() != diag.seq {
            continue;
        }
        if msg.message_type() != SOCK_DIAG_BY_FAMILY {
            return None;
        }
        let found = inet_socket(msg.payload(), Proto::Tcp).ok()?;
        return (found.inode == listener.inode).then_some(true);
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::sys::SocketQuery;

    /// `l`, as the dump reports it (other tests' listeners may share its port).
    fn dumped(l: &std::net::TcpListener) -> Socket {
        let at = l.local_addr().unwrap();
        let q = SocketQuery {
            states: 1 << SockState::Listen.kernel_number(),
            port_range: Some((at.port(), at.port())),
            ..SocketQuery::default()
        };
        let mut found = super::super::dump(&q).unwrap();
        found.retain(|s| s.local.ip() == Some(at.ip()));
        assert_eq!(found.len(), 1, "{found:?}");
        found.remove(0)
    }

    #[test]
    fn an_open_listener_is_found_and_a_closed_one_is_not_confirmed() {
        for addr in ["127.0.0.1:0", "0.0.0.0:0", "[::1]:0", "[::]:0"] {
            let Ok(l) = std::net::TcpListener::bind(addr) else {
                continue; // no IPv6 here
            };
            let s = dumped(&l);
            assert_eq!(listener_open(&s), Some(true), "{addr}: {s:?}");
            drop(l);
            assert_eq!(listener_open(&s), None, "{addr} closed: {s:?}");
        }
    }

    #[test]
    fn another_listener_on_the_address_is_not_taken_for_it() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut s = dumped(&l);
        s.inode += 1_000_000;
        assert_eq!(listener_open(&s), None);
        let udp = Socket {
            proto: Proto::Udp,
            ..dumped(&l)
        };
        assert_eq!(listener_open(&udp), None);
    }
}
