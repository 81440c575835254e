//! `ui`: a local web dashboard of this machine's ports. The command checks its input,
//! chooses and binds the address (127.0.0.1:62893 when free, else any free loopback port),
//! makes the per-run token, announces the URL, and hands the socket to
//! [`crate::web::ui`], which serves until SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Serialize;

pub use crate::server::bind::{Chosen, DEFAULT_PORT};

/// What the dashboard did (printed when it stops).
#[derive(Debug, Clone, Serialize)]
pub struct UiReport {
    /// The address it served on.
    pub listen: SocketAddr,
    /// How that address was chosen.
    pub chosen: Chosen,
    /// Requests answered (any status).
    pub requests: u64,
    /// Listener open/close events seen while it ran.
    pub events: u64,
    /// The signal that stopped it.
    pub stopped_by: String,
}

/// What `ui` is asked to do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Where to serve (`None`: 127.0.0.1:62893 when free, else any free loopback port).
    pub listen: Option<SocketAddr>,
    /// The access token, already checked (16 to 256 characters from A-Z a-z 0-9 - . _ ~);
    /// `None`: 32 random bytes, new each run.
    pub token: Option<String>,
    /// Where other local users could read the given token (warned about at start).
    pub token_exposure: Option<TokenExposure>,
    /// Open the dashboard in the browser.
    pub open: bool,
    /// The state directory (`None`: the user's default), for the history and `who` views.
    pub state_dir: Option<PathBuf>,
}

/// Where a token given to `ui` could be read by other local users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenExposure {
    /// `--token VALUE`: every local user may read a command line (`ps`, `/proc/PID/cmdline`).
    CommandLine,
    /// `--token-file PATH` whose group or others may read it.
    ReadableFile {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
}
