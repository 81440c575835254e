//! What speaks inside TLS, and when to try TLS early.
//!
//! After a completed handshake the prober listens inside the session as it does in clear
//! text: a server that speaks first (IMAPS, POP3S, SMTPS, FTPS…) is named from its greeting
//! without a byte sent; otherwise the request probes that may run inside TLS follow, each on a
//! fresh session ([`super::wire::try_tls`]). A protocol found inside gets its usual secure name
//! (`imap` → `imaps`, `http` → `https`, [`secure_name`]); others keep their own name, and the
//! TLS facts say the rest.
//!
//! TLS is tried first on the usual TLS ports, and also when the owning process or the port
//! names a speak-first protocol that runs inside TLS but the port said nothing during the
//! banner wait: such a greeter keeps quiet only when it waits for a ClientHello (dovecot's
//! IMAPS listener on any port). A port that answers a plain HTTP request with "this is a TLS
//! port" ([`http::plain_http_refused`]) is TLS as well: the handshake follows and the port is
//! reported as what answers inside.

use super::*;

/// Plain protocols and their usual names inside TLS (URL schemes, IANA service names). Not
/// listed, so named as in clear text: Redis, MQTT, AMQP, DNS… — the audit knows them by that
/// name, and the TLS facts say the rest.
const SECURE_NAMES: &[(&str, &str)] = &[
    ("http", "https"),
    ("imap", "imaps"),
    ("pop3", "pop3s"),
    ("smtp", "smtps"),
    ("ftp", "ftps"),
    ("ldap", "ldaps"),
    ("nntp", "nntps"),
    ("irc", "ircs"),
];

/// The name of `protocol` spoken inside TLS: its secure name when it has one, else itself.
pub(super) fn secure_name(protocol: &str) -> String {
    SECURE_NAMES
        .iter()
        .find(|(plain, _)| *plain == protocol)
        .map_or(protocol, |(_, secure)| secure)
        .to_string()
}

/// Whether to try a handshake before any request in clear text, on a port that kept quiet
/// during the banner wait: a usual TLS port, or one whose owner or number names a
/// speak-first protocol that runs inside TLS (IMAP, POP3, SMTP, FTP).
pub(super) fn tls_first(port: u16, ctx: &Context) -> bool {
    TLS_PORTS.contains(&port)
        || all_probes()
            .filter(|p| p.send == Send::Nothing && p.refines.is_none() && p.tls == TlsUse::Both)
            .any(|p| tier(&p.hints, port, ctx) < 2)
}

/// Listen inside a session just made, for the port's banner wait. True when that settled
/// the port: a greeting named (the identification is set, under its secure name). A silent
/// server — and one whose words no parser knows — gets the request probes next.
pub(super) fn greeting(
    mut session: Session,
    addr: SocketAddr,
    ctx: &Context,
    limits: &Limits,
    budget: &Budget,
    out: &mut PortProbe,
    config: &Arc<rustls::ClientConfig>,
) -> bool {
    // An HTTP/2 server speaks first too (its SETTINGS): that is not a greeting.
    if session.conn.alpn_protocol() == Some(b"h2") {
        return false;
    }
    let wait = banner_wait(addr.port(), ctx, limits);
    let banner = listen(&mut session, wait, limits, budget);
    session.conn.send_close_notify();
    let _ = session.flush();
    let _ = session.sock.shutdown(Shutdown::Both);
    let Banner::Bytes(bytes) = banner else {
        return false;
    };
    out.probes.push("tls-banner");
    if out.evidence.is_empty() {
        out.evidence = evidence(&bytes, 96);
    }
    let Some(id) = match_banner(&bytes) else {
        return false;
    };
    let mut id = refine(addr, id, ctx, limits, budget, out, Some(config));
    id.protocol = secure_name(&id.protocol);
    out.identification = Some(id);
    true
}

/// After `plain` was read from a reply to `GET /` in clear text: when that reply refuses
/// plain HTTP because the port speaks TLS, try the handshake. True when TLS took over — the
/// identification is then what answered inside (`https`, with the server's product; the
/// plain reply's product when nothing more answered inside), with a `plain_http` detail.
pub(super) fn refused_plain_http(
    addr: SocketAddr,
    plain: &Identification,
    reply: &[u8],
    ctx: &Context,
    limits: &Limits,
    budget: &Budget,
    out: &mut PortProbe,
) -> bool {
    let Some(words) = http::plain_http_refused(reply) else {
        return false;
    };
    if !try_tls(addr, ctx, limits, budget, out) {
        return false;
    }
    let mut id = match out.identification.take() {
        Some(inside) if inside.protocol != "tls" => inside,
        _ => {
            let mut https = Identification::new("https", crate::probe::Confidence::Certain);
            https.product.clone_from(&plain.product);
            https.version.clone_from(&plain.version);
            https
        }
    };
    id = id.detail("plain_http", format!("refused: {words}"));
    out.identification = Some(id);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_inside_tls_get_their_secure_names() {
        for (plain, secure) in [
            ("http", "https"),
            ("imap", "imaps"),
            ("pop3", "pop3s"),
            ("smtp", "smtps"),
            ("ftp", "ftps"),
            ("ldap", "ldaps"),
        ] {
            assert_eq!(secure_name(plain), secure);
        }
        // Others keep their name: the TLS facts tell the rest.
        for kept in [
            "redis",
            "memcached",
            "mqtt",
            "amqp",
            "dns",
            "ssh",
            "node-inspector",
            "https",
            "tls",
            "",
        ] {
            assert_eq!(secure_name(kept), kept);
        }
        // Each secure name is the plain one with an `s`, and no plain name is listed twice.
        for (i, (plain, secure)) in SECURE_NAMES.iter().enumerate() {
            assert_eq!(*secure, format!("{plain}s"));
            assert!(SECURE_NAMES[i + 1..].iter().all(|(p, _)| p != plain));
        }
    }

    #[test]
    fn a_quiet_greeter_is_tried_with_tls_first() {
        let none = Context::default();
        for port in [443, 465, 636, 993, 995, 990] {
            assert!(tls_first(port, &none), "{port}");
        }
        // A quiet port with nothing known, or whose owner speaks only after the client.
        assert!(!tls_first(40000, &none));
        let owner = |words: &[&str]| Context {
            process_words: words.iter().map(|w| w.to_string()).collect(),
            ..Context::default()
        };
        assert!(!tls_first(40000, &owner(&["redis-server"])));
        assert!(!tls_first(40000, &owner(&["nginx"])));
        assert!(!tls_first(
            40000,
            &owner(&[
                "nginx",
                "nginx: master process /usr/sbin/nginx -c /etc/nginx/nginx.conf"
            ])
        ));
        assert!(tls_first(
            40000,
            &owner(&["master", "/usr/lib/postfix/sbin/master", "-w"])
        ));
        // VNC speaks first, but never inside TLS: a quiet x11vnc is a late greeter.
        assert!(!tls_first(40000, &owner(&["x11vnc"])));
        // dovecot (and its login processes), exim, vsftpd: a quiet one waits for a ClientHello.
        for words in [
            &["/usr/sbin/dovecot", "-F"][..],
            &["dovecot/imap-login"],
            &["imap-login"],
            &["pop3-login"],
            &["/usr/sbin/exim4", "-bd"],
            &["vsftpd"],
        ] {
            assert!(tls_first(40000, &owner(words)), "{words:?}");
        }
    }
}
