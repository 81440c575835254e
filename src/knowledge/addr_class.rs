//! What kind of address an IP is: loopback, private, link-local, documentation, …
//!
//! Table-driven from the IANA special-purpose address registries (RFC 6890 and its updates):
//! each row is a block, its class, the RFC that defines it and one sentence a developer can act
//! on. Lookup is longest-prefix match, so `0.0.0.0/32` wins over `0.0.0.0/8`. Also here:
//! [`exposure`], the question every listener raises — who can reach it?

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

/// Source of the address-block facts.
pub const ADDR_SOURCE: &str = "IANA IPv4/IPv6 Special-Purpose Address Registries (RFC 6890)";

/// The class of an address block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AddrClass {
    /// 127.0.0.0/8, ::1: never leaves this host.
    Loopback,
    /// 0.0.0.0, ::: "any address" when listening.
    Unspecified,
    /// RFC 1918 private IPv4 (10/8, 172.16/12, 192.168/16).
    Private,
    /// 169.254/16, fe80::/10: valid on one link only.
    LinkLocal,
    /// 100.64/10, shared address space for carrier-grade NAT.
    Cgnat,
    /// 224/4, ff00::/8.
    Multicast,
    /// 255.255.255.255, the limited broadcast address.
    Broadcast,
    /// Blocks reserved for examples in documentation (192.0.2/24, 2001:db8::/32, …).
    Documentation,
    /// Blocks reserved for benchmarking (198.18/15, 2001:2::/48).
    Benchmarking,
    /// fc00::/7, IPv6 unique local addresses.
    UniqueLocal,
    /// ::ffff:0:0/96, an IPv4 address carried in an IPv6 socket.
    Ipv4Mapped,
    /// 64:ff9b::/96 and 64:ff9b:1::/48, IPv4 hosts reached through NAT64.
    Nat64,
    /// Any other special-purpose or unallocated block.
    Reserved,
    /// None of the above: a globally routable address.
    Public,
}

impl AddrClass {
    /// Short phrase for prose: "loopback", "carrier-grade NAT shared space", …
    pub fn label(self) -> &'static str {
        match self {
            AddrClass::Loopback => "loopback",
            AddrClass::Unspecified => "the unspecified (wildcard) address",
            AddrClass::Private => "private",
            AddrClass::LinkLocal => "link-local",
            AddrClass::Cgnat => "carrier-grade NAT shared space",
            AddrClass::Multicast => "multicast",
            AddrClass::Broadcast => "broadcast",
            AddrClass::Documentation => "reserved for documentation",
            AddrClass::Benchmarking => "reserved for benchmarking",
            AddrClass::UniqueLocal => "IPv6 unique local",
            AddrClass::Ipv4Mapped => "an IPv4-mapped IPv6 address",
            AddrClass::Nat64 => "NAT64",
            AddrClass::Reserved => "reserved",
            AddrClass::Public => "public (globally routable)",
        }
    }
}

/// What the registries say about one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AddrInfo {
    /// The class of the block the address is in.
    pub class: AddrClass,
    /// The block in CIDR notation (`127.0.0.0/8`); empty for a public IPv4 address.
    pub block: &'static str,
    /// The RFC defining the block (`RFC 1122`); empty for a public IPv4 address.
    pub rfc: &'static str,
    /// One sentence for a developer about what the address means.
    pub meaning: &'static str,
    /// For [`AddrClass::Ipv4Mapped`]: the class of the embedded IPv4 address
    /// (get the address itself with [`Ipv6Addr::to_ipv4_mapped`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapped: Option<AddrClass>,
}

/// One row of a block table: network bits, prefix length, and what it means.
struct Block<T> {
    net: T,
    len: u8,
    class: AddrClass,
    block: &'static str,
    rfc: &'static str,
    meaning: &'static str,
}

const fn v4(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from_be_bytes([a, b, c, d])
}

