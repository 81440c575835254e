//! The `ui` verb: check the token, choose and bind the address (127.0.0.1:62893 when free,
//! else any free loopback port), announce the URL through [`Ui::notice`], open the browser
//! when asked, and serve the dashboard until SIGINT/SIGTERM.

use std::net::{SocketAddr, TcpListener};

use crate::commands::ui::{Chosen, DEFAULT_PORT, Options, UiReport};
use crate::commands::{Report, Ui};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::render::ui as text;

/// Run `ui`.
pub fn run(opts: &Options, ui: &dyn Ui) -> Result<(Report, Exit)> {
    serve(opts, ui).map(|(r, code)| (Report::Ui(Box::new(r)), code))
}

fn serve(opts: &Options, ui: &dyn Ui) -> Result<(UiReport, Exit)> {
    let wanted = opts.listen;
    let token = token(opts.token.as_deref(), wanted)?;
    let (listener, chosen) = match wanted {
        Some(addr) => (crate::server::bind::bind(addr, "--listen")?, Chosen::Listen),
        None => crate::server::bind::choose_default(|addr| TcpListener::bind(addr).ok())
            .map_or_else(|| Err(no_loopback()), Ok)?,
    };
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("reading the dashboard's address", e))?;
    let url = format!("http://{addr}/?token={token}");
    if chosen == Chosen::DefaultTaken {
        ui.notice(&text::default_taken_line(DEFAULT_PORT));
    }
    ui.notice(&text::startup_line(&url));
    if let Some(warning) = text::exposure_warning(addr) {
        ui.notice(&warning);
    }
    if let Some(exposure) = &opts.token_exposure {
        ui.notice(&text::token_exposure_warning(exposure));
    }
    if opts.open
        && let Err(why) = crate::sys::browser::open(&url)
    {
        ui.notice(&text::open_failed_line(&why));
    }
    let web = super::Options {
        token,
        state_dir: opts.state_dir.clone(),
    };
    let served = super::serve(listener, web)?;
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
            "expected a token (--token-file PATH, $PORTSCOPE_UI_TOKEN or --token TOKEN; \
             16-256 characters from A-Z a-z 0-9 - . _ ~) with a non-loopback --listen, or a \
             loopback address such as --listen 127.0.0.1:0",
        )),
        (None, _) => {
            let mut bytes = [0u8; 32];
            crate::sys::random::fill(&mut bytes)?;
            Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
        }
    }
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
