//! The traffic tools' live lines (`serve`, `forward`, `tap`, `bench`), printed on standard
//! output the moment they happen: a human line, or with `--json` one JSON object per line.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::traffic::Line;

use super::style::Palette;

/// The text for one live line (ends with a newline).
pub fn text(line: &Line, json: bool, pal: &Palette) -> String {
    if json {
        return serde_json::to_string(line)
            .map(|s| s + "\n")
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}\n"));
    }
    match line {
        Line::Serve(l) => super::serve::line(l, pal),
        Line::Forward(l) => super::forward::line(l, pal),
        Line::Tap(l) => super::tap::line(l, pal),
        Line::Bench(l) => super::bench::line(l, pal),
    }
}

/// Print one live line and flush it, so pipes see it at once. The servers' and the relay's
/// lines are their output (standard output, JSON lines with `--json`); `bench`'s are progress
/// before its one report, so they go to standard error as text and standard output stays one
/// JSON object.
pub fn print(line: &Line, json: bool, pal: &Palette) {
    // A closed output must not stop a relay or a server: it says so once and goes on.
    if let Line::Bench(_) = line {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(text(line, false, &Palette::new(false)).as_bytes());
        let _ = err.flush();
        return;
    }
    let mut out = std::io::stdout().lock();
    let written = out
        .write_all(text(line, json, pal).as_bytes())
        .and_then(|()| out.flush());
    if written.is_err() && !LOG_GONE.swap(true, Ordering::Relaxed) {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(gone_notice(line).as_bytes());
    }
}

/// Set once a line could not be written: the reader of the log went away (it is said once).
static LOG_GONE: AtomicBool = AtomicBool::new(false);

/// The one line on standard error when a relay's log has no reader any more.
fn gone_notice(line: &Line) -> String {
    let verb = match line {
        Line::Serve(_) => "serve",
        Line::Forward(_) => "forward",
        Line::Tap(_) => "tap",
        Line::Bench(_) => "bench",
    };
    format!(
        "portscope {verb}: standard output is closed (its reader went away): going on without the log lines\n"
    )
}
