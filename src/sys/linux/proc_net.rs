//! Fallback socket source: the `/proc/net/{tcp,tcp6,udp,udp6,unix}` text tables, for kernels or
//! sandboxes where `NETLINK_SOCK_DIAG` is refused. Slower than netlink and poorer (no kernel-side
//! filtering, no interface index, no uid or peer for unix sockets) but it yields the same
//! [`Socket`] values, so nothing above `sys` has to know which source answered.
//!
//! The parsers are pure functions over the text, tested on fixtures; the file reading is thin.
//! This module also holds what both sources share: building a [`Socket`] and applying a
//! [`SocketQuery`] in userspace. Its tests cross-check netlink against `/proc/net` and `ss`.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{Error, Result};
use crate::model::{Endpoint, Family, Proto, SockState, Socket};
use crate::sys::SocketQuery;

/// Bits of TCP_SYN_RECV (3) and TCP_NEW_SYN_RECV (12): the kernel reports request sockets as
/// SYN_RECV, so a mask naming either state means both.
const SYN_RECV_BITS: u32 = (1 << 3) | (1 << 12);
/// `__SO_ACCEPTCON` in the Flags column of `/proc/net/unix`: the socket is listening.
const UNIX_ACCEPTCON: u32 = 0x0001_0000;

/// Dump sockets from `/proc/net/*` instead of netlink, applying the whole query in userspace.
///
/// This is what [`super::sock_diag::dump`] falls back to when the netlink socket cannot be
/// created; it is public so that tests and `doctor` can compare both sources. Differences from
/// netlink: `ifindex` is always `None`; a TCP listener's `send_q` is 0 (netlink reports the
/// backlog); unix sockets have `uid = u32::MAX` (unknown), no `peer_inode` and no queues.
pub fn dump_proc_net(q: &SocketQuery) -> Result<Vec<Socket>> {
    let mut out = Vec::new();
    for (proto, family) in inet_tables(q) {
        read_inet(proto, family, &mut out)?;
    }
    if q.unix {
        read_unix(&mut out)?;
    }
    out.retain(|s| wanted(q, s));
    Ok(out)
}

/// The (protocol, family) tables `q` selects, in dump order.
pub(super) fn inet_tables(q: &SocketQuery) -> impl Iterator<Item = (Proto, Family)> + use<> {
    let protos = [(Proto::Tcp, q.tcp), (Proto::Udp, q.udp)];
    let families = [(Family::Ipv4, q.ipv4), (Family::Ipv6, q.ipv6)];
    protos.into_iter().filter(|p| p.1).flat_map(move |(p, _)| {
        families
            .into_iter()
            .filter(|f| f.1)
            .map(move |(f, _)| (p, f))
    })
}

/// Whether `s` satisfies the query's state mask and port range (the userspace safety net for
/// what the kernel already filtered, and the only filter on the `/proc/net` path).
pub(super) fn wanted(q: &SocketQuery, s: &Socket) -> bool {
    let bit = 1u32 << s.state.kernel_number();
    if state_mask(q.states) & bit == 0 {
        return false;
    }
    match (q.port_range, &s.local) {
        (Some((lo, hi)), Endpoint::Inet { port, .. }) => {
            let dport = s.remote.as_ref().and_then(Endpoint::port).unwrap_or(0);
            (lo..=hi).contains(port) || (lo..=hi).contains(&dport)
        }
        _ => true,
    }
}

/// The remote end as the model wants it: `None` for "unspecified address, port 0".
pub(super) fn inet_remote(addr: IpAddr, port: u16) -> Option<Endpoint> {
    (port != 0 || !addr.is_unspecified()).then(|| Endpoint::inet(addr, port))
}

/// A socket with the identity fields set; uid unknown (`u32::MAX`), empty queues, no owner.
pub(super) fn new_socket(proto: Proto, family: Family, state: u8, local: Endpoint) -> Socket {
    Socket {
        proto,
        family,
        state: SockState::from_kernel(state),
        local,
        remote: None,
        inode: 0,
        peer_inode: None,
        uid: u32::MAX,
        recv_q: 0,
        send_q: 0,
        netns: None,
        pids: Vec::new(),
        owner_hidden: false,
        ownerless: false,
    }
}

