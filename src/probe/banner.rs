//! Probes for servers that speak first (SSH, MySQL, mail, FTP, VNC, ZeroMQ, a JDWP debugger…).
//!
//! Each probe sends nothing: the engine hands the bytes that arrived unprompted to *every*
//! parser here, so each one rejects a foreign banner within its first bytes, waits
//! ([`Verdict::NeedMore`]) only while the bytes could still become its protocol, and reads at
//! most a bounded stretch of them. The small byte helpers at the bottom are shared with
//! [`super::binary`].

use super::binary::lsp;
use super::{
    Auth, Confidence, Hints, Identification, Parser, Probe, Send, TlsUse, Verdict, evidence,
};

/// `?` for parsers: a helper's `Err(verdict)` becomes the parser's answer.
macro_rules! step {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(verdict) => return verdict,
        }
    };
}
pub(super) use step;

/// A first-line probe that waits for the server to speak.
const fn listen(
    name: &'static str,
    parse: Parser,
    (ports, processes): (&'static [u16], &'static [&'static str]),
    tls: TlsUse,
) -> Probe {
    let hints = Hints { ports, processes };
    Probe {
        name,
        send: Send::Nothing,
        parse,
        hints,
        tls,
        refines: None,
    }
}

/// SSH: identification line `SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3` → product, version,
/// `comment`, `os`.
pub const SSH: Probe = listen(
    "ssh-banner",
    ssh,
    (&[22, 2222], &["sshd", "dropbear"]),
    TlsUse::Plain,
);
/// MySQL/MariaDB: the server's handshake packet (protocol 10 + version), or its error packet
/// (`Host '…' is not allowed to connect`).
pub const MYSQL: Probe = listen(
    "mysql-banner",
    mysql,
    (&[3306], &["mysqld", "mariadbd"]),
    TlsUse::Plain,
);
/// NATS: `INFO {json}` with `version`, `server_name`, `auth_required`.
pub const NATS: Probe = listen(
    "nats-info",
    nats,
    (&[4222], &["nats-server"]),
    TlsUse::Plain,
);
/// SMTP: a `220` greeting that says `SMTP`/`ESMTP`. (Postfix's `master` is hinted by its
/// path, `/usr/lib/postfix/sbin/master`: a bare `master` would be nginx's master process too.)
pub const SMTP: Probe = listen(
    "smtp-greeting",
    smtp,
    (&[25, 587, 465], &["exim", "postfix", "smtpd"]),
    TlsUse::Both,
);
/// FTP: a `220` greeting without `SMTP` (certain when it says `FTP`), or vsftpd's `500 OOPS:`.
pub const FTP: Probe = listen(
    "ftp-greeting",
    ftp,
    (&[21, 990], &["ftpd", "vsftpd", "proftpd"]),
    TlsUse::Both,
);
/// POP3: `+OK` greeting.
pub const POP3: Probe = listen(
    "pop3-greeting",
    pop3,
    (&[110, 995], &["pop3-login", "pop3d"]),
    TlsUse::Both,
);
/// IMAP: `* OK` / `* PREAUTH` / `* BYE` greeting, with its `[CAPABILITY …]`.
pub const IMAP: Probe = listen(
    "imap-greeting",
    imap,
    (&[143, 993], &["dovecot", "imap-login", "imapd"]),
    TlsUse::Both,
);
/// VNC: RFB protocol version `RFB 003.008\n`.
pub const VNC: Probe = listen(
    "vnc-rfb",
    vnc,
    (&VNC_PORTS, &["vnc", "Xvnc", "x11vnc"]),
    TlsUse::Plain,
);
/// VNC displays :0–:99 (5900–5999).
const VNC_PORTS: [u16; 100] = {
    let mut ports = [0u16; 100];
    let mut i = 0;
    while i < ports.len() {
        ports[i] = 5900 + i as u16;
        i += 1;
    }
    ports
};
/// ZeroMQ: ZMTP signature `ff …8 bytes… 7f` (libzmq sends only these 10 bytes until the peer
/// answers); version and security mechanism when a full greeting came.
pub const ZEROMQ: Probe = listen(
    "zmtp-greeting",
    zeromq,
    (&[], &["ipykernel", "jupyter"]),
    TlsUse::Plain,
);
/// JDWP, debugger side listening: the debugger writes `JDWP-Handshake` to whoever connects.
pub const JDWP_DEBUGGER: Probe = listen(
    "jdwp-debugger",
    jdwp_debugger,
    (&[], &["idea", "java"]),
    TlsUse::Plain,
);
/// DAP servers that speak first (debugpy sends `Content-Length:`-framed events at once); the
/// LSP parser tells `dap` from `lsp`.
pub const DAP: Probe = listen("dap-banner", lsp, (&[5678], &["debugpy"]), TlsUse::Plain);

/// This family's probes.
pub const PROBES: &[Probe] = &[
    SSH,
    MYSQL,
    NATS,
    SMTP,
    FTP,
    POP3,
    IMAP,
    VNC,
    ZEROMQ,
    JDWP_DEBUGGER,
    DAP,
];

fn ssh(bytes: &[u8]) -> Verdict {
    let rest = step!(expect(bytes, b"SSH-"));
    // protoversion: digits and dots, then `-` (RFC 4253 §4.2, at most 255 bytes with CR LF).
    let proto_len = rest
        .iter()
        .position(|b| !(b.is_ascii_digit() || *b == b'.'));
    if proto_len.is_some_and(|n| n == 0 || rest.get(n) != Some(&b'-')) {
        return Verdict::NoMatch;
    }
    let line = step!(first_line(rest, 251));
    let Some((proto, ident)) = split_once(line, b'-') else {
        return Verdict::NoMatch;
    };
    let (software, comment) = split_once(ident, b' ').unwrap_or((ident, b""));
    let mut id =
        Identification::new("ssh", Confidence::Certain).detail("protocol_version", text(proto));
    let named =
        split_once(software, b'_').filter(|(_, v)| v.first().is_some_and(u8::is_ascii_digit));
    id = match named {
        Some((product, version)) => id.product(text(product)).version(text(version)),
        None if !software.is_empty() => id.product(text(software)),
        None => id,
    };
    if !comment.is_empty() {
        id = id.detail("comment", text(comment));
        let first = comment
            .split(|&b| b == b'-' || b == b' ')
            .next()
            .unwrap_or_default();
        if let Some(os) = OSES.iter().find(|os| os.as_bytes() == first) {
            id = id.detail("os", *os);
        }
    }
    Verdict::Match(id)
}

/// Systems that vendors name at the start of an SSH comment (`Debian-2+deb12u3`).
const OSES: &[&str] = &[
    "Debian", "Ubuntu", "Raspbian", "FreeBSD", "NetBSD", "OpenBSD",
];

fn mysql(bytes: &[u8]) -> Verdict {
    // 3-byte little-endian payload length (< 64 KiB here), sequence 0, then 0x0a or 0xff.
    let bad = |at: usize, ok: fn(u8) -> bool| bytes.get(at).is_some_and(|&b| !ok(b));
    if bad(2, |b| b == 0) || bad(3, |b| b == 0) || bad(4, |b| b == 0x0a || b == 0xff) {
        return Verdict::NoMatch;
    }
    let (Some(&lo), Some(&hi), Some(&kind)) = (bytes.first(), bytes.get(1), bytes.get(4)) else {
        return Verdict::NeedMore;
    };
    let len = usize::from(lo) | usize::from(hi) << 8;
    let payload = bytes.get(5..).unwrap_or_default();
    if kind == 0xff {
        return mysql_error(payload, len);
    }
    // Handshake v10: a NUL-terminated server version of printable ASCII, then ≥ 30 bytes.
    if payload
        .iter()
        .take(80)
        .take_while(|&&b| b != 0)
        .any(|b| !b.is_ascii_graphic())
    {
        return Verdict::NoMatch;
    }
    let Some(nul) = payload.iter().take(80).position(|&b| b == 0) else {
        let waiting = payload.len() < 80 && payload.len() + 1 < len;
        return if waiting {
            Verdict::NeedMore
        } else {
            Verdict::NoMatch
        };
    };
    let version = payload.get(..nul).unwrap_or_default();
    if len < nul + 30 || version.is_empty() || !version.iter().all(u8::is_ascii_graphic) {
        return Verdict::NoMatch;
    }
    let id =
        Identification::new("mysql", Confidence::Certain).detail("server_version", text(version));
    let plain = version.strip_prefix(b"5.5.5-").unwrap_or(version);
    if let Some(at) = find(plain, b"-TiDB-") {
        // TiDB speaks MySQL's protocol and states the MySQL version it matches first.
        let tidb = plain.get(at + 6..).unwrap_or_default();
        return Verdict::Match(
            id.product("TiDB")
                .version(text(tidb.strip_prefix(b"v").unwrap_or(tidb))),
        );
    }
    Verdict::Match(match find(plain, b"-MariaDB") {
        Some(at) => id
            .product("MariaDB")
            .version(text(plain.get(..at).unwrap_or_default())),
        None => id
            .product("MySQL")
            .version(text(split_once(plain, b'-').map_or(plain, |v| v.0))),
    })
}

/// A MySQL error packet sent instead of the handshake: code (1000–9999), optional `#SQLSTATE`,
/// message.
fn mysql_error(payload: &[u8], len: usize) -> Verdict {
    let code = le16(payload, 0);
    if !(3..=1024).contains(&len) || code.is_some_and(|code| !(1000..10_000).contains(&code)) {
        return Verdict::NoMatch;
    }
    let (Some(code), Some(body)) = (code, payload.get(..len - 1)) else {
        return Verdict::NeedMore;
    };
    let message = body.get(2..).unwrap_or_default();
    let message = message
        .strip_prefix(b"#")
        .and_then(|m| m.get(5..))
        .unwrap_or(message);
    let mut id = Identification::new("mysql", Confidence::Likely)
        .detail("error_code", code.to_string())
        .detail("error", text(message));
    if find(message, b"MariaDB").is_some() {
        id = id.product("MariaDB");
    } else if find(message, b"MySQL").is_some() {
        id = id.product("MySQL");
    }
    Verdict::Match(id)
}

fn nats(bytes: &[u8]) -> Verdict {
    let rest = step!(expect(bytes, b"INFO "));
    if rest.first().is_some_and(|&b| b != b'{') {
        return Verdict::NoMatch;
    }
    let json = step!(first_line(rest, 8192));
    let mut id = Identification::new("nats", Confidence::Certain);
    if let Some(version) = json_str(json, "version") {
        id = id.product("NATS Server").version(version);
    }
    let (name, server_id) = (json_str(json, "server_name"), json_str(json, "server_id"));
    if let Some(name) = name.filter(|name| Some(name) != server_id.as_ref()) {
        id = id.detail("server_name", name);
    }
    let auth = json_value(json, "auth_required").is_some_and(|v| v.starts_with(b"true"));
    Verdict::Match(id.auth(if auth {
        Auth::Required
    } else {
        Auth::NotRequired
    }))
}

/// The first line of a `220` greeting (`220 …`, `220-…`).
fn greeting_220(bytes: &[u8]) -> Result<&[u8], Verdict> {
    let rest = expect(bytes, b"220")?;
    if rest
        .first()
        .is_some_and(|b| !matches!(b, b' ' | b'-' | b'\r' | b'\n'))
    {
        return Err(Verdict::NoMatch);
    }
    first_line(rest, 512)
}

fn smtp(bytes: &[u8]) -> Verdict {
    let line = step!(greeting_220(bytes));
    if find_ci(line, b"SMTP").is_none() {
        return Verdict::NoMatch;
    }
    Verdict::Match(greeter(
        Identification::new("smtp", Confidence::Certain),
        line,
    ))
}

fn ftp(bytes: &[u8]) -> Verdict {
    // vsftpd refuses to serve with `500 OOPS: <reason>` when misconfigured.
    match expect(bytes, b"500 OOPS: ") {
        Ok(rest) => {
            let reason = step!(first_line(rest, 512));
            let id = Identification::new("ftp", Confidence::Likely).product("vsftpd");
            return Verdict::Match(id.detail("error", text(reason)));
        }
        Err(Verdict::NeedMore) => return Verdict::NeedMore,
        Err(_) => {}
    }
    let line = step!(greeting_220(bytes));
    if find_ci(line, b"SMTP").is_some() {
        return Verdict::NoMatch;
    }
    let id = match find_ci(line, b"FTP") {
        Some(_) => Identification::new("ftp", Confidence::Certain),
        None => Identification::new("ftp", Confidence::Likely).detail("could_be", "smtp"),
    };
    Verdict::Match(greeter(id, line))
}

fn pop3(bytes: &[u8]) -> Verdict {
    let rest = step!(expect(bytes, b"+OK"));
    if rest
        .first()
        .is_some_and(|b| !matches!(b, b' ' | b'\r' | b'\n'))
    {
        return Verdict::NoMatch;
    }
    let line = step!(first_line(rest, 512));
    Verdict::Match(greeter(
        Identification::new("pop3", Confidence::Certain),
        line,
    ))
}

fn imap(bytes: &[u8]) -> Verdict {
    let rest = step!(expect(bytes, b"* "));
    let (status, rest) = step!(expect_any(rest, &[b"OK ", b"PREAUTH ", b"BYE "]));
    let line = step!(first_line(rest, 1024));
    let mut id = greeter(Identification::new("imap", Confidence::Certain), line);
    if let Some(caps) = find(line, b"[CAPABILITY ").and_then(|at| line.get(at + 12..)) {
        let end = caps.iter().position(|&b| b == b']').unwrap_or(caps.len());
        id = id.detail("capabilities", text(caps.get(..end).unwrap_or_default()));
    }
    Verdict::Match(match status {
        1 => id.auth(Auth::NotRequired),
        2 => id.detail("refused", text(line)),
        _ => id,
    })
}

fn vnc(bytes: &[u8]) -> Verdict {
    let rest = step!(expect(bytes, b"RFB "));
    let shape = rest.iter().zip(b"999.999\n").all(|(b, s)| match s {
        b'9' => b.is_ascii_digit(),
        _ => b == s,
    });
    if !shape {
        return Verdict::NoMatch;
    }
    let (Some(major), Some(minor)) = (rest.get(..3), rest.get(4..7)) else {
        return Verdict::NeedMore;
    };
    if rest.len() < 8 {
        return Verdict::NeedMore;
    }
    let number = |digits: &[u8]| {
        digits
            .iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
    };
    let rfb = format!("{}.{}", number(major), number(minor));
    Verdict::Match(Identification::new("vnc", Confidence::Certain).detail("rfb_version", rfb))
}

fn zeromq(bytes: &[u8]) -> Verdict {
    if bytes.first().is_some_and(|&b| b != 0xff) || bytes.get(9).is_some_and(|&b| b != 0x7f) {
        return Verdict::NoMatch;
    }
    if bytes.len() < 10 {
        return Verdict::NeedMore;
    }
    let mut id = Identification::new("zeromq", Confidence::Certain);
    if let Some(major) = bytes.get(10) {
        let minor = bytes
            .get(11)
            .map(|minor| format!(".{minor}"))
            .unwrap_or_default();
        id = id.detail("zmtp_version", format!("{major}{minor}"));
    }
    if let Some(field) = bytes.get(12..32) {
        let mechanism = field.split(|&b| b == 0).next().unwrap_or_default();
        if !mechanism.is_empty() {
            id = id.detail("mechanism", text(mechanism));
            if mechanism != b"NULL" {
                id = id.auth(Auth::Required);
            }
        }
    }
    Verdict::Match(id)
}

fn jdwp_debugger(bytes: &[u8]) -> Verdict {
    step!(expect(bytes, b"JDWP-Handshake"));
    let id = Identification::new("jdwp", Confidence::Certain);
    Verdict::Match(id.detail("side", "debugger (waiting for a JVM to attach)"))
}

/// Server software that mail and FTP greetings name: (text in the greeting, product).
const GREETERS: &[(&str, &str)] = &[
    ("Dovecot", "Dovecot"),
    ("Cyrus", "Cyrus IMAP"),
    ("Courier", "Courier"),
    ("Exim", "Exim"),
    ("Postfix", "Postfix"),
    ("Sendmail", "Sendmail"),
    ("OpenSMTPD", "OpenSMTPD"),
    ("vsFTPd", "vsftpd"),
    ("ProFTPD", "ProFTPD"),
    ("Pure-FTPd", "Pure-FTPd"),
    ("FileZilla Server", "FileZilla Server"),
];

/// Add the greeting, and the product (and version right after its name) when it names one.
fn greeter(id: Identification, line: &[u8]) -> Identification {
    let id = id.detail("greeting", text(line));
    let Some((at, product)) = GREETERS.iter().find_map(|(needle, product)| {
        find(line, needle.as_bytes()).map(|at| (at + needle.len(), *product))
    }) else {
        return id;
    };
    let rest = line.get(at..).unwrap_or_default();
    let rest = rest.strip_prefix(b" ").unwrap_or(rest);
    let len = rest
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || b".-+~".contains(b)));
    let version = rest.get(..len.unwrap_or(rest.len())).unwrap_or_default();
    match version.first() {
        Some(d) if d.is_ascii_digit() => id.product(product).version(text(version)),
        _ => id.product(product),
    }
}

