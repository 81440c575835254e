//! Banner fixtures and tests. Real banners were captured on Debian 12 from servers started on a
//! free loopback port (version noted per fixture); the few marked "synthesized" follow the
//! protocol's specification where no server was at hand.

use proptest::prelude::*;

use super::*;
use crate::probe::binary;

/// (probe name, bytes it must identify). Shared with the binary family's cross-check.
pub(in crate::probe) const FIXTURES: &[(&str, &[u8])] = &[
    // OpenSSH 9.2p1 (openssh-server 1:9.2p1-2+deb12u10).
    ("ssh-banner", b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n"),
    // Synthesized: Dropbear's identification.
    ("ssh-banner", b"SSH-2.0-dropbear_2022.83\r\n"),
    // MariaDB 10.11.19 (mariadb-server 1:10.11.19-0+deb12u1): handshake v10.
    ("mysql-banner", MARIADB),
    // MariaDB 10.11.19 to a client whose host has no account (--skip-name-resolve).
    (
        "mysql-banner",
        b"D\x00\x00\x00\xffj\x04Host '127.0.0.3' is not allowed to connect to this MariaDB server",
    ),
    // Synthesized: MySQL 8.0 handshake (version, thread id, salt, capabilities, plugin).
    ("mysql-banner", MYSQL8),
    // NATS Server 2.9.10 with --user/--pass and -n portscope-test.
    ("nats-info", NATS_AUTH),
    // Exim 4.96 (exim4-daemon-light 4.96-15+deb12u7).
    (
        "smtp-greeting",
        b"220 vm ESMTP Exim 4.96 Sun, 22 Nov 2026 00:42:44 +0000\r\n",
    ),
    // Synthesized: Postfix's default greeting, multi-line form.
    (
        "smtp-greeting",
        b"220-mail.example.org ESMTP Postfix (Debian/GNU)\r\n220 ok\r\n",
    ),
    // vsftpd 3.0.3, then the same vsftpd refusing to start a session (no access enabled).
    ("ftp-greeting", b"220 (vsFTPd 3.0.3)\r\n"),
    (
        "ftp-greeting",
        b"500 OOPS: vsftpd: both local and anonymous access disabled!\r\n",
    ),
    // Synthesized: a bare 220 that could be FTP or SMTP.
    ("ftp-greeting", b"220 Service ready\r\n"),
    // Dovecot 2.3.19.1 (dovecot-pop3d / dovecot-imapd).
    ("pop3-greeting", b"+OK Dovecot (Debian) ready.\r\n"),
    ("imap-greeting", IMAP_DOVECOT),
    // Synthesized: a pre-authenticated IMAP session (RFC 9051 greeting).
    (
        "imap-greeting",
        b"* PREAUTH IMAP4rev2 server logged in as Smith\r\n",
    ),
    // TigerVNC 1.12.0 (Xvnc -SecurityTypes None and VncAuth send the same).
    ("vnc-rfb", b"RFB 003.008\n"),
    // libzmq 4.3.4 (python3-zmq 24.0.1): only the signature until the peer sends its own.
    ("zmtp-greeting", b"\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7f"),
    // libzmq 4.3.4, CURVE server, full greeting after our signature and version byte.
    ("zmtp-greeting", ZMTP_CURVE),
    // jdb (OpenJDK 17.0.15) with -connect com.sun.jdi.SocketListen.
    ("jdwp-debugger", b"JDWP-Handshake"),
    // debugpy 1.8.22 (--listen): it speaks first with telemetry events.
    ("dap-banner", DAP_DEBUGPY),
];

const MARIADB: &[u8] =
    b"d\x00\x00\x00\n5.5.5-10.11.19-MariaDB-0+deb12u1\x00\x03\x00\x00\x00sS\"M>.kR\x00\xfe\xf7\
    -\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00:h!gc>H/R/4T\x00mysql_nativ\
    e_password\x00";

const MYSQL8: &[u8] = b"J\x00\x00\x00\n8.0.36\x00\x08\x00\x00\x00\x1a\x2b\x3c\x4d\x5e\x6f\x70\x01\
    \x00\xff\xff\xff\x02\x00\xff\xdf\x15\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x11\x22\x33\
    \x44\x55\x66\x77\x08\x09\x0a\x0b\x0c\x00caching_sha2_password\x00";

const NATS_AUTH: &[u8] =
    b"INFO {\"server_id\":\"NCYSZX3NCKOHFUVOTWUJUBZVX5435PX46DEBSEIMGRUNRQY2OIX24AL6\",\"serve\
    r_name\":\"portscope-test\",\"version\":\"2.9.10\",\"proto\":1,\"go\":\"go1.19.8\",\"hos\
    t\":\"127.0.0.1\",\"port\":52627,\"headers\":true,\"auth_required\":true,\"max_payload\"\
    :1048576,\"client_id\":4,\"client_ip\":\"127.0.0.1\"} \r\n";

const IMAP_DOVECOT: &[u8] =
    b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN] D\
    ovecot (Debian) ready.\r\n";