/// The kernel state mask for `states`, with SYN_RECV and NEW_SYN_RECV standing for each other.
pub(super) fn state_mask(states: u32) -> u32 {
    if states & SYN_RECV_BITS != 0 {
        states | SYN_RECV_BITS
    } else {
        states
    }
}

/// Append every socket of one `/proc/net` inet table (unfiltered).
pub(super) fn read_inet(proto: Proto, family: Family, out: &mut Vec<Socket>) -> Result<()> {
    let path = match (proto, family) {
        (Proto::Tcp, Family::Ipv6) => "/proc/net/tcp6",
        (Proto::Udp, Family::Ipv4) => "/proc/net/udp",
        (Proto::Udp, Family::Ipv6) => "/proc/net/udp6",
        _ => "/proc/net/tcp",
    };
    if let Some(text) = read_table(path)? {
        out.extend(parse_inet(&text, proto, family));
    }
    Ok(())
}

/// Append every socket of `/proc/net/unix` (unfiltered).
pub(super) fn read_unix(out: &mut Vec<Socket>) -> Result<()> {
    if let Some(text) = read_table("/proc/net/unix")? {
        out.extend(parse_unix(&text));
    }
    Ok(())
}

/// Read a table; a missing file (IPv6 disabled, no unix support) means "no sockets".
fn read_table(path: &str) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(format!("reading {path}"), e)),
    }
}

/// Parse `/proc/net/tcp`, `tcp6`, `udp` or `udp6` text into sockets of `proto` and `family`.
///
/// Addresses are hex words in host byte order (`0100007F` is 127.0.0.1 on little-endian),
/// ports plain hex. The header line and any line that does not parse are skipped.
pub fn parse_inet(text: &str, proto: Proto, family: Family) -> Vec<Socket> {
    text.lines()
        .skip(1)
        .filter_map(|line| parse_inet_line(line, proto, family))
        .collect()
}

/// One row: `sl local rem st tx:rx tr:when retrnsmt uid timeout inode …`.
fn parse_inet_line(line: &str, proto: Proto, family: Family) -> Option<Socket> {
    let mut f = line.split_ascii_whitespace();
    let _sl = f.next()?;
    let (laddr, lport) = parse_hex_endpoint(f.next()?)?;
    let (raddr, rport) = parse_hex_endpoint(f.next()?)?;
    let state = u8::from_str_radix(f.next()?, 16).ok()?;
    let (tx, rx) = f.next()?.split_once(':')?;
    Some(Socket {
        remote: inet_remote(raddr, rport),
        uid: f.nth(2)?.parse().ok()?,
        inode: f.nth(1)?.parse().ok()?,
        recv_q: u32::from_str_radix(rx, 16).ok()?,
        send_q: u32::from_str_radix(tx, 16).ok()?,
        ..new_socket(proto, family, state, Endpoint::inet(laddr, lport))
    })
}

/// Seconds until the last TIME_WAIT socket with local port `port` expires, from
/// `/proc/net/tcp*` text: such rows carry timer 3 and `tm->when` in clock ticks (USER_HZ, 100).
pub fn time_wait_remaining(text: &str, port: u16) -> Option<f64> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let mut f = line.split_ascii_whitespace();
            let (_, lport) = parse_hex_endpoint(f.nth(1)?)?;
            let state = u8::from_str_radix(f.nth(1)?, 16).ok()?;
            let (timer, when) = f.nth(1)?.split_once(':')?;
            (lport == port && state == 6 && timer == "03")
                .then(|| u64::from_str_radix(when, 16).ok())
                .flatten()
        })
        .max()
        .map(|ticks| ticks as f64 / 100.0)
}

/// Read [`time_wait_remaining`] from this namespace's `/proc/net/tcp` and `tcp6`.
pub fn read_time_wait_remaining(port: u16) -> Option<f64> {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|t| time_wait_remaining(&t, port))
        .reduce(f64::max)
}

/// `0100007F:1F90` → (127.0.0.1, 8080); 32 hex digits for IPv6.
fn parse_hex_endpoint(text: &str) -> Option<(IpAddr, u16)> {
    let (addr, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let addr = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from(hex_word(addr)?)),
        32 => {
            let mut octets = [0u8; 16];
            for (i, chunk) in octets.chunks_exact_mut(4).enumerate() {
                chunk.copy_from_slice(&hex_word(addr.get(i * 8..i * 8 + 8)?)?);
            }
            IpAddr::V6(Ipv6Addr::from(octets))
        }
        _ => return None,
    };
    Some((addr, port))
}

