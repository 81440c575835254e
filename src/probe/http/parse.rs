//! A small, total HTTP/1.x response parser for probing: status line, headers, and a bounded
//! prefix of the body.
//!
//! It exists because a prober reads whatever a server sends, a few bytes at a time, and must
//! decide from a prefix: [`parse_response`] says whether the bytes so far are not HTTP, are an
//! unfinished HTTP response, or are a response whose head is complete (with as much of the
//! body as arrived, de-chunked, up to [`BODY_PREFIX`] bytes). Every bound is fixed: at most
//! [`MAX_HEAD_BYTES`] of head, [`MAX_HEADERS`] headers, [`BODY_PREFIX`] bytes of body; nothing
//! is allocated in proportion to a length the server declares.

use std::borrow::Cow;

/// Most bytes of status line + headers looked at; a longer head is cut there.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Most headers kept; later ones are ignored.
pub const MAX_HEADERS: usize = 64;
/// Most body bytes kept (after de-chunking). Enough for a `<title>`, a JSON version document,
/// or the first metric families.
pub const BODY_PREFIX: usize = 16 * 1024;
/// Interim `1xx` responses skipped before the final one.
const MAX_INTERIM: usize = 4;

/// What the bytes so far are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// Not an HTTP/1.x response.
    NotHttp,
    /// Could be one; the status line or the headers are not complete yet.
    Incomplete,
    /// A response whose head is complete (or was cut at [`MAX_HEAD_BYTES`]).
    Response(Response<'a>),
}

/// How much of the body is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyState {
    /// All of it, or at least [`BODY_PREFIX`] bytes of it, or all we will ever use (no body
    /// allowed, a malformed chunk, a cut head).
    Complete,
    /// A `Content-Length` or chunked body that is still arriving.
    Partial,
    /// A body delimited by the connection's close: more may come, nothing says how much.
    UntilClose,
}

/// An HTTP/1.x response, borrowed from the bytes received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response<'a> {
    /// The `x` of `HTTP/1.x`.
    pub minor: u8,
    /// Status code, 100–599.
    pub status: u16,
    /// Reason phrase (may be empty).
    pub reason: &'a [u8],
    headers: Vec<(&'a [u8], &'a [u8])>,
    /// The first bytes of the body (de-chunked), at most [`BODY_PREFIX`].
    pub body: Cow<'a, [u8]>,
    /// Whether more of the body may come.
    pub body_state: BodyState,
}

impl<'a> Response<'a> {
    /// The first header called `name` (case-insensitive), its value trimmed.
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|&(_, v)| v)
    }

    /// The first header called `name` as text (invalid UTF-8 replaced).
    pub fn header_str(&self, name: &str) -> Option<Cow<'a, str>> {
        self.header(name).map(String::from_utf8_lossy)
    }

    /// Every header called `name`, in order.
    pub fn headers_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a [u8]> + 's {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|&(_, v)| v)
    }

    /// All headers kept, in order, as (name, value).
    pub fn headers(&self) -> &[(&'a [u8], &'a [u8])] {
        &self.headers
    }

    /// True when the body is in as far as a parser that wants to look at it should wait:
    /// complete, or delimited by close and either already started or never announced (no
    /// `Content-Type`). A `Partial` body is waited for.
    pub fn body_ready(&self) -> bool {
        match self.body_state {
            BodyState::Complete => true,
            BodyState::Partial => false,
            BodyState::UntilClose => !self.body.is_empty() || self.header("content-type").is_none(),
        }
    }
}

/// Parse the bytes received so far as an HTTP/1.x response.
pub fn parse_response(bytes: &[u8]) -> Parsed<'_> {
    let mut rest = bytes;
    for _ in 0..=MAX_INTERIM {
        match parse_one(rest) {
            One::Interim(after) => rest = after,
            One::Done(parsed) => return parsed,
        }
    }
    // Too many interim responses: treat the last one as the answer we got.
    match parse_head(rest) {
        Head::Done(mut r, _) => {
            r.body_state = BodyState::Complete;
            Parsed::Response(r)
        }
        Head::Incomplete => Parsed::Incomplete,
        Head::NotHttp => Parsed::NotHttp,
    }
}