const ZMTP_CURVE: &[u8] =
    b"\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7f\x03\x01CURVE\x00\x00\x00\x00\x00\x00\x00\x00\
    \x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\
    \x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";

const DAP_DEBUGPY: &[u8] =
    b"Content-Length: 138\r\n\r\n{\"seq\": 1, \"type\": \"event\", \"event\": \"output\", \"bo\
    dy\": {\"category\": \"telemetry\", \"output\": \"ptvsd\", \"data\": {\"packageVersion\"\
    : \"1.8.22\"}}}Content-Length: 140\r\n\r\n{\"seq\": 2, \"type\": \"event\", \"event\": \
    \"output\", \"body\": {\"category\": \"telemetry\", \"output\": \"debugpy\", \"data\": {\
    \"packageVersion\": \"1.8.22\"}}}";

/// The identification `probe` makes of `bytes` (panics when it makes none).
pub(in crate::probe) fn identify(probe: &Probe, bytes: &[u8]) -> Identification {
    // A fixture is a whole reply: one that may go on is identified as it ends.
    match (probe.parse)(bytes) {
        Verdict::Match(id) | Verdict::MatchIfEnds(id) => id,
        other => panic!("{}: {other:?} on {}", probe.name, evidence(bytes, 80)),
    }
}

/// Every prefix of a whole reply `bytes` makes `probe` wait, or identify the same protocol:
/// never `NoMatch` (the engine stops reading at the first one).
pub(in crate::probe) fn prefixes_wait(probe: &Probe, bytes: &[u8]) {
    let kind = identify(probe, bytes).protocol;
    for cut in 0..bytes.len() {
        match (probe.parse)(&bytes[..cut]) {
            Verdict::NeedMore => {}
            Verdict::Match(id) | Verdict::MatchIfEnds(id) => {
                assert_eq!(id.protocol, kind, "{} at {cut}", probe.name)
            }
            Verdict::NoMatch => panic!("{}: NoMatch on a {cut}-byte prefix", probe.name),
        }
    }
}

/// The value of detail `key`.
pub(in crate::probe) fn detail<'a>(id: &'a Identification, key: &str) -> Option<&'a str> {
    id.details
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn probe(name: &str) -> &'static Probe {
    PROBES.iter().find(|p| p.name == name).unwrap()
}

#[test]
fn ssh_reads_product_version_and_os() {
    let id = identify(&SSH, FIXTURES[0].1);
    assert_eq!(
        (id.protocol.as_str(), id.confidence),
        ("ssh", Some(Confidence::Certain))
    );
    assert_eq!(id.product.as_deref(), Some("OpenSSH"));
    assert_eq!(id.version.as_deref(), Some("9.2p1"));
    assert_eq!(detail(&id, "comment"), Some("Debian-2+deb12u10"));
    assert_eq!(detail(&id, "os"), Some("Debian"));
    let id = identify(&SSH, FIXTURES[1].1);
    assert_eq!(
        (id.product.as_deref(), id.version.as_deref()),
        (Some("dropbear"), Some("2022.83"))
    );
    assert_eq!(
        identify(&SSH, b"SSH-2.0-Go\r\n").product.as_deref(),
        Some("Go")
    );
}

#[test]
fn mysql_tells_mariadb_from_mysql_and_reads_refusals() {
    let id = identify(&MYSQL, MARIADB);
    assert_eq!(
        (id.product.as_deref(), id.version.as_deref()),
        (Some("MariaDB"), Some("10.11.19"))
    );
    assert_eq!(
        detail(&id, "server_version"),
        Some("5.5.5-10.11.19-MariaDB-0+deb12u1")
    );
    let id = identify(&MYSQL, MYSQL8);
    assert_eq!(
        (id.product.as_deref(), id.version.as_deref()),
        (Some("MySQL"), Some("8.0.36"))
    );
    // Synthesized: TiDB's handshake states the MySQL version it matches, then its own.
    let tidb = [&b"V\x00\x00\x00\n8.0.11-TiDB-v7.5.0"[..], &MYSQL8[11..]].concat();
    let id = identify(&MYSQL, &tidb);
    assert_eq!(
        (id.product.as_deref(), id.version.as_deref()),
        (Some("TiDB"), Some("7.5.0"))
    );
    let id = identify(&MYSQL, FIXTURES[3].1);
    assert_eq!((id.confidence, id.auth), (Some(Confidence::Likely), None));
    assert_eq!(id.product.as_deref(), Some("MariaDB"));
    assert_eq!(detail(&id, "error_code"), Some("1130"));
    assert!(
        detail(&id, "error")
            .unwrap()
            .starts_with("Host '127.0.0.3' is not allowed")
    );
}

