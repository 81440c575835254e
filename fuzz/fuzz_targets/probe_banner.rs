//! Fuzz every banner-family parser (servers that speak first): no panic on any bytes, every
//! string of an identification printable, and never `NoMatch` on a prefix of bytes that the
//! same parser identifies (the engine stops reading at the first `NoMatch`).
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use portscope::probe::banner;

fuzz_target!(|data: &[u8]| common::check(banner::PROBES, data));
