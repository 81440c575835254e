//! Destination NAT rules that send a host port elsewhere: what publishes a container's port
//! when no program on the host holds it (Docker without its userland proxy, Podman's and
//! Kubernetes' CNI `portmap`, nerdctl). Read from `iptables-save -t nat` and
//! `ip6tables-save -t nat` (which show iptables-nft's tables too); the parser is a pure
//! function over their text.

use std::net::{IpAddr, SocketAddr};

use super::{Read, run};
use crate::model::Proto;

/// One `-j DNAT --to-destination` rule matching a destination port.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Dnat {
    /// The chain that holds it (`DOCKER`, `CNI-DN-…`, `KUBE-…`).
    pub chain: String,
    /// `tcp` or `udp`.
    pub proto: Proto,
    /// The destination address it matches (`-d 127.0.0.1/32`); `None`: any local address.
    pub host_ip: Option<IpAddr>,
    /// The destination port it matches.
    pub port: u16,
    /// Where it sends the connection (`172.17.0.2:80`); the port unchanged when the rule
    /// names only an address.
    pub to: SocketAddr,
    /// The rule as the tool prints it.
    pub rule: String,
}

/// The DNAT rules of both families' `nat` tables, read now (none when the tools are missing
/// or may not be run: reading the rules takes `CAP_NET_ADMIN`).
///
/// A family whose `nat` table the kernel says holds no rule is not asked (see
/// `may_have_rules`): the tool's run is ~1.5 ms of CPU beside every `ls`, taken from the fd
/// walk.
pub fn dnat_rules() -> Vec<Dnat> {
    let mut out = Vec::new();
    for (tool, ipv6) in [("iptables-save", false), ("ip6tables-save", true)] {
        if !may_have_rules(ipv6) {
            continue;
        }
        if let Read::Text(text) = run(tool, &["-t", "nat"]) {
            out.extend(parse_dnat(&text));
        }
    }
    out
}

/// Whether the IPv4 (or IPv6) `nat` table `iptables-save -t nat` reads may hold a rule:
/// `false` only when the kernel says it holds none — no legacy (x_tables) `nat` table is
/// loaded, and nf_tables' `nat` table of that family (iptables-nft's, which is what the tool
/// shows then) has no rule or does not exist. `true` whenever that cannot be told
/// (nf_tables answers only to `CAP_NET_ADMIN`).
fn may_have_rules(ipv6: bool) -> bool {
    let legacy = if ipv6 {
        "/proc/net/ip6_tables_names"
    } else {
        "/proc/net/ip_tables_names"
    };
    match std::fs::read_to_string(legacy) {
        Ok(names) if names.lines().any(|t| t.trim() == "nat") => return true,
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(_) => return true,
    }
    let family = if ipv6 { NFPROTO_IPV6 } else { NFPROTO_IPV4 };
    nft_has_rule(family, "nat").unwrap_or(true)
}

/// `NFNL_SUBSYS_NFTABLES` messages: get rules, and the answer's new-rule messages.
const NFT_MSG_GETRULE: u16 = 10 << 8 | 7;
const NFT_MSG_NEWRULE: u16 = 10 << 8 | 6;
/// `NFTA_RULE_TABLE`: the table whose rules a dump lists.
const NFTA_RULE_TABLE: u16 = 1;
const NFPROTO_IPV4: u8 = 2;
const NFPROTO_IPV6: u8 = 10;

/// Whether nf_tables' `table` of `family` holds a rule (a missing table holds none): the
/// first message of a rule dump answers it. `None` when the kernel could not be asked.
fn nft_has_rule(family: u8, table: &str) -> Option<bool> {
    use netlink_packet_core::{
        Emitable, NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NetlinkBuffer, NetlinkHeader,
    };
    use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_NETFILTER};
    let mut sock = Socket::new(NETLINK_NETFILTER).ok()?;
    sock.bind_auto().ok()?;
    sock.connect(&SocketAddr::new(0, 0)).ok()?;
    // The header, nfgenmsg (family, version 0, resource id 0), then the table's name.
    let attr_len = 4 + table.len() + 1;
    let mut header = NetlinkHeader::default();
    header.message_type = NFT_MSG_GETRULE;
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    header.sequence_number = 1;
    header.length = u32::try_from(header.buffer_len() + 4 + attr_len.next_multiple_of(4)).ok()?;
    let mut req = vec![0; header.buffer_len()];
    header.emit(&mut req);
    req.extend_from_slice(&[family, 0, 0, 0]);
    req.extend_from_slice(&u16::try_from(attr_len).ok()?.to_ne_bytes());
    req.extend_from_slice(&NFTA_RULE_TABLE.to_ne_bytes());
    req.extend_from_slice(table.as_bytes());
    req.resize(header.length as usize, 0);
    sock.send(&req, 0).ok()?;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = loop {
            match sock.recv(&mut &mut buf[..], 0) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                other => break other.ok()?,
            }
        };
        let mut off = 0;
        while off < n {
            let msg = NetlinkBuffer::new_checked(&buf[off..n]).ok()?;
            match msg.message_type() {
                NFT_MSG_NEWRULE => return Some(true),
                NLMSG_DONE => return Some(false),
                NLMSG_ERROR => return None,
                _ => {}
            }
            off += (msg.length() as usize).next_multiple_of(4);
        }
        if n == 0 {
            return None;
        }
    }
}

