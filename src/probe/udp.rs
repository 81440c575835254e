//! Probes for UDP services: DNS, SNMP, NTP, STUN/TURN and CoAP.
//!
//! A datagram has no banner and no connection, so each entry sends exactly one request
//! datagram and its parser reads exactly one reply datagram. Every request is read-only by
//! construction: a DNS `version.bind` query, an SNMPv2c GET (never a SET) of `sysDescr.0` and
//! `sysObjectID.0`, an NTP mode-3 client packet, a STUN Binding Request (no allocation), a
//! CoAP GET of `/.well-known/core`. The engine (`engine/udp.rs`) picks the order from the
//! hints, sends, waits and retries; the parsers here are pure functions of the reply bytes.
//! Length fields in replies are only compared with what arrived, never used to size a buffer.

use super::banner::text;
use super::{Auth, Confidence, Hints, Identification, Parser, Send, Verdict, binary};

/// Per-probe random bytes (request ids, transaction ids, tokens) the engine draws once.
pub type Nonce = [u8; 12];

/// One UDP table entry: the datagram to send, how to read the reply, when to try it first.
#[derive(Debug, Clone, Copy)]
pub struct UdpProbe {
    /// Short name (`snmp-get-sysdescr`).
    pub name: &'static str,
    /// Builds the one request datagram (the nonce fills its ids).
    pub request: fn(&Nonce) -> Vec<u8>,
    /// Reads one reply datagram (`NeedMore` counts as no match: a datagram is whole).
    pub parse: Parser,
    /// When to try it first.
    pub hints: Hints,
}

/// DNS: the TCP probe's `version.bind` CH TXT query without its length prefix.
pub const DNS: UdpProbe = UdpProbe {
    name: "dns-version-bind-udp",
    request: dns_request,
    parse: dns,
    hints: binary::DNS.hints,
};
/// SNMP: an SNMPv2c GET of `sysDescr.0` and `sysObjectID.0` with community `public`.
pub const SNMP: UdpProbe = UdpProbe {
    name: "snmp-get-sysdescr",
    request: snmp_request,
    parse: snmp,
    hints: Hints {
        ports: &[161],
        processes: &["snmpd"],
    },
};
/// NTP: a 48-byte mode-3 (client) packet, version 4 → a mode-4 (server) reply.
pub const NTP: UdpProbe = UdpProbe {
    name: "ntp-client",
    request: ntp_request,
    parse: ntp,
    hints: Hints {
        ports: &[123],
        processes: &["chronyd", "ntpd", "ntpsec", "openntpd", "systemd-timesyncd"],
    },
};
/// STUN (and TURN servers): a Binding Request → a Binding Success Response.
pub const STUN: UdpProbe = UdpProbe {
    name: "stun-binding",
    request: stun_request,
    parse: stun,
    hints: Hints {
        ports: &[3478, 3479, 5349, 19302],
        processes: &["turnserver", "coturn", "stunserver", "eturnal"],
    },
};
/// CoAP: a confirmable GET of `/.well-known/core` → 2.05 Content with link-format.
pub const COAP: UdpProbe = UdpProbe {
    name: "coap-well-known-core",
    request: coap_request,
    parse: coap,
    hints: Hints {
        ports: &[5683],
        processes: &["coap-server", "coap"],
    },
};

/// The UDP table.
pub const PROBES: &[UdpProbe] = &[DNS, SNMP, NTP, STUN, COAP];

// ---------------------------------------------------------------------------------------------
// DNS

fn dns_request(_: &Nonce) -> Vec<u8> {
    match binary::DNS.send {
        Send::Bytes(b) => b.get(2..).unwrap_or_default().to_vec(),
        _ => Vec::new(),
    }
}

/// A UDP DNS reply is the TCP message without its length: frame it and use the TCP parser.
fn dns(reply: &[u8]) -> Verdict {
    let Ok(len) = u16::try_from(reply.len()) else {
        return Verdict::NoMatch;
    };
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(reply);
    match (binary::DNS.parse)(&framed) {
        Verdict::Match(id) => Verdict::Match(id),
        _ => Verdict::NoMatch,
    }
}

// ---------------------------------------------------------------------------------------------
// SNMP

