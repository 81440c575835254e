//! Fuzz every services-family parser (LDAP, SMB, memcached binary, ZooKeeper): no panic on
//! any bytes, every string of an identification printable, and never `NoMatch` on a prefix of
//! bytes that the same parser identifies (the engine stops reading at the first `NoMatch`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use portscope::probe::{Probe, Verdict, services};

fuzz_target!(|data: &[u8]| check(services::PROBES, data));

fn check(probes: &[Probe], data: &[u8]) {
    for probe in probes {
        let verdict = (probe.parse)(data);
        if let Verdict::Match(id) = &verdict {
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
            for cut in 0..data.len().min(64) {
                let early = (probe.parse)(&data[..cut]);
                assert_ne!(
                    early,
                    Verdict::NoMatch,
                    "{}: NoMatch at {cut}, Match at full",
                    probe.name
                );
            }
        }
    }
}
