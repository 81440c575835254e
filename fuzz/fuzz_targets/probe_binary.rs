//! Fuzz every binary-family parser (replies to a request), and the product refinements
//! (`probe::products`): no panic on any bytes, every
//! string of an identification printable, and never `NoMatch` on a prefix of bytes that the
//! same parser identifies (the engine stops reading at the first `NoMatch`).
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use portscope::probe::{binary, products};

fuzz_target!(|data: &[u8]| {
    common::check(binary::PROBES, data);
    // The refinements that prove a product (Redis's INFO server) read replies of this family.
    common::check(products::PROBES, data);
});