/// Match a fixed opening: `Ok(rest)` after it, `Err(NeedMore)` while `bytes` is a shorter
/// prefix of it, `Err(NoMatch)` once it departs.
pub(super) fn expect<'a>(bytes: &'a [u8], magic: &[u8]) -> Result<&'a [u8], Verdict> {
    match bytes.strip_prefix(magic) {
        Some(rest) => Ok(rest),
        None if magic.starts_with(bytes) => Err(Verdict::NeedMore),
        None => Err(Verdict::NoMatch),
    }
}

/// [`expect`] for several openings: the index of the one found and the rest after it.
pub(super) fn expect_any<'a>(
    bytes: &'a [u8],
    magics: &[&[u8]],
) -> Result<(usize, &'a [u8]), Verdict> {
    let mut verdict = Verdict::NoMatch;
    for (index, magic) in magics.iter().enumerate() {
        match expect(bytes, magic) {
            Ok(rest) => return Ok((index, rest)),
            Err(Verdict::NeedMore) => verdict = Verdict::NeedMore,
            Err(_) => {}
        }
    }
    Err(verdict)
}

/// True when the bytes present at `at..` agree with `magic` (absent bytes agree).
pub(super) fn fits(bytes: &[u8], at: usize, magic: &[u8]) -> bool {
    let present = bytes.get(at..).unwrap_or_default();
    present.iter().zip(magic).all(|(a, b)| a == b)
}

