//! The kernel filter `tap` attaches to its packet socket: a classic BPF program, built here
//! as plain data (the socket call lives in `sys`) and unit-tested with a small interpreter.
//!
//! It keeps a frame only when it arrived on the loopback interface, is not the outgoing copy
//! (loopback hands every packet to a packet socket twice: once leaving, once arriving), is
//! IPv4 or IPv6, carries TCP or UDP, and has `port` as its source or destination port. IPv4
//! fragments after the first (they carry no ports) are dropped; IPv6 extension headers are
//! not followed.

/// One classic BPF instruction: `(code, jt, jf, k)`, as in `struct sock_filter`.
pub type Insn = (u16, u8, u8, u32);

/// How many bytes of a frame the filter keeps (loopback's MTU is 64 KiB; this is the pcap
/// snap length too).
pub const SNAPLEN: u32 = 262_144;

// Opcodes (linux/filter.h, linux/bpf_common.h).
const LD: u16 = 0x00;
const LDX: u16 = 0x01;
const JMP: u16 = 0x05;
const RET: u16 = 0x06;
const W: u16 = 0x00;
const H: u16 = 0x08;
const B: u16 = 0x10;
const ABS: u16 = 0x20;
const IND: u16 = 0x40;
const MSH: u16 = 0xa0;
const JEQ: u16 = 0x10;
const JSET: u16 = 0x40;
const K: u16 = 0x00;

/// The base of the kernel's ancillary loads (`SKF_AD_OFF`, -0x1000).
const AD_OFF: u32 = 0xffff_f000;
/// Ancillary load: the packet type (`SKF_AD_PKTTYPE`).
const AD_PKTTYPE: u32 = 4;
/// Ancillary load: the interface index (`SKF_AD_IFINDEX`).
const AD_IFINDEX: u32 = 8;
/// `PACKET_OUTGOING`: the copy of a packet a packet socket sees as it leaves.
const PACKET_OUTGOING: u32 = 4;

const ETH_IPV4: u32 = 0x0800;
const ETH_IPV6: u32 = 0x86dd;
const IP_TCP: u32 = 6;
const IP_UDP: u32 = 17;

/// Where a jump goes, before offsets are worked out.
#[derive(Clone, Copy)]
enum To {
    Next,
    At(usize),
    Accept,
    Drop,
}