/// Eight hex digits printed from a `__be32` read as a host integer → the bytes in memory order.
fn hex_word(text: &str) -> Option<[u8; 4]> {
    u32::from_str_radix(text, 16).ok().map(u32::to_ne_bytes)
}

/// Parse `/proc/net/unix` text: `Num RefCount Protocol Flags Type St Inode [Path]`.
///
/// Abstract names appear as `@name` (the kernel prints NUL bytes as `@`), unnamed sockets get
/// an empty path. The state is `Listen` when the Flags say so, `Established` for a connected
/// (or connecting) socket, `Close` otherwise. uid is `u32::MAX` (not in this file).
pub fn parse_unix(text: &str) -> Vec<Socket> {
    text.lines().skip(1).filter_map(parse_unix_line).collect()
}

fn parse_unix_line(line: &str) -> Option<Socket> {
    let mut rest = line;
    let mut fields = [""; 7];
    for field in &mut fields {
        rest = rest.trim_start_matches(' ');
        let end = rest.find(' ').unwrap_or(rest.len());
        (*field, rest) = rest.split_at(end);
    }
    let [_num, _refs, _proto, flags, _kind, st, inode] = fields;
    let flags = u32::from_str_radix(flags, 16).ok()?;
    let state = match u8::from_str_radix(st, 16).ok()? {
        _ if flags & UNIX_ACCEPTCON != 0 => SockState::Listen,
        2 | 3 => SockState::Established,
        _ => SockState::Close,
    };
    let path = rest.strip_prefix(' ').unwrap_or(rest).to_owned();
    Some(Socket {
        inode: inode.parse().ok()?,
        ..new_socket(
            Proto::Unix,
            Family::Unix,
            state.kernel_number(),
            Endpoint::Unix { path },
        )
    })
}

#[cfg(test)]
mod time_wait_tests {
    #[test]
    fn reads_the_time_wait_timer() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 0100007F:C350 06 00000000:00000000 03:00000FA0 00000000     0        0 0 3 0000000000000000\n   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1\n";
        assert_eq!(super::time_wait_remaining(text, 8080), Some(40.0));
        assert_eq!(super::time_wait_remaining(text, 8081), None);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(super) mod tests {
    use super::super::sock_diag::dump_netlink;
    use super::*;
    use std::collections::BTreeSet;
    use std::net::{TcpListener, TcpStream, UdpSocket};
    use std::os::fd::AsRawFd;
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};

    // Real lines (little-endian host), trimmed of trailing columns where they don't matter.
    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:07E8 00000000:0000 0A 00000000:00000003 00:00000000 00000000     0        0 547 1 000000003e0d2315 100 0 0 10 0
   1: 020200C0:E510 507100CB:01BB 01 0000001A:00000000 00:00000000 00000000  1000        0 10583 1 00000000942f39a2 20 4 1 92 -1
   2: 0100007F:9C40 0100007F:1F90 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000
garbage line
";
    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:A000 0000000000000000FFFF00000100007F:1F90 01 00000000:00000000 00:00000000 00000000    33        0 4343 1 0000000000000000 20 4 1 10 -1
   2: B80D0120000000000000000001000000:0035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 99 2 0000000000000000 0
";
    const UDP: &str = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  123: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 15000 2 0000000000000000 0
";
    const UNIX: &str = "Num       RefCount Protocol Flags    Type St Inode Path
00000000df59243b: 00000003 00000000 00000000 0001 03 10580
0000000097bd91db: 00000002 00000000 00010000 0001 01  9001 /run/my sock.sock
000000007d4fc85a: 00000002 00000000 00000000 0002 01   544 @abstract@name
0000000011111111: 00000003 00000000 00000000 0001 02   545
";

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_tcp_v4_fixture() {
        let socks = parse_inet(TCP, Proto::Tcp, Family::Ipv4);
        assert_eq!(socks.len(), 3, "header and garbage skipped");
        let l = &socks[0];
        assert_eq!(l.state, SockState::Listen);
        assert_eq!(l.local, Endpoint::inet(v4("0.0.0.0"), 2024));
        assert_eq!(l.remote, None);
        assert_eq!((l.inode, l.uid, l.recv_q, l.send_q), (547, 0, 3, 0));
        let e = &socks[1];
        assert_eq!(e.state, SockState::Established);
        assert_eq!(e.local, Endpoint::inet(v4("192.0.2.2"), 0xE510));
        assert_eq!(e.remote, Some(Endpoint::inet(v4("203.0.113.80"), 443)));
        assert_eq!((e.inode, e.uid, e.send_q), (10583, 1000, 0x1A));
        let tw = &socks[2];
        assert_eq!(tw.state, SockState::TimeWait);
        assert_eq!(tw.local, Endpoint::inet(v4("127.0.0.1"), 40000));
        assert_eq!(tw.remote, Some(Endpoint::inet(v4("127.0.0.1"), 8080)));
        assert_eq!(tw.inode, 0);
    }

