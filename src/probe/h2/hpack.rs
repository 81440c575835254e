//! An HPACK decoder (RFC 7541) for the header blocks of a probe's reply: the static table, a
//! dynamic table bounded at the 4096 octets portscope's SETTINGS leaves in force, and the
//! Huffman code. Decode only: the probes' own requests are fixed bytes.
//!
//! Pure and total. Every length read from the input is checked against the bytes that are
//! left before anything is sliced, nothing is allocated from a length field, and integers
//! larger than the input could justify are errors. A malformed block is an `Err`, never a panic.

use std::collections::VecDeque;

/// The dynamic table's size limit: HPACK's default, which portscope's SETTINGS leaves as is.
pub const TABLE_MAX: usize = 4096;

/// Most headers kept from one block (the rest are decoded, for the table's sake, and dropped).
pub const MAX_HEADERS: usize = 64;

/// A decoded header: lower-case name and value, as octets.
pub type Header = (Vec<u8>, Vec<u8>);

/// Why a block could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The block ended inside a representation.
    Truncated,
    /// An index outside both tables, an oversized table update, a bad Huffman string, an
    /// integer beyond bounds.
    Invalid,
}

/// The decoding context of one connection (its dynamic table).
#[derive(Debug, Clone, Default)]
pub struct Decoder {
    table: VecDeque<Header>,
    size: usize,
    max: Option<usize>,
}

impl Decoder {
    /// A decoder with an empty dynamic table of [`TABLE_MAX`] octets.
    pub fn new() -> Decoder {
        Decoder::default()
    }

    fn limit(&self) -> usize {
        self.max.unwrap_or(TABLE_MAX)
    }

    /// Decode one complete header block, updating the dynamic table.
    pub fn decode(&mut self, mut block: &[u8]) -> Result<Vec<Header>, Error> {
        let mut out = Vec::new();
        while let Some(&first) = block.first() {
            let header = if first & 0x80 != 0 {
                // Indexed header field.
                let (index, rest) = integer(block, 7)?;
                block = rest;
                Some(self.entry(index)?)
            } else if first & 0xc0 == 0x40 {
                // Literal with incremental indexing.
                let (header, rest) = self.literal(block, 6)?;
                block = rest;
                self.insert(header.clone());
                Some(header)
            } else if first & 0xe0 == 0x20 {
                // Dynamic table size update.
                let (size, rest) = integer(block, 5)?;
                block = rest;
                if size > TABLE_MAX {
                    return Err(Error::Invalid);
                }
                self.max = Some(size);
                self.evict();
                None
            } else {
                // Literal without indexing (0000) or never indexed (0001).
                let (header, rest) = self.literal(block, 4)?;
                block = rest;
                Some(header)
            };
            if let Some(h) = header
                && out.len() < MAX_HEADERS
            {
                out.push(h);
            }
        }
        Ok(out)
    }

    fn literal<'a>(&self, block: &'a [u8], prefix: u8) -> Result<(Header, &'a [u8]), Error> {
        let (index, rest) = integer(block, prefix)?;
        let (name, rest) = if index == 0 {
            string(rest)?
        } else {
            (self.entry(index)?.0, rest)
        };
        let (value, rest) = string(rest)?;
        Ok(((name, value), rest))
    }

    /// Entry `index` of the static table (1–61), then the dynamic one (62…).
    fn entry(&self, index: usize) -> Result<Header, Error> {
        if let Some(&(name, value)) = index.checked_sub(1).and_then(|i| STATIC.get(i)) {
            return Ok((name.as_bytes().to_vec(), value.as_bytes().to_vec()));
        }
        index
            .checked_sub(STATIC.len() + 1)
            .and_then(|i| self.table.get(i))
            .cloned()
            .ok_or(Error::Invalid)
    }

    fn insert(&mut self, header: Header) {
        let size = entry_size(&header);
        self.table.push_front(header);
        self.size += size;
        self.evict();
    }

    fn evict(&mut self) {
        while self.size > self.limit() {
            match self.table.pop_back() {
                Some(old) => self.size = self.size.saturating_sub(entry_size(&old)),
                None => self.size = 0,
            }
        }
    }
}

