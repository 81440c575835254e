//! What every probe family's fuzz target checks, shared through `#[path]`: no panic on any
//! bytes, every string of an identification printable, and (for stream families) never
//! `NoMatch` on a prefix of bytes the same parser identifies — the engine stops reading at the
//! first `NoMatch`.
// Each target uses what its family needs.
#![allow(dead_code)]

use portscope::probe::{Identification, Probe, Verdict};

/// Every string of `id` is free of control characters.
pub fn assert_printable(id: &Identification, probe: &str) {
    let fields = [&id.protocol]
        .into_iter()
        .chain(&id.product)
        .chain(&id.version);
    for field in fields.chain(id.details.iter().flat_map(|(k, v)| [k, v])) {
        assert!(!field.chars().any(char::is_control), "{probe}: {field:?}");
    }
}

/// Every parser of a stream family on `data`: printable matches, and no `NoMatch` on a prefix
/// of a match.
pub fn check(probes: &[Probe], data: &[u8]) {
    for probe in probes {
        if let Some(id) = &(probe.parse)(data).settled() {
            assert_printable(id, probe.name);
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
