//! The `tap` engine: the kernel filter ([`filter`]), frames parsed and grouped into
//! connections ([`flows`]) and the pcap file ([`pcap`]). The capture socket itself lives in
//! `sys::linux::packet`; the command (`commands::tap`) runs the loop.

pub mod filter;
pub mod flows;
pub mod pcap;

use serde::Serialize;

/// A line `tap` prints while it runs; in JSON, `event` names which.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TapLine {
    /// The capture is running (printed once, before any traffic).
    Started(Started),
    /// A TCP connection began (its SYN was seen).
    Open(Open),
    /// A connection ended, or a UDP flow went idle, or the capture stopped with it open.
    End(Conn),
}

/// What `tap` watches.
#[derive(Debug, Clone, Serialize)]
pub struct Started {
    /// The port (TCP and UDP, either end).
    pub port: u16,
    /// The interface (`lo`).
    pub interface: String,
    /// The pcap file written, if any.
    pub pcap: Option<String>,
}

/// A TCP connection that just opened.
#[derive(Debug, Clone, Serialize)]
pub struct Open {
    /// `tcp`.
    pub proto: &'static str,
    /// The client end (`127.0.0.1:51234`).
    pub client: String,
    /// The server end (`127.0.0.1:8000`).
    pub server: String,
    /// When the SYN was seen (Unix seconds).
    pub time: f64,
}

/// One connection (TCP) or flow (UDP), when it ends.
#[derive(Debug, Clone, Serialize)]
pub struct Conn {
    /// `tcp` or `udp`.
    pub proto: &'static str,
    /// The client end: the one not on the port (or the one that sent the SYN).
    pub client: String,
    /// The server end.
    pub server: String,
    /// How it ended: `fin` (both sides closed), `rst` (reset), `idle` (UDP, quiet for a
    /// while), `open` (still open when the capture stopped), `reused` (a new SYN on the same
    /// addresses replaced it).
    pub ended: &'static str,
    /// First packet seen (Unix seconds).
    pub start: f64,
    /// From the first packet to the last (seconds).
    pub duration_s: f64,
    /// Payload bytes client → server.
    pub request_bytes: u64,
    /// Payload bytes server → client.
    pub response_bytes: u64,
    /// Packets client → server (including bare ACKs).
    pub request_packets: u64,
    /// Packets server → client.
    pub response_packets: u64,
    /// The first line of the client's payload, non-printable bytes as `\xNN`, at most 100
    /// characters (`null` when it sent none).
    pub request_first_line: Option<String>,
    /// The first line of the server's payload, the same way.
    pub response_first_line: Option<String>,
    /// TCP payload bytes client → server that the capture missed (a gap in the sequence
    /// numbers: the kernel dropped packets because the capture fell behind); 0 normally.
    pub request_missed_bytes: u64,
    /// The same, server → client.
    pub response_missed_bytes: u64,
}

/// The longest first line kept, in input bytes.
const FIRST_LINE_MAX: usize = 100;

/// The first line of `payload` (up to CR or LF, at most 100 bytes) with everything but
/// printable ASCII escaped as `\xNN` (and `\` as `\\`), `…` appended when cut short.
pub fn first_line(payload: &[u8]) -> String {
    let end = payload
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(payload.len());
    let cut = end > FIRST_LINE_MAX;
    let mut out = String::with_capacity(end.min(FIRST_LINE_MAX) + 4);
    for &b in &payload[..end.min(FIRST_LINE_MAX)] {
        match b {
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    if cut {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_lines_are_cut_and_escaped() {
        assert_eq!(
            first_line(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            "GET / HTTP/1.1"
        );
        assert_eq!(first_line(b"\x1b[31mred\x07"), "\\x1b[31mred\\x07");
        assert_eq!(first_line(b"\x16\x03\x01\xff"), "\\x16\\x03\\x01\\xff");
        assert_eq!(first_line(b"a\\b"), "a\\\\b");
        assert_eq!(first_line(b""), "");
        let long = first_line(&[b'a'; 300]);
        assert_eq!(long.chars().count(), 101);
        assert!(long.ends_with('…'));
    }
}