/// An entry's size as HPACK counts it: name, value, and 32 octets of overhead.
fn entry_size((name, value): &Header) -> usize {
    name.len() + value.len() + 32
}

/// An HPACK integer with an `n`-bit prefix (RFC 7541 §5.1), at most 2^28: larger values are
/// no index, table size or string length a bounded reply could use.
fn integer(bytes: &[u8], n: u8) -> Result<(usize, &[u8]), Error> {
    let (&first, mut rest) = bytes.split_first().ok_or(Error::Truncated)?;
    let mask = (1u16 << n) - 1;
    let mut value = usize::from(u16::from(first) & mask);
    if value < usize::from(mask) {
        return Ok((value, rest));
    }
    let mut shift = 0u32;
    loop {
        let (&b, after) = rest.split_first().ok_or(Error::Truncated)?;
        rest = after;
        value += usize::from(b & 0x7f) << shift;
        shift += 7;
        if b & 0x80 == 0 {
            return Ok((value, rest));
        }
        if shift > 21 {
            return Err(Error::Invalid);
        }
    }
}

/// A string literal (RFC 7541 §5.2): its length is checked against the bytes left.
fn string(bytes: &[u8]) -> Result<(Vec<u8>, &[u8]), Error> {
    let huffman = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let (len, rest) = integer(bytes, 7)?;
    if len > rest.len() {
        return Err(Error::Truncated);
    }
    let (raw, rest) = rest.split_at(len);
    let value = if huffman {
        huffman_decode(raw)?
    } else {
        raw.to_vec()
    };
    Ok((value, rest))
}

/// Decode a Huffman-coded string (RFC 7541 §5.2, Appendix B). The code is canonical, so a
/// symbol is found from its length's first code and count; padding must be at most 7 one-bits.
pub fn huffman_decode(raw: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(raw.len() * 8 / 5);
    let mut code: u32 = 0;
    let mut len: usize = 0;
    for &byte in raw {
        for shift in (0..8).rev() {
            code = code << 1 | u32::from(byte >> shift & 1);
            len += 1;
            if let Some(symbol) = CANONICAL.symbol(code, len) {
                if symbol == 256 {
                    // EOS inside a string is an error (§5.2).
                    return Err(Error::Invalid);
                }
                out.push(u8::try_from(symbol).map_err(|_| Error::Invalid)?);
                code = 0;
                len = 0;
            } else if len >= 30 {
                return Err(Error::Invalid);
            }
        }
    }
    // Padding: fewer than 8 bits, all ones (the EOS code's prefix).
    if len > 7 || code != (1 << len) - 1 {
        return Err(Error::Invalid);
    }
    Ok(out)
}

/// The canonical Huffman code, derived at compile time from [`HUFFMAN_LENGTHS`].
struct Canonical {
    /// First code of each length (index = bit length).
    first: [u32; 31],
    /// Number of codes of each length.
    count: [u16; 31],
    /// Where each length's symbols start in `symbols`.
    offset: [u16; 31],
    /// Symbols ordered by (length, symbol).
    symbols: [u16; 257],
}

impl Canonical {
    const fn build() -> Canonical {
        let mut count = [0u16; 31];
        let mut i = 0;
        while i < 257 {
            count[HUFFMAN_LENGTHS[i] as usize] += 1;
            i += 1;
        }
        let mut first = [0u32; 31];
        let mut offset = [0u16; 31];
        let mut code = 0u32;
        let mut at = 0u16;
        let mut len = 1;
        while len < 31 {
            code = (code + count[len - 1] as u32) << 1;
            first[len] = code;
            offset[len] = at;
            at += count[len];
            len += 1;
        }
        let mut symbols = [0u16; 257];
        let mut fill = offset;
        let mut s = 0;
        while s < 257 {
            let l = HUFFMAN_LENGTHS[s] as usize;
            symbols[fill[l] as usize] = s as u16;
            fill[l] += 1;
            s += 1;
        }
        Canonical {
            first,
            count,
            offset,
            symbols,
        }
    }

