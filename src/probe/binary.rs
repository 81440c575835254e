//! Probes for request/response protocols: Redis, Memcached, PostgreSQL, MongoDB, AMQP, MQTT,
//! X11, DNS, JDWP, LSP and DAP (HTTP/2 has a family of its own: [`super::h2`]).
//!
//! Each sends one fixed, read-only request (nothing that writes or subscribes) and its parser
//! looks for the reply's own signature. Length fields in replies are only compared, never used
//! to size a buffer; a parser waits for at most a bounded stretch of bytes and then decides
//! on what it has.

use super::banner::{expect, expect_any, find, first_line, fits, json_str, le16, step, text};
use super::{Auth, Confidence, Hints, Identification, Parser, Probe, Send, TlsUse, Verdict};

/// A first-line probe that sends `request`.
const fn ask(
    name: &'static str,
    request: &'static [u8],
    parse: Parser,
    (ports, processes): (&'static [u16], &'static [&'static str]),
    tls: TlsUse,
) -> Probe {
    let hints = Hints { ports, processes };
    Probe {
        name,
        send: Send::Bytes(request),
        parse,
        hints,
        tls,
        refines: None,
    }
}

/// Redis's protocol: `PING` → `+PONG` (no auth), `-NOAUTH` (auth on), `-DENIED … protected
/// mode`, `-ERR`. Any RESP server answers so: the product is left to `INFO server`
/// ([`super::products::REDIS_INFO`]), and the confidence is `compatible` until then.
pub const REDIS: Probe = ask(
    "redis-ping",
    b"*1\r\n$4\r\nPING\r\n",
    redis,
    (&[6379], &["redis-server", "redis"]),
    TlsUse::Both,
);
/// Memcached: `version` → `VERSION 1.6.18` (Memcached, certain); any other version text is a
/// memcached-protocol server that is not shown to be Memcached (`compatible`). Inside TLS too
/// (`memcached -Z`).
pub const MEMCACHED: Probe = ask(
    "memcached-version",
    b"version\r\n",
    memcached,
    (&[11211], &["memcached"]),
    TlsUse::Both,
);
/// PostgreSQL: SSLRequest → exactly one byte, `S` (TLS available) or `N`.
pub const POSTGRESQL: Probe = ask(
    "postgresql-sslrequest",
    b"\x00\x00\x00\x08\x04\xd2\x16\x2f",
    postgresql,
    (&[5432], &["postgres", "postmaster"]),
    TlsUse::Plain,
);
/// MongoDB: OP_MSG `{hello: 1, $db: "admin"}` (request id `PSPB`) → an OP_MSG (2013) answering
/// that id; `maxWireVersion` from its BSON.
pub const MONGODB: Probe = ask(
    "mongodb-hello",
    MONGO_HELLO,
    mongodb,
    (&[27017], &["mongod", "mongos"]),
    TlsUse::Both,
);
/// AMQP 0-9-1: protocol header → Connection.Start (product, version from server-properties),
/// or the broker's own header when it speaks another version.
pub const AMQP: Probe = ask(
    "amqp-header",
    b"AMQP\x00\x00\x09\x01",
    amqp,
    (&[5672, 5671], &["rabbitmq"]),
    TlsUse::Both,
);
/// MQTT: CONNECT 3.1.1 (clean session, client id `portscope-probe`, keepalive 10) → CONNACK
/// `20 02 00 rc`; rc 0 = no auth, 4/5 = auth required. Nothing is published or subscribed.
pub const MQTT: Probe = ask(
    "mqtt-connect",
    b"\x10\x1b\x00\x04MQTT\x04\x02\x00\x0a\x00\x0fportscope-probe",
    mqtt,
    (&[1883, 8883], &["mosquitto", "emqx"]),
    TlsUse::Both,
);
/// X11: little-endian connection setup with no auth → `0` failed (reason), `1` success
/// (vendor, release), `2` authenticate.
pub const X11: Probe = ask(
    "x11-setup",
    b"l\x00\x0b\x00\x00\x00\x00\x00\x00\x00\x00\x00",
    x11,
    (
        &[
            6000, 6001, 6002, 6003, 6004, 6005, 6006, 6007, 6008, 6009, 6010,
        ],
        &["Xorg", "Xvfb", "X"],
    ),
    TlsUse::Plain,
);
/// DNS over TCP: `version.bind` CH TXT, id `PS` → a reply with that id and QR set; the TXT
/// answer as version.
pub const DNS: Probe = ask(
    "dns-version-bind",
    b"\x00\x1ePS\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07version\x04bind\x00\x00\x10\x00\x03",
    dns,
    (
        &[53, 853],
        &["named", "dnsmasq", "unbound", "systemd-resolve"],
    ),
    TlsUse::Both,
);
/// JDWP, JVM side listening: `JDWP-Handshake` → the same 14 bytes.
pub const JDWP: Probe = ask(
    "jdwp-handshake",
    b"JDWP-Handshake",
    jdwp_jvm,
    (&[5005, 8000], &["jdwp"]),
    TlsUse::Plain,
);
/// LSP/DAP: one `Content-Length:`-framed request for an unknown method (`portscope/identify`)
/// that reads as JSON-RPC to an LSP server and as a DAP request to a debug adapter; both only
/// answer with an error → `lsp` for a JSON-RPC reply, `dap` for a DAP one.
pub const LSP: Probe = ask(
    "lsp-request",
    LSP_REQUEST,
    lsp,
    (
        &[],
        &[
            "language-server",
            "lsp",
            "pylsp",
            "pyright",
            "rust-analyzer",
            "gopls",
            "clangd",
        ],
    ),
    TlsUse::Plain,
);

/// This family's probes.
pub const PROBES: &[Probe] = &[
    REDIS, MEMCACHED, POSTGRESQL, MONGODB, AMQP, MQTT, X11, DNS, JDWP, LSP,
];

/// OP_MSG: length 52, request id `PSPB`, response to 0, opcode 2013, flags 0, section kind 0,
/// BSON `{hello: 1 (int32), $db: "admin"}` (31 bytes).
const MONGO_HELLO: &[u8] =
    b"\x34\x00\x00\x00PSPB\x00\x00\x00\x00\xdd\x07\x00\x00\x00\x00\x00\x00\x00\
    \x1f\x00\x00\x00\x10hello\x00\x01\x00\x00\x00\x02$db\x00\x06\x00\x00\x00admin\x00\x00";

/// Valid JSON-RPC 2.0 (an LSP server answers `-32601`/`-32002`) and a valid DAP request (a
/// debug adapter answers `success: false`).
const LSP_REQUEST: &[u8] = b"Content-Length: 110\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":1,\
    \"method\":\"portscope/identify\",\"seq\":1,\"type\":\"request\",\"command\":\"portscope/identify\"}";

fn redis(bytes: &[u8]) -> Verdict {
    let replies: [&[u8]; 5] = [
        b"+PONG\r\n",
        b"-NOAUTH ",
        b"-NOPERM ",
        b"-DENIED ",
        b"-ERR ",
    ];
    let (reply, _) = step!(expect_any(bytes, &replies));
    // RESP proven, not Redis: `INFO server` (the `redis-info` refinement) names the product.
    let id = Identification::new("redis", Confidence::Compatible);
    if reply == 0 {
        return Verdict::Match(id.auth(Auth::NotRequired));
    }
    let line = step!(first_line(bytes, 2048));
    let error = text(line.get(1..).unwrap_or_default());
    Verdict::Match(match reply {
        3 if find(line, b"protected mode").is_some() => {
            id.auth(Auth::Required).detail("protected_mode", "yes")
        }
        1..=3 => id.auth(Auth::Required).detail("error", error),
        _ => Identification::new("redis", Confidence::Likely).detail("error", error),
    })
}

fn memcached(bytes: &[u8]) -> Verdict {
    let rest = step!(expect(bytes, b"VERSION "));
    let version = step!(first_line(rest, 128)).trim_ascii();
    if version.is_empty() || !version.iter().all(|b| (0x20..=0x7e).contains(b)) {
        return Verdict::NoMatch;
    }
    // memcached says a bare dotted number; a compatible server (a proxy, another cache in its
    // memcache mode) that says anything else proves the protocol, not Memcached. The text
    // protocol has no authentication either way (SASL servers speak binary only).
    let numeric = version.iter().all(|b| b.is_ascii_digit() || *b == b'.');
    let id = if numeric {
        Identification::new("memcached", Confidence::Certain).product("Memcached")
    } else {
        Identification::new("memcached", Confidence::Compatible)
    }
    .auth(Auth::NotRequired);
    Verdict::Match(id.version(text(version)))
}

fn postgresql(bytes: &[u8]) -> Verdict {
    let tls = match bytes {
        [] => return Verdict::NeedMore,
        [b'S'] => "available",
        [b'N'] => "not offered",
        _ => return Verdict::NoMatch,
    };
    Verdict::Match(Identification::new("postgresql", Confidence::Likely).detail("tls", tls))
}

fn mongodb(bytes: &[u8]) -> Verdict {
    // Header: length, request id, response to (ours), opcode 2013 (OP_MSG).
    if !fits(bytes, 8, b"PSPB") || !fits(bytes, 12, b"\xdd\x07\x00\x00") {
        return Verdict::NoMatch;
    }
    let Some(len) = le32(bytes, 0) else {
        return Verdict::NeedMore;
    };
    if !(21..=48_000_000).contains(&len) {
        return Verdict::NoMatch;
    }
    // A hello reply is well under 1 KiB: read it whole, or 16 KiB of a bigger one.
    if bytes.len() < usize::try_from(len).unwrap_or(usize::MAX).min(16 * 1024) {
        return Verdict::NeedMore;
    }
    let mut id = Identification::new("mongodb", Confidence::Certain);
    if let Some(wire) = find(bytes, b"\x10maxWireVersion\x00").and_then(|at| le32(bytes, at + 16)) {
        id = id.detail("maxWireVersion", wire.to_string());
    }
    if let Some(at) = find(bytes, b"\x08isWritablePrimary\x00") {
        let primary = bytes.get(at + 19) == Some(&1);
        id = id.detail("isWritablePrimary", if primary { "true" } else { "false" });
    }
    if let Some(error) = bson_str(bytes, b"\x02errmsg\x00") {
        id = id.detail("error", error);
    }
    Verdict::Match(id)
}

fn amqp(bytes: &[u8]) -> Verdict {
    if bytes.first() == Some(&b'A') {
        let rest = step!(expect(bytes, b"AMQP"));
        let Some(&[id, major, minor, revision]) = rest.get(..4) else {
            return Verdict::NeedMore;
        };
        let offered = format!("{major}.{minor}.{revision} (protocol id {id})");
        return Verdict::Match(
            Identification::new("amqp", Confidence::Certain).detail("offers", offered),
        );
    }
    // Method frame on channel 0, class 10 (connection) method 10 (start), version 0-9.
    if !fits(bytes, 0, b"\x01\x00\x00") || !fits(bytes, 7, b"\x00\x0a\x00\x0a\x00\x09") {
        return Verdict::NoMatch;
    }
    let Some(size) = be32(bytes, 3) else {
        return Verdict::NeedMore;
    };
    let frame = usize::try_from(size)
        .unwrap_or(usize::MAX)
        .saturating_add(8);
    if bytes.len() < frame.clamp(13, 16 * 1024) {
        return Verdict::NeedMore;
    }
    let mut id = Identification::new("amqp", Confidence::Certain).detail("amqp_version", "0-9-1");
    if let Some(product) = amqp_str(bytes, b"\x07productS") {
        id = id.product(product);
    }
    if let Some(version) = amqp_str(bytes, b"\x07versionS") {
        id = id.version(version);
    }
    if let Some(platform) = amqp_str(bytes, b"\x08platformS") {
        id = id.detail("platform", platform);
    }
    Verdict::Match(id)
}

fn mqtt(bytes: &[u8]) -> Verdict {
    // CONNACK: type 2, remaining length 2, session-present flag 0/1, return code 0–5.
    let bad = |at: usize, max: u8| bytes.get(at).is_some_and(|&b| b > max);
    if !fits(bytes, 0, b"\x20\x02") || bad(2, 1) || bad(3, 5) {
        return Verdict::NoMatch;
    }
    let Some(&code) = bytes.get(3) else {
        return Verdict::NeedMore;
    };
    let meaning = match code {
        0 => "accepted",
        1 => "bad protocol version",
        2 => "client id rejected",
        3 => "server unavailable",
        4 => "bad user name or password",
        _ => "not authorized",
    };
    let id = Identification::new("mqtt", Confidence::Certain).detail("connack", meaning);
    Verdict::Match(match code {
        0 => id.auth(Auth::NotRequired),
        4 | 5 => id.auth(Auth::Required),
        _ => id,
    })
}

fn x11(bytes: &[u8]) -> Verdict {
    // Failed and Success replies carry the protocol major version 11 (little-endian) at 2.
    let status = match bytes.first() {
        None => return Verdict::NeedMore,
        Some(0 | 1) if !fits(bytes, 2, b"\x0b\x00") => return Verdict::NoMatch,
        Some(2) if !fits(bytes, 1, &[0; 5]) => return Verdict::NoMatch,
        Some(&status @ 0..=2) => status,
        Some(_) => return Verdict::NoMatch,
    };
    let Some(units) = le16(bytes, 6) else {
        return Verdict::NeedMore;
    };
    let id = Identification::new("x11", Confidence::Certain);
    // Reason text: failed at 8 (length at 1); authenticate at 8 (`units` × 4 bytes, padded).
    let reason_len = match status {
        0 => bytes.get(1).copied().map_or(0, usize::from),
        2 => usize::from(units) * 4,
        _ => return x11_success(bytes, id),
    };
    let Some(reason) = bytes.get(8..8 + reason_len.min(1024)) else {
        return Verdict::NeedMore;
    };
    let reason = text(reason.split(|&b| b == 0).next().unwrap_or_default());
    Verdict::Match(match status {
        0 => id.detail("reason", reason),
        _ => Identification::new("x11", Confidence::Likely)
            .auth(Auth::Required)
            .detail("reason", reason),
    })
}

/// X11 setup success: release number at 8, vendor length at 24, vendor at 40.
fn x11_success(bytes: &[u8], id: Identification) -> Verdict {
    let (Some(release), Some(vendor_len)) = (le32(bytes, 8), le16(bytes, 24)) else {
        return Verdict::NeedMore;
    };
    let Some(vendor) = bytes.get(40..40 + usize::from(vendor_len).min(256)) else {
        return Verdict::NeedMore;
    };
    let mut id = id
        .auth(Auth::NotRequired)
        .detail("release", release.to_string());
    if !vendor.is_empty() {
        id = id.product(text(vendor));
    }
    if find(vendor, b"X.Org").is_some() {
        let part = |div: u32, modulo: u32| release / div % modulo;
        let version = (
            part(10_000_000, 100),
            part(100_000, 100),
            part(1000, 100),
            part(1, 1000),
        );
        id = id.version(format!(
            "{}.{}.{}.{}",
            version.0, version.1, version.2, version.3
        ));
    }
    Verdict::Match(id)
}

fn dns(bytes: &[u8]) -> Verdict {
    // Length, then our id `PS`, flags with QR set and opcode 0 (QUERY).
    if !fits(bytes, 2, b"PS") || bytes.get(4).is_some_and(|&flags| flags & 0xf8 != 0x80) {
        return Verdict::NoMatch;
    }
    let Some(len) = be16(bytes, 0).map(usize::from) else {
        return Verdict::NeedMore;
    };
    if len < 12 {
        return Verdict::NoMatch;
    }
    let Some(message) = bytes.get(2..2 + len) else {
        let waiting = bytes.len() < 14 || len < 4096;
        return if waiting {
            Verdict::NeedMore
        } else {
            dns_reply(bytes.get(2..).unwrap_or_default())
        };
    };
    dns_reply(message)
}

/// A DNS reply to `version.bind` CH TXT: the rcode, and the first TXT string as version.
fn dns_reply(message: &[u8]) -> Verdict {
    let rcode = message.get(3).map_or(0, |flags| flags & 0x0f);
    let names = [
        "noerror", "formerr", "servfail", "nxdomain", "notimp", "refused",
    ];
    let rcode_name = names
        .get(usize::from(rcode))
        .map_or_else(|| rcode.to_string(), |n| n.to_string());
    let id = Identification::new("dns", Confidence::Certain).detail("rcode", rcode_name);
    let answer = || -> Option<String> {
        (be16(message, 6)? > 0).then_some(())?;
        let at = skip_name(message, 12)? + 4; // question name, type, class
        let at = skip_name(message, at)?; // answer name
        (be16(message, at)? == 16).then_some(())?; // TXT
        let txt_len = usize::from(*message.get(at + 10)?);
        Some(text(message.get(at + 11..at + 11 + txt_len)?))
    };
    Verdict::Match(match answer() {
        Some(version) if !version.is_empty() => match split_product(&version) {
            Some((product, number)) => id.product(product).version(number),
            None => id.version(version),
        },
        _ => id,
    })
}

/// `dnsmasq-2.90`, `unbound 1.17.1`, `Knot DNS 3.2.6` → product and version; a bare number
/// (BIND answers `9.18.28-1~deb12u2-Debian`) names no product.
fn split_product(text: &str) -> Option<(&str, &str)> {
    let at = text.find(|c: char| c.is_ascii_digit())?;
    let product = text[..at].trim_end_matches(['-', ' ', '/']);
    let starts_word = text[..at].ends_with(['-', ' ', '/']);
    (starts_word && product.chars().any(|c| c.is_ascii_alphabetic()))
        .then(|| (product, &text[at..]))
}

/// The offset after a DNS name at `at` (labels, ended by a zero or a compression pointer).
fn skip_name(message: &[u8], mut at: usize) -> Option<usize> {
    for _ in 0..128 {
        let len = *message.get(at)?;
        match len {
            0 => return Some(at + 1),
            0xc0.. => return Some(at + 2),
            1..=63 => at += 1 + usize::from(len),
            _ => return None,
        }
    }
    None
}

fn jdwp_jvm(bytes: &[u8]) -> Verdict {
    step!(expect(bytes, b"JDWP-Handshake"));
    let id = Identification::new("jdwp", Confidence::Certain);
    Verdict::Match(id.detail("side", "jvm (debuggee listening)"))
}

/// LSP or DAP: a `Content-Length:`-framed message (the base protocol both share), told apart by
/// its JSON body — JSON-RPC 2.0 (`"jsonrpc"`) is LSP, a `seq` with a `type` is the Debug Adapter
/// Protocol. Shared with the banner family (debugpy speaks first).
pub(super) fn lsp(bytes: &[u8]) -> Verdict {
    let rest = step!(expect(bytes, b"Content-Length:"));
    // Headers end within 512 bytes.
    let Some(end) = find(rest.get(..512).unwrap_or(rest), b"\r\n\r\n") else {
        return if rest.len() < 512 {
            Verdict::NeedMore
        } else {
            Verdict::NoMatch
        };
    };
    let digits = step!(first_line(rest, end + 2)).trim_ascii();
    if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
        return Verdict::NoMatch;
    }
    let size = digits
        .iter()
        .fold(0usize, |n, d| n * 10 + usize::from(d - b'0'));
    let body = rest.get(end + 4..).unwrap_or_default();
    if body.len() < size.min(16 * 1024) {
        return Verdict::NeedMore;
    }
    let body = body.get(..size).unwrap_or(body);
    if find(body, b"\"jsonrpc\"").is_some() {
        return Verdict::Match(Identification::new("lsp", Confidence::Certain));
    }
    if find(body, b"\"seq\"").is_none() || json_str(body, "type").is_none() {
        return Verdict::Match(Identification::new("lsp", Confidence::Likely));
    }
    let id = Identification::new("dap", Confidence::Certain);
    Verdict::Match(dap_product(bytes, id))
}

/// The debug adapter's name and version when its messages state them: debugpy (and ptvsd
/// before it) sends `packageVersion` in its first events.
fn dap_product(bytes: &[u8], id: Identification) -> Identification {
    let debugpy = find(bytes, b"\"debugpy\"")
        .or(find(bytes, b"\"ptvsd\""))
        .is_some();
    match json_str(bytes, "packageVersion") {
        Some(version) if debugpy => id.product("debugpy").version(version),
        _ if debugpy => id.product("debugpy"),
        _ => id,
    }
}

/// An AMQP field-table long string after `key` (short-string name + type `S`), at most 256 bytes.
fn amqp_str(bytes: &[u8], key: &[u8]) -> Option<String> {
    let at = find(bytes, key)? + key.len();
    let len = usize::try_from(be32(bytes, at)?).ok()?.min(256);
    Some(text(bytes.get(at + 4..at + 4 + len)?))
}

/// A BSON string element value after `key` (type 0x02 + name + NUL), at most 256 bytes.
fn bson_str(bytes: &[u8], key: &[u8]) -> Option<String> {
    let at = find(bytes, key)? + key.len();
    let len = usize::try_from(le32(bytes, at)?).ok()?.clamp(1, 257) - 1;
    Some(text(bytes.get(at + 4..at + 4 + len)?))
}

/// The big-endian `u16` at `at`.
fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(
        bytes.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

/// The big-endian `u32` at `at`.
fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        bytes.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// The little-endian `u32` at `at`.
fn le32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        bytes.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