/// `sysDescr.0` (1.3.6.1.2.1.1.1.0) and `sysObjectID.0` (1.3.6.1.2.1.1.2.0), BER-encoded.
const SYS_DESCR: &[u8] = b"\x2b\x06\x01\x02\x01\x01\x01\x00";
const SYS_OBJECT_ID: &[u8] = b"\x2b\x06\x01\x02\x01\x01\x02\x00";
/// The enterprise arc of Net-SNMP (1.3.6.1.4.1.8072).
const NET_SNMP: &[u8] = b"\x2b\x06\x01\x04\x01\xbf\x08";

fn snmp_request(nonce: &Nonce) -> Vec<u8> {
    let varbind = |oid: &[u8]| [&[0x30, 0x0c, 0x06, 0x08], oid, &[0x05, 0x00]].concat();
    let varbinds = [varbind(SYS_DESCR), varbind(SYS_OBJECT_ID)].concat();
    // A positive 4-byte request id.
    let id = [nonce[0] & 0x7f, nonce[1], nonce[2], nonce[3]];
    let pdu = [
        &[0x02, 0x04][..],
        &id,
        &[0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x1c],
        &varbinds,
    ]
    .concat();
    let body = [
        &b"\x02\x01\x01\x04\x06public\xa0\x2a"[..], // version 2c, community, GetRequest
        &pdu,
    ]
    .concat();
    [&[0x30, 0x37][..], &body].concat()
}

/// One BER element: its tag, its content, and the bytes after it. Content lengths are only
/// checked against what is there.
fn ber(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *bytes.first()?;
    let first = *bytes.get(1)?;
    let (len, at): (usize, usize) = match first {
        0..=0x7f => (usize::from(first), 2),
        0x81 => (usize::from(*bytes.get(2)?), 3),
        0x82 => (
            usize::from(u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?])),
            4,
        ),
        _ => return None,
    };
    let content = bytes.get(at..at.checked_add(len)?)?;
    Some((tag, content, bytes.get(at + len..)?))
}

/// A small BER INTEGER (at most 4 bytes), as i64.
fn ber_int(content: &[u8]) -> Option<i64> {
    if content.is_empty() || content.len() > 4 {
        return None;
    }
    let negative = content[0] & 0x80 != 0;
    let start: i64 = if negative { -1 } else { 0 };
    Some(
        content
            .iter()
            .fold(start, |acc, &b| (acc << 8) | i64::from(b)),
    )
}

/// SNMP message → GetResponse: `snmp`, version from the message, `sysDescr` as detail,
/// product `net-snmp` when `sysObjectID` is under Net-SNMP's enterprise arc.
fn snmp(reply: &[u8]) -> Verdict {
    snmp_message(reply).map_or(Verdict::NoMatch, Verdict::Match)
}

fn snmp_message(reply: &[u8]) -> Option<Identification> {
    let (0x30, message, _) = ber(reply)? else {
        return None;
    };
    let (0x02, version, rest) = ber(message)? else {
        return None;
    };
    let version = match ber_int(version)? {
        0 => "1",
        1 => "2c",
        3 => "3",
        _ => return None,
    };
    let mut id = Identification::new("snmp", Confidence::Certain).version(version);
    if version == "3" {
        // A v3 agent answers a v2c GET with a Report, or not at all; a v3 header proves SNMP.
        return Some(id.detail("note", "SNMPv3 message"));
    }
    let (0x04, _community, rest) = ber(rest)? else {
        return None;
    };
    // GetResponse (0xa2) or, from old agents, a Report (0xa8).
    let (0xa2 | 0xa8, pdu, _) = ber(rest)? else {
        return None;
    };
    let (0x02, _request_id, pdu) = ber(pdu)? else {
        return None;
    };
    let (0x02, status, pdu) = ber(pdu)? else {
        return None;
    };
    let status = ber_int(status)?;
    let (0x02, _index, pdu) = ber(pdu)? else {
        return None;
    };
    if status != 0 {
        let names = [
            "noError",
            "tooBig",
            "noSuchName",
            "badValue",
            "readOnly",
            "genErr",
        ];
        let name = usize::try_from(status)
            .ok()
            .and_then(|s| names.get(s))
            .map_or_else(|| status.to_string(), |n| (*n).to_string());
        id = id.detail("error", name);
    }
    let Some((0x30, mut varbinds, _)) = ber(pdu) else {
        return Some(id);
    };
    for _ in 0..8 {
        let Some((0x30, varbind, rest)) = ber(varbinds) else {
            break;
        };
        varbinds = rest;
        let Some((0x06, oid, value)) = ber(varbind) else {
            continue;
        };
        let Some((tag, value, _)) = ber(value) else {
            continue;
        };
        match (oid, tag) {
            // Read with the default community `public`: anyone who can send a datagram can.
            (SYS_DESCR, 0x04) => id = id.detail("sysdescr", text(value)).auth(Auth::NotRequired),
            (SYS_OBJECT_ID, 0x06) if value.starts_with(NET_SNMP) => id = id.product("net-snmp"),
            _ => {}
        }
    }
    Some(id)
}

