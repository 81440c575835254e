//! HTTP/2 framing (RFC 9113 §4, §6) of a server's side of a probe's connection: the frames in
//! order, the server's SETTINGS, a GOAWAY, and what came on the probe's streams (1, 3, 5) —
//! their header blocks (HPACK-decoded in connection order), the first bytes of their DATA, and
//! how they ended.
//!
//! A frame's length is compared with the bytes present and with the largest frame a server
//! may send before our SETTINGS raise it (16384 octets), never used to size a buffer.

use super::hpack::{Decoder, Header};

/// The largest frame payload a server may send us (`SETTINGS_MAX_FRAME_SIZE`'s default, which
/// portscope does not raise).
pub const MAX_FRAME: usize = 16_384;
/// Most DATA bytes of stream 1 kept (a page's title, a few gRPC messages).
pub const DATA_MAX: usize = 16 * 1024;
/// Most header blocks of stream 1 kept (headers, trailers, and a few 1xx).
const BLOCKS_MAX: usize = 4;

/// Frame types used here.
pub mod kind {
    /// DATA.
    pub const DATA: u8 = 0;
    /// HEADERS.
    pub const HEADERS: u8 = 1;
    /// RST_STREAM.
    pub const RST_STREAM: u8 = 3;
    /// SETTINGS.
    pub const SETTINGS: u8 = 4;
    /// GOAWAY.
    pub const GOAWAY: u8 = 7;
    /// CONTINUATION.
    pub const CONTINUATION: u8 = 9;
}

const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY: u8 = 0x20;

/// One frame's header and payload.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// Frame type.
    pub kind: u8,
    /// Flags.
    pub flags: u8,
    /// Stream identifier (reserved bit cleared).
    pub stream: u32,
    /// The payload.
    pub payload: &'a [u8],
}

/// The first frame header of `bytes`, when it is whole: `(length, type, flags, stream)`.
pub fn header(bytes: &[u8]) -> Option<(usize, u8, u8, u32)> {
    let &[l0, l1, l2, kind, flags, s0, s1, s2, s3] = bytes.get(..9)? else {
        return None;
    };
    let len = usize::from(l0) << 16 | usize::from(l1) << 8 | usize::from(l2);
    let stream = u32::from_be_bytes([s0 & 0x7f, s1, s2, s3]);
    Some((len, kind, flags, stream))
}

/// Whether `bytes` can be (the start of) a server's first frame: a SETTINGS (not an ACK,
/// length a multiple of 6) or a GOAWAY, on stream 0, no longer than [`MAX_FRAME`].
pub fn first_frame_fits(bytes: &[u8]) -> bool {
    // Byte by byte, so a prefix is judged as soon as it can be.
    let ok = |at: usize, f: fn(u8) -> bool| bytes.get(at).is_none_or(|&b| f(b));
    ok(0, |b| b == 0)
        && ok(3, |t| t == kind::SETTINGS || t == kind::GOAWAY)
        && ok(4, |f| f == 0)
        && (5..9).all(|i| ok(i, |b| b == 0))
        && match header(bytes) {
            Some((len, kind::SETTINGS, ..)) => len % 6 == 0 && len <= MAX_FRAME,
            Some((len, ..)) => (8..=MAX_FRAME).contains(&len),
            None => true,
        }
}

/// Whole frames of `bytes` in order, then whether bytes of an incomplete frame follow. Stops
/// at a frame longer than [`MAX_FRAME`] (returned as `None`: not a frame a server sends us).
pub fn frames(mut bytes: &[u8]) -> Option<(Vec<Frame<'_>>, bool)> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let Some((len, kind, flags, stream)) = header(bytes) else {
            return Some((out, true));
        };
        if len > MAX_FRAME {
            return None;
        }
        let Some(payload) = bytes.get(9..9 + len) else {
            return Some((out, true));
        };
        out.push(Frame {
            kind,
            flags,
            stream,
            payload,
        });
        bytes = bytes.get(9 + len..).unwrap_or_default();
    }
    Some((out, false))
}

/// `(identifier, value)` pairs of a SETTINGS payload.
pub fn settings(payload: &[u8]) -> Vec<(u16, u32)> {
    payload
        .chunks_exact(6)
        .map(|c| {
            (
                u16::from_be_bytes([c[0], c[1]]),
                u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
            )
        })
        .collect()
}

/// The streams a probe opens: 1, 3 and 5.
pub const STREAMS: [u32; 3] = [1, 3, 5];

/// What the server said on one of the probe's streams.
#[derive(Debug, Default)]
pub struct Stream {
    /// Its decoded header blocks, in order (headers, then trailers).
    pub blocks: Vec<Vec<Header>>,
    /// Its first DATA bytes (padding removed), at most [`DATA_MAX`].
    pub data: Vec<u8>,
    /// END_STREAM seen.
    pub ended: bool,
    /// Reset by the server: the error code.
    pub reset: Option<u32>,
}

impl Stream {
    /// Whether the server is done with it.
    pub fn over(&self) -> bool {
        self.ended || self.reset.is_some()
    }

    /// The first value of header `name` in any of its blocks.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.blocks
            .iter()
            .flatten()
            .find(|(n, _)| n == name.as_bytes())
            .map(|(_, v)| v.as_slice())
    }
}

/// What the server said on the connection, as far as it got.
#[derive(Debug, Default)]
pub struct Conversation {
    /// The server's SETTINGS (its first, non-ACK one).
    pub settings: Option<Vec<(u16, u32)>>,
    /// GOAWAY: (last stream id, error code).
    pub goaway: Option<(u32, u32)>,
    /// Streams 1, 3 and 5 ([`STREAMS`]).
    pub streams: [Stream; 3],
}

