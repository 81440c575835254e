//! HTTP/2 and gRPC: a server that sends its connection preface (a SETTINGS frame) as soon as
//! a client connects, a request in HTTP/2 with prior knowledge for one that waits, and a gRPC
//! request that tells a gRPC server from any other HTTP/2 server and lists the services its
//! reflection service names.
//!
//! The replies are read by [`frames`] (framing, stream 1) and [`hpack`] (header blocks,
//! Huffman included); [`grpc`] reads gRPC's status and reflection's listing. A response's
//! headers and first body bytes are handed to the HTTP family's `GET /` reader, written out as
//! an HTTP/1.1 response (pseudo-headers and framing headers dropped, control characters made
//! spaces), so a server is named from `server:` and a page's title exactly as over HTTP/1.1.
//!
//! Read-only: the requests are a `GET /` and a gRPC reflection `list_services` call, which
//! reads the names of the services and nothing else.

pub mod frames;
pub mod grpc;
pub mod hpack;

#[cfg(test)]
mod fixtures;

use self::frames::{Broken, STREAMS, Stream, converse, first_frame_fits, header, settings};
use super::{Auth, Confidence, Hints, Identification, Probe, Send, TlsUse, Verdict, http};

/// A server's unprompted connection preface: its SETTINGS frame → `http2` (certain), the
/// settings that matter as details.
pub const PREFACE: Probe = Probe {
    name: "http2-settings",
    send: Send::Nothing,
    parse: server_preface,
    hints: HINTS,
    tls: TlsUse::Plain,
    refines: None,
};

/// HTTP/2 with prior knowledge: the client preface, a SETTINGS that turns server push off, and
/// `GET /` on stream 1 → the server's SETTINGS (`http2`, certain), its response named as the
/// HTTP family names an HTTP/1.1 one (`:status`, `server`, `content-type`, title), or `grpc`
/// when the response carries gRPC's marks.
pub const GET: Probe = Probe {
    name: "http2-get",
    send: Send::Bytes(GET_REQUEST),
    parse: get_reply,
    hints: HINTS,
    tls: TlsUse::Both,
    refines: None,
};

/// After `http2`: gRPC server reflection's `ServerReflectionInfo` (v1alpha and v1) with one
/// `list_services` request each, and `GET /` → `grpc` (certain) when a reply has a
/// `grpc-status` or a gRPC content type, with the services listed, or `reflection: not
/// enabled` (UNIMPLEMENTED); else `http2` named from its `GET /` (a server known only from its
/// preface gets its `server`, status and title here).
pub const GRPC: Probe = Probe {
    name: "grpc-reflection",
    send: Send::Bytes(GRPC_REQUEST),
    parse: grpc_reply,
    hints: HINTS,
    tls: TlsUse::Both,
    refines: Some("http2"),
};

/// This family's probes.
pub const PROBES: &[Probe] = &[PREFACE, GET, GRPC];

const HINTS: Hints = Hints {
    ports: &[50051],
    processes: &["grpc", "nghttpd", "h2o"],
};

/// The client connection preface, then a SETTINGS frame with `SETTINGS_ENABLE_PUSH` = 0,
/// then HEADERS (END_STREAM | END_HEADERS) on stream 1, HPACK without Huffman or indexing:
/// `:method GET`, `:scheme http`, `:path /`, `:authority localhost`,
/// `user-agent portscope-probe`, `accept */*`.
pub const GET_REQUEST: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\
    \x00\x00\x06\x04\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\
    \x00\x00\x26\x01\x05\x00\x00\x00\x01\
    \x82\x86\x84\x01\x09localhost\x0f\x2b\x0fportscope-probe\x0f\x04\x03*/*";

/// Preface and SETTINGS as in [`GET_REQUEST`], then three streams. 1: HEADERS (END_HEADERS)
/// `:method POST`, `:scheme http`,
/// `:path /grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo`,
/// `:authority localhost`, `content-type application/grpc`, `te trailers`,
/// `user-agent portscope-probe`, and DATA (END_STREAM) holding one uncompressed gRPC message,
/// `ServerReflectionRequest { list_services: "" }` (field 7, an empty string: `3a 00`).
/// 3: the same call to `grpc.reflection.v1` (servers may offer either). 5: `GET /` as in
/// [`GET_REQUEST`], for a server that is not gRPC.
pub const GRPC_REQUEST: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\
    \x00\x00\x06\x04\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\
    \x00\x00\x7f\x01\x04\x00\x00\x00\x01\
    \x83\x86\x04\x3e/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo\
    \x01\x09localhost\x0f\x10\x10application/grpc\x00\x02te\x08trailers\
    \x0f\x2b\x0fportscope-probe\
    \x00\x00\x07\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x02\x3a\x00\
    \x00\x00\x7a\x01\x04\x00\x00\x00\x03\
    \x83\x86\x04\x39/grpc.reflection.v1.ServerReflection/ServerReflectionInfo\
    \x01\x09localhost\x0f\x10\x10application/grpc\x00\x02te\x08trailers\
    \x0f\x2b\x0fportscope-probe\
    \x00\x00\x07\x00\x01\x00\x00\x00\x03\x00\x00\x00\x00\x02\x3a\x00\
    \x00\x00\x26\x01\x05\x00\x00\x00\x05\
    \x82\x86\x84\x01\x09localhost\x0f\x2b\x0fportscope-probe\x0f\x04\x03*/*";

