//! TCP listeners asked about one by one, by address and port (`inet_diag`'s exact request, not a
//! dump): the kernel looks each up in its listening hash, as it would for a connection, and
//! answers with that one socket. Whether a listener seen a moment ago is still open, at the
//! cost of one lookup: a dump filtered by port still visits every listener (0.16 ms at 10k
//! with warm caches, ~2.5 ms right after `ss -tanp`).

use std::collections::HashSet;

use netlink_packet_core::{NLM_F_REQUEST, NetlinkBuffer};
use netlink_packet_sock_diag::SOCK_DIAG_BY_FAMILY;

use super::{Diag, emitted, inet_request, inet_socket};
use crate::model::{Endpoint, Proto, SockState, Socket};

/// The inodes of `listeners` (TCP listeners from a dump) the kernel finds open still: the
/// lookup of each by its address, port and interface answers with its inode. One not in the
/// set is not known to be closed: it is not a TCP listener, the kernel refused or found
/// nothing, or it answered with another socket on the same address (a sibling in an
/// `SO_REUSEPORT` group). The caller asks by a dump about those.
pub fn open_listeners(listeners: &[&Socket]) -> HashSet<u64> {
    let mut open = HashSet::new();
    let Ok(mut diag) = Diag::open() else {
        return open;
    };
    for listener in listeners {
        if lookup(&mut diag, listener) == Some(true) {
            open.insert(listener.inode);
        }
    }
    open
}

/// `Some(true)` when the lookup of `listener` answers with its inode.
fn lookup(diag: &mut Diag, listener: &Socket) -> Option<bool> {
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
    // An exact request, not a dump: one answer, the socket or an error.
    diag.encode_flags(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, &emitted(&request), None);
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
            assert_eq!(
                open_listeners(&[&s]),
                HashSet::from([s.inode]),
                "{addr}: {s:?}"
            );
            drop(l);
            assert!(open_listeners(&[&s]).is_empty(), "{addr} closed: {s:?}");
        }
    }

    #[test]
    fn another_listener_on_the_address_is_not_taken_for_it() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut s = dumped(&l);
        s.inode += 1_000_000;
        let udp = Socket {
            proto: Proto::Udp,
            ..dumped(&l)
        };
        assert!(open_listeners(&[&s, &udp]).is_empty());
        // The same lookups with the real one among them: only it is open.
        let real = dumped(&l);
        assert_eq!(
            open_listeners(&[&s, &real, &udp]),
            HashSet::from([real.inode])
        );
    }
}