    fn symbol(&self, code: u32, len: usize) -> Option<u16> {
        let first = *self.first.get(len)?;
        let k = code.checked_sub(first)?;
        if k >= u32::from(*self.count.get(len)?) {
            return None;
        }
        let at = usize::from(*self.offset.get(len)?) + usize::try_from(k).ok()?;
        self.symbols.get(at).copied()
    }
}

const CANONICAL: Canonical = Canonical::build();

/// Bit length of each symbol's code, 0–255 and EOS (RFC 7541 Appendix B).
const HUFFMAN_LENGTHS: [u8; 257] = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, //
    28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, //
    6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, //
    5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, //
    13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, //
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, //
    15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, //
    6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, //
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, //
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, //
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, //
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, //
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, //
    19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, //
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, //
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, //
    30,
];

/// The static table (RFC 7541 Appendix A), entries 1–61.
const STATIC: [(&str, &str); 61] = [
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
];

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn pairs(headers: &[Header]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(n, v)| {
                (
                    String::from_utf8(n.clone()).unwrap(),
                    String::from_utf8(v.clone()).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn the_canonical_code_is_the_rfcs() {
        // A few codes from Appendix B: '0' 00000 (5), 'a' 00011 (5), ':' 1011100 (7),
        // 0x00 1111111111000 (13), EOS 30 ones.
        assert_eq!(CANONICAL.symbol(0b00000, 5), Some(u16::from(b'0')));
        assert_eq!(CANONICAL.symbol(0b00011, 5), Some(u16::from(b'a')));
        assert_eq!(CANONICAL.symbol(0b1011100, 7), Some(u16::from(b':')));
        assert_eq!(CANONICAL.symbol(0x1ff8, 13), Some(0));
        assert_eq!(CANONICAL.symbol(0x3fff_ffff, 30), Some(256));
        assert_eq!(CANONICAL.symbol(0b11111, 5), None);
    }

    #[test]
    fn rfc_7541_c4_requests_with_huffman() {
        let mut d = Decoder::new();
        let first = d
            .decode(&hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"))
            .unwrap();
        assert_eq!(
            pairs(&first),
            [
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
                (":authority", "www.example.com")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        let second = d.decode(&hex("8286 84be 5886 a8eb 1064 9cbf")).unwrap();
        assert_eq!(pairs(&second)[3].1, "www.example.com");
        assert_eq!(
            pairs(&second)[4],
            ("cache-control".into(), "no-cache".into())
        );
        let third = d
            .decode(&hex(
                "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
            ))
            .unwrap();
        assert_eq!(
            pairs(&third)[4],
            ("custom-key".into(), "custom-value".into())
        );
    }

    #[test]
    fn rfc_7541_c6_responses_evict_with_a_small_table() {
        let mut d = Decoder::new();
        // C.6 runs with a 256-octet table: announced here by a size update first.
        let mut block = vec![0x3f, 0xe1, 0x01];
        block.extend(hex(
            "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
             2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
        ));
        let first = d.decode(&block).unwrap();
        assert_eq!(pairs(&first)[0], (":status".into(), "302".into()));
        assert_eq!(
            pairs(&first)[3],
            ("location".into(), "https://www.example.com".into())
        );
        let second = d.decode(&hex("4883 640e ffc1 c0bf")).unwrap();
        assert_eq!(pairs(&second)[0], (":status".into(), "307".into()));
        assert_eq!(pairs(&second)[1].0, "cache-control");
        assert!(d.size <= 256, "{}", d.size);
    }

    #[test]
    fn malformed_blocks_are_errors() {
        let mut d = Decoder::new();
        // Index 0, an index past both tables, a length past the end, an endless integer,
        // EOS inside a string, a table size above the limit.
        for bad in [
            &[0x80][..],
            &[0xff, 0x7f],
            &[0x40, 0x05, b'a'],
            &[0x7f, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0x00, 0x84, 0xff, 0xff, 0xff, 0xff, 0x00],
            &[0x3f, 0xe1, 0x3f],
            &[0x82, 0x0f],
        ] {
            assert!(d.decode(bad).is_err(), "{bad:?}");
        }
        assert_eq!(huffman_decode(&[0x00]), Err(Error::Invalid));
        assert_eq!(huffman_decode(&[]), Ok(Vec::new()));
    }
}
