//! Fixtures and tests for the HTTP/2 family.

use super::*;
use crate::probe::banner::tests::{
    assert_printable, assert_rejects, detail, identify, mutated, prefixes_wait,
};

#[test]
fn the_requests_decode_as_intended() {
    let (frames, rest) = frames::frames(&GET_REQUEST[24..]).unwrap();
    assert!(!rest);
    assert_eq!(frames.len(), 2);
    let headers = hpack::Decoder::new().decode(frames[1].payload).unwrap();
    assert_eq!(headers.len(), 6);
    assert_eq!(headers[2], (b":path".to_vec(), b"/".to_vec()));
    let (frames, rest) = frames::frames(&GRPC_REQUEST[24..]).unwrap();
    assert!(!rest);
    assert_eq!(frames.len(), 6);
    let mut hpack = hpack::Decoder::new();
    for (i, version) in [(1, "v1alpha"), (3, "v1")] {
        let headers = hpack.decode(frames[i].payload).unwrap();
        let path = format!("/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo");
        assert_eq!(headers[2].1, path.as_bytes());
        assert_eq!(headers[5], (b"te".to_vec(), b"trailers".to_vec()));
        assert_eq!(frames[i + 1].payload, b"\x00\x00\x00\x00\x02\x3a\x00");
        assert_eq!(
            (frames[i].stream, frames[i + 1].stream),
            (i as u32, i as u32)
        );
        assert_eq!(frames[i + 1].flags, 1);
    }
    assert_eq!(frames[5].payload, &GET_REQUEST[24 + 15 + 9..]);
    assert_eq!(frames[5].stream, 5);
}

use super::fixtures::*;
use proptest::prelude::*;

/// (probe, reply it must identify as `protocol`).
const FIXTURES: &[(&Probe, &[u8], &str)] = &[
    (&PREFACE, NGHTTPD_PREFACE, "http2"),
    (&PREFACE, GRPC_PREFACE, "http2"),
    (&GET, NGHTTPD_PREFACE, "http2"),
    (&GET, NGHTTPD_GET, "http2"),
    (&GET, GRPC_GET, "http2"),
    (&GET, GRPC_GET_RESET, "http2"),
    (&GRPC, NGHTTPD_GRPC, "http2"),
    (&GRPC, GRPC_REFLECTION, "grpc"),
    (&GRPC, GRPC_UNIMPLEMENTED, "grpc"),
];

#[test]
fn every_fixture_is_identified_and_every_prefix_waits() {
    for &(probe, bytes, protocol) in FIXTURES {
        let id = identify(probe, bytes);
        assert_eq!(id.protocol, protocol, "{} on {bytes:?}", probe.name);
        assert_eq!(id.confidence, Some(Confidence::Certain));
        assert_printable(&Verdict::Match(id.clone()));
        prefixes_wait(probe, bytes);
    }
}

#[test]
fn a_server_preface_gives_its_settings() {
    let id = identify(&PREFACE, NGHTTPD_PREFACE);
    assert_eq!(detail(&id, "max_concurrent_streams"), Some("100"));
    // gRPC C-core: no stream limit stated, windows and frames of 4 MiB.
    let id = identify(&PREFACE, GRPC_PREFACE);
    assert_eq!(detail(&id, "max_concurrent_streams"), None);
    assert_eq!(detail(&id, "initial_window_size"), Some("4194304"));
    assert_eq!(detail(&id, "max_frame_size"), Some("4194304"));
    assert_eq!(detail(&id, "max_header_list_size"), Some("16384"));
    // Only the preface is a whole verdict: the rest of the connection does not matter.
    assert!(matches!(
        (PREFACE.parse)(GRPC_REFLECTION),
        Verdict::Match(_)
    ));
}

#[test]
fn nghttpd_is_named_from_its_huffman_coded_headers() {
    let id = identify(&GET, NGHTTPD_GET);
    assert_eq!(id.product.as_deref(), Some("nghttpd"));
    assert_eq!(id.version.as_deref(), Some("1.52.0"));
    assert_eq!(detail(&id, "status"), Some("200"));
    assert_eq!(detail(&id, "server"), Some("nghttpd nghttp2/1.52.0"));
    assert_eq!(detail(&id, "title"), Some("nghttpd test"));
    assert_eq!(detail(&id, "content_type"), Some("text/html"));
    assert_eq!(detail(&id, "max_concurrent_streams"), Some("100"));
    // The gRPC probe, to nghttpd: 404s for the calls, its `GET /` named as before.
    let id = identify(&GRPC, NGHTTPD_GRPC);
    assert_eq!(id.protocol, "http2");
    assert_eq!(id.product.as_deref(), Some("nghttpd"));
    assert_eq!(detail(&id, "status"), Some("200"));
    assert_eq!(detail(&id, "title"), Some("nghttpd test"));
}

