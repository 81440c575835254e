//! TLS: recognise a TLS record in a server's reply, and read the facts a leaf certificate
//! states (subject, issuer, SAN, validity, self-signed).
//!
//! The handshake itself is the engine's (rustls, with a verifier that accepts any certificate:
//! this is inspection, not trust). This module only holds pure functions over bytes, so they
//! can be tested on fixtures and fuzzed: [`looks_like_tls`] decides whether a reply is a TLS
//! record (worth a handshake), [`facts_from_der`] reads a leaf certificate with `x509-parser`.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use x509_parser::prelude::{FromDer, GeneralName, X509Certificate, X509Error, X509Name};
use x509_parser::public_key::PublicKey;

use super::{Confidence, Identification, Probe, TlsFacts, Verdict};

/// This family's probes: none. TLS is detected by the engine's handshake (tried on TLS
/// ports first, and after the first HTTP probe elsewhere, or when a reply passes
/// [`looks_like_tls`]); the `TlsUse::Both` probes of other families then run inside it.
pub const PROBES: &[Probe] = &[];

/// Largest TLS record body allowed (2^14 plus the 2048 bytes of expansion RFC 5246 permits).
const MAX_RECORD: u16 = 16384 + 2048;

/// Whether a server's reply is a raw TLS record: a handshake record
/// (`16 03 00..04`, typically a ServerHello) or an alert (`15 03 00..04`). `Likely`, since
/// five bytes are a weak signature; the engine confirms with a handshake.
pub fn looks_like_tls(bytes: &[u8]) -> Verdict {
    let record = match bytes.first() {
        Some(0x16) => "handshake",
        Some(0x15) => "alert",
        Some(_) => return Verdict::NoMatch,
        None => return Verdict::NeedMore,
    };
    match bytes.get(1..3) {
        Some(&[0x03, minor]) if minor <= 4 => {}
        Some(_) => return Verdict::NoMatch,
        None => {
            return if bytes.get(1).is_none_or(|&b| b == 0x03) {
                Verdict::NeedMore
            } else {
                Verdict::NoMatch
            };
        }
    }
    let Some(&[hi, lo]) = bytes.get(3..5) else {
        return Verdict::NeedMore;
    };
    let len = u16::from_be_bytes([hi, lo]);
    if len == 0 || len > MAX_RECORD {
        return Verdict::NoMatch;
    }
    let mut id = Identification::new("tls", Confidence::Likely).detail("record", record);
    match (record, bytes.get(5)) {
        ("handshake", Some(2)) => id = id.detail("message", "ServerHello"),
        ("alert", Some(_)) => {
            if let Some(&desc) = bytes.get(6) {
                id = id.detail("alert", alert_name(desc));
            }
        }
        _ => {}
    }
    Verdict::Match(id)
}

/// The name of a TLS alert description (RFC 8446 §6).
fn alert_name(code: u8) -> String {
    let name = match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => return format!("alert {code}"),
    };
    name.to_string()
}

/// Read the facts a DER leaf certificate states. `now_unix` (seconds) decides `expired`.
///
/// `self_signed` is true when the issuer name equals the subject name **and** the signature
/// verifies with the certificate's own public key; when `ring` cannot check it (DSA, MD5,
/// ECDSA with SHA-512, RSA keys under 2048 bits) the name comparison alone decides.
/// Malformed DER yields facts with every certificate field `None` (never a panic). `version`,
/// `cipher` and `alpn` are the engine's to fill.
pub fn facts_from_der(leaf_der: &[u8], now_unix: i64) -> TlsFacts {
    let Ok((_, cert)) = X509Certificate::from_der(leaf_der) else {
        return TlsFacts::default();
    };
    let not_before = cert.validity().not_before.timestamp();
    let not_after = cert.validity().not_after.timestamp();
    TlsFacts {
        subject: Some(rfc4514(cert.subject())),
        issuer: Some(rfc4514(cert.issuer())),
        san: san(&cert),
        not_before: Some(crate::time::utc(not_before)),
        not_after: Some(crate::time::utc(not_after)),
        expired: Some(now_unix > not_after),
        self_signed: Some(self_signed(&cert)),
        ..TlsFacts::default()
    }
}

