//! Fuzz `portscope::target::parse`: it must never panic, every error must be one printable
//! line, and every accepted target must survive a round trip through its `Display`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portscope::target::parse;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse(text) {
        Ok(target) => {
            let shown = target.to_string();
            match parse(&shown) {
                Ok(again) => assert_eq!(again, target, "{text:?} -> {shown:?}"),
                Err(e) => panic!("{text:?} -> {shown:?} does not parse: {e}"),
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(
                !msg.chars().any(char::is_control),
                "unprintable message: {msg:?}"
            );
        }
    }
    let _ = portscope::target::parse_port(text);
});
