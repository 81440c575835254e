//! Tests of the HTTP/1.x response parser: framing, bounds, and totality.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;

use super::*;

fn resp(bytes: &[u8]) -> Response<'_> {
    match parse_response(bytes) {
        Parsed::Response(r) => r,
        other => panic!("expected a response, got {other:?}"),
    }
}

#[test]
fn status_line_and_headers() {
    let r = resp(b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nX-A:  b \r\nx-a: c\r\n\r\n");
    assert_eq!((r.minor, r.status, r.reason), (1, 200, &b"OK"[..]));
    assert_eq!(r.header("SERVER"), Some(&b"nginx/1.22.1"[..]));
    assert_eq!(r.header("x-a"), Some(&b"b"[..]));
    assert_eq!(r.headers_named("X-A").count(), 2);
    assert_eq!(r.body_state, BodyState::UntilClose);
    // No reason phrase, bare LF line ends, no space after the colon (Chrome).
    let r = resp(b"HTTP/1.0 204\nContent-Length:0\n\n");
    assert_eq!((r.minor, r.status, r.reason), (0, 204, &b""[..]));
    assert_eq!(r.body_state, BodyState::Complete);
}

#[test]
fn not_http_and_incomplete() {
    assert_eq!(parse_response(b""), Parsed::Incomplete);
    assert_eq!(parse_response(b"HTT"), Parsed::Incomplete);
    assert_eq!(
        parse_response(b"HTTP/1.1 200 OK\r\nServer: x\r\n"),
        Parsed::Incomplete
    );
    assert_eq!(parse_response(b"HTTP/1.1 200 OK\r\n\r"), Parsed::Incomplete);
    assert_eq!(parse_response(b"SSH-2.0-x\r\n"), Parsed::NotHttp);
    assert_eq!(parse_response(b"http/1.1 200 OK\r\n\r\n"), Parsed::NotHttp);
    assert_eq!(parse_response(b"HTTP/1.1 200OK\r\n\r\n"), Parsed::NotHttp);
    assert_eq!(parse_response(b"HTTP/1.1 600 No\r\n\r\n"), Parsed::NotHttp);
    assert_eq!(parse_response(b"HTTP/1.1 2x0 No\r\n\r\n"), Parsed::NotHttp);
}

#[test]
fn content_length_bodies() {
    let r = resp(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel");
    assert_eq!((&*r.body, r.body_state), (&b"hel"[..], BodyState::Partial));
    assert!(!r.body_ready());
    let r = resp(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello, and more");
    assert_eq!(
        (&*r.body, r.body_state),
        (&b"hello"[..], BodyState::Complete)
    );
    // Equal duplicates are fine; different ones make the length unknown (read to close).
    let r = resp(b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nhi");
    assert_eq!(r.body_state, BodyState::Complete);
    let r = resp(b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nhi");
    assert_eq!(r.body_state, BodyState::UntilClose);
    // A huge declared length allocates nothing and completes at the prefix size.
    let mut big = b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n".to_vec();
    big.extend(std::iter::repeat_n(b'a', BODY_PREFIX + 10));
    let r = resp(&big);
    assert_eq!(
        (r.body.len(), r.body_state),
        (BODY_PREFIX, BodyState::Complete)
    );
    assert!(matches!(r.body, Cow::Borrowed(_)));
    let r = resp(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\nx");
    assert_eq!(r.body_state, BodyState::UntilClose);
}

#[test]
fn chunked_bodies() {
    let r = resp(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    assert_eq!(
        (&*r.body, r.body_state),
        (&b"hello world"[..], BodyState::Complete)
    );
    let r = resp(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 3\r\n\r\n5\r\nhel",
    );
    assert_eq!((&*r.body, r.body_state), (&b"hel"[..], BodyState::Partial));
    let r = resp(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r");
    assert_eq!(r.body_state, BodyState::Partial);
    let r = resp(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n");
    assert_eq!((&*r.body, r.body_state), (&b""[..], BodyState::Complete));
    // A declared giant chunk: only what arrived is kept.
    let r = resp(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\nabc");
    assert_eq!((&*r.body, r.body_state), (&b"abc"[..], BodyState::Partial));
    let r = resp(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxyz");
    assert_eq!(r.body_state, BodyState::UntilClose);
}

#[test]
fn no_body_statuses_and_interim_responses() {
    let r = resp(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n");
    assert_eq!(r.body_state, BodyState::Complete);
    let r = resp(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    assert_eq!((r.status, &*r.body), (200, &b"ok"[..]));
    assert_eq!(
        parse_response(b"HTTP/1.1 100 Continue\r\n\r\n"),
        Parsed::Incomplete
    );
    assert_eq!(
        parse_response(b"HTTP/1.1 100 Continue\r\n\r\nSSH-2.0-"),
        Parsed::NotHttp
    );
    let r = resp(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00");
    assert_eq!((r.status, r.body_state), (101, BodyState::Complete));
}

#[test]
fn bounds() {
    let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..200 {
        many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    many.extend_from_slice(b"Server: late\r\n\r\n");
    let r = resp(&many);
    assert_eq!(r.headers().len(), MAX_HEADERS);
    assert_eq!(r.header("server"), None);
    // A head that never ends is cut at MAX_HEAD_BYTES and decided on.
    let mut endless = b"HTTP/1.1 200 OK\r\nServer: s\r\n".to_vec();
    while endless.len() < MAX_HEAD_BYTES + 100 {
        endless.extend_from_slice(b"X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    }
    let r = resp(&endless);
    assert_eq!(
        (r.header("server"), r.body_state),
        (Some(&b"s"[..]), BodyState::Complete)
    );
    // A status line longer than the window is not HTTP.
    let mut long = b"HTTP/1.1 200 ".to_vec();
    long.extend(std::iter::repeat_n(b'x', MAX_HEAD_BYTES));
    assert_eq!(parse_response(&long), Parsed::NotHttp);
}

#[test]
fn body_ready_rules() {
    // Close-delimited and announced by Content-Type: wait for the first body bytes.
    let r = resp(b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/html\r\n\r\n");
    assert!(!r.body_ready());
    let r = resp(b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/html\r\n\r\nW");
    assert!(r.body_ready());
    let r = resp(b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\n");
    assert!(r.body_ready());
}

#[test]
fn helpers() {
    assert_eq!(trim_ows(b" \t a b \t"), b"a b");
    assert_eq!(trim_ows(b"   "), b"");
    assert!(contains_ci(b"Hello WORLD", b"world"));
    assert_eq!(find_ci(b"abc", b""), Some(0));
    assert_eq!(find_ci(b"ab", b"abc"), None);
}

proptest! {
    #[test]
    fn total_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        if let Parsed::Response(r) = parse_response(&bytes) {
            prop_assert!(r.body.len() <= BODY_PREFIX);
            prop_assert!(r.headers().len() <= MAX_HEADERS);
            prop_assert!((100..600).contains(&r.status));
        }
    }

    #[test]
    fn prefixes_of_a_response_never_say_not_http(
        body in proptest::collection::vec(any::<u8>(), 0..300),
        chunked in any::<bool>(),
    ) {
        let mut bytes = b"HTTP/1.1 200 OK\r\nServer: t\r\n".to_vec();
        if chunked {
            bytes.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
            for part in body.chunks(7) {
                bytes.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
                bytes.extend_from_slice(part);
                bytes.extend_from_slice(b"\r\n");
            }
            bytes.extend_from_slice(b"0\r\n\r\n");
        } else {
            bytes.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
            bytes.extend_from_slice(&body);
        }
        for end in 0..bytes.len() {
            prop_assert_ne!(parse_response(&bytes[..end]), Parsed::NotHttp);
        }
        let r = resp(&bytes);
        prop_assert_eq!((&*r.body, r.body_state), (&body[..], BodyState::Complete));
    }
}
