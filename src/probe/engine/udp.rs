//! UDP probing: the [`udp::PROBES`] table in hint order (owning process, then port, then
//! generic), one request datagram per probe, at most two sends per probe (a datagram may be
//! lost even on loopback under load), each wait bounded by the read timeout and the port's
//! deadline; the first reply a parser identifies ends it. An ICMP port-unreachable shows up as
//! a refused receive: nothing is bound there, the port is closed.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::Duration;

use super::super::udp::{self, Nonce, UdpProbe};
use super::super::{Limits, evidence};
use super::{Budget, Context, PortProbe, PortState, tier};

/// Most bytes of a reply datagram kept (larger datagrams are truncated by the kernel).
const MAX_DATAGRAM: usize = 4096;

/// Probe one UDP address.
pub(super) fn probe(
    addr: SocketAddr,
    ctx: &Context,
    limits: &Limits,
    budget: &Budget,
    out: &mut PortProbe,
) {
    let queue = order(addr.port(), ctx);
    let local: SocketAddr = if addr.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = match UdpSocket::bind(local).and_then(|s| s.connect(addr).map(|()| s)) {
        Ok(s) => s,
        Err(_) => {
            out.state = PortState::Error;
            return;
        }
    };
    // Half the read timeout per send: two sends per probe cost one read timeout, and every
    // probe of the table fits the default deadline on a silent port.
    let wait = (limits.read / 2).max(Duration::from_millis(1));
    let mut sent: Vec<&'static UdpProbe> = Vec::new();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    for p in queue {
        if budget.spent() {
            out.note = Some("deadline reached".into());
            return;
        }
        let request = (p.request)(&nonce(p.name));
        out.probes.push(p.name);
        sent.push(p);
        for _ in 0..2 {
            if budget.spent() || socket.send(&request).is_err() {
                break;
            }
            let _ = socket.set_read_timeout(Some(budget.cap(wait)));
            match socket.recv(&mut buf) {
                Ok(n) => {
                    let reply = buf.get(..n).unwrap_or_default();
                    if out.evidence.is_empty() {
                        out.evidence = evidence(reply, 96);
                    }
                    // A late reply to an earlier probe may arrive now: every probe sent so far
                    // may claim it, this one first.
                    let found = sent.iter().rev().find_map(|q| (q.parse)(reply).settled());
                    if let Some(id) = found {
                        out.evidence = evidence(reply, 96);
                        out.identification = Some(id);
                        return;
                    }
                    // An answer, but not to this question: the next probe.
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                    out.state = PortState::Refused;
                    return;
                }
                Err(_) => {}
            }
        }
    }
    out.note = Some(if out.evidence.is_empty() {
        "no reply to any UDP probe (UDP cannot tell silent from filtered)".into()
    } else {
        "a UDP reply no probe recognised".into()
    });
}

/// The table in hint order: owning process, then port, then the table's own order.
fn order(port: u16, ctx: &Context) -> Vec<&'static UdpProbe> {
    let mut queue: Vec<&'static UdpProbe> = udp::PROBES.iter().collect();
    queue.sort_by_key(|p| tier(&p.hints, port, ctx));
    queue
}

/// Random bytes for one request's ids (the hasher's per-process random keys, stirred with the
/// clock and the probe's name): replies to someone else's request are not ours.
fn nonce(name: &str) -> Nonce {
    use std::hash::BuildHasher;
    let state = std::collections::hash_map::RandomState::new();
    let mut out = [0u8; 12];
    for (i, chunk) in out.chunks_mut(8).enumerate() {
        let word = state.hash_one((name, i, std::time::SystemTime::now()));
        let bytes = word.to_le_bytes();
        chunk.copy_from_slice(bytes.get(..chunk.len()).unwrap_or_default());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_order_the_udp_table() {
        let names = |port, words: &[&str]| -> Vec<&str> {
            let ctx = Context {
                process_words: words.iter().map(|w| w.to_string()).collect(),
                ..Context::default()
            };
            order(port, &ctx).iter().map(|p| p.name).collect()
        };
        assert_eq!(names(40000, &["turnserver"])[0], "stun-binding");
        assert_eq!(names(123, &[])[0], "ntp-client");
        // The process beats the port.
        assert_eq!(
            names(123, &["/usr/sbin/snmpd", "-f"])[0],
            "snmp-get-sysdescr"
        );
        assert_eq!(names(40000, &[])[0], "dns-version-bind-udp");
        assert_eq!(names(40000, &[]).len(), udp::PROBES.len());
    }

    #[test]
    fn nonces_differ() {
        assert_ne!(nonce("a"), nonce("a"));
    }
}