enum One<'a> {
    Interim(&'a [u8]),
    Done(Parsed<'a>),
}

fn parse_one(bytes: &[u8]) -> One<'_> {
    match parse_head(bytes) {
        Head::NotHttp => One::Done(Parsed::NotHttp),
        Head::Incomplete => One::Done(Parsed::Incomplete),
        Head::Done(r, body_start) => {
            if (100..200).contains(&r.status) && r.status != 101 {
                return match body_start {
                    Some(start) => One::Interim(&bytes[start..]),
                    None => One::Done(Parsed::Response(r)),
                };
            }
            One::Done(Parsed::Response(with_body(
                r,
                body_start.map(|s| &bytes[s..]),
            )))
        }
    }
}

enum Head<'a> {
    NotHttp,
    Incomplete,
    /// The response without its body, and where the body starts (`None`: the head was cut).
    Done(Response<'a>, Option<usize>),
}

const PREFIX: &[u8] = b"HTTP/1.";

fn parse_head(bytes: &[u8]) -> Head<'_> {
    let n = bytes.len().min(PREFIX.len());
    if bytes[..n] != PREFIX[..n] {
        return Head::NotHttp;
    }
    let window = &bytes[..bytes.len().min(MAX_HEAD_BYTES)];
    let Some(line_end) = find_byte(window, b'\n') else {
        return if window.len() < MAX_HEAD_BYTES {
            Head::Incomplete
        } else {
            Head::NotHttp
        };
    };
    let Some((minor, status, reason)) = status_line(trim_cr(&window[..line_end])) else {
        return Head::NotHttp;
    };
    let mut response = Response {
        minor,
        status,
        reason,
        headers: Vec::new(),
        body: Cow::Borrowed(&[]),
        body_state: BodyState::Complete,
    };
    let mut pos = line_end + 1;
    loop {
        let Some(len) = find_byte(&window[pos..], b'\n') else {
            if window.len() < MAX_HEAD_BYTES {
                return Head::Incomplete;
            }
            // The head is longer than we look at: decide on what we have.
            return Head::Done(response, None);
        };
        let line = trim_cr(&window[pos..pos + len]);
        pos += len + 1;
        if line.is_empty() {
            return Head::Done(response, Some(pos));
        }
        if response.headers.len() < MAX_HEADERS
            && let Some(h) = header_line(line)
        {
            response.headers.push(h);
        }
    }
}

/// `HTTP/1.x NNN[ reason]`.
fn status_line(line: &[u8]) -> Option<(u8, u16, &[u8])> {
    let rest = line.strip_prefix(PREFIX)?;
    let (&minor, rest) = rest.split_first()?;
    if !minor.is_ascii_digit() {
        return None;
    }
    let rest = rest.strip_prefix(b" ")?;
    let code = rest.get(..3)?;
    if !code.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let status = code
        .iter()
        .fold(0u16, |acc, &d| acc * 10 + u16::from(d - b'0'));
    if !(100..600).contains(&status) {
        return None;
    }
    let reason = match rest.get(3..) {
        None | Some([]) => &[][..],
        Some([b' ', reason @ ..]) => reason,
        Some(_) => return None,
    };
    Some((minor - b'0', status, reason))
}

/// `name: value`; `None` for folded or malformed lines (ignored, not fatal).
fn header_line(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = find_byte(line, b':')?;
    let name = &line[..colon];
    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
        return None;
    }
    Some((name, trim_ows(&line[colon + 1..])))
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn with_body<'a>(mut r: Response<'a>, rest: Option<&'a [u8]>) -> Response<'a> {
    let Some(rest) = rest else {
        return r; // head cut: Complete, empty body
    };
    if matches!(r.status, 100..=199 | 204 | 304) {
        return r;
    }
    match framing(&r) {
        Framing::Chunked => {
            let (body, state) = dechunk(rest);
            r.body = Cow::Owned(body);
            r.body_state = state;
        }
        Framing::Length(n) => {
            let want = n.min(BODY_PREFIX as u64) as usize;
            let have = rest.len().min(want);
            r.body = Cow::Borrowed(&rest[..have]);
            r.body_state = if have >= want {
                BodyState::Complete
            } else {
                BodyState::Partial
            };
        }
        Framing::UntilClose => {
            let have = rest.len().min(BODY_PREFIX);
            r.body = Cow::Borrowed(&rest[..have]);
            r.body_state = if have >= BODY_PREFIX {
                BodyState::Complete
            } else {
                BodyState::UntilClose
            };
        }
    }
    r
}

