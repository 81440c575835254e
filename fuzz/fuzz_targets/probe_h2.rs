//! Fuzz every parser of `probe::h2` (the server preface, the `GET /` reply, the gRPC reflection
//! reply — HTTP/2 framing, HPACK with Huffman, gRPC and protobuf): no panic on any bytes, every
//! string of an identification printable, and never `NoMatch` on a prefix of bytes that the
//! same parser identifies (the engine stops reading at the first `NoMatch`).
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use portscope::probe::h2;

fuzz_target!(|data: &[u8]| common::check(h2::PROBES, data));
