//! `serve`'s live lines and its summary. Paths come from clients and are sanitised.

use crate::commands::serve::ServeReport;
use crate::traffic::serve::{Chosen, ServeLine};

use super::bytes;
use super::style::Palette;
use crate::text::terminal;

/// One live line (ends with a newline).
pub fn line(l: &ServeLine, _pal: &Palette) -> String {
    match l {
        ServeLine::Serving {
            kind,
            address,
            url,
            chosen,
            dir,
        } => {
            let taken = match chosen {
                Chosen::DefaultTaken => format!(
                    "{} was taken, so the kernel chose this port; ",
                    crate::server::bind::DEFAULT_PORT
                ),
                _ => String::new(),
            };
            match *kind {
                "echo" | "discard" => format!(
                    "{} server started at {url} (portscope serve {kind}; {taken}try: nc {} {}; \
                     Ctrl-C to stop)\n",
                    if *kind == "echo" { "Echo" } else { "Discard" },
                    address.ip(),
                    address.port()
                ),
                _ => {
                    let serving = dir.as_ref().map_or(String::new(), |d| {
                        format!(" {}", terminal(&d.to_string_lossy()))
                    });
                    format!(
                        "Development server started at {url} (portscope serve {kind}{serving}; \
                         {taken}Ctrl-C to stop)\n"
                    )
                }
            }
        }
        ServeLine::Warning { message } => format!("portscope serve: warning: {message}\n"),
        ServeLine::Request {
            client,
            method,
            path,
            status,
            bytes,
        } => format!(
            "{client} {} {} -> {status}{}\n",
            terminal(method),
            terminal(path),
            bytes.map_or(String::new(), |b| format!(", {b} B"))
        ),
        ServeLine::Connection {
            client,
            bytes_in,
            bytes_out,
            seconds,
        } => format!("{client} closed after {seconds:.2} s: {bytes_in} B in, {bytes_out} B out\n"),
    }
}

/// The summary when `serve` stops.
pub fn render(r: &ServeReport, _pal: &Palette) -> String {
    let requests = match r.kind {
        "echo" | "discard" => String::new(),
        _ => format!("{} request(s) on ", r.requests),
    };
    format!(
        "portscope serve {}: stopped by {} after {requests}{} connection(s), {} in, {} out ({})\n",
        r.kind,
        r.stopped_by,
        r.connections,
        bytes(r.bytes_in),
        bytes(r.bytes_out),
        r.address
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_sanitised() {
        let pal = Palette::new(false);
        let l = ServeLine::Request {
            client: "127.0.0.1:5000".parse().unwrap(),
            method: "GET".into(),
            path: "/\x1b[31mred".into(),
            status: 200,
            bytes: Some(12),
        };
        assert_eq!(
            line(&l, &pal),
            "127.0.0.1:5000 GET /\\x1b[31mred -> 200, 12 B\n"
        );
        let l = ServeLine::Serving {
            kind: "http",
            address: "127.0.0.1:62893".parse().unwrap(),
            url: "http://127.0.0.1:62893/".into(),
            chosen: Chosen::Default,
            dir: None,
        };
        assert_eq!(
            line(&l, &pal),
            "Development server started at http://127.0.0.1:62893/ (portscope serve http; \
             Ctrl-C to stop)\n"
        );
        assert_eq!(super::super::bytes(1536), "1.5 KiB");
    }
}
