//! Arguments of `serve`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::examples::help;

/// Which test server `serve` starts (the command line's spelling of
/// [`crate::traffic::serve::ServeKind`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ServeKindArg {
    /// HTTP: answers every request with the request itself and the client's address.
    #[default]
    Http,
    /// Sends back every byte it receives.
    Echo,
    /// Reads and throws away every byte.
    Discard,
    /// Serves the files of a directory over HTTP.
    Static,
}

/// Arguments of `serve`.
#[derive(Debug, Clone, Default, Args)]
#[command(after_help = help("", &[
        ("portscope serve", "An HTTP server on loopback that answers with the request it got."),
        ("portscope serve echo --pick", "A TCP echo server on a freshly picked port."),
        ("portscope serve static ./site --port 8000", "Serve a directory on 127.0.0.1:8000."),
]))]
pub struct ServeArgs {
    /// What to serve (default: http).
    #[arg(value_enum)]
    pub kind: Option<ServeKindArg>,
    /// The directory `static` serves.
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The port, 1-65535 or 0 for any free one (default: 62893 when free, else a free port).
    #[arg(long, short = 'p', value_name = "PORT", conflicts_with = "pick")]
    pub port: Option<String>,
    /// Take a free port the way `portscope pick` chooses one.
    #[arg(long)]
    pub pick: bool,
    /// The address to listen on (default 127.0.0.1; anything else is reachable by others).
    #[arg(long, value_name = "IP")]
    pub bind: Option<String>,
}

impl From<ServeKindArg> for crate::traffic::serve::ServeKind {
    fn from(kind: ServeKindArg) -> Self {
        use crate::traffic::serve::ServeKind;
        match kind {
            ServeKindArg::Http => ServeKind::Http,
            ServeKindArg::Echo => ServeKind::Echo,
            ServeKindArg::Discard => ServeKind::Discard,
            ServeKindArg::Static => ServeKind::Static,
        }
    }
}