fn self_signed(cert: &X509Certificate<'_>) -> bool {
    let same_name = cert.subject().as_raw() == cert.issuer().as_raw()
        || rfc4514(cert.subject()) == rfc4514(cert.issuer());
    if !same_name {
        return false;
    }
    match cert.verify_signature(None) {
        Ok(()) => true,
        // ring cannot check it: the names decide.
        Err(X509Error::SignatureUnsupportedAlgorithm) => true,
        // ring refuses RSA keys under 2048 bits (except with SHA-1): the names decide.
        Err(_) => small_rsa_key(cert),
    }
}

fn small_rsa_key(cert: &X509Certificate<'_>) -> bool {
    matches!(cert.public_key().parsed(), Ok(PublicKey::RSA(rsa)) if rsa.key_size() < 2048)
}

/// DNS names and IP addresses from the subjectAltName extension, in order.
fn san(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(ext)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    ext.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns) => Some((*dns).to_string()),
            GeneralName::IPAddress(ip) => ip_text(ip),
            _ => None,
        })
        .collect()
}

fn ip_text(bytes: &[u8]) -> Option<String> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Some(Ipv4Addr::from(v4).to_string());
    }
    <[u8; 16]>::try_from(bytes)
        .ok()
        .map(|v6| Ipv6Addr::from(v6).to_string())
}

/// A name as an RFC 4514 string: RDNs most-specific first, `,` between them, `+` inside a
/// multi-valued one, special characters escaped. Types RFC 4514 names get their short name
/// (plus OpenSSL's `emailAddress`); others are dotted OIDs with a `#`-hex value.
pub fn rfc4514(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let oid = atv.attr_type().to_id_string();
                    match short_name(&oid) {
                        Some(short) => format!("{short}={}", attr_text(atv)),
                        None => format!("{oid}=#{}", attr_hex(atv)),
                    }
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        "1.2.840.113549.1.9.1" => "emailAddress",
        _ => return None,
    })
}

type Atv<'a> = x509_parser::x509::AttributeTypeAndValue<'a>;

/// The value as escaped text: string types decoded (BMPString as UTF-16), others `#`-hex.
fn attr_text(atv: &Atv<'_>) -> String {
    use x509_parser::asn1_rs::Tag;
    let value = atv.attr_value();
    let decoded = match atv.as_str() {
        Ok(s) => Some(s.to_string()),
        Err(_) if value.tag() == Tag::BmpString => utf16be(value.data),
        Err(_) if value.tag() == Tag::TeletexString => {
            Some(value.data.iter().map(|&b| char::from(b)).collect())
        }
        Err(_) => None,
    };
    match decoded {
        Some(s) => escape(&s),
        None => format!("#{}", attr_hex(atv)),
    }
}

fn utf16be(data: &[u8]) -> Option<String> {
    if !data.len().is_multiple_of(2) {
        return None;
    }
    let units = data
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
}

/// The value's DER encoding (tag, length, content) in hex, for `#`-form values.
fn attr_hex(atv: &Atv<'_>) -> String {
    let value = atv.attr_value();
    let mut der = Vec::with_capacity(value.data.len() + 6);
    let class_bits = (value.class() as u8) << 6;
    let constructed = if value.header.is_constructed() {
        0x20
    } else {
        0
    };
    match u8::try_from(value.tag().0) {
        Ok(t) if t < 31 => der.push(class_bits | constructed | t),
        _ => der.push(class_bits | constructed | 0x1f), // high tag numbers: marker only
    }
    let len = value.data.len();
    if len < 0x80 {
        der.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        der.push(0x80 | (bytes.len() - skip) as u8);
        der.extend_from_slice(&bytes[skip..]);
    }
    der.extend_from_slice(value.data);
    let mut out = String::with_capacity(der.len() * 2);
    for b in der {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// RFC 4514 §2.4 escaping; control characters as `\XX`.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "\\{b:02X}");
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