#[rustfmt::skip]
static V4_BLOCKS: &[Block<u32>] = &[
    Block { net: v4(0, 0, 0, 0), len: 32, class: AddrClass::Unspecified, block: "0.0.0.0/32", rfc: "RFC 1122",
        meaning: "The unspecified address: a socket listening on it accepts connections on every local IPv4 address (all interfaces)." },
    Block { net: v4(0, 0, 0, 0), len: 8, class: AddrClass::Reserved, block: "0.0.0.0/8", rfc: "RFC 1122",
        meaning: "\"This network\": valid only as a source address while a host configures itself, never as a destination." },
    Block { net: v4(10, 0, 0, 0), len: 8, class: AddrClass::Private, block: "10.0.0.0/8", rfc: "RFC 1918",
        meaning: "Private address: reachable inside a LAN, VPN or container network, never routed on the internet." },
    Block { net: v4(100, 64, 0, 0), len: 10, class: AddrClass::Cgnat, block: "100.64.0.0/10", rfc: "RFC 6598",
        meaning: "Shared address space for carrier-grade NAT (also used by overlay VPNs such as Tailscale); not routed on the internet." },
    Block { net: v4(127, 0, 0, 0), len: 8, class: AddrClass::Loopback, block: "127.0.0.0/8", rfc: "RFC 1122",
        meaning: "all of 127.0.0.0/8 stays on this host, and each address is distinct: a server on 127.0.0.2 is not reachable at 127.0.0.1." },
    Block { net: v4(169, 254, 0, 0), len: 16, class: AddrClass::LinkLocal, block: "169.254.0.0/16", rfc: "RFC 3927",
        meaning: "Link-local: self-assigned when DHCP fails, valid on one network segment only; cloud metadata services also live here (169.254.169.254)." },
    Block { net: v4(172, 16, 0, 0), len: 12, class: AddrClass::Private, block: "172.16.0.0/12", rfc: "RFC 1918",
        meaning: "Private address: reachable inside a LAN, VPN or container network (Docker's default bridge is 172.17.0.0/16), never routed on the internet." },
    Block { net: v4(192, 0, 0, 0), len: 24, class: AddrClass::Reserved, block: "192.0.0.0/24", rfc: "RFC 6890",
        meaning: "IETF protocol assignments: special-purpose addresses, not an ordinary host address." },
    Block { net: v4(192, 0, 2, 0), len: 24, class: AddrClass::Documentation, block: "192.0.2.0/24", rfc: "RFC 5737",
        meaning: "Documentation (TEST-NET-1): reserved for examples; no real host has this address." },
    Block { net: v4(192, 168, 0, 0), len: 16, class: AddrClass::Private, block: "192.168.0.0/16", rfc: "RFC 1918",
        meaning: "Private address: reachable inside a LAN, VPN or container network, never routed on the internet." },
    Block { net: v4(198, 18, 0, 0), len: 15, class: AddrClass::Benchmarking, block: "198.18.0.0/15", rfc: "RFC 2544",
        meaning: "reserved for network device testing, not for production hosts." },
    Block { net: v4(198, 51, 100, 0), len: 24, class: AddrClass::Documentation, block: "198.51.100.0/24", rfc: "RFC 5737",
        meaning: "Documentation (TEST-NET-2): reserved for examples; no real host has this address." },
    Block { net: v4(203, 0, 113, 0), len: 24, class: AddrClass::Documentation, block: "203.0.113.0/24", rfc: "RFC 5737",
        meaning: "Documentation (TEST-NET-3): reserved for examples; no real host has this address." },
    Block { net: v4(224, 0, 0, 0), len: 4, class: AddrClass::Multicast, block: "224.0.0.0/4", rfc: "RFC 5771",
        meaning: "Multicast group: UDP sockets join it to receive group traffic (mDNS uses 224.0.0.251, SSDP 239.255.255.250)." },
    Block { net: v4(240, 0, 0, 0), len: 4, class: AddrClass::Reserved, block: "240.0.0.0/4", rfc: "RFC 1112",
        meaning: "Reserved for future use (former class E): not usable as an ordinary host address." },
    Block { net: v4(255, 255, 255, 255), len: 32, class: AddrClass::Broadcast, block: "255.255.255.255/32", rfc: "RFC 919",
        meaning: "Limited broadcast: every host on the local segment; routers never forward it." },
];

/// A public IPv4 address: in no special block.
const V4_PUBLIC: AddrInfo = AddrInfo {
    class: AddrClass::Public,
    block: "",
    rfc: "",
    meaning: "Public address: in no special-purpose block, so globally routable; reachable from \
              outside unless a firewall or NAT stops it.",
    mapped: None,
};

const fn v6(s: [u16; 8]) -> u128 {
    Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]).to_bits()
}

