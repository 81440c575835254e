//! `tap`'s live lines and its summary.

use crate::commands::tap::TapReport;
use crate::text::terminal;
use crate::traffic::tap::{Conn, TapLine};

use super::bytes;
use super::style::Palette;

/// One live line (ends with a newline).
pub fn line(l: &TapLine, pal: &Palette) -> String {
    match l {
        TapLine::Started(s) => {
            let pcap = s
                .pcap
                .as_deref()
                .map(|p| format!(", writing {}", terminal(p)))
                .unwrap_or_default();
            pal.dim(&format!(
                "tap: TCP and UDP on port {} ({}){pcap}; Ctrl-C to stop\n",
                s.port, s.interface
            ))
        }
        TapLine::Open(o) => format!("{}  {}  open\n", ends(&o.client, &o.server), o.proto),
        TapLine::End(c) => end(c, pal),
    }
}

/// `client → server`, the server's address shortened to `:PORT` when it is the client's.
fn ends(client: &str, server: &str) -> String {
    let host = |a: &str| a.rsplit_once(':').map(|(h, _)| h.to_string());
    let server = match (host(client), server.rsplit_once(':')) {
        (Some(c), Some((s, port))) if c == s => format!(":{port}"),
        _ => server.to_string(),
    };
    format!("{client} → {server}")
}

fn end(c: &Conn, pal: &Palette) -> String {
    let quote = |s: &Option<String>| {
        s.as_deref()
            .map(|t| format!("\"{}\"", terminal(t)))
            .unwrap_or_else(|| "-".into())
    };
    let how = match c.ended {
        "fin" => pal.ok("fin"),
        "rst" => pal.warn("rst"),
        other => other.to_string(),
    };
    let firsts = if c.request_first_line.is_none() && c.response_first_line.is_none() {
        String::new()
    } else {
        format!(
            "  {} → {}",
            quote(&c.request_first_line),
            quote(&c.response_first_line)
        )
    };
    let missed = c.request_missed_bytes + c.response_missed_bytes;
    let missed = if missed > 0 {
        pal.warn(&format!("  (capture missed {})", bytes(missed)))
    } else {
        String::new()
    };
    format!(
        "{}  {}  req {} / resp {}  {:.3} s  {how}{firsts}{missed}\n",
        ends(&c.client, &c.server),
        c.proto,
        bytes(c.request_bytes),
        bytes(c.response_bytes),
        c.duration_s,
    )
}

/// `1 packet`, `2 packets`.
fn count(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The summary when `tap` stops.
pub fn render(r: &TapReport, pal: &Palette) -> String {
    let mut out = format!(
        "{} after {:.1} s ({}): {} ({}), {}",
        pal.header("tap stopped"),
        r.duration_s,
        r.stopped_by,
        count(r.packets, "packet"),
        bytes(r.bytes),
        count(r.connections, "connection"),
    );
    if r.open_at_stop > 0 {
        out.push_str(&format!(" ({} still open)", r.open_at_stop));
    }
    if r.flows_evicted > 0 {
        out.push_str(&pal.warn(&format!(", {} forgotten (table full)", r.flows_evicted)));
    }
    out.push('\n');
    if r.missed_bytes > 0 {
        out.push_str(&pal.warn(&format!(
            "missed: {} of TCP payload passed without being captured (the kernel dropped \
             packets when the capture fell behind); the byte counts and the pcap file lack it\n",
            bytes(r.missed_bytes)
        )));
    }
    if let Some(p) = &r.pcap {
        out.push_str(&format!(
            "pcap: {} ({}; open with wireshark, or tshark -r)\n",
            terminal(p),
            count(r.pcap_packets, "packet")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_ends() {
        assert_eq!(bytes(78), "78 B");
        assert_eq!(bytes(1229), "1.2 KiB");
        assert_eq!(bytes(5 << 20), "5.0 MiB");
        assert_eq!(ends("127.0.0.1:5", "127.0.0.1:80"), "127.0.0.1:5 → :80");
        assert_eq!(ends("[::1]:5", "[::1]:80"), "[::1]:5 → :80");
        assert_eq!(
            ends("127.0.0.2:5", "127.0.0.1:80"),
            "127.0.0.2:5 → 127.0.0.1:80"
        );
    }
}
