//! Tests of the TLS helpers on fixture certificates made once with OpenSSL 3.0.19
//! (`tests/fixtures/tls/`), and on real TLS bytes from `openssl s_server`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;

use super::*;

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("../../../tests/fixtures/tls/", $name))
    };
}

/// `openssl req -x509 -newkey ec (P-256) -days 1 -subj "/C=DE/O=Portscope Test, Inc./CN=portscope-test"
/// -addext subjectAltName=DNS:localhost,DNS:portscope.test,IP:127.0.0.1,IP:::1`.
const SELF_SIGNED_EC: &[u8] = fixture!("selfsigned-ec-san.der");
/// `openssl req -x509 -newkey rsa:2048 -days 1 -subj /CN=portscope-test`.
const SELF_SIGNED_RSA: &[u8] = fixture!("selfsigned-rsa.der");
/// A leaf `CN=leaf.portscope.test` signed by `O=Portscope Test CA, CN=Portscope Root`.
const LEAF: &[u8] = fixture!("leaf-signed-by-ca.der");
/// Subject and issuer both `CN=same-name`, but signed by another key (a different CA).
const SAME_NAME_OTHER_KEY: &[u8] = fixture!("same-name-other-key.der");
/// `openssl req -x509 -newkey rsa:1024 -days 1 -subj /CN=old-rsa-1024` (ring cannot verify).
const SELF_SIGNED_RSA_1024: &[u8] = fixture!("selfsigned-rsa1024.der");
/// The first flight `openssl s_server` (3.0.19) sent back to a TLS 1.3 ClientHello.
const SERVER_HELLO: &[u8] = fixture!("openssl-s-server-hello.bin");
/// `openssl s_server`'s alert to a TLS 1.0-only ClientHello.
const ALERT: &[u8] = fixture!("openssl-alert.bin");

/// 2026-11-22 00:45:26 UTC, when the fixtures were made (their not_before).
const MADE: i64 = 1_795_308_326;

#[test]
fn self_signed_ec_with_san() {
    let f = facts_from_der(SELF_SIGNED_EC, MADE + 3600);
    assert_eq!(
        f.subject.as_deref(),
        Some("CN=portscope-test,O=Portscope Test\\, Inc.,C=DE")
    );
    assert_eq!(f.issuer, f.subject);
    assert_eq!(f.san, ["localhost", "portscope.test", "127.0.0.1", "::1"]);
    assert_eq!(f.not_before.as_deref(), Some("2026-11-22 00:45:26 UTC"));
    assert_eq!(f.not_after.as_deref(), Some("2026-11-23 00:45:26 UTC"));
    assert_eq!(f.expired, Some(false));
    assert_eq!(f.self_signed, Some(true));
    assert_eq!((f.version, f.cipher, f.alpn), (None, None, None));
}

#[test]
fn expiry_follows_now() {
    let f = facts_from_der(SELF_SIGNED_RSA, 4_000_000_000);
    assert_eq!(f.expired, Some(true));
    assert_eq!(f.subject.as_deref(), Some("CN=portscope-test"));
    assert_eq!(f.self_signed, Some(true));
    assert!(f.san.is_empty());
    // One second after not_after is expired; not_after itself is not.
    let not_after = MADE + 86_400;
    assert_eq!(
        facts_from_der(SELF_SIGNED_RSA, not_after).expired,
        Some(false)
    );
    assert_eq!(
        facts_from_der(SELF_SIGNED_RSA, not_after + 1).expired,
        Some(true)
    );
}

#[test]
fn ca_signed_leaf_is_not_self_signed() {
    let f = facts_from_der(LEAF, MADE);
    assert_eq!(f.subject.as_deref(), Some("CN=leaf.portscope.test"));
    assert_eq!(
        f.issuer.as_deref(),
        Some("CN=Portscope Root,O=Portscope Test CA")
    );
    assert_eq!(f.san, ["leaf.portscope.test"]);
    assert_eq!(f.self_signed, Some(false));
    assert_eq!(f.not_after.as_deref(), Some("2026-12-22 00:45:26 UTC"));
}