#[rustfmt::skip]
static V6_BLOCKS: &[Block<u128>] = &[
    Block { net: 0, len: 0, class: AddrClass::Reserved, block: "::/0", rfc: "RFC 4291",
        meaning: "Outside 2000::/3 and every special block: space the IETF has not allocated; no ordinary host uses it." },
    Block { net: 0, len: 128, class: AddrClass::Unspecified, block: "::/128", rfc: "RFC 4291",
        meaning: "The unspecified address: a socket listening on it accepts connections on every local IPv6 address, and on Linux also IPv4 unless IPV6_V6ONLY (net.ipv6.bindv6only) is set." },
    Block { net: 1, len: 128, class: AddrClass::Loopback, block: "::1/128", rfc: "RFC 4291",
        meaning: "IPv6 loopback: only this host can connect; a client dialing 127.0.0.1 does not reach a server listening on ::1 only, and `localhost` may resolve to either." },
    Block { net: 0, len: 8, class: AddrClass::Reserved, block: "::/8", rfc: "RFC 4291",
        meaning: "Reserved by the IETF (includes the deprecated IPv4-compatible addresses); not an ordinary host address." },
    Block { net: v6([0, 0, 0, 0, 0, 0xffff, 0, 0]), len: 96, class: AddrClass::Ipv4Mapped, block: "::ffff:0:0/96", rfc: "RFC 4291",
        meaning: "IPv4-mapped: an IPv4 address seen through a dual-stack IPv6 socket; the peer really used IPv4." },
    Block { net: v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0]), len: 96, class: AddrClass::Nat64, block: "64:ff9b::/96", rfc: "RFC 6052",
        meaning: "Well-known NAT64 prefix: an IPv4 host reached through a NAT64 gateway (the last 32 bits are its IPv4 address)." },
    Block { net: v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0]), len: 48, class: AddrClass::Nat64, block: "64:ff9b:1::/48", rfc: "RFC 8215",
        meaning: "Local-use NAT64 prefix: an IPv4 host reached through this network's own translator." },
    Block { net: v6([0x100, 0, 0, 0, 0, 0, 0, 0]), len: 64, class: AddrClass::Reserved, block: "100::/64", rfc: "RFC 6666",
        meaning: "Discard-only prefix: traffic to it is dropped on purpose (remote-triggered black hole)." },
    Block { net: v6([0x2000, 0, 0, 0, 0, 0, 0, 0]), len: 3, class: AddrClass::Public, block: "2000::/3", rfc: "RFC 4291",
        meaning: "Global unicast: a public IPv6 address, reachable from outside unless a firewall stops it (IPv6 usually has no NAT)." },
    Block { net: v6([0x2001, 2, 0, 0, 0, 0, 0, 0]), len: 48, class: AddrClass::Benchmarking, block: "2001:2::/48", rfc: "RFC 5180",
        meaning: "reserved for network device testing, not for production hosts." },
    Block { net: v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0]), len: 32, class: AddrClass::Documentation, block: "2001:db8::/32", rfc: "RFC 3849",
        meaning: "reserved for examples; no real host has this address." },
    Block { net: v6([0x3fff, 0, 0, 0, 0, 0, 0, 0]), len: 20, class: AddrClass::Documentation, block: "3fff::/20", rfc: "RFC 9637",
        meaning: "reserved for examples; no real host has this address." },
    Block { net: v6([0xfc00, 0, 0, 0, 0, 0, 0, 0]), len: 7, class: AddrClass::UniqueLocal, block: "fc00::/7", rfc: "RFC 4193",
        meaning: "Unique local address: the IPv6 counterpart of private IPv4 ranges, never routed on the internet." },
    Block { net: v6([0xfe80, 0, 0, 0, 0, 0, 0, 0]), len: 10, class: AddrClass::LinkLocal, block: "fe80::/10", rfc: "RFC 4291",
        meaning: "Link-local: every IPv6 interface has one; valid on one link only, so it needs an interface (fe80::1%eth0)." },
    Block { net: v6([0xff00, 0, 0, 0, 0, 0, 0, 0]), len: 8, class: AddrClass::Multicast, block: "ff00::/8", rfc: "RFC 4291",
        meaning: "Multicast group: UDP sockets join it to receive group traffic (mDNS uses ff02::fb)." },
];

