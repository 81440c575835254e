//! `ui`'s lines for standard error (the URL at start, warnings, the stop) and its summary.
//! A long-running server cannot hand these back to `main`, so they are printed as they
//! happen, like the exporter's.

use std::net::SocketAddr;

use crate::commands::ui::{TokenExposure, UiReport};

pub use super::prometheus::notice;

/// `portscope ui: serving http://127.0.0.1:62893/?token=…`.
pub fn startup_line(url: &str) -> String {
    format!("portscope ui: serving {url}\n")
}

/// The default port was taken.
pub fn default_taken_line(port: u16) -> String {
    format!(
        "portscope ui: 127.0.0.1:{port} is in use; serving on a free loopback port instead \
         (see `portscope who {port}`)\n"
    )
}

/// The warning for a non-loopback `--listen`, if it is one.
pub fn exposure_warning(addr: SocketAddr) -> Option<String> {
    (!addr.ip().is_loopback()).then(|| {
        format!(
            "portscope ui: warning: {addr} is not loopback: whoever can reach it and has the \
             token can see this machine's processes and stop them\n"
        )
    })
}

/// The warning for a token other local users could read.
pub fn token_exposure_warning(exposure: &TokenExposure) -> String {
    match exposure {
        TokenExposure::CommandLine => "portscope ui: warning: --token on the command line can be \
             read by every local user (ps, /proc/PID/cmdline); use --token-file PATH or \
             PORTSCOPE_UI_TOKEN instead\n"
            .to_string(),
        TokenExposure::ReadableFile { path, mode } => format!(
            "portscope ui: warning: --token-file {} (mode {mode:04o}) can be read by other \
             users, and so can the token; chmod 600 it\n",
            crate::text::terminal(&path.to_string_lossy())
        ),
    }
}

/// `--open` could not open the browser.
pub fn open_failed_line(why: &str) -> String {
    let why = crate::text::terminal(&why.replace(['\n', '\r'], " ")).into_owned();
    format!("portscope ui: could not open a browser: {why}; open the URL above yourself\n")
}

/// The summary when the dashboard stops.
pub fn render_report(r: &UiReport) -> String {
    format!(
        "portscope ui: stopped by {} after {} request(s) on {}\n",
        r.stopped_by, r.requests, r.listen
    )
}