#[test]
fn nats_reads_version_name_and_auth() {
    let id = identify(&NATS, NATS_AUTH);
    assert_eq!(
        (id.product.as_deref(), id.version.as_deref()),
        (Some("NATS Server"), Some("2.9.10"))
    );
    assert_eq!(
        (detail(&id, "server_name"), id.auth),
        (Some("portscope-test"), Some(Auth::Required))
    );
    // NATS Server 2.9.10 without auth: the name is the server id, so it is not repeated.
    let open =
        b"INFO {\"server_id\":\"NAVJAII45BPWOIO5JR5WHTP2MF5CHRKXWWOVHMMIT2K4NVOXNTKK5WHR\",\"serve\
    r_name\":\"NAVJAII45BPWOIO5JR5WHTP2MF5CHRKXWWOVHMMIT2K4NVOXNTKK5WHR\",\"version\":\"2.9.\
    10\",\"proto\":1,\"go\":\"go1.19.8\",\"host\":\"127.0.0.1\",\"port\":52627,\"headers\":t\
    rue,\"max_payload\":1048576,\"client_id\":4,\"client_ip\":\"127.0.0.1\"} \r\n";
    let id = identify(&NATS, open);
    assert_eq!(
        (detail(&id, "server_name"), id.auth),
        (None, Some(Auth::NotRequired))
    );
}

#[test]
fn mail_and_ftp_greetings_name_their_software() {
    let exim = identify(&SMTP, FIXTURES[6].1);
    assert_eq!(
        (exim.product.as_deref(), exim.version.as_deref()),
        (Some("Exim"), Some("4.96"))
    );
    assert_eq!(
        identify(&SMTP, FIXTURES[7].1).product.as_deref(),
        Some("Postfix")
    );
    let vsftpd = identify(&FTP, FIXTURES[8].1);
    assert_eq!(
        (vsftpd.product.as_deref(), vsftpd.version.as_deref()),
        (Some("vsftpd"), Some("3.0.3"))
    );
    assert_eq!(vsftpd.confidence, Some(Confidence::Certain));
    let oops = identify(&FTP, FIXTURES[9].1);
    assert_eq!(
        detail(&oops, "error"),
        Some("vsftpd: both local and anonymous access disabled!")
    );
    let bare = identify(&FTP, FIXTURES[10].1);
    assert_eq!(
        (bare.confidence, detail(&bare, "could_be")),
        (Some(Confidence::Likely), Some("smtp"))
    );
    let pop = identify(&POP3, FIXTURES[11].1);
    assert_eq!(
        (pop.protocol.as_str(), pop.product.as_deref()),
        ("pop3", Some("Dovecot"))
    );
    let imap = identify(&IMAP, IMAP_DOVECOT);
    assert_eq!(imap.product.as_deref(), Some("Dovecot"));
    assert!(
        detail(&imap, "capabilities")
            .unwrap()
            .starts_with("IMAP4rev1 SASL-IR")
    );
    assert_eq!(
        identify(&IMAP, FIXTURES[13].1).auth,
        Some(Auth::NotRequired)
    );
}

#[test]
fn vnc_zeromq_jdwp_and_debugpy() {
    assert_eq!(
        detail(&identify(&VNC, b"RFB 003.008\n"), "rfb_version"),
        Some("3.8")
    );
    assert_eq!(
        detail(&identify(&VNC, b"RFB 003.889\n"), "rfb_version"),
        Some("3.889")
    );
    let signature = identify(&ZEROMQ, FIXTURES[15].1);
    assert_eq!(
        (signature.protocol.as_str(), signature.details.len()),
        ("zeromq", 0)
    );
    let curve = identify(&ZEROMQ, ZMTP_CURVE);
    assert_eq!(
        (detail(&curve, "zmtp_version"), detail(&curve, "mechanism")),
        (Some("3.1"), Some("CURVE"))
    );
    assert_eq!(curve.auth, Some(Auth::Required));
    let jdwp = identify(&JDWP_DEBUGGER, b"JDWP-Handshake");
    assert_eq!(
        detail(&jdwp, "side"),
        Some("debugger (waiting for a JVM to attach)")
    );
    let dap = identify(&DAP, DAP_DEBUGPY);
    assert_eq!(
        (dap.product.as_deref(), dap.version.as_deref()),
        (Some("debugpy"), Some("1.8.22"))
    );
    assert_eq!(dap.protocol, "dap");
}

