//! `wait`'s answer: one line when the condition was met (what met it, after how long), or
//! what the last look saw at each address when the timeout came first.

use crate::commands::wait::{Seen, Until, WaitReport};
use crate::sys::attempt::{HttpOutcome, Outcome};
use crate::text::terminal;

use super::style::Palette;

/// The text of a `wait` report.
pub fn render(r: &WaitReport, pal: &Palette) -> String {
    let after = format!("{:.1} s", r.elapsed_s);
    if r.met {
        let line = match (&r.until, r.last.last()) {
            (Until::Free, _) => format!("{} is free (after {after})", label(r)),
            (Until::Http { path }, Some(seen)) => format!(
                "{} to GET {} (after {after})",
                seen_text(seen),
                terminal(path)
            ),
            (_, Some(seen)) => format!("{} (after {after})", seen_text(seen)),
            (_, None) => format!("{} is ready (after {after})", label(r)),
        };
        return format!("{}\n", pal.ok(&line));
    }
    let wanted = match &r.until {
        Until::Accepts => "accepted no connection".to_string(),
        Until::Http { path } => format!("answered GET {} with no status below 400", terminal(path)),
        Until::Free => "was still held".to_string(),
    };
    let mut out = format!(
        "{}\n",
        pal.warn(&format!(
            "gave up after {after} ({} look(s)): {} {wanted}; the last look saw:",
            r.attempts,
            label(r),
        ))
    );
    for seen in &r.last {
        out.push_str(&format!("  {}\n", seen_text(seen)));
    }
    out
}

/// The target as the person wrote it, for a bare port `port N`.
fn label(r: &WaitReport) -> String {
    match &r.target {
        crate::target::Target::Port { port, .. } => format!("port {port}"),
        other => terminal(&other.to_string()).into_owned(),
    }
}

/// One look, in a sentence.
fn seen_text(seen: &Seen) -> String {
    match seen {
        Seen::Connect {
            addr,
            outcome,
            error,
        } => {
            let what = match outcome {
                Outcome::Connected => "accepts connections",
                Outcome::ClosedAtOnce => "accepted and closed at once",
                Outcome::Refused => "refused the connection (nothing listens)",
                Outcome::TimedOut => "did not answer the connection in time",
                Outcome::Reset => "reset the connection",
                Outcome::Unreachable => "is not reachable from here",
                Outcome::Failed => "could not be connected to",
            };
            with_error(format!("{addr} {what}"), error.as_deref(), *outcome)
        }
        Seen::Http {
            addr,
            outcome,
            first_line,
            error,
            ..
        } => {
            let what = match (outcome, first_line) {
                (HttpOutcome::Answered, Some(line)) => format!("answered {}", terminal(line)),
                (HttpOutcome::Answered, None) => "answered".into(),
                (HttpOutcome::EmptyReply, _) => "closed the connection without an answer".into(),
                (HttpOutcome::Reset, _) => "reset the connection".into(),
                (HttpOutcome::NoAnswer, _) => "did not answer in time".into(),
                (HttpOutcome::NotHttp, _) => "answered, but not with HTTP".into(),
                (HttpOutcome::TlsFailed, _) => "failed the TLS handshake".into(),
                (HttpOutcome::Failed, _) => match error {
                    Some(e) => format!("could not be asked: {}", terminal(e)),
                    None => "could not be asked".into(),
                },
            };
            format!("{addr} {what}")
        }
        Seen::Held {
            proto,
            state,
            local,
            owners,
        } => {
            let by: Vec<String> = owners
                .iter()
                .map(|o| format!("{}[{}]", terminal(&o.comm), o.pid))
                .collect();
            let by = if by.is_empty() {
                String::new()
            } else {
                format!(" by {}", by.join(", "))
            };
            format!(
                "{} {} {}{by}",
                proto.as_str(),
                state.ss_name(*proto),
                terminal(&local.to_string())
            )
        }
    }
}

/// A connect's OS error, when it says more than the outcome.
fn with_error(text: String, error: Option<&str>, outcome: Outcome) -> String {
    match error {
        Some(e) if matches!(outcome, Outcome::Failed | Outcome::Unreachable) => {
            format!("{text}: {}", terminal(e))
        }
        _ => text,
    }
}