enum Framing {
    Chunked,
    Length(u64),
    UntilClose,
}

/// RFC 9112 §6.3: Transfer-Encoding beats Content-Length; chunked only when it is the last
/// coding; a bad Content-Length reads until close.
fn framing(r: &Response<'_>) -> Framing {
    if let Some(te) = r.headers_named("transfer-encoding").last() {
        let last = te
            .rsplit(|&b| b == b',')
            .next()
            .map(trim_ows)
            .unwrap_or(&[]);
        return if last.eq_ignore_ascii_case(b"chunked") {
            Framing::Chunked
        } else {
            Framing::UntilClose
        };
    }
    match r.header("content-length").and_then(content_length) {
        Some(n) => Framing::Length(n),
        None => Framing::UntilClose,
    }
}

/// A Content-Length value: digits, or a list of identical digit strings (`5, 5`).
fn content_length(v: &[u8]) -> Option<u64> {
    let mut value = None;
    for part in v.split(|&b| b == b',') {
        let n = parse_decimal(trim_ows(part))?;
        if value.is_some_and(|seen| seen != n) {
            return None;
        }
        value = Some(n);
    }
    value
}

fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// De-chunk up to [`BODY_PREFIX`] bytes. A malformed chunk ends the body (Complete: waiting
/// will not make it well-formed).
fn dechunk(mut rest: &[u8]) -> (Vec<u8>, BodyState) {
    let mut out = Vec::new();
    loop {
        if out.len() >= BODY_PREFIX {
            return (out, BodyState::Complete);
        }
        let Some(eol) = find_byte(rest, b'\n') else {
            // A size line longer than any sane one is malformed.
            let state = if rest.len() > 1024 {
                BodyState::Complete
            } else {
                BodyState::Partial
            };
            return (out, state);
        };
        let line = trim_cr(&rest[..eol]);
        let size_text = trim_ows(line.split(|&b| b == b';').next().unwrap_or(&[]));
        let Some(size) = parse_hex(size_text) else {
            return (out, BodyState::Complete);
        };
        rest = &rest[eol + 1..];
        if size == 0 {
            return (out, BodyState::Complete);
        }
        let room = BODY_PREFIX - out.len();
        let take = rest
            .len()
            .min(room)
            .min(usize::try_from(size).unwrap_or(usize::MAX));
        out.extend_from_slice(&rest[..take]);
        if (take as u64) < size {
            let state = if out.len() >= BODY_PREFIX {
                BodyState::Complete
            } else {
                BodyState::Partial
            };
            return (out, state);
        }
        rest = &rest[take..];
        // The CRLF after the chunk data.
        match rest {
            [b'\r', b'\n', after @ ..] | [b'\n', after @ ..] => rest = after,
            [] | [b'\r'] => return (out, BodyState::Partial),
            _ => return (out, BodyState::Complete),
        }
    }
}

fn parse_hex(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 15 {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &d| {
        let v = char::from(d).to_digit(16)?;
        Some(acc * 16 + u64::from(v))
    })
}

fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Trim optional whitespace (SP, HTAB) on both sides.
pub fn trim_ows(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |e| e + 1);
    &v[start..end]
}

/// Case-insensitive substring search (ASCII).
pub fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    find_ci(hay, needle).is_some()
}

/// Position of the first case-insensitive (ASCII) occurrence of `needle` in `hay`.
pub fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests;
