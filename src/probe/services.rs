//! Probes for directory, file-sharing, cache and coordination services that stay silent until
//! asked: LDAP (an anonymous RootDSE search), SMB (an SMB2 NEGOTIATE), memcached's binary
//! protocol (Version, then No-op — a binary-only or SASL memcached answers nothing to the text
//! probe) and ZooKeeper (the four-letter word `srvr`).
//!
//! Each request only reads: a search of the server's own root entry, the first message of an
//! SMB session (no session is set up, no share touched), a version query and a no-op, and
//! ZooKeeper's server-statistics command. Parsers
//! are pure; length fields are compared with what arrived, never used to size a buffer.

use super::banner::{expect_any, find, first_line, fits, step, text};
use super::{Auth, Confidence, Hints, Identification, Parser, Probe, Send, TlsUse, Verdict};

/// A first-line probe that sends `request`.
const fn ask(
    name: &'static str,
    request: &'static [u8],
    parse: Parser,
    (ports, processes): (&'static [u16], &'static [&'static str]),
) -> Probe {
    Probe {
        name,
        send: Send::Bytes(request),
        parse,
        hints: Hints { ports, processes },
        tls: TlsUse::Both,
        refines: None,
    }
}

/// LDAP: an anonymous search of the RootDSE (base `""`, scope base, `(objectClass=*)`), message
/// id 1, for `objectClass vendorName vendorVersion supportedLDAPVersion namingContexts` → a
/// searchResEntry (vendor, versions, naming contexts) or a searchResDone with the refusal.
/// Inside TLS too: 636 is LDAPS.
pub const LDAP: Probe = ask(
    "ldap-rootdse",
    b"0s\x02\x01\x01cn\x04\x00\x0a\x01\x00\x0a\x01\x00\x02\x01\x00\x02\x01\x00\x01\x01\x00\
    \x87\x0bobjectClass0N\x04\x0bobjectClass\x04\x0avendorName\x04\x0dvendorVersion\
    \x04\x14supportedLDAPVersion\x04\x0enamingContexts",
    ldap,
    (&[389, 636, 3268, 3269], &["slapd", "ns-slapd", "lsass"]),
);
/// SMB: a NetBIOS-framed SMB2 NEGOTIATE offering dialects 2.0.2 to 3.1.1 (with the
/// preauth-integrity context 3.1.1 requires) → the server's NEGOTIATE response: the dialect
/// it chose and whether it requires signing.
pub const SMB: Probe = ask(
    "smb2-negotiate",
    SMB2_NEGOTIATE,
    smb,
    (&[445, 139], &["smbd"]),
);
/// Memcached binary protocol: Version (opaque `PSPB`) then No-op (opaque `PSPC`), pipelined →
/// the version, and from the No-op's status whether SASL authentication is required.
pub const MEMCACHED_BINARY: Probe = ask(
    "memcached-binary-version",
    b"\x80\x0b\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00PSPB\x00\x00\x00\x00\x00\x00\x00\x00\
    \x80\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00PSPC\x00\x00\x00\x00\x00\x00\x00\x00",
    memcached_binary,
    (&[11211], &["memcached"]),
);

/// ZooKeeper: the four-letter word `srvr` (server statistics; always allowed since 3.5, whose
/// whitelist otherwise refuses 4lw commands) → `Zookeeper version: 3.8.0-…, built on …`, the
/// refusal `srvr is not executed because it is not in the whitelist.`, or `This ZooKeeper
/// instance is not currently serving requests` (starting, or a member without quorum).
pub const ZOOKEEPER: Probe = ask(
    "zookeeper-srvr",
    b"srvr",
    zookeeper,
    (&[2181], &["zookeeper"]),
);

/// This family's probes.
pub const PROBES: &[Probe] = &[LDAP, SMB, MEMCACHED_BINARY, ZOOKEEPER];

/// NetBIOS length 158; SMB2 header (NEGOTIATE, credits 1, process id 0xfeff); NEGOTIATE
/// request: 5 dialects, signing enabled, client GUID `portscope-probe\0`, one negotiate
/// context at 112 (preauth integrity, SHA-512, 32-byte zero salt).
const SMB2_NEGOTIATE: &[u8] =
    b"\x00\x00\x00\x9e\xfeSMB@\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\
    \x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xfe\x00\x00\x00\x00\x00\x00\x00\x00\x00\
    \x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00$\
    \x00\x05\x00\x01\x00\x00\x00\x00\x00\x00\x00portscope-probe\x00p\x00\x00\x00\x01\x00\x00\
    \x00\x02\x02\x10\x02\x00\x03\x02\x03\x11\x03\x00\x00\x01\x00&\x00\x00\x00\x00\x00\x01\
    \x00\x20\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\
    \x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";

/// Most bytes of one reply a parser waits for.
const WAIT_CAP: usize = 16 * 1024;

fn ldap(bytes: &[u8]) -> Verdict {
    let (tag, start, len) = step!(ber_head(bytes, 0));
    // An LDAPMessage: SEQUENCE { messageID 1 (0 for a notice of disconnection), op }.
    if tag != 0x30 || !fits(bytes, start, b"\x02\x01") {
        return Verdict::NoMatch;
    }
    let Some(&message_id) = bytes.get(start + 2) else {
        return Verdict::NeedMore;
    };
    let (op, op_start, op_len) = step!(ber_head(bytes, start + 3));
    if !matches!((message_id, op), (1, 0x64 | 0x65) | (0, 0x78)) {
        return Verdict::NoMatch;
    }
    let end = (start + len).min(op_start.saturating_add(op_len));
    if bytes.len() < end.min(WAIT_CAP) {
        return Verdict::NeedMore;
    }
    let body = bytes
        .get(op_start..end.min(bytes.len()))
        .unwrap_or_default();
    let id = Identification::new("ldap", Confidence::Certain);
    Verdict::Match(match op {
        0x64 => ldap_entry(body, id),
        _ => ldap_result(body, id),
    })
}

/// A searchResEntry of the RootDSE: objectName, then SEQUENCE OF { type, SET OF value }.
fn ldap_entry(body: &[u8], mut id: Identification) -> Identification {
    let mut parts = tlvs(body);
    let (Some((0x04, _)), Some((0x30, attributes))) = (parts.next(), parts.next()) else {
        return id;
    };
    let mut open_ldap = false;
    for (_, attribute) in tlvs(attributes).take(32) {
        let mut fields = tlvs(attribute);
        let (Some((0x04, name)), Some((0x31, set))) = (fields.next(), fields.next()) else {
            continue;
        };
        let values: Vec<&[u8]> = tlvs(set).take(16).map(|(_, v)| v).collect();
        let joined = |sep: &str| {
            let all: Vec<String> = values.iter().map(|v| text(v)).collect();
            all.join(sep)
        };
        match name.to_ascii_lowercase().as_slice() {
            b"objectclass" => open_ldap |= values.iter().any(|v| find(v, b"OpenLDAP").is_some()),
            b"vendorname" if !values.is_empty() => id = id.product(joined(" ")),
            b"vendorversion" if !values.is_empty() => id = id.version(joined(" ")),
            b"supportedldapversion" => id = id.detail("ldap_versions", joined(",")),
            b"namingcontexts" => id = id.detail("naming_contexts", joined("; ")),
            _ => {}
        }
    }
    if open_ldap && id.product.is_none() {
        id = id.product("OpenLDAP");
    }
    id
}

/// An LDAPResult (searchResDone, or a notice of disconnection): code, then the message.
fn ldap_result(body: &[u8], id: Identification) -> Identification {
    let mut parts = tlvs(body);
    let Some((0x0a, &[code])) = parts.next() else {
        return id;
    };
    let name = match code {
        0 => "success".to_string(),
        1 => "operationsError".to_string(),
        2 => "protocolError".to_string(),
        8 => "strongerAuthRequired".to_string(),
        13 => "confidentialityRequired".to_string(),
        32 => "noSuchObject".to_string(),
        48 => "inappropriateAuthentication".to_string(),
        49 => "invalidCredentials".to_string(),
        50 => "insufficientAccessRights".to_string(),
        52 => "unavailable".to_string(),
        53 => "unwillingToPerform".to_string(),
        other => other.to_string(),
    };
    let mut id = id.detail("result", name);
    if matches!(code, 8 | 48 | 49 | 50) {
        id = id.auth(Auth::Required);
    }
    match (parts.next(), parts.next()) {
        (Some(_), Some((0x04, message))) if !message.is_empty() => {
            id.detail("message", text(message))
        }
        _ => id,
    }
}

/// The tag, content offset and content length of the BER element at `at` (definite lengths
/// of up to 4 bytes).
fn ber_head(bytes: &[u8], at: usize) -> Result<(u8, usize, usize), Verdict> {
    let (Some(&tag), Some(&first)) = (bytes.get(at), bytes.get(at + 1)) else {
        return Err(Verdict::NeedMore);
    };
    if first < 0x80 {
        return Ok((tag, at + 2, usize::from(first)));
    }
    let n = usize::from(first & 0x7f);
    if !(1..=4).contains(&n) {
        return Err(Verdict::NoMatch);
    }
    let Some(digits) = bytes.get(at + 2..at + 2 + n) else {
        return Err(Verdict::NeedMore);
    };
    let len = digits.iter().fold(0usize, |l, &d| l << 8 | usize::from(d));
    Ok((tag, at + 2 + n, len))
}

/// The complete BER elements of `bytes`, in order, stopping at the first that is malformed or
/// cut short.
fn tlvs(bytes: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let (tag, start, len) = ber_head(bytes, at).ok()?;
        let content = bytes.get(start..start.checked_add(len)?)?;
        at = start + len;
        Some((tag, content))
    })
}

