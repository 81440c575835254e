//! Human layout of `doctor`: the verdict first, then each finding's evidence and fix.

use super::style::Palette;
use crate::doctor::{BindOutcome, DoctorReport, HttpAttempt, HttpOutcome, Outcome};
use crate::model::Severity;
use crate::text;

fn outcome(o: Outcome) -> &'static str {
    match o {
        Outcome::Connected => "connected",
        Outcome::ClosedAtOnce => "connected, then closed at once",
        Outcome::Refused => "refused",
        Outcome::TimedOut => "timed out",
        Outcome::Reset => "reset",
        Outcome::Unreachable => "unreachable",
        Outcome::Failed => "failed",
    }
}

/// `sent GET / HTTP/1.1, Host: … to ADDR: HTTP/1.0 200 OK (3 ms)`.
fn request_line(h: &HttpAttempt) -> String {
    let answer = match h.outcome {
        HttpOutcome::Answered => h.first_line.clone().unwrap_or_default(),
        HttpOutcome::EmptyReply => "closed without an answer".into(),
        HttpOutcome::Reset => "reset".into(),
        HttpOutcome::NoAnswer => "no answer".into(),
        HttpOutcome::NotHttp => "not HTTP".into(),
        HttpOutcome::TlsFailed => format!(
            "TLS handshake failed: {}",
            h.error.as_deref().unwrap_or("?")
        ),
        HttpOutcome::Failed => format!("failed: {}", h.error.as_deref().unwrap_or("?")),
    };
    text::terminal(&format!(
        "sent {} to {}: {answer} ({:.0} ms)",
        h.request, h.addr, h.elapsed_ms
    ))
    .into_owned()
}

/// Render `doctor`.
pub fn render(r: &DoctorReport, pal: &Palette) -> String {
    let verdict = text::terminal(&r.verdict);
    let mut out = if r.works {
        format!("{} {verdict}\n", pal.ok("OK"))
    } else if r.undecided() {
        format!("{} {verdict}\n", pal.warn("UNKNOWN"))
    } else {
        format!("{} {verdict}\n", pal.warn("PROBLEM"))
    };
    if !r.attempts.is_empty() || !r.binds.is_empty() {
        out.push('\n');
    }
    for a in &r.attempts {
        out.push_str(&format!(
            "  tried {}: {} ({:.0} ms)\n",
            a.addr,
            outcome(a.outcome),
            a.elapsed_ms
        ));
    }
    if let Some(h) = &r.http {
        out.push_str(&format!("  {}\n", request_line(h)));
    }
    if let Some(p) = &r.protocol {
        out.push_str(&format!("  speaks {}\n", text::terminal(p)));
    }
    for b in &r.binds {
        let how = if b.reuseaddr {
            "with SO_REUSEADDR"
        } else {
            "without SO_REUSEADDR"
        };
        let what = match b.outcome {
            BindOutcome::Ok => "ok".to_string(),
            _ => b
                .error
                .clone()
                .unwrap_or_else(|| format!("{:?}", b.outcome)),
        };
        out.push_str(&format!(
            "  test bind {} {how}: {}\n",
            b.addr,
            text::terminal(&what)
        ));
    }
    for f in &r.findings {
        let sev = match f.severity {
            Severity::Critical => pal.warn("critical"),
            Severity::Warning => pal.warn("warning"),
            Severity::Info => "info".to_string(),
        };
        // The first finding is the verdict: its title was just printed.
        let title = if f.title == r.verdict {
            String::new()
        } else {
            format!(" {}", text::terminal(&f.title))
        };
        out.push_str(&format!("\n{} [{sev}]{title}\n", pal.header(f.code)));
        for e in &f.evidence {
            out.push_str(&format!("  seen: {}\n", text::terminal(e)));
        }
        for x in &f.fix {
            out.push_str(&format!("  fix:  {}\n", text::terminal(x)));
        }
    }
    out
}