    #[test]
    fn parses_tcp6_and_udp6_fixture() {
        let socks = parse_inet(TCP6, Proto::Tcp, Family::Ipv6);
        assert_eq!(socks.len(), 3);
        assert_eq!(socks[0].local, Endpoint::inet(v4("::1"), 8080));
        assert_eq!(socks[0].family, Family::Ipv6);
        assert_eq!(socks[0].remote, None);
        assert_eq!(
            socks[1].local,
            Endpoint::inet(v4("::ffff:127.0.0.1"), 0xA000)
        );
        assert_eq!(
            socks[1].remote,
            Some(Endpoint::inet(v4("::ffff:127.0.0.1"), 8080))
        );
        assert_eq!((socks[1].uid, socks[1].inode), (33, 4343));
        assert_eq!(socks[2].local, Endpoint::inet(v4("2001:db8::1"), 53));
        assert_eq!(socks[2].state, SockState::Close);
    }

    #[test]
    fn parses_udp_fixture() {
        let socks = parse_inet(UDP, Proto::Udp, Family::Ipv4);
        assert_eq!(socks.len(), 1);
        assert_eq!(socks[0].proto, Proto::Udp);
        assert_eq!(socks[0].local, Endpoint::inet(v4("127.0.0.53"), 53));
        assert_eq!(socks[0].state, SockState::Close);
        assert_eq!((socks[0].uid, socks[0].inode), (101, 15000));
    }

    #[test]
    fn parses_unix_fixture() {
        let socks = parse_unix(UNIX);
        let got: Vec<_> = socks
            .iter()
            .map(|s| (s.inode, s.state, s.local.to_string()))
            .collect();
        assert_eq!(
            got,
            [
                (10580, SockState::Established, "(unnamed)".to_owned()),
                (9001, SockState::Listen, "/run/my sock.sock".to_owned()),
                (544, SockState::Close, "@abstract@name".to_owned()),
                (545, SockState::Established, "(unnamed)".to_owned()),
            ]
        );
        assert!(
            socks
                .iter()
                .all(|s| s.uid == u32::MAX && s.family == Family::Unix)
        );
    }

    #[test]
    fn rejects_malformed_endpoints() {
        assert_eq!(parse_hex_endpoint("0100007F"), None);
        assert_eq!(parse_hex_endpoint("0100007:0050"), None);
        assert_eq!(parse_hex_endpoint("0100007F:XYZ0"), None);
        assert_eq!(
            parse_hex_endpoint("0100007F:0050"),
            Some((v4("127.0.0.1"), 80))
        );
    }

    // Helpers shared with the sock_diag tests.

    pub(in crate::sys::linux) fn inode_of(fd: &impl AsRawFd) -> u64 {
        let path = format!("/proc/self/fd/{}", fd.as_raw_fd());
        std::fs::metadata(path).unwrap().ino()
    }

    /// Listeners on 127.0.0.1 and ::1, a bound UDP socket, and a connected pair.
    pub(in crate::sys::linux) struct Fixture {
        pub l4: TcpListener,
        pub l6: TcpListener,
        pub udp: UdpSocket,
        pub client: TcpStream,
        pub server: TcpStream,
    }