/// The first line without its line ending: `Err(NeedMore)` until a `\n` arrives, unless `max`
/// bytes came without one (then those `max` bytes).
pub(super) fn first_line(bytes: &[u8], max: usize) -> Result<&[u8], Verdict> {
    let end = match bytes.iter().take(max).position(|&b| b == b'\n') {
        Some(end) => end,
        None if bytes.len() < max => return Err(Verdict::NeedMore),
        None => max,
    };
    let line = bytes.get(..end).unwrap_or(bytes);
    Ok(line.strip_suffix(b"\r").unwrap_or(line))
}

/// The little-endian `u16` at `at`.
pub(super) fn le16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        bytes.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

/// Split at the first `separator`.
fn split_once(bytes: &[u8], separator: u8) -> Option<(&[u8], &[u8])> {
    let at = bytes.iter().position(|&b| b == separator)?;
    Some((bytes.get(..at)?, bytes.get(at + 1..)?))
}

/// Position of `needle` in `hay`.
pub(super) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len().max(1))
        .position(|window| window == needle)
}

/// [`find`] ignoring ASCII case.
fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len().max(1))
        .position(|window| window.eq_ignore_ascii_case(needle))
}

/// Wire bytes made safe for an identification field: trimmed, non-printable bytes escaped,
/// at most 160 bytes.
pub(super) fn text(bytes: &[u8]) -> String {
    evidence(bytes.trim_ascii(), 160)
}

/// The raw JSON value after `"key":` in flat JSON text, found without parsing the document.
pub(super) fn json_value<'a>(json: &'a [u8], key: &str) -> Option<&'a [u8]> {
    let quoted = [b"\"", key.as_bytes(), b"\""].concat();
    let rest = json.get(find(json, &quoted)? + quoted.len()..)?;
    Some(
        rest.trim_ascii_start()
            .strip_prefix(b":")?
            .trim_ascii_start(),
    )
}

/// The string value of `"key"` in flat JSON text (escapes are not decoded).
pub(super) fn json_str(json: &[u8], key: &str) -> Option<String> {
    let value = json_value(json, key)?.strip_prefix(b"\"")?;
    Some(text(value.get(..value.iter().position(|&b| b == b'"')?)?))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(in crate::probe) mod tests;