/// Longest header value copied into a detail, in characters.
const VALUE_MAX: usize = 160;

/// The settings worth reporting, by identifier (RFC 9113 §6.5.2, RFC 8441).
const SETTINGS_SHOWN: [(u16, &str); 5] = [
    (3, "max_concurrent_streams"),
    (4, "initial_window_size"),
    (5, "max_frame_size"),
    (6, "max_header_list_size"),
    (8, "enable_connect_protocol"),
];

fn server_preface(bytes: &[u8]) -> Verdict {
    if !first_frame_fits(bytes) || bytes.get(3).is_some_and(|&t| t != frames::kind::SETTINGS) {
        return Verdict::NoMatch;
    }
    let Some((len, ..)) = header(bytes) else {
        return Verdict::NeedMore;
    };
    match bytes.get(9..9 + len) {
        Some(payload) => Verdict::Match(with_settings(http2(), &settings(payload))),
        None => Verdict::NeedMore,
    }
}

fn get_reply(bytes: &[u8]) -> Verdict {
    let c = match converse(bytes) {
        Ok(c) => c,
        Err(Broken::Short) => return Verdict::NeedMore,
        Err(Broken::Foreign) => return Verdict::NoMatch,
    };
    let stream = c.stream(1);
    let id = match response(stream) {
        Some(id) if is_grpc(stream) => grpc_identification(&[stream], id),
        Some(id) => id,
        None => {
            let id = http2();
            match c.goaway {
                Some((_, code)) if code != 0 => id.detail("goaway_error", code.to_string()),
                _ => id,
            }
        }
    };
    let id = with_settings(id, c.settings.as_deref().unwrap_or_default());
    settle(id, c.over(&[1]))
}

fn grpc_reply(bytes: &[u8]) -> Verdict {
    let c = match converse(bytes) {
        Ok(c) => c,
        Err(Broken::Short) => return Verdict::NeedMore,
        Err(Broken::Foreign) => return Verdict::NoMatch,
    };
    let calls = [c.stream(1), c.stream(3)];
    let over = c.over(&STREAMS);
    if let Some(&first) = calls.iter().find(|s| is_grpc(s)) {
        let answer = response(first).unwrap_or_else(http2);
        return settle(grpc_identification(&calls, answer), over);
    }
    // Not gRPC (yet): the `GET /` on stream 5 names the server.
    match response(c.stream(5)) {
        Some(id) if c.stream(5).over() => settle(id, over),
        Some(id) => Verdict::MatchIfEnds(id),
        None if over => Verdict::NoMatch,
        None => Verdict::NeedMore,
    }
}

/// A whole verdict when the streams are over; else one that holds if the reply ends here.
fn settle(id: Identification, over: bool) -> Verdict {
    if over {
        Verdict::Match(id)
    } else {
        Verdict::MatchIfEnds(id)
    }
}

fn http2() -> Identification {
    Identification::new("http2", Confidence::Certain)
}

fn with_settings(mut id: Identification, values: &[(u16, u32)]) -> Identification {
    for (wanted, name) in SETTINGS_SHOWN {
        if let Some((_, value)) = values.iter().find(|(k, _)| *k == wanted) {
            id = id.detail(name, value.to_string());
        }
    }
    id
}

/// The gRPC marks: a `grpc-status`, or a `content-type` of `application/grpc[+…]`.
fn is_grpc(s: &Stream) -> bool {
    s.header("grpc-status").is_some()
        || s.header("content-type").is_some_and(|t| {
            t.get(..16)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"application/grpc"))
                && matches!(t.get(16), None | Some(b'+' | b';'))
        })
}