/// The filter for `port` on the interface with index `ifindex`.
pub fn program(ifindex: u32, port: u16) -> Vec<Insn> {
    let port = u32::from(port);
    // (code, jt, jf, k) with symbolic targets; the last two are accept and drop.
    let mut p: Vec<(u16, To, To, u32)> = Vec::new();
    let op = |code, k| (code, To::Next, To::Next, k);
    let jeq = |k, jt, jf| (JMP | JEQ | K, jt, jf, k);
    // 0-3: the interface, then not the outgoing copy.
    p.push(op(LD | W | ABS, AD_OFF + AD_IFINDEX));
    p.push(jeq(ifindex, To::Next, To::Drop));
    p.push(op(LD | W | ABS, AD_OFF + AD_PKTTYPE));
    p.push(jeq(PACKET_OUTGOING, To::Drop, To::Next));
    // 4-5: the ethertype.
    p.push(op(LD | H | ABS, 12));
    p.push(jeq(ETH_IPV4, To::Next, To::At(16)));
    // 6-15: IPv4: protocol, not a later fragment, ports after the header (X = its length).
    p.push(op(LD | B | ABS, 23));
    p.push(jeq(IP_TCP, To::At(9), To::Next));
    p.push(jeq(IP_UDP, To::Next, To::Drop));
    p.push(op(LD | H | ABS, 20));
    p.push((JMP | JSET | K, To::Drop, To::Next, 0x1fff));
    p.push(op(LDX | B | MSH, 14));
    p.push(op(LD | H | IND, 14));
    p.push(jeq(port, To::Accept, To::Next));
    p.push(op(LD | H | IND, 16));
    p.push(jeq(port, To::Accept, To::Drop));
    // 16-23: IPv6: next header, ports right after the fixed 40-byte header.
    p.push(jeq(ETH_IPV6, To::Next, To::Drop));
    p.push(op(LD | B | ABS, 20));
    p.push(jeq(IP_TCP, To::At(20), To::Next));
    p.push(jeq(IP_UDP, To::Next, To::Drop));
    p.push(op(LD | H | ABS, 54));
    p.push(jeq(port, To::Accept, To::Next));
    p.push(op(LD | H | ABS, 56));
    p.push(jeq(port, To::Accept, To::Drop));
    let accept = p.len();
    let drop = accept + 1;
    let offset = |at: usize, to: To| -> u8 {
        let target = match to {
            To::Next => at + 1,
            To::At(i) => i,
            To::Accept => accept,
            To::Drop => drop,
        };
        u8::try_from(target.saturating_sub(at + 1)).unwrap_or(u8::MAX)
    };
    let mut out: Vec<Insn> = p
        .iter()
        .enumerate()
        .map(|(at, &(code, jt, jf, k))| (code, offset(at, jt), offset(at, jf), k))
        .collect();
    out.push((RET | K, 0, 0, SNAPLEN));
    out.push((RET | K, 0, 0, 0));
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Run `prog` the way the kernel would over `frame` received on `ifindex` with packet
    /// type `pkttype`: the number of bytes kept (0: dropped).
    fn run(prog: &[Insn], frame: &[u8], ifindex: u32, pkttype: u32) -> u32 {
        let (mut a, mut x, mut pc) = (0u32, 0u32, 0usize);
        let load = |off: u32, size: usize| -> Option<u32> {
            if off >= AD_OFF {
                return Some(match off - AD_OFF {
                    AD_IFINDEX => ifindex,
                    AD_PKTTYPE => pkttype,
                    _ => panic!("ancillary {off:#x}"),
                });
            }
            let s = frame.get(off as usize..off as usize + size)?;
            Some(s.iter().fold(0, |v, &b| (v << 8) | u32::from(b)))
        };
        loop {
            let (code, jt, jf, k) = prog[pc];
            pc += 1;
            match code {
                0x20 => {
                    a = match load(k, 4) {
                        Some(v) => v,
                        None => return 0,
                    }
                }
                0x28 => {
                    a = match load(k, 2) {
                        Some(v) => v,
                        None => return 0,
                    }
                }
                0x30 => {
                    a = match load(k, 1) {
                        Some(v) => v,
                        None => return 0,
                    }
                }
                0x48 => {
                    a = match load(k + x, 2) {
                        Some(v) => v,
                        None => return 0,
                    }
                }
                0xb1 => {
                    x = match load(k, 1) {
                        Some(v) => 4 * (v & 0xf),
                        None => return 0,
                    }
                }
                0x15 => pc += usize::from(if a == k { jt } else { jf }),
                0x45 => pc += usize::from(if a & k != 0 { jt } else { jf }),
                0x06 => return k,
                other => panic!("opcode {other:#x}"),
            }
        }
    }

    fn eth(ethertype: u16, ip: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(ip);
        f
    }

    fn v4(proto: u8, ihl: u8, frag: u16, sport: u16, dport: u16) -> Vec<u8> {
        let mut ip = vec![0u8; usize::from(ihl) * 4];
        ip[0] = 0x40 | ihl;
        ip[6..8].copy_from_slice(&frag.to_be_bytes());
        ip[9] = proto;
        ip.extend_from_slice(&sport.to_be_bytes());
        ip.extend_from_slice(&dport.to_be_bytes());
        ip.extend_from_slice(&[0u8; 16]);
        eth(0x0800, &ip)
    }

    fn v6(next: u8, sport: u16, dport: u16) -> Vec<u8> {
        let mut ip = vec![0u8; 40];
        ip[0] = 0x60;
        ip[6] = next;
        ip.extend_from_slice(&sport.to_be_bytes());
        ip.extend_from_slice(&dport.to_be_bytes());
        ip.extend_from_slice(&[0u8; 16]);
        eth(0x86dd, &ip)
    }

    #[test]
    fn jumps_stay_inside_the_program() {
        let p = program(1, 8000);
        for (at, &(code, jt, jf, _)) in p.iter().enumerate() {
            if code & 0x07 == JMP {
                assert!(at + 1 + usize::from(jt) < p.len(), "jt at {at}");
                assert!(at + 1 + usize::from(jf) < p.len(), "jf at {at}");
            }
        }
        assert_eq!(p[p.len() - 2], (RET, 0, 0, SNAPLEN));
        assert_eq!(p[p.len() - 1], (RET, 0, 0, 0));
    }

    #[test]
    fn keeps_the_port_either_way_on_tcp_and_udp_v4_and_v6() {
        let p = program(1, 8000);
        let keep = |f: &[u8]| run(&p, f, 1, 0) == SNAPLEN;
        assert!(keep(&v4(6, 5, 0, 51234, 8000)));
        assert!(keep(&v4(6, 5, 0, 8000, 51234)));
        assert!(keep(&v4(17, 5, 0, 8000, 9)));
        assert!(
            keep(&v4(6, 7, 0, 51234, 8000)),
            "IPv4 options move the ports"
        );
        assert!(
            keep(&v4(6, 5, 0x4000, 51234, 8000)),
            "DF set is not a fragment"
        );
        assert!(keep(&v6(6, 51234, 8000)));
        assert!(keep(&v6(17, 8000, 53)));
    }

    #[test]
    fn drops_everything_else() {
        let p = program(1, 8000);
        let keep = |f: &[u8], ifindex, pkttype| run(&p, f, ifindex, pkttype) != 0;
        let good = v4(6, 5, 0, 51234, 8000);
        assert!(!keep(&good, 2, 0), "another interface");
        assert!(!keep(&good, 1, PACKET_OUTGOING), "the outgoing copy");
        assert!(!keep(&v4(6, 5, 0, 51234, 8001), 1, 0), "another port");
        assert!(!keep(&v4(1, 5, 0, 51234, 8000), 1, 0), "ICMP");
        assert!(
            !keep(&v4(6, 5, 0x0010, 51234, 8000), 1, 0),
            "a later fragment"
        );
        assert!(!keep(&v6(58, 51234, 8000), 1, 0), "ICMPv6");
        assert!(!keep(&v6(6, 1, 2), 1, 0), "IPv6, another port");
        assert!(!keep(&eth(0x0806, &[0u8; 28]), 1, 0), "ARP");
        assert!(!keep(&[0u8; 10], 1, 0), "a runt");
    }
}
