//! The traffic tools' live lines (`serve`, `forward`, `tap`, `bench`), printed on standard
//! output the moment they happen: a human line, or with `--json` one JSON object per line.

use std::io::Write;

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

/// Print one live line on standard output and flush it, so pipes see it at once.
pub fn print(line: &Line, json: bool, pal: &Palette) {
    let mut out = std::io::stdout().lock();
    // A closed standard output must not stop a relay or a server.
    let _ = out.write_all(text(line, json, pal).as_bytes());
    let _ = out.flush();
}