/// A stream's `grpc-status`.
fn grpc_status(s: &Stream) -> Option<u32> {
    let text = std::str::from_utf8(s.header("grpc-status")?).ok()?;
    text.trim().parse().ok()
}

/// `grpc` from the reflection calls (`calls`: v1alpha, then v1): the services one of them
/// listed; `reflection: not enabled` when every status is UNIMPLEMENTED; else the first other
/// status. Product and version from the reply's `server`, when it has one.
fn grpc_identification(calls: &[&Stream], answer: Identification) -> Identification {
    let mut id = Identification::new("grpc", Confidence::Certain);
    id.product = answer.product;
    id.version = answer.version;
    let statuses: Vec<(u32, &Stream)> = calls
        .iter()
        .filter_map(|s| Some((grpc_status(s)?, *s)))
        .collect();
    let listings: Vec<grpc::Reflection> = statuses
        .iter()
        .filter(|(code, _)| *code == 0)
        .map(|(_, s)| grpc::reflection(&s.data))
        .collect();
    let other = statuses.iter().find(|(code, _)| *code != 0 && *code != 12);
    if let Some(r) = listings
        .iter()
        .find(|r| !r.services.is_empty())
        .or(listings.first())
    {
        if !r.services.is_empty() {
            let mut names: Vec<String> = r
                .services
                .iter()
                .map(|s| http::text(s.as_bytes(), grpc::NAME_MAX))
                .collect();
            if r.more {
                names.push("…".into());
            }
            id = id.detail("services", names.join(", "));
        }
        if let Some((code, message)) = &r.error {
            let message = http::text(message.as_bytes(), VALUE_MAX);
            id = id.detail("reflection", format!("error {code}: {message}"));
        }
    } else if let Some(&(code, s)) = other {
        let name = grpc::status_name(code).unwrap_or("unknown");
        id = id.detail("grpc_status", format!("{code} {name}"));
        if let Some(m) = s.header("grpc-message") {
            id = id.detail("grpc_message", http::text(m, VALUE_MAX));
        }
        if code == 16 || code == 7 {
            id.auth = Some(Auth::Required);
        }
    } else if !statuses.is_empty() {
        id = id.detail("reflection", "not enabled");
    }
    for (k, v) in answer.details {
        if k == "server" || k == "content_type" {
            id.details.push((k, v));
        }
    }
    printable(id)
}

/// A stream's final response (a 1xx skipped), read by the HTTP family as if it came over
/// HTTP/1.1: `http` becomes `http2`; a `content_type` detail is added.
fn response(s: &Stream) -> Option<Identification> {
    let (status, block) = s.blocks.iter().find_map(|b| {
        let status = b
            .iter()
            .find(|(n, _)| n == b":status")
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
            .and_then(|s| s.parse::<u16>().ok())
            .filter(|s| (200..600).contains(s) || *s == 101)?;
        Some((status, b))
    })?;
    let mut head = format!("HTTP/1.1 {status}\r\n").into_bytes();
    let mut content_type = None;
    for (name, value) in block {
        let framing = [&b"content-length"[..], b"transfer-encoding", b"connection"];
        if name.first() == Some(&b':')
            || framing.contains(&name.as_slice())
            || !name.iter().all(|b| b.is_ascii_graphic() && *b != b':')
        {
            continue;
        }
        if name == b"content-type" {
            content_type = Some(http::text(value, VALUE_MAX));
        }
        head.extend_from_slice(name);
        head.extend_from_slice(b": ");
        head.extend(
            value
                .iter()
                .map(|&b| if b.is_ascii_control() { b' ' } else { b }),
        );
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(format!("content-length: {}\r\n\r\n", s.data.len()).as_bytes());
    head.extend_from_slice(&s.data);
    let mut id = http::parse_root(&head).settled()?;
    if id.protocol == "http" {
        id.protocol = "http2".into();
    }
    if let Some(t) = content_type {
        id = id.detail("content_type", t);
    }
    Some(printable(id))
}

/// `id` with every control character (a title's, a header's) replaced by U+FFFD: the HTTP
/// family leaves that to the renderers, this family's identifications carry none.
fn printable(mut id: Identification) -> Identification {
    let clean = |s: &mut String| {
        if s.chars().any(char::is_control) {
            *s = s
                .chars()
                .map(|c| if c.is_control() { '\u{fffd}' } else { c })
                .collect();
        }
    };
    id.product.iter_mut().for_each(clean);
    id.version.iter_mut().for_each(clean);
    for (_, v) in &mut id.details {
        clean(v);
    }
    id
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