/// True when the top `len` bits of `addr` equal those of `net` (`bits` = 32 or 128).
fn in_block<T>(addr: T, net: T, len: u8, bits: u32) -> bool
where
    T: Copy + std::ops::Shr<u32, Output = T> + PartialEq,
{
    let shift = bits - u32::from(len);
    if shift >= bits {
        return true; // /0 matches everything (and avoids an overflowing shift)
    }
    (addr >> shift) == (net >> shift)
}

/// The most specific block in `table` that contains `addr`.
fn longest_match<T>(table: &'static [Block<T>], addr: T, bits: u32) -> Option<&'static Block<T>>
where
    T: Copy + std::ops::Shr<u32, Output = T> + PartialEq,
{
    table
        .iter()
        .filter(|b| in_block(addr, b.net, b.len, bits))
        .max_by_key(|b| b.len)
}

fn info<T>(b: &Block<T>) -> AddrInfo {
    AddrInfo {
        class: b.class,
        block: b.block,
        rfc: b.rfc,
        meaning: b.meaning,
        mapped: None,
    }
}

fn classify_v4(addr: Ipv4Addr) -> AddrInfo {
    longest_match(V4_BLOCKS, addr.to_bits(), 32).map_or(V4_PUBLIC, info)
}

fn classify_v6(addr: Ipv6Addr) -> AddrInfo {
    // The v6 table has a ::/0 row, so a match always exists; V4_PUBLIC is unreachable.
    let mut found = longest_match(V6_BLOCKS, addr.to_bits(), 128).map_or(V4_PUBLIC, info);
    if found.class == AddrClass::Ipv4Mapped {
        found.mapped = addr.to_ipv4_mapped().map(|v4| classify_v4(v4).class);
    }
    found
}

/// Classify an address by the special-purpose block it belongs to (longest prefix wins).
pub fn classify(addr: IpAddr) -> AddrInfo {
    match addr {
        IpAddr::V4(a) => classify_v4(a),
        IpAddr::V6(a) => classify_v6(a),
    }
}

/// Whether a dual-stack socket (`IPV6_V6ONLY` unset, the Linux default) bound to `bound`
/// receives traffic addressed to `wanted`: [`receives`] with `v6only` false.
pub fn receives_for(bound: IpAddr, wanted: IpAddr) -> bool {
    receives(bound, false, wanted)
}

/// Whether a socket bound to `bound` receives traffic addressed to `wanted`: the same
/// address, the wildcard of its family, or — for an IPv6 socket without `IPV6_V6ONLY`
/// (`v6only`, which the kernel reports per socket) — the IPv4 address through the IPv6
/// wildcard or its v4-mapped form. An IPv6-only socket never receives IPv4.
pub fn receives(bound: IpAddr, v6only: bool, wanted: IpAddr) -> bool {
    match (bound, wanted) {
        _ if bound == wanted => true,
        (IpAddr::V4(b), IpAddr::V4(_)) => b.is_unspecified(),
        (IpAddr::V6(b), IpAddr::V6(_)) => b.is_unspecified(),
        (IpAddr::V6(_), IpAddr::V4(_)) if v6only => false,
        (IpAddr::V6(b), IpAddr::V4(w)) => b.is_unspecified() || b.to_ipv4_mapped() == Some(w),
        (IpAddr::V4(_), IpAddr::V6(_)) => false,
    }
}

/// Whether `ip` is a loopback address, the v4-mapped form (`::ffff:127.0.0.1`) included.
pub fn is_loopback(ip: IpAddr) -> bool {
    exposure(ip) == Exposure::Loopback
}

/// Who can reach a socket listening on a given local address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exposure {
    /// Bound to a loopback address: only processes on this host (and in this network namespace).
    Loopback,
    /// Bound to `0.0.0.0` or `::`: every interface, so anything that can route here.
    AllInterfaces,
    /// Bound to one specific non-loopback address: whoever can reach that address.
    Specific,
}

impl Exposure {
    /// Short phrase for tables: "loopback only", "all interfaces", "this address only".
    pub fn label(self) -> &'static str {
        match self {
            Exposure::Loopback => "loopback only",
            Exposure::AllInterfaces => "all interfaces",
            Exposure::Specific => "this address only",
        }
    }
}

