//! `forward`'s live lines and its summary.

use crate::commands::forward::ForwardReport;
use crate::traffic::forward::{End, ForwardLine};

use super::bytes;
use super::style::Palette;

/// `10m`, `90s`, `1.5s`: the idle timeout for people.
fn span(secs: f64) -> String {
    if secs >= 60.0 && secs % 60.0 == 0.0 {
        format!("{}m", secs / 60.0)
    } else {
        format!("{secs}s")
    }
}

fn end_text(end: End) -> &'static str {
    match end {
        End::BothClosed => "both sides closed",
        End::Idle => "idle timeout",
        End::Reset => "reset",
        End::Error => "error",
        End::Stopped => "relay stopped",
    }
}

/// One live line (ends with a newline).
pub fn line(l: &ForwardLine, pal: &Palette) -> String {
    match l {
        ForwardLine::Start {
            proto,
            listen,
            target,
            allow,
            max_conns,
            idle_timeout_s,
            warnings,
        } => {
            let allow: Vec<String> = allow.iter().map(ToString::to_string).collect();
            let mut s = format!(
                "forward: {listen} → {target} ({proto}), allow {}, at most {max_conns} at once, \
                 idle timeout {}\n",
                allow.join(" "),
                span(*idle_timeout_s)
            );
            for w in warnings {
                s.push_str(&pal.warn(&format!("forward: warning: {w}")));
                s.push('\n');
            }
            s
        }
        ForwardLine::Open { id, client, target } => {
            format!("#{id} open   {client} → {target}\n")
        }
        ForwardLine::Close {
            id,
            client,
            bytes_to_target,
            bytes_to_client,
            duration_s,
            end,
            error,
        } => {
            let why = match error {
                Some(e) => format!(
                    "{} ({})",
                    end_text(*end),
                    crate::text::terminal(&e.replace(['\n', '\r'], " "))
                ),
                None => end_text(*end).to_string(),
            };
            let why = match end {
                End::BothClosed | End::Stopped => pal.dim(&why),
                _ => pal.warn(&why),
            };
            format!(
                "#{id} close  {client}: {} → target, {} ← target, {duration_s:.2}s, {why}\n",
                bytes(*bytes_to_target),
                bytes(*bytes_to_client),
            )
        }
        ForwardLine::Denied { client } => format!(
            "{} {client}: not in the --allow list, closed\n",
            pal.warn("denied ")
        ),
        ForwardLine::Refused { client, max_conns } => format!(
            "{} {client}: --max-conns {max_conns} reached, closed\n",
            pal.warn("refused")
        ),
        ForwardLine::TargetFailed {
            id,
            client,
            target,
            reason,
        } => format!(
            "#{id} {} {client}: cannot connect to {target}: {}; client closed\n",
            pal.warn("target-failed"),
            crate::text::terminal(&reason.replace(['\n', '\r'], " "))
        ),
    }
}

/// The summary when `forward` stops.
pub fn render(r: &ForwardReport, _pal: &Palette) -> String {
    let t = &r.totals;
    let mut s = format!(
        "forward: stopped by {}: {} connection{} relayed, {} denied, {} refused, {} target \
         failure{}; {} to the target, {} back\n",
        r.stopped_by,
        t.connections,
        if t.connections == 1 { "" } else { "s" },
        t.denied,
        t.refused,
        t.target_failed,
        if t.target_failed == 1 { "" } else { "s" },
        bytes(t.bytes_to_target),
        bytes(t.bytes_to_client),
    );
    if r.proto == "udp" {
        s = s.replace("connection", "session");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts() {
        assert_eq!(bytes(10), "10 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 * 1024 * 1024), "3.0 MiB");
    }
}
