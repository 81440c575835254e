//! Fuzz every HTTP probe parser, the HTTP/1.x response parser and the TLS port's refusal of
//! plain HTTP: no panic, and the parser's bounds hold (body prefix, header count, status
//! range) on any bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portscope::probe::http::{self, parse};

fuzz_target!(|data: &[u8]| {
    if let parse::Parsed::Response(r) = parse::parse_response(data) {
        assert!(r.body.len() <= parse::BODY_PREFIX);
        assert!(r.headers().len() <= parse::MAX_HEADERS);
        assert!((100..600).contains(&r.status));
        let _ = r.body_ready();
    }
    for p in http::PROBES {
        let _ = (p.parse)(data);
    }
    let _ = http::html_title(data);
    if let Some(words) = http::plain_http_refused(data) {
        assert!(matches!(parse::parse_response(data), parse::Parsed::Response(_)));
        assert!(!words.is_empty());
    }
});
