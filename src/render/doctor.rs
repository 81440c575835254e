//! Human layout of `doctor`: the verdict first, then each finding's evidence and fix.

use super::style::Palette;
use crate::doctor::{BindOutcome, DoctorReport, Outcome};
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

/// Render `doctor`.
pub fn render(r: &DoctorReport, pal: &Palette) -> String {
    let verdict = text::terminal(&r.verdict);
    let mut out = if r.works {
        format!("{} {verdict}\n", pal.ok("OK"))
    } else {
        format!("{} {verdict}\n", pal.warn("PROBLEM"))
    };
    out.push('\n');
    for a in &r.attempts {
        out.push_str(&format!(
            "  tried {}: {} ({:.0} ms)\n",
            a.addr,
            outcome(a.outcome),
            a.elapsed_ms
        ));
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