#[test]
fn equal_names_are_not_enough() {
    let f = facts_from_der(SAME_NAME_OTHER_KEY, MADE);
    assert_eq!(f.subject, f.issuer);
    assert_eq!(f.self_signed, Some(false), "signed by another key");
}

#[test]
fn small_rsa_keys_fall_back_to_names() {
    let f = facts_from_der(SELF_SIGNED_RSA_1024, MADE);
    assert_eq!(f.subject.as_deref(), Some("CN=old-rsa-1024"));
    assert_eq!(f.self_signed, Some(true));
}

#[test]
fn malformed_der_gives_empty_facts() {
    for bad in [
        &b""[..],
        b"\x30",
        b"\x30\x82\xff\xff",
        &SELF_SIGNED_EC[..SELF_SIGNED_EC.len() / 2],
    ] {
        assert_eq!(facts_from_der(bad, MADE), TlsFacts::default());
    }
    // A flipped byte in the signature: still parsed, no longer self-signed.
    let mut tampered = SELF_SIGNED_RSA.to_vec();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    let f = facts_from_der(&tampered, MADE);
    assert_eq!(f.subject.as_deref(), Some("CN=portscope-test"));
    assert_eq!(f.self_signed, Some(false));
}

#[test]
fn tls_records() {
    let Verdict::Match(id) = looks_like_tls(SERVER_HELLO) else {
        panic!("ServerHello not recognised");
    };
    assert_eq!(
        (id.protocol.as_str(), id.confidence),
        ("tls", Some(Confidence::Likely))
    );
    assert_eq!(
        id.details[1],
        ("message".to_string(), "ServerHello".to_string())
    );
    let Verdict::Match(id) = looks_like_tls(ALERT) else {
        panic!("alert not recognised");
    };
    assert_eq!(
        id.details[1],
        ("alert".to_string(), "internal_error".to_string())
    );
    assert_eq!(looks_like_tls(b""), Verdict::NeedMore);
    assert_eq!(looks_like_tls(b"\x16"), Verdict::NeedMore);
    assert_eq!(looks_like_tls(b"\x16\x03"), Verdict::NeedMore);
    assert_eq!(looks_like_tls(b"\x16\x03\x03\x00"), Verdict::NeedMore);
    for not_tls in [
        &b"HTTP/1.1 400 Bad Request\r\n"[..],
        b"SSH-2.0-OpenSSH_9.2\r\n",
        b"+PONG\r\n",
        b"\x16\x02",
        b"\x16\x03\x05\x00\x10",
        b"\x16\x03\x03\x00\x00",
        b"\x16\x03\x03\xff\xff",
        b"\x17\x03\x03\x00\x10",
    ] {
        assert_eq!(looks_like_tls(not_tls), Verdict::NoMatch, "{not_tls:?}");
    }
}

#[test]
fn utc_formatting() {
    assert_eq!(crate::time::utc(0), "1970-01-01 00:00:00 UTC");
    assert_eq!(crate::time::utc(951_782_400), "2000-02-29 00:00:00 UTC");
    assert_eq!(crate::time::utc(-1), "1969-12-31 23:59:59 UTC");
    assert_eq!(crate::time::utc(253_402_300_799), "9999-12-31 23:59:59 UTC");
}

#[test]
fn escaping() {
    assert_eq!(escape("a,b+c"), "a\\,b\\+c");
    assert_eq!(escape("#x "), "\\#x\\ ");
    assert_eq!(escape(" "), "\\ ");
    assert_eq!(escape("a\u{0}b"), "a\\00b");
}

proptest! {
    #[test]
    fn total_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..1024), now in any::<i64>()) {
        let _ = facts_from_der(&bytes, now);
        let _ = looks_like_tls(&bytes);
    }

    #[test]
    fn total_on_mutated_certificates(at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut der = SELF_SIGNED_EC.to_vec();
        let i = at.index(der.len());
        der[i] = byte;
        let _ = facts_from_der(&der, MADE);
    }

    #[test]
    fn utc_is_total(secs in any::<i64>()) {
        let _ = crate::time::utc(secs);
    }
}