/// The DNAT rules in `iptables-save` text that match one destination port (`--dport P`,
/// not a range or a negation) and name where they send it.
pub fn parse_dnat(text: &str) -> Vec<Dnat> {
    let mut table_nat = false;
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(table) = line.strip_prefix('*') {
            table_nat = table == "nat";
            continue;
        }
        if !table_nat {
            continue;
        }
        let Some(rule) = line.strip_prefix("-A ") else {
            continue;
        };
        if let Some(d) = parse_rule(rule) {
            out.push(d);
        }
    }
    out
}

/// One `-A CHAIN …` rule (without `-A `), when it is a DNAT of one port.
fn parse_rule(rule: &str) -> Option<Dnat> {
    let words: Vec<&str> = rule.split_whitespace().collect();
    let chain = (*words.first()?).to_string();
    let after = |flag: &str| super::word_after(&words, flag);
    if after("-j") != Some("DNAT") {
        return None;
    }
    // A negated match (`! --dport 80`, `! -d …`) is not a publish of that port.
    let negated = |flag: &str| {
        words
            .iter()
            .position(|w| *w == flag)
            .is_some_and(|i| i > 0 && words[i - 1] == "!")
    };
    if negated("--dport") || negated("-d") {
        return None;
    }
    let proto = match after("-p")? {
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        _ => return None,
    };
    let port: u16 = after("--dport")?.parse().ok()?;
    let host_ip = match after("-d") {
        Some(d) => Some(d.split('/').next()?.parse().ok()?),
        None => None,
    };
    let to = destination(after("--to-destination")?, port)?;
    Some(Dnat {
        chain,
        proto,
        host_ip,
        port,
        to,
        rule: format!("-A {rule}"),
    })
}

/// `172.17.0.2:80`, `[fd00::2]:80`, `172.17.0.2` or `fd00::2` (the port then unchanged).
fn destination(text: &str, port: u16) -> Option<SocketAddr> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Some(addr);
    }
    let bare = text.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>()
        .ok()
        .map(|ip| SocketAddr::new(ip, port))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// `iptables-save -t nat` of Docker 20.10 with `--userland-proxy=false`, two ports
    /// published (one on 127.0.0.1), and a rule that is not a publish.
    const DOCKER: &str = "# Generated by iptables-save v1.8.9 (nf_tables)
*filter
-A FORWARD -p tcp -m tcp --dport 1 -j DNAT --to-destination 10.0.0.1:1
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE
-A DOCKER -p tcp -m tcp --dport 18081 -j DNAT --to-destination 172.17.0.2:80
-A DOCKER -d 127.0.0.1/32 -p tcp -m tcp --dport 18080 -j DNAT --to-destination 172.17.0.2:80
-A DOCKER ! -i docker0 -p udp -m udp --dport 5353 -j DNAT --to-destination 172.17.0.3
-A DOCKER -p tcp -m tcp ! --dport 22 -j DNAT --to-destination 172.17.0.9:22
-A DOCKER -p tcp -m tcp --dport 8000:8010 -j DNAT --to-destination 172.17.0.9
COMMIT
";

    #[test]
    fn docker_publishes() {
        let got = parse_dnat(DOCKER);
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0].chain, "DOCKER");
        assert_eq!(got[0].port, 18081);
        assert_eq!(got[0].host_ip, None);
        assert_eq!(got[0].to, "172.17.0.2:80".parse().unwrap());
        assert_eq!(got[1].host_ip, Some("127.0.0.1".parse().unwrap()));
        assert_eq!((got[2].proto, got[2].port), (Proto::Udp, 5353));
        assert_eq!(got[2].to, "172.17.0.3:5353".parse().unwrap());
        assert!(got[1].rule.starts_with("-A DOCKER -d 127.0.0.1/32"));
    }

    #[test]
    fn ipv6_destinations() {
        let text = "*nat\n-A DOCKER -d ::1/128 -p tcp -m tcp --dport 8080 -j DNAT --to-destination [fd00::2]:80\n-A X -p tcp --dport 9 -j DNAT --to-destination fd00::3\nCOMMIT\n";
        let got = parse_dnat(text);
        assert_eq!(got[0].to, "[fd00::2]:80".parse().unwrap());
        assert_eq!(got[0].host_ip, Some("::1".parse().unwrap()));
        assert_eq!(got[1].to, "[fd00::3]:9".parse().unwrap());
        assert!(parse_dnat("garbage\n-A\n*nat\n-A X -j DNAT\n").is_empty());
    }
}