#[test]
fn prefixes_wait_and_never_reject() {
    for &(name, bytes) in FIXTURES {
        prefixes_wait(probe(name), bytes);
    }
    for (probe, bytes) in [
        (&SSH, &b"SSH-2."[..]),
        (&SSH, b"SSH-2.0-OpenSSH_9.2p1"),
        (&MYSQL, &MARIADB[..20]),
        (&FTP, b"220 (vsF"),
        (&SMTP, b"220 mail ES"),
        (&IMAP, b"* PRE"),
        (&VNC, b"RFB 003.0"),
        (&ZEROMQ, b"\xff\x00\x00"),
        (&JDWP_DEBUGGER, b"JDWP-Hand"),
        (&NATS, b"INFO {\"server_id\""),
    ] {
        assert_eq!((probe.parse)(bytes), Verdict::NeedMore, "{}", probe.name);
    }
}

#[test]
fn foreign_banners_and_junk_are_rejected_at_once() {
    let junk: [&[u8]; 6] = [
        b"HTTP/1.1 400 Bad Request\r\n\r\n",
        b"\x15\x03\x03\x00\x02\x02\x28\x16\x03\x03\x00\x5a\x02\x00\x00\x56\x03\x03",
        b"hello world\r\n",
        &[0; 64],
        &[0xaa; 64],
        b"SSH-x.y-nope\r\n",
    ];
    assert_rejects(PROBES, &junk);
    assert_eq!(smtp(b"220 (vsFTPd 3.0.3)\r\n"), Verdict::NoMatch);
    assert_eq!(ftp(FIXTURES[6].1), Verdict::NoMatch);
    assert_eq!(ssh(b"SSH-2.0\r\n"), Verdict::NoMatch);
    assert_eq!(vnc(b"RFB 003.00x\n"), Verdict::NoMatch);
    assert_eq!(mysql(b"\x0a\x00\x00\x00\x0a5.7\x01"), Verdict::NoMatch);
}

#[test]
fn the_table_waits_for_banners_only() {
    for probe in PROBES {
        assert_eq!(probe.send, Send::Nothing, "{}", probe.name);
        assert!(probe.refines.is_none());
        assert_eq!(PROBES.iter().filter(|p| p.name == probe.name).count(), 1);
    }
    assert!(
        FIXTURES
            .iter()
            .all(|(name, _)| PROBES.iter().any(|p| p.name == *name))
    );
    assert!(
        PROBES
            .iter()
            .all(|p| FIXTURES.iter().any(|(name, _)| *name == p.name))
    );
}

/// A fixture with one byte changed (at `at`, modulo its length) and cut (at `cut`, modulo its
/// length + 1): the families' proptests feed these to every parser.
pub(in crate::probe) fn mutated(fixture: &[u8], at: usize, byte: u8, cut: usize) -> Vec<u8> {
    let mut bytes = fixture.to_vec();
    if let Some(b) = bytes.get_mut(at % fixture.len().max(1)) {
        *b = byte;
    }
    bytes.truncate(cut % (bytes.len() + 1));
    bytes
}

/// Every probe of `probes` rejects every reply of `junk` at once (no wait for more).
pub(in crate::probe) fn assert_rejects(probes: &[Probe], junk: &[&[u8]]) {
    for probe in probes {
        for bytes in junk {
            assert_eq!(
                (probe.parse)(bytes),
                Verdict::NoMatch,
                "{} on {bytes:?}",
                probe.name
            );
        }
    }
}

/// Every string an identification carries is printable (it reaches terminals and JSON).
pub(in crate::probe) fn assert_printable(verdict: &Verdict) {
    if let Verdict::Match(id) = verdict {
        let fields = [&id.protocol]
            .into_iter()
            .chain(&id.product)
            .chain(&id.version);
        let details = id.details.iter().flat_map(|(k, v)| [k, v]);
        for field in fields.chain(details) {
            assert!(!field.chars().any(char::is_control), "{field:?}");
        }
    }
}

proptest! {
    #[test]
    fn parsers_are_total(bytes in proptest::collection::vec(any::<u8>(), 0..1500)) {
        for probe in PROBES.iter().chain(binary::PROBES) {
            assert_printable(&(probe.parse)(&bytes));
        }
    }

    #[test]
    fn mutated_banners_stay_total(index in 0..FIXTURES.len(), at in any::<usize>(), byte in any::<u8>(), cut in any::<usize>()) {
        let bytes = mutated(FIXTURES[index].1, at, byte, cut);
        for probe in PROBES.iter().chain(binary::PROBES) {
            assert_printable(&(probe.parse)(&bytes));
        }
    }
}
