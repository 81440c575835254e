//! The TLS client side of the prober: a handshake bounded by the port's deadline, and a
//! verifier that accepts any certificate (portscope inspects certificates, it does not trust
//! them) while still checking the handshake signatures, so the facts read are the server's own.

use std::io;
use std::net::TcpStream;
use std::sync::Arc;

use super::engine::{Budget, Context, ReadTimeout};
use super::{Limits, TlsFacts, tls};

/// A TLS session over a probe connection.
pub type Session = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// Complete a handshake on `stream` within the port's budget.
pub(super) fn handshake(
    stream: TcpStream,
    config: &Arc<rustls::ClientConfig>,
    ctx: &Context,
    limits: &Limits,
    budget: &Budget,
) -> io::Result<Session> {
    let name = ctx.sni.clone().unwrap_or_else(|| "localhost".into());
    let server = rustls::pki_types::ServerName::try_from(name)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let conn =
        rustls::ClientConnection::new(Arc::clone(config), server).map_err(io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, stream);
    while tls.conn.is_handshaking() {
        if budget.spent() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        tls.sock.set_timeout(budget.cap(limits.read))?;
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(tls)
}

/// A client's TLS connection to `addr` for the name `sni` (an IP address when `None`), the
/// handshake done within `deadline`: the session, a handle on the TCP socket under it (for
/// read timeouts) and the certificate facts. Any certificate is accepted; the facts say
/// whether a verifying client would accept it.
pub fn connect(
    addr: std::net::SocketAddr,
    sni: Option<&str>,
    deadline: std::time::Duration,
) -> io::Result<(Session, TcpStream, TlsFacts)> {
    let start = std::time::Instant::now();
    let stream = TcpStream::connect_timeout(&addr, deadline)?;
    let _ = stream.set_nodelay(true);
    let sock = stream.try_clone()?;
    let name = match sni {
        Some(n) => rustls::pki_types::ServerName::try_from(n.to_string())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?,
        None => rustls::pki_types::ServerName::IpAddress(addr.ip().into()),
    };
    let conn = rustls::ClientConnection::new(client_config(), name).map_err(io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, stream);
    while tls.conn.is_handshaking() {
        let left = deadline.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        sock.set_read_timeout(Some(left))?;
        sock.set_write_timeout(Some(left))?;
        tls.conn.complete_io(&mut tls.sock)?;
    }
    let facts = session_facts(&tls.conn);
    Ok((tls, sock, facts))
}

/// The CA bundles curl, OpenSSL and Go read on Linux, in their order; `SSL_CERT_FILE`
/// first when set.
const CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// Most bytes read from a CA bundle (Debian's is about 220 KiB).
const MAX_BUNDLE: u64 = 8 * 1024 * 1024;

/// Whether a client that verifies certificates against the system's CA bundle (curl,
/// OpenSSL, Go, Python) accepts the chain `session` was shown for `name` (an IP address when
/// `None`): `Err` says why not, or that no bundle could be read.
pub fn verify_like_clients(
    conn: &rustls::ClientConnection,
    name: Option<&str>,
    ip: std::net::IpAddr,
) -> Result<(), String> {
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::pem::PemObject;
    let chain = conn
        .peer_certificates()
        .ok_or("the server sent no certificate")?;
    let (leaf, intermediates) = chain
        .split_first()
        .ok_or("the server sent no certificate")?;
    let from_env = std::env::var("SSL_CERT_FILE").ok();
    let (path, pem) = from_env
        .iter()
        .map(String::as_str)
        .chain(CA_BUNDLES.iter().copied())
        .find_map(|p| crate::sys::bounded::read_regular_bounded(std::path::Path::new(p), MAX_BUNDLE).ok().map(|b| (p, b)))
        .ok_or("no CA bundle could be read (/etc/ssl/certs/ca-certificates.crt: package ca-certificates)")?;
    let mut roots = rustls::RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(
        rustls::pki_types::CertificateDer::pem_slice_iter(&pem).filter_map(Result::ok),
    );
    if added == 0 {
        return Err(format!("{path} holds no usable CA certificate"));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| e.to_string())?;
    let server = match name {
        Some(n) => {
            rustls::pki_types::ServerName::try_from(n.to_string()).map_err(|e| e.to_string())?
        }
        None => rustls::pki_types::ServerName::IpAddress(ip.into()),
    };
    verifier
        .verify_server_cert(
            leaf,
            intermediates,
            &server,
            &[],
            rustls::pki_types::UnixTime::now(),
        )
        .map(|_| ())
        .map_err(|e| format!("{} (checked against {path})", refusal(&e)))
}

/// A verifier's refusal in the words of a user.
fn refusal(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    let rustls::Error::InvalidCertificate(c) = e else {
        return e.to_string();
    };
    match c {
        C::Expired | C::ExpiredContext { .. } => "the certificate has expired".into(),
        C::NotValidYet | C::NotValidYetContext { .. } => "the certificate is not valid yet".into(),
        C::UnknownIssuer => "its issuer is not a CA the system trusts".into(),
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            "the certificate does not name the host dialled".into()
        }
        C::BadSignature => "its signature does not verify".into(),
        C::Revoked => "the certificate is revoked".into(),
        C::Other(o) if format!("{o:?}").contains("CaUsedAsEndEntity") => {
            "the server presents a CA certificate as its own (a self-signed certificate made with openssl req -x509)".into()
        }
        other => format!("{other:?}"),
    }
}

/// Version, cipher, ALPN and certificate facts of a finished handshake.
pub fn session_facts(conn: &rustls::ClientConnection) -> TlsFacts {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let mut facts = conn
        .peer_certificates()
        .and_then(|certs| certs.first())
        .map(|leaf| tls::facts_from_der(leaf.as_ref(), now))
        .unwrap_or_default();
    facts.version = conn.protocol_version().map(|v| match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_string(),
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_string(),
        other => format!("{other:?}"),
    });
    facts.cipher = conn
        .negotiated_cipher_suite()
        .map(|c| format!("{:?}", c.suite()));
    facts.alpn = conn
        .alpn_protocol()
        .map(|a| String::from_utf8_lossy(a).into_owned());
    facts
}

/// A client that completes any handshake: portscope inspects certificates, it does not trust
/// them (signatures are still checked, so the facts are the server's own). It offers no ALPN
/// protocol, so a server that speaks HTTP/2 and HTTP/1.1 uses HTTP/1.1 (the probes that run
/// inside TLS are HTTP/1.1 and banner probes).
pub fn client_config() -> Arc<rustls::ClientConfig> {
    with_alpn(&[])
}

/// [`client_config`] offering ALPN `h2` and `http/1.1`, in that order: the handshake that
/// reads a port's TLS facts, so they say which protocol the server chooses.
pub fn alpn_config() -> Arc<rustls::ClientConfig> {
    with_alpn(&[b"h2", b"http/1.1"])
}

/// [`client_config`] offering ALPN `h2` only: the HTTP/2 probes inside TLS.
pub fn h2_config() -> Arc<rustls::ClientConfig> {
    with_alpn(&[b"h2"])
}

fn with_alpn(protocols: &[&[u8]]) -> Arc<rustls::ClientConfig> {
    let mut config = base_config();
    config.alpn_protocols = protocols.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

fn base_config() -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(AcceptAnyCertificate(Arc::clone(&provider)));
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map(|b| {
            b.dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth()
        });
    match config {
        Ok(c) => c,
        // Both versions are compiled in (features ring + tls12); this cannot fail, but
        // if it did, a default config still makes the handshake attempt safe.
        Err(_) => rustls::ClientConfig::builder()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
    }
}

#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