    pub(in crate::sys::linux) fn fixture() -> Fixture {
        let l4 = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(l4.local_addr().unwrap()).unwrap();
        let (server, _) = l4.accept().unwrap();
        let l6 = TcpListener::bind("[::1]:0").unwrap();
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        Fixture {
            l4,
            l6,
            udp,
            client,
            server,
        }
    }

    pub(in crate::sys::linux) fn query(edit: impl FnOnce(&mut SocketQuery)) -> SocketQuery {
        let mut q = SocketQuery::default();
        edit(&mut q);
        q
    }

    type Key = (Proto, Endpoint, Option<Endpoint>, SockState, u64);

    /// What both sources must agree on, for the given inodes (ifindex dropped: /proc lacks it).
    fn keys(socks: &[Socket], inodes: &BTreeSet<u64>) -> BTreeSet<Key> {
        let strip = |e: &Endpoint| match e {
            Endpoint::Inet { addr, port, .. } => Endpoint::inet(*addr, *port),
            other => other.clone(),
        };
        let key = |s: &Socket| {
            let remote = s.remote.as_ref().filter(|_| s.proto != Proto::Unix);
            (
                s.proto,
                strip(&s.local),
                remote.map(strip),
                s.state,
                s.inode,
            )
        };
        socks
            .iter()
            .filter(|s| inodes.contains(&s.inode))
            .map(key)
            .collect()
    }

    #[test]
    fn proc_net_matches_netlink_for_own_sockets() {
        let f = fixture();
        let dual = TcpListener::bind("[::]:0").unwrap();
        let port = dual.local_addr().unwrap().port();
        let mapped_client = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (mapped, _) = dual.accept().unwrap();
        let path = std::env::temp_dir().join(format!("portscope-pn-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let ul = UnixListener::bind(&path).unwrap();
        let name = format!("portscope-pn-{}", std::process::id());
        let abs = UnixListener::bind_addr(&SocketAddr::from_abstract_name(&name).unwrap()).unwrap();
        let uc = UnixStream::connect(&path).unwrap();
        let (us, _) = ul.accept().unwrap();
        let inodes: BTreeSet<u64> = [
            inode_of(&f.l4),
            inode_of(&f.l6),
            inode_of(&f.udp),
            inode_of(&f.client),
            inode_of(&f.server),
            inode_of(&mapped),
            inode_of(&mapped_client),
            inode_of(&ul),
            inode_of(&abs),
            inode_of(&uc),
            inode_of(&us),
        ]
        .into();
        let q = query(|q| q.unix = true);
        let nl = dump_netlink(&q).unwrap();
        let pn = dump_proc_net(&q).unwrap();
        let _ = std::fs::remove_file(&path);
        let nl_keys = keys(&nl, &inodes);
        assert_eq!(nl_keys.len(), 11, "netlink sees all eleven: {nl_keys:?}");
        assert_eq!(nl_keys, keys(&pn, &inodes));
        // The accepted end of a v4 connection to a dual-stack listener stays IPv6, mapped.
        let m = nl.iter().find(|s| s.inode == inode_of(&mapped)).unwrap();
        let addr: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(
            (m.family, &m.local),
            (Family::Ipv6, &Endpoint::inet(addr, port))
        );
        let a = pn.iter().find(|s| s.inode == inode_of(&abs)).unwrap();
        assert_eq!(
            a.local,
            Endpoint::Unix {
                path: format!("@{name}")
            }
        );
    }

    /// `cargo test --release --lib time_full_tcp_dump -- --ignored --nocapture`
    #[test]
    #[ignore = "timing, run by hand"]
    fn time_full_tcp_dump() {
        let q = query(|q| q.udp = false);
        let time = |f: &dyn Fn() -> usize| {
            let mut runs: Vec<_> = (0..21)
                .map(|_| {
                    let t = std::time::Instant::now();
                    (f(), t.elapsed())
                })
                .collect();
            runs.sort_by_key(|r| r.1);
            runs[10]
        };
        let nl = time(&|| dump_netlink(&q).unwrap().len());
        let pn = time(&|| dump_proc_net(&q).unwrap().len());
        println!(
            "full TCP dump, median of 21: netlink {} sockets {:?}; /proc/net {} sockets {:?}",
            nl.0, nl.1, pn.0, pn.1
        );
    }
}
