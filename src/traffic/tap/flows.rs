//! Frames parsed (etherparse) and grouped into connections: a TCP connection by its four
//! addresses from SYN (or its first payload) to both FINs or a RST; a UDP flow from its first
//! datagram until it is quiet for [`UDP_IDLE_S`] seconds. Pure: times come in with packets.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};

use etherparse::{NetSlice, SlicedPacket, TransportSlice};

use super::{Conn, Open, TapLine, first_line};

/// A UDP flow with no datagram for this long (seconds) is reported and forgotten.
pub const UDP_IDLE_S: f64 = 5.0;

/// The most connections tracked at once; beyond it the oldest is forgotten (and counted).
pub const MAX_FLOWS: usize = 65_536;

/// The transport protocol of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Proto {
    fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// One TCP segment or UDP datagram, as `tap` reads it.
#[derive(Debug, Clone)]
pub struct Packet<'a> {
    /// TCP or UDP.
    pub proto: Proto,
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// TCP flags (all false for UDP).
    pub syn: bool,
    /// ACK flag.
    pub ack: bool,
    /// FIN flag.
    pub fin: bool,
    /// RST flag.
    pub rst: bool,
    /// TCP sequence number (0 for UDP).
    pub seq: u32,
    /// The transport payload.
    pub payload: &'a [u8],
}

/// Parse an Ethernet frame into a [`Packet`]: `None` unless it is TCP or UDP over IPv4 or
/// IPv6 with `port` at one end (the user-space check behind the kernel filter).
pub fn parse(frame: &[u8], port: u16) -> Option<Packet<'_>> {
    let sliced = SlicedPacket::from_ethernet(frame).ok()?;
    let (sip, dip): (IpAddr, IpAddr) = match sliced.net? {
        NetSlice::Ipv4(ip) => (
            ip.header().source_addr().into(),
            ip.header().destination_addr().into(),
        ),
        NetSlice::Ipv6(ip) => (
            ip.header().source_addr().into(),
            ip.header().destination_addr().into(),
        ),
        _ => return None,
    };
    let p = match sliced.transport? {
        TransportSlice::Tcp(t) => Packet {
            proto: Proto::Tcp,
            src: SocketAddr::new(sip, t.source_port()),
            dst: SocketAddr::new(dip, t.destination_port()),
            syn: t.syn(),
            ack: t.ack(),
            fin: t.fin(),
            rst: t.rst(),
            seq: t.sequence_number(),
            payload: t.payload(),
        },
        TransportSlice::Udp(u) => Packet {
            proto: Proto::Udp,
            src: SocketAddr::new(sip, u.source_port()),
            dst: SocketAddr::new(dip, u.destination_port()),
            syn: false,
            ack: false,
            fin: false,
            rst: false,
            seq: 0,
            payload: u.payload(),
        },
        _ => return None,
    };
    (p.src.port() == port || p.dst.port() == port).then_some(p)
}

/// A connection's key: protocol, client, server.
type Key = (Proto, SocketAddr, SocketAddr);

/// What is known about one connection.
#[derive(Debug, Clone)]
struct Flow {
    id: u64,
    start: f64,
    last: f64,
    bytes: [u64; 2],
    packets: [u64; 2],
    first: [Option<String>; 2],
    fin: [bool; 2],
    /// TCP: the sequence number each side sends next, once seen.
    next_seq: [Option<u32>; 2],
    /// TCP: payload bytes the capture never saw (sequence numbers it skipped).
    missed: [u64; 2],
}

/// Follow one TCP direction's sequence numbers: how many bytes before this segment were
/// never captured (0 for a retransmission or the next segment in order). `next` becomes the
/// sequence number after this segment (SYN and FIN count one each).
fn skipped(next: &mut Option<u32>, p: &Packet<'_>) -> u64 {
    let len = u32::try_from(p.payload.len()).unwrap_or(u32::MAX);
    let end = p
        .seq
        .wrapping_add(len)
        .wrapping_add(u32::from(p.syn))
        .wrapping_add(u32::from(p.fin));
    // Sequence space wraps: compare as the signed distance, as TCP does.
    let ahead = |a: u32, b: u32| a.wrapping_sub(b).cast_signed() > 0;
    let gap = match *next {
        Some(n) if ahead(p.seq, n) => u64::from(p.seq.wrapping_sub(n)),
        _ => 0,
    };
    if end != p.seq && next.is_none_or(|n| ahead(end, n)) {
        *next = Some(end);
    }
    gap
}

/// Every connection on the port being watched.
#[derive(Debug)]
pub struct Flows {
    port: u16,
    cap: usize,
    map: HashMap<Key, Flow>,
    /// Flow ids in the order they began, for evicting the oldest.
    order: BTreeMap<u64, Key>,
    next_id: u64,
    /// Connections forgotten because the table was full.
    pub evicted: u64,
    /// Connections and flows reported as ended (any way).
    pub ended: u64,
    /// TCP payload bytes the capture never saw (gaps in sequence numbers): the kernel dropped
    /// packets because the capture fell behind.
    pub missed: u64,
}