// ---------------------------------------------------------------------------------------------
// NTP

fn ntp_request(nonce: &Nonce) -> Vec<u8> {
    let mut packet = vec![0u8; 48];
    packet[0] = 0x23; // LI 0, VN 4, mode 3 (client)
    // The transmit timestamp: the server echoes it as the origin timestamp.
    packet[40..48].copy_from_slice(&nonce[..8]);
    packet
}

/// A mode-4 (server) reply of at least 48 bytes: `ntp`, version = VN, stratum and reference id.
fn ntp(reply: &[u8]) -> Verdict {
    let Some(header) = reply.get(..48) else {
        return Verdict::NoMatch;
    };
    let (li, vn, mode) = (header[0] >> 6, (header[0] >> 3) & 7, header[0] & 7);
    let stratum = header[1];
    if mode != 4 || !(1..=4).contains(&vn) || stratum > 16 {
        return Verdict::NoMatch;
    }
    let refid = &header[12..16];
    let reference = if stratum <= 1 {
        let code = refid.iter().take_while(|&&b| b != 0).copied();
        text(&code.collect::<Vec<u8>>())
    } else {
        format!("{}.{}.{}.{}", refid[0], refid[1], refid[2], refid[3])
    };
    let mut id = Identification::new("ntp", Confidence::Certain)
        .version(vn.to_string())
        .detail("stratum", stratum.to_string());
    if !reference.is_empty() {
        id = id.detail("refid", reference);
    }
    if li == 3 {
        id = id.detail("synchronised", "no");
    }
    Verdict::Match(id)
}

// ---------------------------------------------------------------------------------------------
// STUN

/// The magic cookie of RFC 5389.
const COOKIE: [u8; 4] = [0x21, 0x12, 0xa4, 0x42];

fn stun_request(nonce: &Nonce) -> Vec<u8> {
    [&[0x00, 0x01, 0x00, 0x00][..], &COOKIE, nonce].concat()
}

/// A Binding Success (0x0101) or Error (0x0111) Response with the magic cookie: `stun`,
/// product and version from SOFTWARE, the mapped address from XOR-MAPPED-ADDRESS.
fn stun(reply: &[u8]) -> Verdict {
    let kind = reply.get(..2);
    if reply.get(4..8) != Some(&COOKIE[..])
        || !matches!(kind, Some([0x01, 0x01] | [0x01, 0x11]))
        || reply.len() < 20
    {
        return Verdict::NoMatch;
    }
    let mut id = Identification::new("stun", Confidence::Certain);
    if kind == Some(&[0x01, 0x11][..]) {
        id = id.detail("response", "error");
    }
    let mut attrs = reply.get(20..).unwrap_or_default();
    for _ in 0..32 {
        let (Some(&[t0, t1, l0, l1]), Some(rest)) = (attrs.get(..4), attrs.get(4..)) else {
            break;
        };
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        let Some(value) = rest.get(..len) else {
            break;
        };
        match u16::from_be_bytes([t0, t1]) {
            0x8022 => {
                let software = text(value);
                let (product, version) = split_software(&software);
                id = id.product(product).detail("software", software.clone());
                if let Some(v) = version {
                    id = id.version(v);
                }
            }
            0x0020 => {
                if let Some(mapped) = xor_mapped(value, reply) {
                    id = id.detail("mapped", mapped);
                }
            }
            _ => {}
        }
        attrs = rest.get(len.next_multiple_of(4)..).unwrap_or_default();
    }
    Verdict::Match(id)
}