#[test]
fn grpc_is_told_apart_with_its_services_or_without_reflection() {
    let id = identify(&GRPC, GRPC_REFLECTION);
    assert_eq!(
        detail(&id, "services"),
        Some("grpc.health.v1.Health, grpc.reflection.v1alpha.ServerReflection")
    );
    assert_eq!(detail(&id, "reflection"), None);
    let id = identify(&GRPC, GRPC_UNIMPLEMENTED);
    assert_eq!(detail(&id, "reflection"), Some("not enabled"));
    assert_eq!(detail(&id, "services"), None);
    // A gRPC server's reply to `GET /`: a stream reset, or nothing — HTTP/2, no more.
    for bytes in [GRPC_GET, GRPC_GET_RESET] {
        let id = identify(&GET, bytes);
        assert_eq!(id.product, None);
        assert_eq!(detail(&id, "initial_window_size"), Some("4194304"));
    }
}

#[test]
fn a_stream_that_is_not_over_is_a_match_only_if_the_reply_ends() {
    // nghttpd's headers without the DATA that ends the stream.
    let cut = NGHTTPD_GET.len() - 37;
    assert!(matches!(
        (GET.parse)(&NGHTTPD_GET[..cut]),
        Verdict::MatchIfEnds(_)
    ));
    assert!(matches!((GET.parse)(NGHTTPD_GET), Verdict::Match(_)));
    // Reflection's listing before its trailers: gRPC, services not yet known.
    let trailers = GRPC_REFLECTION.len() - 39 - 13;
    match (GRPC.parse)(&GRPC_REFLECTION[..trailers]) {
        Verdict::MatchIfEnds(id) => assert_eq!(id.protocol, "grpc"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn synthesized_replies() {
    // GOAWAY first (PROTOCOL_ERROR): HTTP/2 all the same, the error as a detail.
    let goaway = b"\x00\x00\x08\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01";
    let id = identify(&GET, goaway);
    assert_eq!(detail(&id, "goaway_error"), Some("1"));
    // UNAUTHENTICATED in a Trailers-Only reply: gRPC, auth required, the message kept.
    let mut reply = GRPC_PREFACE.to_vec();
    let block = b"\x88\x5f\x10application/grpc\x40\x0bgrpc-status\x0216\x40\x0cgrpc-message\x02no";
    reply.extend([0, 0, block.len() as u8, 1, 5, 0, 0, 0, 1]);
    reply.extend(block);
    let id = identify(&GRPC, &reply);
    assert_eq!(id.auth, Some(Auth::Required));
    assert_eq!(detail(&id, "grpc_status"), Some("16 UNAUTHENTICATED"));
    assert_eq!(detail(&id, "grpc_message"), Some("no"));
    // A header value with CR LF cannot add a header to the HTTP/1.1 text it is read as.
    let mut reply = GRPC_PREFACE.to_vec();
    let block = b"\x88\x40\x06server\x0fa\r\nlocation: /x";
    reply.extend([0, 0, block.len() as u8, 1, 5, 0, 0, 0, 1]);
    reply.extend(block);
    let id = identify(&GET, &reply);
    assert_eq!(detail(&id, "server"), Some("a location: /x"));
    assert_eq!(detail(&id, "location"), None);
    // A control character in a page title is replaced, never passed on.
    let mut reply = GRPC_PREFACE.to_vec();
    reply.extend(b"\x00\x00\x01\x01\x04\x00\x00\x00\x01\x88");
    reply.extend(b"\x00\x00\x12\x00\x01\x00\x00\x00\x01<title>a\x05b</title>");
    let id = identify(&GET, &reply);
    assert_eq!(detail(&id, "title"), Some("a\u{fffd}b"), "{id:?}");
    // Found by the fuzz target: a NUL in a content type.
    let crash = include_bytes!("fuzz-crash-content-type-nul.bin");
    assert_printable(&(GET.parse)(crash));
}

#[test]
fn foreign_bytes_are_rejected_at_once() {
    let junk: [&[u8]; 8] = [
        b"HTTP/1.1 400 Bad Request\r\n\r\n",
        b"\x15\x03\x03\x00\x02\x02\x28",
        b"SSH-2.0-OpenSSH_9.2p1\r\n",
        &[0; 64],
        &[0xaa; 64],
        b"+OK\r\n",
        // A SETTINGS ACK first, a SETTINGS of 7 octets, a frame past 16384 octets.
        b"\x00\x00\x00\x04\x01\x00\x00\x00\x00",
        b"\x00\x00\x07\x04\x00\x00\x00\x00\x00",
    ];
    assert_rejects(PROBES, &junk);
    for probe in PROBES {
        assert_eq!(
            (probe.parse)(b"\x00\x40\x02\x04\x00\x00\x00\x00\x00"),
            Verdict::NoMatch
        );
        assert_eq!((probe.parse)(b"\x00\x00"), Verdict::NeedMore);
    }
}

proptest! {
    #[test]
    fn mutated_replies_stay_total(index in 0..FIXTURES.len(), at in any::<usize>(), byte in any::<u8>(), cut in any::<usize>()) {
        let bytes = mutated(FIXTURES[index].1, at, byte, cut);
        for probe in PROBES {
            if let Some(id) = (probe.parse)(&bytes).settled() {
                assert_printable(&Verdict::Match(id));
            }
        }
    }
}
