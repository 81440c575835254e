//! Probes for daemons of the developer's machine that the other families miss: the rsync
//! daemon (speaks first), beanstalkd, git daemon, Erlang's epmd and distribution port,
//! gdbserver, and the security types a VNC server offers after its greeting.
//!
//! The rsync daemon is recognised from its unprompted greeting; the others get one read-only
//! request each — beanstalkd `stats`, a git `upload-pack` of a repository that cannot exist,
//! epmd `NAMES`, an Erlang node's distribution handshake up to its challenge (no cookie is
//! offered, so no connection is made), gdbserver `qSupported` (a query: the inferior is
//! neither resumed nor changed). Parsers are pure; length fields are compared, never used to size a buffer.

use super::banner::{expect, find, first_line, step, text};
use super::{Auth, Confidence, Hints, Identification, Parser, Probe, Send, TlsUse, Verdict};

/// A first-line probe.
const fn probe(
    name: &'static str,
    send: Send,
    parse: Parser,
    (ports, processes): (&'static [u16], &'static [&'static str]),
) -> Probe {
    Probe {
        name,
        send,
        parse,
        hints: Hints { ports, processes },
        tls: TlsUse::Plain,
        refines: None,
    }
}

/// rsync daemon: greeting `@RSYNCD: 32.0 sha512 sha256 sha1 md5 md4` → protocol version and
/// the checksums it offers. Nothing is sent.
pub const RSYNC: Probe = probe("rsync-greeting", Send::Nothing, rsync, (&[873], &["rsync"]));
/// beanstalkd: `stats` → `OK <n>` and a YAML dictionary with `version`.
pub const BEANSTALKD: Probe = probe(
    "beanstalkd-stats",
    Send::Bytes(b"stats\r\n"),
    beanstalkd,
    (&[11300], &["beanstalkd"]),
);
/// git daemon: a pkt-line `git-upload-pack` of a repository that cannot exist → an `ERR`
/// pkt-line (or, were it to exist, a ref advertisement: read only as well).
pub const GIT: Probe = probe(
    "git-upload-pack",
    Send::Bytes(GIT_REQUEST),
    git,
    (&[9418], &["git-daemon", "git"]),
);
/// Erlang port mapper: `NAMES_REQ` → epmd's own port, then `name N at port P` per node.
pub const EPMD: Probe = probe(
    "epmd-names",
    Send::Bytes(b"\x00\x01n"),
    epmd,
    (&[4369], &["epmd"]),
);
/// Erlang distribution (a node's port, as epmd's `NAMES` lists it): the version-6 handshake's
/// `send_name` (`N`, flags, creation 0, name `portscope_probe@localhost`) → `s` and a status
/// (`ok`, `nok`, `not_allowed`, `alive`…), then, after `ok`, the node's challenge with its own
/// name. Nothing more is sent: without the challenge reply (which needs the cookie) no
/// connection is made, and the node drops the attempt when the probe closes.
pub const ERLANG_DIST: Probe = probe(
    "erlang-dist-name",
    Send::Bytes(ERLANG_SEND_NAME),
    erlang_dist,
    (&[25672], &["beam.smp", "beam", "erl"]),
);
/// GDB remote serial protocol: `qSupported` → `$PacketSize=…;…#cs`.
pub const GDB: Probe = probe(
    "gdb-qsupported",
    Send::Bytes(b"+$qSupported#37"),
    gdb,
    (&[1234, 2345], &["gdbserver"]),
);

/// `git-upload-pack /portscope-probe-nonexistent-5b0e9c1d\0host=localhost\0` as a pkt-line.
pub const GIT_REQUEST: &[u8] =
    b"0049git-upload-pack /portscope-probe-nonexistent-5b0e9c1d\x00host=localhost\x00";

/// `send_name` (version 6, OTP 23+): length 40, `N`, flags (extended references and pids,
/// fun tags, new floats, bit binaries, export pointers, UTF-8 atoms, maps, big creation,
/// handshake 23, unlink id, v4 node container: what OTP 25 and 26 require), creation 0,
/// name length 25, `portscope_probe@localhost`. Not published: a hidden node's attempt.
pub const ERLANG_SEND_NAME: &[u8] =
    b"\x00\x28N\x00\x00\x00\x04\x03\x07\x0f\x94\x00\x00\x00\x00\x00\x19portscope_probe@localhost";

/// VNC, after its greeting: the client's `RFB 003.008` → the security types the server offers
/// (None = anyone may view and type; VNC authentication, VeNCrypt… = a password or more). The
/// connection ends before any type is chosen: nothing is seen or sent to the desktop.
pub const VNC_SECURITY: Probe = Probe {
    name: "vnc-security-types",
    send: Send::Bytes(b"RFB 003.008\n"),
    parse: vnc_security,
    hints: Hints {
        ports: &[],
        processes: &[],
    },
    tls: TlsUse::Plain,
    refines: Some("vnc"),
};

/// This family's probes.
pub const PROBES: &[Probe] = &[RSYNC, BEANSTALKD, GIT, EPMD, ERLANG_DIST, GDB, VNC_SECURITY];

/// The server's greeting, then (RFB 3.7 and later) a count and that many security types, or
/// (RFB 3.3) one 32-bit type; a count or type of 0 is a refusal with a reason.
fn vnc_security(bytes: &[u8]) -> Verdict {
    let rest = step!(expect(bytes, b"RFB 003."));
    let (Some(minor), Some(types)) = (rest.get(..3), rest.get(4..)) else {
        return Verdict::NeedMore;
    };
    if rest.get(3) != Some(&b'\n') || !minor.iter().all(u8::is_ascii_digit) {
        return Verdict::NoMatch;
    }
    let offered: Vec<u8> = if minor < b"007".as_slice() {
        match types {
            [0, 0, 0, t] => vec![*t],
            [_, _, _, _, ..] => vec![0],
            _ => return Verdict::NeedMore,
        }
    } else {
        let Some((&count, list)) = types.split_first() else {
            return Verdict::NeedMore;
        };
        if count == 0 {
            vec![0]
        } else if list.len() < usize::from(count) {
            return Verdict::NeedMore;
        } else {
            list[..usize::from(count)].to_vec()
        }
    };
    let id = Identification::new("vnc", Confidence::Certain);
    if offered == [0] {
        return Verdict::Match(id.detail("security", "refused the connection"));
    }
    let names: Vec<String> = offered.iter().map(|&t| security_name(t)).collect();
    let auth = if offered.contains(&1) {
        Auth::NotRequired
    } else {
        Auth::Required
    };
    Verdict::Match(id.auth(auth).detail("security", names.join(", ")))
}

/// The RFB security type's name (IANA "RFB Security Types").
fn security_name(t: u8) -> String {
    match t {
        1 => "None".into(),
        2 => "VNC authentication".into(),
        5 => "RA2".into(),
        16 => "Tight".into(),
        18 => "TLS".into(),
        19 => "VeNCrypt".into(),
        30 => "Apple ARD".into(),
        other => format!("type {other}"),
    }
}

fn rsync(bytes: &[u8]) -> Verdict {
    let rest = step!(expect(bytes, b"@RSYNCD: "));
    if rest.first().is_some_and(|b| !b.is_ascii_digit()) {
        return Verdict::NoMatch;
    }
    let line = step!(first_line(rest, 256));
    let mut words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
    let version = words.next().unwrap_or_default();
    if !version.iter().all(|b| b.is_ascii_digit() || *b == b'.') {
        return Verdict::NoMatch;
    }
    let mut id = Identification::new("rsync", Confidence::Certain).version(text(version));
    let digests: Vec<&[u8]> = words.collect();
    if !digests.is_empty() {
        id = id.detail("digests", text(&digests.join(&b' ')));
    }
    Verdict::Match(id)
}

/// Most bytes of a beanstalkd `stats` body read (its real one is under 1 KiB).
const BEANSTALKD_BODY_MAX: usize = 8192;

fn beanstalkd(bytes: &[u8]) -> Verdict {
    let rest = step!(expect(bytes, b"OK "));
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits > 9 || (digits == 0 && !rest.is_empty()) {
        return Verdict::NoMatch;
    }
    let after = rest.get(digits..).unwrap_or_default();
    if after.is_empty() {
        return Verdict::NeedMore;
    }
    let body = step!(expect(after, b"\r\n---\n"));
    let len: usize = std::str::from_utf8(rest.get(..digits).unwrap_or_default())
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(0);
    // The YAML starts after `---\n`, which the stated length includes.
    let want = len.saturating_sub(4).min(BEANSTALKD_BODY_MAX);
    if body.len() < want {
        return Verdict::NeedMore;
    }
    let body = body.get(..want).unwrap_or(body);
    let mut id = Identification::new("beanstalkd", Confidence::Certain)
        .product("beanstalkd")
        .auth(Auth::NotRequired);
    if let Some(version) = yaml(body, "version") {
        id = id.version(version);
    }
    for key in [
        "current-tubes",
        "current-jobs-ready",
        "total-jobs",
        "hostname",
    ] {
        if let Some(value) = yaml(body, key) {
            id = id.detail(key, value);
        }
    }
    Verdict::Match(id)
}

/// The value of `key: value` in a flat YAML dictionary, unquoted.
fn yaml(body: &[u8], key: &str) -> Option<String> {
    body.split(|&b| b == b'\n').find_map(|line| {
        let value = line.strip_prefix(key.as_bytes())?.strip_prefix(b": ")?;
        let value = value.trim_ascii();
        let value = value
            .strip_prefix(b"\"")
            .and_then(|v| v.strip_suffix(b"\""))
            .unwrap_or(value);
        Some(text(value))
    })
}

/// Most bytes of a git pkt-line read.
const PKT_MAX: usize = 1024;

fn git(bytes: &[u8]) -> Verdict {
    let hex = bytes.iter().take(4);
    if hex.clone().any(|b| !b.is_ascii_hexdigit()) {
        return Verdict::NoMatch;
    }
    let Some(head) = bytes.get(..4) else {
        return Verdict::NeedMore;
    };
    let len = std::str::from_utf8(head)
        .ok()
        .and_then(|h| usize::from_str_radix(h, 16).ok())
        .unwrap_or(0);
    if len < 8 {
        return Verdict::NoMatch;
    }
    let payload = bytes.get(4..).unwrap_or_default();
    let want = (len - 4).min(PKT_MAX);
    let looks = [&b"ERR "[..], b"version "].iter().any(|m| {
        m.starts_with(
            payload
                .get(..m.len().min(payload.len()))
                .unwrap_or_default(),
        )
    }) || payload.iter().take(40).all(u8::is_ascii_hexdigit);
    if !looks {
        return Verdict::NoMatch;
    }
    if payload.len() < want {
        return Verdict::NeedMore;
    }
    let payload = payload.get(..want).unwrap_or(payload);
    let id = Identification::new("git", Confidence::Certain);
    if let Some(error) = payload.strip_prefix(b"ERR ") {
        return Verdict::Match(id.detail("error", text(error)));
    }
    if let Some(version) = payload.strip_prefix(b"version ") {
        return Verdict::Match(id.detail("protocol_version", text(version)));
    }
    // A ref advertisement: 40 hex digits, a space, a ref name.
    let advertised = payload.get(..41).is_some_and(|h| {
        h.get(..40)
            .is_some_and(|d| d.iter().all(u8::is_ascii_hexdigit))
            && h.get(40) == Some(&b' ')
    });
    if !advertised {
        return Verdict::NoMatch;
    }
    Verdict::Match(id.detail("refs", "advertised (the repository exists and is exported)"))
}

/// Most bytes of an epmd `NAMES` reply read, and most nodes reported.
const EPMD_MAX: usize = 4096;
const EPMD_NODES: usize = 8;

fn epmd(bytes: &[u8]) -> Verdict {
    if bytes.iter().take(2).any(|&b| b != 0) {
        return Verdict::NoMatch;
    }
    let Some(port) = bytes.get(2..4).map(|p| u16::from_be_bytes([p[0], p[1]])) else {
        return Verdict::NeedMore;
    };
    let names = bytes.get(4..).unwrap_or_default();
    if port == 0 || !b"name ".starts_with(names.get(..5.min(names.len())).unwrap_or_default()) {
        return Verdict::NoMatch;
    }
    let id = Identification::new("epmd", Confidence::Likely).detail("epmd_port", port.to_string());
    if names.is_empty() {
        // The whole reply when no node is registered; else epmd writes the names after it.
        return Verdict::MatchIfEnds(id);
    }
    let complete = names.ends_with(b"\n") || names.len() >= EPMD_MAX;
    if !complete {
        return Verdict::NeedMore;
    }
    let mut nodes = Vec::new();
    for line in names.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let Some(rest) = line.strip_prefix(b"name ") else {
            return Verdict::NoMatch;
        };
        let Some(at) = find(rest, b" at port ") else {
            return Verdict::NoMatch;
        };
        let (name, port) = (rest.get(..at).unwrap_or_default(), rest.get(at + 9..));
        nodes.push(format!("{}:{}", text(name), text(port.unwrap_or_default())));
    }
    let mut id = id;
    id.confidence = Some(Confidence::Certain);
    let shown: Vec<&str> = nodes.iter().take(EPMD_NODES).map(String::as_str).collect();
    Verdict::Match(
        id.detail("nodes", shown.join(" "))
            .detail("node_count", nodes.len().to_string()),
    )
}

/// The statuses a node answers `send_name` with (`named:` for a node that names its peer).
const ERLANG_STATUSES: &[&[u8]] = &[
    b"ok",
    b"ok_simultaneous",
    b"nok",
    b"not_allowed",
    b"alive",
    b"named:",
];

fn erlang_dist(bytes: &[u8]) -> Verdict {
    // `send_status`: a 2-byte length (short), `s`, the status.
    if bytes.first().is_some_and(|&b| b != 0) || bytes.get(2).is_some_and(|&b| b != b's') {
        return Verdict::NoMatch;
    }
    let Some(&len) = bytes.get(1) else {
        return Verdict::NeedMore;
    };
    let len = usize::from(len);
    if !(3..=64).contains(&len) {
        return Verdict::NoMatch;
    }
    let complete = bytes.len() >= 2 + len;
    let status = bytes
        .get(3..2 + len)
        .unwrap_or_else(|| bytes.get(3..).unwrap_or_default());
    let known = ERLANG_STATUSES.iter().any(|&s| {
        let named = s == b"named:" && status.starts_with(s);
        named
            || if complete {
                s == status
            } else {
                s.starts_with(status)
            }
    });
    if !known {
        return Verdict::NoMatch;
    }
    if !complete {
        return Verdict::NeedMore;
    }
    let status = text(status);
    let id = Identification::new("erlang-dist", Confidence::Certain).detail("status", &*status);
    if status != "ok" && status != "ok_simultaneous" {
        return Verdict::Match(id);
    }
    // After `ok` the node sends its challenge: `N`, flags (8), challenge (4), creation (4),
    // name length (2), name; or `n`, version (2), flags (4), challenge (4), name.
    let challenge = bytes.get(2 + len..).unwrap_or_default();
    match erlang_challenge(challenge) {
        Some(Some(name)) => Verdict::Match(id.detail("node", name)),
        Some(None) => Verdict::Match(id),
        None => Verdict::MatchIfEnds(id),
    }
}

/// The node name in a challenge message: `Some(Some(name))`, `Some(None)` when the message is
/// not one (the status said enough), `None` while it is still arriving.
fn erlang_challenge(bytes: &[u8]) -> Option<Option<String>> {
    let (Some(&hi), Some(&lo), Some(&kind)) = (bytes.first(), bytes.get(1), bytes.get(2)) else {
        return None;
    };
    let len = usize::from(hi) << 8 | usize::from(lo);
    let name_at = match kind {
        b'N' => 2 + 19,
        b'n' => 2 + 11,
        _ => return Some(None),
    };
    if !(name_at - 1..=1024).contains(&len) {
        return Some(None);
    }
    let message = bytes.get(..2 + len)?;
    let name = message.get(name_at..).unwrap_or_default();
    let name = if kind == b'N' {
        let stated = message
            .get(name_at - 2..name_at)
            .map(|n| usize::from(n[0]) << 8 | usize::from(n[1]));
        name.get(..stated.unwrap_or(0).min(name.len()))
            .unwrap_or_default()
    } else {
        name
    };
    Some((!name.is_empty()).then(|| text(name)))
}

/// Most bytes of a GDB packet read.
const GDB_MAX: usize = 4096;

fn gdb(bytes: &[u8]) -> Verdict {
    // Acknowledgements (`+`, or `-` to ask for a resend) may precede the packet.
    let start = bytes
        .iter()
        .take_while(|&&b| b == b'+' || b == b'-')
        .count();
    if start > 4 {
        return Verdict::NoMatch;
    }
    let packet = bytes.get(start..).unwrap_or_default();
    let body = step!(expect(packet, b"$"));
    let Some(hash) = body.iter().take(GDB_MAX).position(|&b| b == b'#') else {
        return if body.len() < GDB_MAX {
            Verdict::NeedMore
        } else {
            Verdict::NoMatch
        };
    };
    let payload = body.get(..hash).unwrap_or_default();
    let Some(sum) = body.get(hash + 1..hash + 3) else {
        return Verdict::NeedMore;
    };
    let stated = std::str::from_utf8(sum)
        .ok()
        .and_then(|s| u8::from_str_radix(s, 16).ok());
    let computed = payload.iter().fold(0u8, |s, &b| s.wrapping_add(b));
    if stated != Some(computed) {
        return Verdict::NoMatch;
    }
    let mut id = Identification::new("gdb-remote", Confidence::Certain);
    if payload.is_empty() {
        return Verdict::Match(id.detail("qsupported", "not supported"));
    }
    let features: Vec<&[u8]> = payload.split(|&b| b == b';').collect();
    if let Some(size) = features.iter().find_map(|f| f.strip_prefix(b"PacketSize=")) {
        let size = std::str::from_utf8(size)
            .ok()
            .and_then(|s| u64::from_str_radix(s, 16).ok());
        if let Some(size) = size {
            id = id.detail("packet_size", size.to_string());
        }
    }
    let supported = features.iter().filter(|f| f.ends_with(b"+")).count();
    id = id.detail("features", supported.to_string());
    for (feature, fact) in [
        (&b"multiprocess+"[..], "multiprocess"),
        (b"QNonStop+", "non_stop"),
        (b"qXfer:exec-file:read+", "exec_file"),
    ] {
        if features.contains(&feature) {
            id = id.detail(fact, "yes");
        }
    }
    Verdict::Match(id)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
