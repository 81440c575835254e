//! gRPC on top of the HTTP/2 conversation: the status a server gives (`grpc-status`, in the
//! headers of a Trailers-Only reply or in the trailers), and the service names its reflection
//! service lists (`ServerReflectionResponse.list_services_response`, protobuf read by hand:
//! three nested length-delimited fields).
//!
//! Each length (gRPC's 4-octet message length, protobuf's varints) is checked against the
//! bytes present; a message cut short yields the names read before the cut.

/// Most service names reported.
pub const SERVICES_MAX: usize = 16;
/// Longest service name reported, in characters (longer ones are cut with an ellipsis).
pub const NAME_MAX: usize = 120;

/// The name of a gRPC status code (the codes of `grpc/status.h`).
pub fn status_name(code: u32) -> Option<&'static str> {
    const NAMES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    NAMES.get(usize::try_from(code).ok()?).copied()
}

/// What the reflection service answered in `data` (stream 1's DATA: gRPC length-prefixed
/// messages).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reflection {
    /// Service names listed, at most [`SERVICES_MAX`] (each as received; cut by the caller).
    pub services: Vec<String>,
    /// More names were listed than kept.
    pub more: bool,
    /// `error_response`: (code, message).
    pub error: Option<(u64, String)>,
    /// A message was compressed (portscope offers no compression, so none should be).
    pub compressed: bool,
}

/// Read the reflection responses in `data`.
pub fn reflection(mut data: &[u8]) -> Reflection {
    let mut out = Reflection::default();
    while let Some((&flag, rest)) = data.split_first() {
        let Some(len) = rest
            .get(..4)
            .map(|l| u32::from_be_bytes([l[0], l[1], l[2], l[3]]))
        else {
            break;
        };
        let Ok(len) = usize::try_from(len) else { break };
        let body = rest.get(4..).unwrap_or_default();
        let message = body.get(..len).unwrap_or(body);
        if flag != 0 {
            out.compressed = true;
        } else {
            response(message, &mut out);
        }
        match body.get(len..) {
            Some(next) => data = next,
            None => break,
        }
    }
    out
}

/// One `ServerReflectionResponse`.
fn response(message: &[u8], out: &mut Reflection) {
    for (field, value) in fields(message) {
        match (field, value) {
            (6, Value::Bytes(list)) => {
                // ListServiceResponse { repeated ServiceResponse service = 1; }
                for (f, service) in fields(list) {
                    let (1, Value::Bytes(service)) = (f, service) else {
                        continue;
                    };
                    // ServiceResponse { string name = 1; }
                    let name = fields(service).find_map(|(f, v)| match (f, v) {
                        (1, Value::Bytes(name)) => Some(name),
                        _ => None,
                    });
                    if let Some(name) = name {
                        if out.services.len() < SERVICES_MAX {
                            out.services
                                .push(String::from_utf8_lossy(name).into_owned());
                        } else {
                            out.more = true;
                        }
                    }
                }
            }
            (7, Value::Bytes(error)) => {
                // ErrorResponse { int32 error_code = 1; string error_message = 2; }
                let mut code = 0;
                let mut text = String::new();
                for (f, v) in fields(error) {
                    match (f, v) {
                        (1, Value::Varint(c)) => code = c,
                        (2, Value::Bytes(m)) => text = String::from_utf8_lossy(m).into_owned(),
                        _ => {}
                    }
                }
                out.error = Some((code, text));
            }
            _ => {}
        }
    }
}

/// A protobuf field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

/// The fields of a protobuf message, in order, up to the first malformed or cut one.
fn fields(mut bytes: &[u8]) -> impl Iterator<Item = (u64, Value<'_>)> {
    std::iter::from_fn(move || {
        let (key, rest) = varint(bytes)?;
        let (value, rest) = match key & 7 {
            0 => {
                let (v, rest) = varint(rest)?;
                (Value::Varint(v), rest)
            }
            1 => (Value::Fixed, rest.get(8..)?),
            2 => {
                let (len, rest) = varint(rest)?;
                let len = usize::try_from(len).ok()?;
                (Value::Bytes(rest.get(..len)?), rest.get(len..)?)
            }
            5 => (Value::Fixed, rest.get(4..)?),
            _ => return None,
        };
        bytes = rest;
        Some((key >> 3, value))
    })
}

/// A protobuf varint (at most 10 octets).
fn varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, bytes.get(i + 1..)?));
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_is_read_and_bounded() {
        // Two names, then a message cut inside the third.
        let names = [&b"grpc.health.v1.Health"[..], b"x"];
        let mut list = Vec::new();
        for n in names {
            let service = [&[0x0a, n.len() as u8][..], n].concat();
            list.extend([0x0a, service.len() as u8]);
            list.extend(service);
        }
        list.extend([0x0a, 0x10, 0x0a]);
        let mut message = vec![0x32, list.len() as u8];
        message.extend(&list);
        let mut data = vec![0, 0, 0, 0, message.len() as u8 + 10];
        data.extend(&message);
        let r = reflection(&data);
        assert_eq!(r.services, ["grpc.health.v1.Health", "x"]);
        assert!(!r.more && r.error.is_none());
        // Twenty names: sixteen kept.
        let one = [0x0a, 0x03, 0x0a, 0x01, b'n'];
        let list: Vec<u8> = one.iter().copied().cycle().take(5 * 20).collect();
        let mut data = vec![0, 0, 0, 0, list.len() as u8 + 2, 0x32, list.len() as u8];
        data.extend(&list);
        let r = reflection(&data);
        assert_eq!(r.services.len(), SERVICES_MAX);
        assert!(r.more);
    }

    #[test]
    fn an_error_response_and_junk() {
        let error = [0x08, 0x0c, 0x12, 0x02, b'n', b'o'];
        let mut data = vec![0, 0, 0, 0, 8, 0x3a, 6];
        data.extend(error);
        assert_eq!(reflection(&data).error, Some((12, "no".into())));
        assert!(reflection(&[1, 0, 0, 0, 0]).compressed);
        for junk in [&[0xff; 20][..], &[0, 0xff, 0xff, 0xff, 0xff, 0x32], &[]] {
            assert!(reflection(junk).services.is_empty());
        }
        assert_eq!(status_name(12), Some("UNIMPLEMENTED"));
        assert_eq!(status_name(99), None);
    }
}
