//! Fuzz every UDP parser (one reply datagram each): no panic on any bytes, and every string of
//! an identification printable. (No prefix property: a datagram arrives whole.)
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use portscope::probe::udp;

fuzz_target!(|data: &[u8]| {
    for probe in udp::PROBES {
        if let Some(id) = (probe.parse)(data).settled() {
            common::assert_printable(&id, probe.name);
        }
    }
});
