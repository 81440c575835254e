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
/// them (signatures are still checked, so the facts are the server's own).
pub fn client_config() -> Arc<rustls::ClientConfig> {
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
        Ok(c) => Arc::new(c),
        // Both versions are compiled in (features ring + tls12); this cannot fail, but
        // if it did, a default config still makes the handshake attempt safe.
        Err(_) => Arc::new(
            rustls::ClientConfig::builder()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth(),
        ),
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
