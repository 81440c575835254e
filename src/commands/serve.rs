//! `serve`: test servers on loopback (see [`crate::traffic::serve`]). The command checks its
//! input, chooses and binds the address (`--port`, `--pick`, or 127.0.0.1:62893 when free,
//! else any free port), announces the URL, and serves until SIGINT/SIGTERM.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::commands::{Report, Ui};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::traffic::Line;
use crate::traffic::serve::ServeKind;
use crate::traffic::serve::{self as engine, Chosen, ServeLine, Setup};

/// What `serve` did (printed when it stops).
#[derive(Debug, Clone, Serialize)]
pub struct ServeReport {
    /// `http`, `echo`, `discard` or `static`.
    pub kind: &'static str,
    /// The address it listened on.
    pub address: SocketAddr,
    /// What clients connected to.
    pub url: String,
    /// How the address was chosen.
    pub chosen: Chosen,
    /// The directory `static` served.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// HTTP requests answered (any status; 0 for echo/discard).
    pub requests: u64,
    /// Connections accepted.
    pub connections: u64,
    /// Bytes received (HTTP: on the wire, headers included).
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// The signal that stopped it.
    pub stopped_by: String,
}

/// After SIGINT/SIGTERM, how long HTTP requests in flight may take to finish.
const GRACE: Duration = Duration::from_secs(5);

/// What `serve` is asked to do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// What to serve.
    pub kind: ServeKind,
    /// The directory `static` serves (only `static` takes one; see [`check_dir`]).
    pub dir: Option<PathBuf>,
    /// The port, 0 for any free one (`None`: 62893 when free, else a free port).
    pub port: Option<u16>,
    /// Take a free port the way `portscope pick` chooses one.
    pub pick: bool,
    /// The address to listen on (`None`: 127.0.0.1).
    pub bind: Option<IpAddr>,
}

/// Run `serve`.
pub fn run(opts: &Options, ui: &dyn Ui) -> Result<(Report, Exit)> {
    serve(opts, ui).map(|(r, code)| (Report::Serve(Box::new(r)), code))
}

fn serve(opts: &Options, ui: &dyn Ui) -> Result<(ServeReport, Exit)> {
    let kind = opts.kind;
    let dir = check_dir(kind, opts.dir.as_ref())?;
    let (listener, chosen) = listen(opts.bind, opts.port, opts.pick)?;
    let address = listener
        .local_addr()
        .map_err(|e| Error::io("reading the server's address", e))?;
    let url = engine::url(kind, address);
    let rt = crate::server::runtime("portscope-serve", 2)?;
    let setup = Setup {
        kind,
        dir: dir.clone(),
        grace: GRACE,
    };
    let served = rt.block_on(async {
        let stop = signals()?;
        let say = |l: ServeLine| ui.traffic(&Line::Serve(l));
        say(ServeLine::Serving {
            kind: engine::kind_name(kind),
            address,
            url: url.clone(),
            chosen,
            dir: dir.clone(),
        });
        if !address.ip().is_loopback() {
            say(ServeLine::Warning {
                message: format!(
                    "{address} is not loopback: anyone who can reach this host can use this \
                     test server{}",
                    if kind == ServeKind::Static {
                        " and read the directory's files"
                    } else {
                        ""
                    }
                ),
            });
        }
        let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
        let server = engine::serve(listener, setup, Some(tx), stop);
        tokio::pin!(server);
        loop {
            tokio::select! {
                Some(l) = rx.recv() => say(l),
                r = &mut server => {
                    while let Ok(l) = rx.try_recv() {
                        say(l);
                    }
                    break r;
                }
            }
        }
    });
    rt.shutdown_timeout(Duration::from_secs(1));
    let served = served?;
    let report = ServeReport {
        kind: engine::kind_name(kind),
        address,
        url,
        chosen,
        dir,
        requests: served.requests,
        connections: served.connections,
        bytes_in: served.bytes_in,
        bytes_out: served.bytes_out,
        stopped_by: served.stopped_by,
    };
    Ok((report, Exit::Success))
}

/// SIGINT/SIGTERM, caught from now on; the future names the one that arrived.
fn signals() -> Result<impl std::future::Future<Output = &'static str> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let failed = |e| Error::io("installing the SIGINT/SIGTERM handlers", e);
    let mut term = signal(SignalKind::terminate()).map_err(failed)?;
    let mut int = signal(SignalKind::interrupt()).map_err(failed)?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        }
    })
}

