//! Fuzz every UDP parser (one reply datagram each): no panic on any bytes, and every string of
//! an identification printable. (No prefix property: a datagram arrives whole.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use portscope::probe::{Verdict, udp};

fuzz_target!(|data: &[u8]| {
    for probe in udp::PROBES {
        if let Verdict::Match(id) = (probe.parse)(data) {
            let fields = [&id.protocol]
                .into_iter()
                .chain(&id.product)
                .chain(&id.version);
            for field in fields.chain(id.details.iter().flat_map(|(k, v)| [k, v])) {
                assert!(
                    !field.chars().any(char::is_control),
                    "{}: {field:?}",
                    probe.name
                );
            }
        }
    }
});