/// Exposure of a listener bound to `listen_addr`. `0.0.0.0` and `::` are all interfaces (whether
/// `::` also takes IPv4 depends on `IPV6_V6ONLY`, which `sys` reports); 127.0.0.0/8, `::1` and
/// v4-mapped loopback are loopback; anything else is that address only.
pub fn exposure(listen_addr: IpAddr) -> Exposure {
    match listen_addr {
        IpAddr::V4(a) if a.is_unspecified() => Exposure::AllInterfaces,
        IpAddr::V4(a) if a.is_loopback() => Exposure::Loopback,
        IpAddr::V4(_) => Exposure::Specific,
        IpAddr::V6(a) if a.is_unspecified() => Exposure::AllInterfaces,
        IpAddr::V6(a) if a.is_loopback() => Exposure::Loopback,
        IpAddr::V6(a) => a
            .to_ipv4_mapped()
            .map_or(Exposure::Specific, |v4| exposure(IpAddr::V4(v4))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn class(s: &str) -> AddrClass {
        classify(ip(s)).class
    }

    #[test]
    fn ipv4_classes() {
        let cases = [
            ("0.0.0.0", AddrClass::Unspecified),
            ("0.1.2.3", AddrClass::Reserved),
            ("10.1.2.3", AddrClass::Private),
            ("100.64.1.1", AddrClass::Cgnat),
            ("100.127.255.255", AddrClass::Cgnat),
            ("100.128.0.1", AddrClass::Public),
            ("127.0.0.1", AddrClass::Loopback),
            ("127.0.0.2", AddrClass::Loopback),
            ("127.255.255.254", AddrClass::Loopback),
            ("169.254.169.254", AddrClass::LinkLocal),
            ("172.15.255.255", AddrClass::Public),
            ("172.17.0.1", AddrClass::Private),
            ("172.31.255.255", AddrClass::Private),
            ("172.32.0.0", AddrClass::Public),
            ("192.0.0.8", AddrClass::Reserved),
            ("192.0.2.10", AddrClass::Documentation),
            ("192.168.1.1", AddrClass::Private),
            ("198.18.0.1", AddrClass::Benchmarking),
            ("198.19.255.255", AddrClass::Benchmarking),
            ("198.20.0.1", AddrClass::Public),
            ("198.51.100.7", AddrClass::Documentation),
            ("203.0.113.5", AddrClass::Documentation),
            ("224.0.0.251", AddrClass::Multicast),
            ("239.255.255.250", AddrClass::Multicast),
            ("240.0.0.1", AddrClass::Reserved),
            ("255.255.255.254", AddrClass::Reserved),
            ("255.255.255.255", AddrClass::Broadcast),
            ("8.8.8.8", AddrClass::Public),
            ("1.1.1.1", AddrClass::Public),
        ];
        for (addr, want) in cases {
            assert_eq!(class(addr), want, "{addr}");
        }
    }

    #[test]
    fn ipv6_classes() {
        let cases = [
            ("::", AddrClass::Unspecified),
            ("::1", AddrClass::Loopback),
            ("::2", AddrClass::Reserved),
            ("::ffff:127.0.0.1", AddrClass::Ipv4Mapped),
            ("64:ff9b::1.2.3.4", AddrClass::Nat64),
            ("64:ff9b:1::1", AddrClass::Nat64),
            ("100::1", AddrClass::Reserved),
            ("2001:2::1", AddrClass::Benchmarking),
            ("2001:db8::1", AddrClass::Documentation),
            ("3fff:fff::1", AddrClass::Documentation),
            ("2606:4700:4700::1111", AddrClass::Public),
            ("fd12:3456::1", AddrClass::UniqueLocal),
            ("fc00::1", AddrClass::UniqueLocal),
            ("fe80::1", AddrClass::LinkLocal),
            ("febf::1", AddrClass::LinkLocal),
            ("fec0::1", AddrClass::Reserved),
            ("ff02::fb", AddrClass::Multicast),
            ("4000::1", AddrClass::Reserved),
        ];
        for (addr, want) in cases {
            assert_eq!(class(addr), want, "{addr}");
        }
    }

    #[test]
    fn details_carry_block_and_rfc() {
        let lo = classify(ip("127.0.0.2"));
        assert_eq!((lo.block, lo.rfc), ("127.0.0.0/8", "RFC 1122"));
        assert!(lo.meaning.contains("127.0.0.2"));
        let any = classify(ip("0.0.0.0"));
        assert_eq!(any.block, "0.0.0.0/32");
        let cgnat = classify(ip("100.64.1.1"));
        assert_eq!((cgnat.block, cgnat.rfc), ("100.64.0.0/10", "RFC 6598"));
        assert_eq!(classify(ip("8.8.8.8")).block, "");
        assert_eq!(cgnat.class.label(), "carrier-grade NAT shared space");
    }

    #[test]
    fn mapped_addresses_carry_their_ipv4_class() {
        let m = classify(ip("::ffff:127.0.0.1"));
        assert_eq!(m.mapped, Some(AddrClass::Loopback));
        let p = classify(ip("::ffff:192.168.0.4"));
        assert_eq!(p.mapped, Some(AddrClass::Private));
        assert_eq!(classify(ip("::1")).mapped, None);
    }

    #[test]
    fn serialises_snake_case() {
        let json = serde_json::to_value(classify(ip("::ffff:10.0.0.1"))).ok();
        let class = json.as_ref().and_then(|j| j.get("class")?.as_str());
        assert_eq!(class, Some("ipv4_mapped"));
        let mapped = json.as_ref().and_then(|j| j.get("mapped")?.as_str());
        assert_eq!(mapped, Some("private"));
        let json = serde_json::to_value(classify(ip("fd00::1"))).ok();
        assert_eq!(
            json.as_ref().and_then(|j| j.get("class")?.as_str()),
            Some("unique_local")
        );
        assert!(json.as_ref().is_some_and(|j| j.get("mapped").is_none()));
    }

    #[test]
    fn an_ipv6_only_wildcard_never_receives_ipv4() {
        let any6 = ip("::");
        assert!(receives(any6, false, ip("127.0.0.1")));
        assert!(!receives(any6, true, ip("127.0.0.1")));
        assert!(!receives(any6, true, ip("192.168.1.20")));
        assert!(receives(any6, true, ip("::1")));
        assert!(receives(ip("::1"), true, ip("::1")));
        assert!(receives(ip("0.0.0.0"), true, ip("10.0.0.1")));
        assert!(!receives(ip("0.0.0.0"), false, ip("::1")));
        assert!(receives_for(ip("::ffff:127.0.0.1"), ip("127.0.0.1")));
        assert!(!receives(ip("::ffff:127.0.0.1"), true, ip("127.0.0.1")));
    }

    #[test]
    fn loopback_includes_the_mapped_form() {
        assert!(is_loopback(ip("127.0.0.2")));
        assert!(is_loopback(ip("::1")));
        assert!(is_loopback(ip("::ffff:127.0.0.1")));
        assert!(!is_loopback(ip("172.17.0.1")));
        assert!(!is_loopback(ip("192.168.1.20")));
        assert!(!is_loopback(ip("0.0.0.0")));
        assert!(!is_loopback(ip("::")));
    }

    #[test]
    fn exposure_of_listeners() {
        assert_eq!(exposure(ip("0.0.0.0")), Exposure::AllInterfaces);
        assert_eq!(exposure(ip("::")), Exposure::AllInterfaces);
        assert_eq!(exposure(ip("127.0.0.1")), Exposure::Loopback);
        assert_eq!(exposure(ip("127.0.0.53")), Exposure::Loopback);
        assert_eq!(exposure(ip("::1")), Exposure::Loopback);
        assert_eq!(exposure(ip("::ffff:127.0.0.1")), Exposure::Loopback);
        assert_eq!(exposure(ip("192.168.1.20")), Exposure::Specific);
        assert_eq!(exposure(ip("fe80::1")), Exposure::Specific);
        assert_eq!(Exposure::AllInterfaces.label(), "all interfaces");
        assert_eq!(
            serde_json::to_string(&Exposure::AllInterfaces)
                .ok()
                .as_deref(),
            Some("\"all_interfaces\"")
        );
    }

    #[test]
    fn tables_are_well_formed() {
        for b in V4_BLOCKS {
            assert!(b.len <= 32 && b.block.ends_with(&format!("/{}", b.len)));
            // Host bits must be zero.
            assert_eq!(
                b.net.checked_shl(u32::from(b.len)).unwrap_or(0),
                0,
                "{}",
                b.block
            );
        }
        for b in V6_BLOCKS {
            assert!(b.len <= 128 && b.block.ends_with(&format!("/{}", b.len)));
            assert_eq!(
                b.net.checked_shl(u32::from(b.len)).unwrap_or(0),
                0,
                "{}",
                b.block
            );
        }
    }
}
