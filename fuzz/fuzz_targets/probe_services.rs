//! Fuzz every services-family parser (LDAP, SMB, memcached binary, ZooKeeper): no panic on
//! any bytes, every string of an identification printable, and never `NoMatch` on a prefix of
//! bytes that the same parser identifies (the engine stops reading at the first `NoMatch`).
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use portscope::probe::services;

fuzz_target!(|data: &[u8]| common::check(services::PROBES, data));
