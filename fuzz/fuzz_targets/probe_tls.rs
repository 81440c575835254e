//! Fuzz the TLS helpers: `facts_from_der` on arbitrary (and certificate-shaped) bytes and
//! `looks_like_tls` must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portscope::probe::tls;

fuzz_target!(|data: &[u8]| {
    let now = data
        .get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, i64::from_le_bytes);
    let facts = tls::facts_from_der(data, now);
    if facts.subject.is_none() {
        assert!(facts.issuer.is_none() && facts.san.is_empty());
    }
    let _ = tls::looks_like_tls(data);
});