/// `static` needs an existing directory; the other kinds take none. The command line checks
/// this first, so its error comes before those of the flags after it.
pub fn check_dir(kind: ServeKind, dir: Option<&PathBuf>) -> Result<Option<PathBuf>> {
    let shown = |d: &PathBuf| crate::text::echo(&d.to_string_lossy()).into_owned();
    match (kind, dir) {
        (ServeKind::Static, None) => Err(Error::bad_input(
            "serve static needs a directory",
            "expected `portscope serve static DIR`, e.g. `portscope serve static .`",
        )),
        (ServeKind::Static, Some(d)) if !d.is_dir() => Err(Error::bad_input(
            format!(
                "DIR {} {}",
                shown(d),
                if d.exists() {
                    "is not a directory"
                } else {
                    "does not exist"
                }
            ),
            "expected an existing directory, e.g. `portscope serve static ./public`",
        )),
        (ServeKind::Static, Some(d)) => Ok(Some(d.clone())),
        (_, Some(d)) => Err(Error::bad_input(
            format!(
                "{} takes no directory (got {})",
                engine::kind_name(kind),
                shown(d)
            ),
            "expected `portscope serve static DIR` to serve files, or http, echo or discard alone",
        )),
        (_, None) => Ok(None),
    }
}

/// Bind the address the flags ask for.
fn listen(ip: Option<IpAddr>, port: Option<u16>, pick: bool) -> Result<(TcpListener, Chosen)> {
    let ip = ip.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    if let Some(port) = port {
        return Ok((bind(SocketAddr::new(ip, port))?, Chosen::Port));
    }
    if pick {
        return Ok((picked(ip)?, Chosen::Pick));
    }
    let chosen = if ip == IpAddr::V4(Ipv4Addr::LOCALHOST) {
        crate::server::bind::choose_default(|a| TcpListener::bind(a).ok())
    } else {
        [crate::server::bind::DEFAULT_PORT, 0]
            .into_iter()
            .zip([
                crate::server::bind::Chosen::Default,
                crate::server::bind::Chosen::DefaultTaken,
            ])
            .find_map(|(p, c)| {
                TcpListener::bind(SocketAddr::new(ip, p))
                    .ok()
                    .map(|l| (l, c))
            })
    };
    match chosen {
        Some((l, crate::server::bind::Chosen::Default)) => Ok((l, Chosen::Default)),
        Some((l, _)) => Ok((l, Chosen::DefaultTaken)),
        None => bind(SocketAddr::new(ip, 0)).map(|l| (l, Chosen::DefaultTaken)),
    }
}

/// Bind `addr` with the house errors (who holds a taken port, what a bad address is).
fn bind(addr: SocketAddr) -> Result<TcpListener> {
    crate::server::bind::bind(addr, "--bind")
}

/// A port chosen the way `portscope pick` chooses (outside the ephemeral range, not
/// well-known, not reserved or leased in the registry), bound at once.
fn picked(ip: IpAddr) -> Result<TcpListener> {
    use crate::commands::pick;
    use crate::store::registry::{self, Registry};
    let mut last = None;
    for _ in 0..5 {
        let spec = pick::spec(None, None, false, false, pick::random_start())?;
        let spec = pick::Spec {
            host: Some(ip),
            ..spec
        };
        let survey = pick::survey()?;
        // The registry is read under its lock when there is one; without a usable state
        // directory, only the machine's sockets count.
        let reg = registry::state_dir(None)
            .ok()
            .and_then(|d| Registry::open(&d).ok());
        let data = reg.as_ref().map(|r| r.data.clone()).unwrap_or_default();
        let (ports, _) = pick::choose_in(&data, &spec, &survey, 1)?;
        let Some(&port) = ports.first() else { continue };
        match bind(SocketAddr::new(ip, port)) {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        Error::bad_input("--pick found no free port", "expected --port PORT instead")
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn directories() {
        assert!(check_dir(ServeKind::Static, None).is_err());
        assert!(check_dir(ServeKind::Static, Some(&"/nonexistent-x".into())).is_err());
        assert!(check_dir(ServeKind::Static, Some(&"/etc/hostname".into())).is_err());
        assert!(check_dir(ServeKind::Echo, Some(&"/tmp".into())).is_err());
        assert_eq!(
            check_dir(ServeKind::Static, Some(&"/tmp".into())).unwrap(),
            Some("/tmp".into())
        );
        assert_eq!(check_dir(ServeKind::Http, None).unwrap(), None);
    }
}