fn smb(bytes: &[u8]) -> Verdict {
    // NetBIOS session message (type 0), then an SMB2 (or SMB1) header.
    if bytes.first().is_some_and(|&b| b != 0) {
        return Verdict::NoMatch;
    }
    if !fits(bytes, 4, b"\xfeSMB") && !fits(bytes, 4, b"\xffSMB") {
        return Verdict::NoMatch;
    }
    let Some(magic) = bytes.get(4..8) else {
        return Verdict::NeedMore;
    };
    let id = Identification::new("smb", Confidence::Certain);
    if magic == b"\xffSMB" {
        return Verdict::Match(id.detail("dialect", "SMB1"));
    }
    // SMB2 header: structure size 64, status at 8, command NEGOTIATE (0) at 12.
    if !fits(bytes, 8, b"\x40\x00") || !fits(bytes, 16, b"\x00\x00") {
        return Verdict::NoMatch;
    }
    let (Some(status), Some(mode), Some(dialect)) =
        (le32(bytes, 12), le16(bytes, 70), le16(bytes, 72))
    else {
        return Verdict::NeedMore;
    };
    if status != 0 {
        return Verdict::Match(id.detail("status", format!("0x{status:08x}")));
    }
    // NEGOTIATE response: structure size 65.
    if !fits(bytes, 68, b"\x41\x00") {
        return Verdict::NoMatch;
    }
    let dialect = match dialect {
        0x0202 => "2.0.2".to_string(),
        0x0210 => "2.1".to_string(),
        0x0300 => "3.0".to_string(),
        0x0302 => "3.0.2".to_string(),
        0x0311 => "3.1.1".to_string(),
        0x02ff => "2.x (wildcard)".to_string(),
        other => format!("0x{other:04x}"),
    };
    let signing = match mode {
        m if m & 2 != 0 => "required",
        m if m & 1 != 0 => "enabled",
        _ => "disabled",
    };
    Verdict::Match(id.detail("dialect", dialect).detail("signing", signing))
}