impl Flows {
    /// Track connections on `port`, at most [`MAX_FLOWS`] at once.
    pub fn new(port: u16) -> Flows {
        Flows::with_capacity(port, MAX_FLOWS)
    }

    /// Track connections on `port`, at most `cap` at once.
    pub fn with_capacity(port: u16, cap: usize) -> Flows {
        Flows {
            port,
            cap: cap.max(1),
            map: HashMap::new(),
            order: BTreeMap::new(),
            next_id: 0,
            evicted: 0,
            ended: 0,
            missed: 0,
        }
    }

    /// How many connections are being tracked.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Account for packet `p` seen at `now` (Unix seconds); the lines it causes.
    pub fn packet(&mut self, p: &Packet<'_>, now: f64) -> Vec<TapLine> {
        let mut lines = Vec::new();
        let forward = (p.proto, p.src, p.dst);
        let backward = (p.proto, p.dst, p.src);
        let fresh_syn = p.proto == Proto::Tcp && p.syn && !p.ack;
        // A SYN on the addresses of a connection that got further than its own SYN (a
        // retransmitted SYN does not) is a new connection: the old one is over.
        if fresh_syn
            && self
                .map
                .get(&forward)
                .is_some_and(|f| f.packets[1] > 0 || f.bytes[0] > 0)
        {
            self.end(&forward, "reused", &mut lines);
        }
        let (key, dir) = if self.map.contains_key(&forward) {
            (forward, 0)
        } else if self.map.contains_key(&backward) {
            (backward, 1)
        } else {
            // Only a SYN, or a packet with payload (a connection older than the capture),
            // or any UDP datagram begins a flow: a stray ACK or FIN after the end does not.
            if p.proto == Proto::Tcp && !fresh_syn && p.payload.is_empty() {
                return lines;
            }
            // The SYN's sender is the client; otherwise the end not on the port is (when
            // both are, the sender is taken for it).
            let server_sent = !fresh_syn && p.src.port() == self.port && p.dst.port() != self.port;
            let client_is_src = !server_sent;
            let (key, dir) = if client_is_src {
                (forward, 0)
            } else {
                (backward, 1)
            };
            if self.map.len() >= self.cap
                && let Some((_, oldest)) = self.order.pop_first()
            {
                self.map.remove(&oldest);
                self.evicted += 1;
            }
            let id = self.next_id;
            self.next_id += 1;
            self.order.insert(id, key);
            self.map.insert(
                key,
                Flow {
                    id,
                    start: now,
                    last: now,
                    bytes: [0; 2],
                    packets: [0; 2],
                    first: [None, None],
                    fin: [false; 2],
                    next_seq: [None; 2],
                    missed: [0; 2],
                },
            );
            if fresh_syn {
                lines.push(TapLine::Open(Open {
                    proto: p.proto.name(),
                    client: key.1.to_string(),
                    server: key.2.to_string(),
                    time: now,
                }));
            }
            (key, dir)
        };
        let Some(flow) = self.map.get_mut(&key) else {
            return lines;
        };
        flow.last = now;
        flow.packets[dir] += 1;
        flow.bytes[dir] += p.payload.len() as u64;
        if p.proto == Proto::Tcp && !p.rst {
            let gap = skipped(&mut flow.next_seq[dir], p);
            flow.missed[dir] += gap;
            self.missed += gap;
        }
        if flow.first[dir].is_none() && !p.payload.is_empty() {
            flow.first[dir] = Some(first_line(p.payload));
        }
        if p.fin {
            flow.fin[dir] = true;
        }
        if p.rst {
            self.end(&key, "rst", &mut lines);
        } else if flow.fin[0] && flow.fin[1] {
            self.end(&key, "fin", &mut lines);
        }
        lines
    }

    /// Report and forget the UDP flows quiet since `now - UDP_IDLE_S`.
    pub fn idle(&mut self, now: f64) -> Vec<TapLine> {
        let mut quiet: Vec<(u64, Key)> = self
            .map
            .iter()
            .filter(|(k, f)| k.0 == Proto::Udp && now - f.last >= UDP_IDLE_S)
            .map(|(k, f)| (f.id, *k))
            .collect();
        quiet.sort_by_key(|q| q.0);
        let mut lines = Vec::new();
        for (_, key) in quiet {
            self.end(&key, "idle", &mut lines);
        }
        lines
    }

    /// Report and forget everything still open (the capture stops), oldest first.
    pub fn finish(&mut self) -> Vec<TapLine> {
        let keys: Vec<Key> = self.order.values().copied().collect();
        let mut lines = Vec::new();
        for key in keys {
            self.end(&key, "open", &mut lines);
        }
        lines
    }

