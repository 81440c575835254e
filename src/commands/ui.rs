//! `ui`: a local web dashboard of this machine's ports. The command checks its input,
//! chooses and binds the address (127.0.0.1:62893 when free, else any free loopback port),
//! makes the per-run token, announces the URL, and hands the socket to
//! [`crate::web::ui`], which serves until SIGINT/SIGTERM.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;

use serde::Serialize;

use super::{Report, Ui};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::render::ui as text;

/// The dashboard's usual port (when free): a fixed one keeps browser tabs and bookmarks
/// working across runs.
pub const DEFAULT_PORT: u16 = 62893;

/// How the address was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Chosen {
    /// `--listen` named it.
    Listen,
    /// The default, 127.0.0.1:62893.
    Default,
    /// The default port was taken: the kernel picked a free loopback port.
    DefaultTaken,
}

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
    /// Open the dashboard in the browser.
    pub open: bool,
    /// The state directory (`None`: the user's default), for the history and `who` views.
    pub state_dir: Option<PathBuf>,
}

/// Run `ui`.
pub fn run(opts: &Options, _ui: &dyn Ui) -> Result<(Report, Exit)> {
    serve(opts).map(|(r, code)| (Report::Ui(Box::new(r)), code))
}

fn serve(opts: &Options) -> Result<(UiReport, Exit)> {
    let wanted = opts.listen;
    let token = token(opts.token.as_deref(), wanted)?;
    let (listener, chosen) = match wanted {
        Some(addr) => (
            crate::commands::exporter::bind(addr, "--listen")?,
            Chosen::Listen,
        ),
        None => choose_default(|addr| TcpListener::bind(addr).ok())
            .map_or_else(|| Err(no_loopback()), Ok)?,
    };
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("reading the dashboard's address", e))?;
    let url = format!("http://{addr}/?token={token}");
    if chosen == Chosen::DefaultTaken {
        text::notice(&text::default_taken_line(DEFAULT_PORT));
    }
    text::notice(&text::startup_line(&url));
    if let Some(warning) = text::exposure_warning(addr) {
        text::notice(&warning);
    }
    if opts.open
        && let Err(why) = crate::sys::browser::open(&url)
    {
        text::notice(&text::open_failed_line(&why));
    }
    let web = crate::web::ui::Options {
        token,
        state_dir: opts.state_dir.clone(),
    };
    let served = crate::web::ui::serve(listener, web)?;
    let report = UiReport {
        listen: addr,
        chosen,
        requests: served.requests,
        events: served.events,
        stopped_by: served.stopped_by,
    };
    Ok((report, Exit::Success))
}

/// The token: `--token` (checked by the command line), or 32 random bytes in hex. A
/// non-loopback address without `--token` is refused (the URL would travel where others may
/// read it).
fn token(given: Option<&str>, wanted: Option<SocketAddr>) -> Result<String> {
    match (given, wanted) {
        (Some(t), _) => Ok(t.to_owned()),
        (None, Some(addr)) if !addr.ip().is_loopback() => Err(Error::bad_input(
            format!("--listen {addr} is not loopback and no --token was given"),
            "expected --token TOKEN (16-256 characters from A-Z a-z 0-9 - . _ ~) with a \
             non-loopback --listen, or a loopback address such as --listen 127.0.0.1:0",
        )),
        (None, _) => {
            let mut bytes = [0u8; 32];
            crate::sys::random::fill(&mut bytes)?;
            Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
        }
    }
}

/// Bind the default address if `try_bind` can, else a free loopback port (port 0).
pub fn choose_default<L>(mut try_bind: impl FnMut(SocketAddr) -> Option<L>) -> Option<(L, Chosen)> {
    let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
    if let Some(l) = try_bind(SocketAddr::new(loopback, DEFAULT_PORT)) {
        return Some((l, Chosen::Default));
    }
    try_bind(SocketAddr::new(loopback, 0)).map(|l| (l, Chosen::DefaultTaken))
}

fn no_loopback() -> Error {
    Error::io(
        "listening on 127.0.0.1",
        std::io::Error::new(
            std::io::ErrorKind::AddrNotAvailable,
            "no loopback port could be bound (is the lo interface up?)",
        ),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn default_port_when_free_else_any() {
        let mut asked = Vec::new();
        let got = choose_default(|a| {
            asked.push(a);
            Some(a.port())
        });
        assert_eq!(got, Some((DEFAULT_PORT, Chosen::Default)));
        assert_eq!(asked, vec!["127.0.0.1:62893".parse().unwrap()]);

        let mut asked = Vec::new();
        let got = choose_default(|a| {
            asked.push(a);
            (a.port() != DEFAULT_PORT).then_some(a.port())
        });
        assert_eq!(got, Some((0, Chosen::DefaultTaken)));
        assert_eq!(asked.len(), 2);
        assert_eq!(asked[1], "127.0.0.1:0".parse().unwrap());

        assert_eq!(choose_default(|_| None::<u16>), None);
    }

    #[test]
    fn tokens() {
        let t = token(None, None).unwrap();
        assert_eq!(t.len(), 64);
        assert!(t.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(t, token(None, None).unwrap());
        let wide = Some("0.0.0.0:0".parse().unwrap());
        assert!(matches!(token(None, wide), Err(Error::BadInput { .. })));
        assert!(token(None, Some("[::1]:0".parse().unwrap())).is_ok());
        let given = Some("a-good-token-0123");
        assert_eq!(token(given, wide).unwrap(), "a-good-token-0123");
    }
}