fn memcached_binary(bytes: &[u8]) -> Verdict {
    // Response magic 0x81, opcode Version, our opaque.
    if !fits(bytes, 0, b"\x81\x0b") || !fits(bytes, 12, b"PSPB") {
        return Verdict::NoMatch;
    }
    let (Some(status), Some(body_len)) = (be16(bytes, 6), be32(bytes, 8)) else {
        return Verdict::NeedMore;
    };
    // A version is a few bytes: more is not a memcached reply.
    let Some(end) = usize::try_from(body_len)
        .ok()
        .filter(|&n| n <= 256)
        .map(|n| 24 + n)
    else {
        return Verdict::NoMatch;
    };
    let Some(value) = bytes.get(24..end) else {
        return Verdict::NeedMore;
    };
    let mut id = Identification::new("memcached", Confidence::Certain)
        .product("Memcached")
        .detail("protocol", "binary");
    if status == 0 && !value.is_empty() && value.iter().all(u8::is_ascii_graphic) {
        id = id.version(text(value));
    }
    // The No-op's reply, when it came with the Version's: 0x20 = authentication error.
    let noop = bytes.get(end..).unwrap_or_default();
    if fits(noop, 0, b"\x81\x0a") && fits(noop, 12, b"PSPC") {
        match be16(noop, 6) {
            Some(0) => id = id.auth(Auth::NotRequired),
            Some(0x20) => id = id.auth(Auth::Required),
            _ => {}
        }
    } else if status == 0x20 {
        id = id.auth(Auth::Required);
    }
    Verdict::Match(id)
}

fn zookeeper(bytes: &[u8]) -> Verdict {
    let replies: [&[u8]; 3] = [
        b"Zookeeper version: ",
        b"srvr is not executed because it is not in the whitelist.",
        b"This ZooKeeper instance is not currently serving requests",
    ];
    let (reply, rest) = step!(expect_any(bytes, &replies));
    let id = Identification::new("zookeeper", Confidence::Certain).product("ZooKeeper");
    match reply {
        1 => return Verdict::Match(id.detail("srvr", "not in the 4lw whitelist")),
        2 => return Verdict::Match(id.detail("serving", "no (starting, or no quorum)")),
        _ => {}
    }
    // `3.8.0-${mvngit.commit.id}, built on …`: the release, before the build's commit.
    let line = step!(first_line(rest, 256));
    let release = line
        .split(|&b| b == b',' || b == b'-')
        .next()
        .unwrap_or_default();
    let mut id = id;
    if !release.is_empty() && release.iter().all(|b| b.is_ascii_digit() || *b == b'.') {
        id = id.version(text(release));
    }
    let mode = find(rest, b"\nMode: ").and_then(|at| first_line(rest.get(at + 7..)?, 64).ok());
    Verdict::Match(match mode {
        Some(mode) => id.detail("mode", text(mode)),
        None => id,
    })
}

/// The little-endian `u16` at `at`.
fn le16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

/// The little-endian `u32` at `at`.
fn le32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// The big-endian `u16` at `at`.
fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

/// The big-endian `u32` at `at`.
fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