    fn end(&mut self, key: &Key, how: &'static str, lines: &mut Vec<TapLine>) {
        let Some(f) = self.map.remove(key) else {
            return;
        };
        self.order.remove(&f.id);
        self.ended += 1;
        let [request_first_line, response_first_line] = f.first;
        lines.push(TapLine::End(Conn {
            proto: key.0.name(),
            client: key.1.to_string(),
            server: key.2.to_string(),
            ended: how,
            start: f.start,
            duration_s: ((f.last - f.start).max(0.0) * 1e6).round() / 1e6,
            request_bytes: f.bytes[0],
            response_bytes: f.bytes[1],
            request_packets: f.packets[0],
            response_packets: f.packets[1],
            request_first_line,
            response_first_line,
            request_missed_bytes: f.missed[0],
            response_missed_bytes: f.missed[1],
        }));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use etherparse::PacketBuilder;

    const C: &str = "127.0.0.1:51234";
    const S: &str = "127.0.0.1:8000";

    fn tcp<'a>(src: &str, dst: &str, flags: &str, payload: &'a [u8]) -> Packet<'a> {
        Packet {
            proto: Proto::Tcp,
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            syn: flags.contains('S'),
            ack: flags.contains('A'),
            fin: flags.contains('F'),
            rst: flags.contains('R'),
            seq: 0,
            payload,
        }
    }

    fn ends(lines: &[TapLine]) -> Vec<Conn> {
        lines
            .iter()
            .filter_map(|l| match l {
                TapLine::End(c) => Some(c.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn parses_real_frames_and_checks_the_port() {
        let mut frame = Vec::new();
        PacketBuilder::ethernet2([0; 6], [0; 6])
            .ipv4([127, 0, 0, 1], [127, 0, 0, 1], 64)
            .tcp(51234, 8000, 1, 65535)
            .syn()
            .write(&mut frame, b"")
            .unwrap();
        let p = parse(&frame, 8000).unwrap();
        assert_eq!((p.proto, p.syn, p.ack), (Proto::Tcp, true, false));
        assert_eq!(p.src.to_string(), C);
        assert!(parse(&frame, 8001).is_none());

        let mut frame = Vec::new();
        PacketBuilder::ethernet2([0; 6], [0; 6])
            .ipv6([0; 16], [0; 16], 64)
            .udp(8000, 40000)
            .write(&mut frame, b"pong")
            .unwrap();
        let p = parse(&frame, 8000).unwrap();
        assert_eq!((p.proto, p.payload), (Proto::Udp, &b"pong"[..]));
        assert_eq!(p.dst.to_string(), "[::]:40000");
        assert!(parse(&[0u8; 20], 8000).is_none());
    }

    #[test]
    fn an_http_exchange_is_one_line_with_bytes_each_way() {
        let mut f = Flows::new(8000);
        let opened = f.packet(&tcp(C, S, "S", b""), 10.0);
        assert!(matches!(&opened[..], [TapLine::Open(o)] if o.client == C && o.server == S));
        assert!(f.packet(&tcp(S, C, "SA", b""), 10.001).is_empty());
        f.packet(&tcp(C, S, "A", b""), 10.001);
        f.packet(
            &tcp(C, S, "PA", b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n"),
            10.002,
        );
        f.packet(&tcp(S, C, "PA", b"HTTP/1.0 200 OK\r\n\r\nhello"), 10.003);
        assert!(f.packet(&tcp(S, C, "FA", b""), 10.004).is_empty());
        let end = ends(&f.packet(&tcp(C, S, "FA", b""), 10.005));
        assert_eq!(end.len(), 1);
        let e = &end[0];
        assert_eq!(
            (e.client.as_str(), e.server.as_str(), e.ended),
            (C, S, "fin")
        );
        assert_eq!((e.request_bytes, e.response_bytes), (28, 24));
        assert_eq!((e.request_packets, e.response_packets), (4, 3));
        assert_eq!(e.request_first_line.as_deref(), Some("GET /x HTTP/1.1"));
        assert_eq!(e.response_first_line.as_deref(), Some("HTTP/1.0 200 OK"));
        assert!((e.duration_s - 0.005).abs() < 1e-9);
        // The last ACK does not start a new connection.
        assert!(f.packet(&tcp(S, C, "A", b""), 10.006).is_empty());
        assert!(f.is_empty());
        assert_eq!(f.ended, 1);
    }

    #[test]
    fn reset_mid_stream_and_still_open_at_stop() {
        let mut f = Flows::new(8000);
        // A connection older than the capture: the server speaks first.
        f.packet(&tcp(S, C, "PA", b"\x00\x01binary"), 1.0);
        let other = "127.0.0.1:40000";
        f.packet(&tcp(other, S, "S", b""), 2.0);
        let rst = ends(&f.packet(&tcp(C, S, "RA", b""), 3.0));
        assert_eq!(rst.len(), 1);
        assert_eq!((rst[0].client.as_str(), rst[0].ended), (C, "rst"));
        assert_eq!(
            rst[0].response_first_line.as_deref(),
            Some("\\x00\\x01binary")
        );
        assert_eq!(rst[0].request_first_line, None);
        let open = ends(&f.finish());
        assert_eq!(open.len(), 1);
        assert_eq!((open[0].client.as_str(), open[0].ended), (other, "open"));
    }

    #[test]
    fn a_new_syn_on_the_same_addresses_ends_the_old_one() {
        let mut f = Flows::new(8000);
        f.packet(&tcp(C, S, "S", b""), 1.0);
        // A retransmitted SYN is the same connection.
        assert!(f.packet(&tcp(C, S, "S", b""), 1.5).is_empty());
        f.packet(&tcp(S, C, "SA", b""), 1.6);
        let lines = f.packet(&tcp(C, S, "S", b""), 2.0);
        assert_eq!(ends(&lines)[0].ended, "reused");
        assert!(matches!(lines.last(), Some(TapLine::Open(_))));
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn udp_flows_end_when_idle() {
        let mut f = Flows::new(53);
        let q = Packet {
            proto: Proto::Udp,
            src: "127.0.0.1:40000".parse().unwrap(),
            dst: "127.0.0.1:53".parse().unwrap(),
            syn: false,
            ack: false,
            fin: false,
            rst: false,
            seq: 0,
            payload: b"query",
        };
        let a = Packet {
            src: q.dst,
            dst: q.src,
            payload: b"answer!",
            ..q.clone()
        };
        f.packet(&q, 1.0);
        f.packet(&a, 1.5);
        assert!(f.idle(4.0).is_empty());
        let idle = ends(&f.idle(7.0));
        assert_eq!(idle.len(), 1);
        assert_eq!((idle[0].proto, idle[0].ended), ("udp", "idle"));
        assert_eq!((idle[0].request_bytes, idle[0].response_bytes), (5, 7));
        assert!(f.is_empty());
    }

    #[test]
    fn the_table_is_bounded() {
        let mut f = Flows::with_capacity(8000, 3);
        for i in 0..5u16 {
            let c = format!("127.0.0.1:{}", 50000 + i);
            f.packet(&tcp(&c, S, "S", b""), f64::from(i));
        }
        assert_eq!((f.len(), f.evicted), (3, 2));
        let left: Vec<String> = ends(&f.finish()).into_iter().map(|c| c.client).collect();
        assert_eq!(
            left,
            ["127.0.0.1:50002", "127.0.0.1:50003", "127.0.0.1:50004"]
        );
    }

    #[test]
    fn sequence_gaps_are_counted_as_missed_bytes() {
        let seg = |seq: u32, flags: &str, payload: &'static [u8]| {
            let mut p = tcp(C, S, flags, payload);
            p.seq = seq;
            p
        };
        let mut next = None;
        // SYN at 1000: the next byte is 1001.
        assert_eq!(skipped(&mut next, &seg(1000, "S", b"")), 0);
        assert_eq!(next, Some(1001));
        assert_eq!(skipped(&mut next, &seg(1001, "A", b"hello")), 0);
        // A retransmission is not a gap and does not move the expected number back.
        assert_eq!(skipped(&mut next, &seg(1001, "A", b"hello")), 0);
        assert_eq!(next, Some(1006));
        // 100 bytes never seen.
        assert_eq!(skipped(&mut next, &seg(1106, "A", b"world")), 100);
        assert_eq!(next, Some(1111));
        // A bare ACK at the expected number changes nothing.
        assert_eq!(skipped(&mut next, &seg(1111, "A", b"")), 0);
        // Across the wrap of the sequence space.
        let mut next = Some(u32::MAX - 1);
        assert_eq!(skipped(&mut next, &seg(u32::MAX - 1, "A", b"abcd")), 0);
        assert_eq!(next, Some(2));
        assert_eq!(skipped(&mut next, &seg(12, "A", b"x")), 10);

        // In a connection: the gap shows on its line and in the total.
        let mut flows = Flows::new(8000);
        flows.packet(&seg(1000, "S", b""), 0.0);
        flows.packet(&seg(1001, "A", b"GET / HTTP/1.1\r\n"), 0.1);
        flows.packet(&seg(5017, "AF", b"tail"), 0.2);
        let mut back = tcp(S, C, "AF", b"");
        back.seq = 7;
        let lines = flows.packet(&back, 0.3);
        let c = ends(&lines);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].request_missed_bytes, 4000);
        assert_eq!(c[0].response_missed_bytes, 0);
        assert_eq!(flows.missed, 4000);
    }
}