/// `Coturn-4.6.1 'Gorst'` → (`Coturn`, `4.6.1`); a SOFTWARE without `-<digit>` is all product.
fn split_software(software: &str) -> (String, Option<String>) {
    let word = software.split_whitespace().next().unwrap_or(software);
    match word.rsplit_once(['-', '/']) {
        Some((product, version))
            if !product.is_empty() && version.starts_with(|c: char| c.is_ascii_digit()) =>
        {
            (product.to_string(), Some(version.to_string()))
        }
        _ => (word.to_string(), None),
    }
}

/// XOR-MAPPED-ADDRESS → `ip:port` (IPv4 XORed with the cookie, IPv6 with cookie + id).
fn xor_mapped(value: &[u8], message: &[u8]) -> Option<String> {
    let port = u16::from_be_bytes([*value.get(2)?, *value.get(3)?]) ^ 0x2112;
    match *value.get(1)? {
        1 => {
            let ip: Vec<u8> = value
                .get(4..8)?
                .iter()
                .zip(COOKIE)
                .map(|(a, b)| a ^ b)
                .collect();
            Some(format!("{}.{}.{}.{}:{port}", ip[0], ip[1], ip[2], ip[3]))
        }
        2 => {
            let key = message.get(4..20)?;
            let ip: Vec<u8> = value
                .get(4..20)?
                .iter()
                .zip(key)
                .map(|(a, b)| a ^ b)
                .collect();
            let octets: [u8; 16] = ip.try_into().ok()?;
            Some(format!("[{}]:{port}", std::net::Ipv6Addr::from(octets)))
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// CoAP

fn coap_request(nonce: &Nonce) -> Vec<u8> {
    // Version 1, confirmable, 4-byte token; GET; message id; Uri-Path `.well-known`, `core`.
    [
        &[0x44, 0x01, nonce[0], nonce[1]][..],
        &nonce[2..6],
        &[0xbb],
        b".well-known",
        &[0x04],
        b"core",
    ]
    .concat()
}

/// Most resources listed from a `/.well-known/core` reply.
const MAX_RESOURCES: usize = 8;

/// A piggybacked CoAP response (version 1, Acknowledgement, our 4-byte token's length, a
/// response code RFC 7252 defines): `coap`, the code, and the resources of a link-format
/// payload.
fn coap(reply: &[u8]) -> Verdict {
    let (Some(&head), Some(&code)) = (reply.first(), reply.get(1)) else {
        return Verdict::NoMatch;
    };
    let (class, detail) = (code >> 5, code & 0x1f);
    let known = match class {
        2 => (1..=5).contains(&detail) || detail == 31,
        4 => detail <= 6 || matches!(detail, 8 | 12 | 13 | 15),
        5 => detail <= 5,
        _ => false,
    };
    // 0x64: version 1, type ACK (2), token length 4.
    if head != 0x64 || !known || reply.len() < 8 {
        return Verdict::NoMatch;
    }
    let tkl = 4;
    let mut id = Identification::new("coap", Confidence::Certain)
        .detail("code", format!("{class}.{detail:02}"));
    // Skip the options to the payload marker.
    let mut at = 4 + tkl;
    for _ in 0..64 {
        let Some(&b) = reply.get(at) else {
            return Verdict::Match(id);
        };
        if b == 0xff {
            at += 1;
            break;
        }
        let extra = |nibble: u8| match nibble {
            13 => Some(1),
            14 => Some(2),
            15 => None,
            _ => Some(0),
        };
        let (Some(delta_extra), Some(len_extra)) = (extra(b >> 4), extra(b & 0x0f)) else {
            return Verdict::Match(id);
        };
        let len_at = at + 1 + delta_extra;
        let len = match b & 0x0f {
            13 => usize::from(*reply.get(len_at).unwrap_or(&0)) + 13,
            14 => {
                let hi = *reply.get(len_at).unwrap_or(&0);
                let lo = *reply.get(len_at + 1).unwrap_or(&0);
                usize::from(u16::from_be_bytes([hi, lo])) + 269
            }
            n => usize::from(n),
        };
        at = len_at + len_extra + len;
    }
    let payload = reply.get(at..).unwrap_or_default();
    let resources: Vec<String> = payload
        .split(|&b| b == b',')
        .filter_map(|link| {
            let link = link.trim_ascii().strip_prefix(b"<")?;
            Some(text(link.get(..link.iter().position(|&b| b == b'>')?)?))
        })
        .take(MAX_RESOURCES)
        .collect();
    if !resources.is_empty() {
        id = id.detail("resources", resources.join(" "));
    }
    Verdict::Match(id)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