impl Conversation {
    /// Stream `id` (1, 3 or 5; any other id reads as stream 1).
    pub fn stream(&self, id: u32) -> &Stream {
        let at = slot(id).unwrap_or_default();
        &self.streams[at]
    }

    /// Whether the server is done with every stream in `ids`: each ended, reset, or past the
    /// last stream a GOAWAY says it will answer.
    pub fn over(&self, ids: &[u32]) -> bool {
        ids.iter().all(|&id| self.done(id))
    }

    /// Whether the server is done with stream `id` (what comes after on it is ignored, so a
    /// verdict on a stream that is over never changes).
    fn done(&self, id: u32) -> bool {
        self.stream(id).over() || self.goaway.is_some_and(|(last, _)| id > last)
    }
}

/// Where stream `id` is kept.
fn slot(id: u32) -> Option<usize> {
    STREAMS.iter().position(|&s| s == id)
}

/// Why a reply is not an HTTP/2 conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broken {
    /// Could still be: more bytes are needed to tell.
    Short,
    /// Not HTTP/2 (or not a server following it).
    Foreign,
}

/// Read a server's reply: its first frame must fit [`first_frame_fits`]; header blocks are
/// decoded in connection order (the HPACK table is the connection's).
pub fn converse(bytes: &[u8]) -> Result<Conversation, Broken> {
    if !first_frame_fits(bytes) {
        return Err(Broken::Foreign);
    }
    let (frames, _) = frames(bytes).ok_or(Broken::Foreign)?;
    if frames.is_empty() {
        return Err(Broken::Short);
    }
    let mut c = Conversation::default();
    let mut hpack = Decoder::new();
    // A header block being assembled: (stream, fragment so far, END_STREAM on its HEADERS).
    let mut open: Option<(u32, Vec<u8>, bool)> = None;
    for f in frames {
        if let Some((stream, mut block, end)) = open.take() {
            // Only CONTINUATION of the same stream may follow an unfinished block.
            if f.kind != kind::CONTINUATION || f.stream != stream {
                return Err(Broken::Foreign);
            }
            block.extend_from_slice(f.payload);
            if f.flags & END_HEADERS == 0 {
                open = Some((stream, block, end));
            } else {
                finish(&mut c, &mut hpack, stream, &block, end)?;
            }
            continue;
        }
        match f.kind {
            kind::SETTINGS if f.stream == 0 && f.flags & 1 == 0 => {
                if f.payload.len() % 6 != 0 {
                    return Err(Broken::Foreign);
                }
                c.settings.get_or_insert_with(|| settings(f.payload));
            }
            kind::GOAWAY if f.stream == 0 => {
                let code = f.payload.get(4..8).ok_or(Broken::Foreign)?;
                let last = u32::from_be_bytes([
                    f.payload[0] & 0x7f,
                    f.payload[1],
                    f.payload[2],
                    f.payload[3],
                ]);
                c.goaway = Some((
                    last,
                    u32::from_be_bytes([code[0], code[1], code[2], code[3]]),
                ));
            }
            kind::DATA | kind::RST_STREAM if slot(f.stream).is_some() && c.done(f.stream) => {}
            kind::HEADERS if f.stream != 0 => {
                let fragment = unpad(f.payload, f.flags, true)?;
                let end = f.flags & END_STREAM != 0;
                if f.flags & END_HEADERS == 0 {
                    open = Some((f.stream, fragment.to_vec(), end));
                } else {
                    finish(&mut c, &mut hpack, f.stream, fragment, end)?;
                }
            }
            kind::DATA => {
                let data = unpad(f.payload, f.flags, false)?;
                if let Some(at) = slot(f.stream) {
                    let s = &mut c.streams[at];
                    let room = DATA_MAX.saturating_sub(s.data.len());
                    s.data
                        .extend_from_slice(data.get(..room.min(data.len())).unwrap_or_default());
                    s.ended |= f.flags & END_STREAM != 0;
                }
            }
            kind::RST_STREAM => {
                let code = be32(f.payload).ok_or(Broken::Foreign)?;
                if let Some(at) = slot(f.stream) {
                    c.streams[at].reset = Some(code);
                }
            }
            _ => {}
        }
    }
    Ok(c)
}

/// The big-endian `u32` at the start of `bytes`.
fn be32(bytes: &[u8]) -> Option<u32> {
    let &[a, b, c, d] = bytes.get(..4)? else {
        return None;
    };
    Some(u32::from_be_bytes([a, b, c, d]))
}

/// Decode a finished header block (every stream's, for the table) and keep the probe's.
fn finish(
    c: &mut Conversation,
    hpack: &mut Decoder,
    stream: u32,
    block: &[u8],
    end: bool,
) -> Result<(), Broken> {
    let headers = hpack.decode(block).map_err(|_| Broken::Foreign)?;
    if let Some(at) = slot(stream).filter(|_| !c.done(stream)) {
        let s = &mut c.streams[at];
        if s.blocks.len() < BLOCKS_MAX {
            s.blocks.push(headers);
        }
        s.ended |= end;
    }
    Ok(())
}

/// A HEADERS or DATA payload without its padding (and, for HEADERS, its priority fields).
fn unpad(payload: &[u8], flags: u8, headers: bool) -> Result<&[u8], Broken> {
    let (pad, mut rest) = if flags & PADDED != 0 {
        let (&pad, rest) = payload.split_first().ok_or(Broken::Foreign)?;
        (usize::from(pad), rest)
    } else {
        (0, payload)
    };
    if headers && flags & PRIORITY != 0 {
        rest = rest.get(5..).ok_or(Broken::Foreign)?;
    }
    let keep = rest.len().checked_sub(pad).ok_or(Broken::Foreign)?;
    Ok(&rest[..keep])
}
