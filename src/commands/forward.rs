//! `forward`: a TCP (or `--udp`) relay from LISTEN to TARGET. The command checks its input,
//! raises the open-file limit, binds LISTEN, announces itself (with a warning when the relay
//! is reachable from the network) and hands over to [`crate::traffic::forward`], which
//! relays until SIGINT/SIGTERM; the totals are the report.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;

use crate::commands::{Report, Ui};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::traffic::Line;
use crate::traffic::forward::{self as engine, Cidr, Config, ForwardLine, Totals};

/// File descriptors one TCP connection takes: two sockets and two pipes of two ends.
pub const FDS_PER_CONN: u64 = 6;

/// File descriptors kept for everything else (the listener, the runtime, stdio).
const FDS_RESERVED: u64 = 64;

/// What `forward` did (printed when it stops).
#[derive(Debug, Clone, Serialize)]
pub struct ForwardReport {
    /// `tcp` or `udp`.
    pub proto: &'static str,
    /// The address it accepted on.
    pub listen: SocketAddr,
    /// Where it relayed to.
    pub target: SocketAddr,
    /// What it relayed, denied and refused.
    #[serde(flatten)]
    pub totals: Totals,
    /// The signal that stopped it.
    pub stopped_by: String,
}

/// What `forward` is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Where to accept connections (port 0: any free port).
    pub listen: SocketAddr,
    /// Where to relay them (a host address, port 1-65535).
    pub target: SocketAddr,
    /// Relay UDP datagrams instead of TCP connections.
    pub udp: bool,
    /// Accept clients only from these networks (empty: loopback only).
    pub allow: Vec<Cidr>,
    /// At most this many connections at once (1 to 100000); more are refused.
    pub max_conns: usize,
    /// Close a connection after this long with no traffic either way (at least 100 ms).
    pub idle_timeout: Duration,
    /// No line per connection.
    pub quiet: bool,
}

/// Run `forward`.
pub fn run(opts: &Options, ui: &dyn Ui) -> Result<(Report, Exit)> {
    forward(opts, ui).map(|(r, code)| (Report::Forward(Box::new(r)), code))
}

fn forward(opts: &Options, ui: &dyn Ui) -> Result<(ForwardReport, Exit)> {
    refuse_loop(opts.listen, opts.target)?;
    let cfg = config(opts);
    if !opts.udp {
        fit_fds(cfg.max_conns)?;
    }
    let rt = crate::server::runtime("portscope-forward", 1)?;
    let emit = |l: ForwardLine| ui.traffic(&Line::Forward(l));
    let proto = if opts.udp { "udp" } else { "tcp" };
    let start = |listen| ForwardLine::Start {
        proto,
        listen,
        target: cfg.target,
        allow: cfg.allow.clone(),
        max_conns: cfg.max_conns,
        idle_timeout_s: cfg.idle.as_secs_f64(),
        warnings: warnings(listen, &cfg.allow),
    };
    let (listen, totals, signal) = if opts.udp {
        let sock =
            std::net::UdpSocket::bind(opts.listen).map_err(|e| bind_error(opts.listen, e))?;
        let listen = sock.local_addr().unwrap_or(opts.listen);
        refuse_loop(listen, cfg.target)?; // port 0: the kernel may have chosen TARGET's
        emit(start(listen));
        let (t, s) = rt.block_on(engine::run_udp(sock, cfg.clone(), &emit))?;
        (listen, t, s)
    } else {
        let listener = crate::server::bind::bind(opts.listen, "LISTEN")?;
        // A deeper accept queue than std's for bursts of clients (listen again updates it).
        let _ = socket2::SockRef::from(&listener).listen(4096);
        let listen = listener.local_addr().unwrap_or(opts.listen);
        refuse_loop(listen, cfg.target)?;
        emit(start(listen));
        let (t, s) = rt.block_on(engine::run_tcp(listener, cfg.clone(), &emit))?;
        (listen, t, s)
    };
    let report = ForwardReport {
        proto,
        listen,
        target: cfg.target,
        totals,
        stopped_by: signal.to_string(),
    };
    Ok((report, Exit::Success))
}

/// The relay's settings (no `--allow`: loopback clients only).
fn config(opts: &Options) -> Config {
    Config {
        target: opts.target,
        allow: if opts.allow.is_empty() {
            engine::loopback_only()
        } else {
            opts.allow.clone()
        },
        max_conns: opts.max_conns,
        idle: opts.idle_timeout,
        quiet: opts.quiet,
    }
}

/// Refuse a relay that would accept its own connections to the target (LISTEN and TARGET
/// the same socket, or a wildcard LISTEN on the port of a TARGET on this machine): one
/// client would become a thousand connections to itself in a tenth of a second.
fn refuse_loop(listen: SocketAddr, target: SocketAddr) -> Result<()> {
    let dual_stack = crate::sys::sysctl::port_sysctls().bindv6only != Some(true);
    if !engine::relays_to_itself(listen, target, dual_stack, crate::sys::local::is_local) {
        return Ok(());
    }
    let how = if listen.ip().is_unspecified() {
        format!("receives the connections for TARGET {target}, an address of this host")
    } else {
        format!("and TARGET {target} are the same socket")
    };
    Err(Error::bad_input(
        format!("LISTEN {listen} {how}: forward would relay to itself"),
        "expected a TARGET on another port or host, or a LISTEN that does not cover it, e.g. \
         portscope forward 8081 127.0.0.1:8080",
    ))
}

/// Raise the open-file limit and check `max_conns` connections fit in it.
fn fit_fds(max_conns: usize) -> Result<()> {
    let limit = crate::sys::rlimit::raise_nofile();
    let need = (max_conns as u64)
        .saturating_mul(FDS_PER_CONN)
        .saturating_add(FDS_RESERVED);
    if need > limit.soft {
        let fits = limit.soft.saturating_sub(FDS_RESERVED) / FDS_PER_CONN;
        return Err(Error::bad_input(
            format!(
                "--max-conns {max_conns} needs {need} open files, but this process may open \
                 only {} (RLIMIT_NOFILE hard limit {})",
                limit.soft, limit.hard
            ),
            format!(
                "expected --max-conns {fits} or fewer here ({FDS_PER_CONN} files per \
                 connection: two sockets, two pipes), or a higher hard limit (ulimit -Hn, \
                 LimitNOFILE=)"
            ),
        ));
    }
    Ok(())
}

/// Warnings for the start line: remote clients that will be refused, or a target exposed.
fn warnings(listen: SocketAddr, allow: &[Cidr]) -> Vec<String> {
    let mut w = Vec::new();
    let remote_allowed = allow.iter().any(|c| !c.is_loopback());
    if remote_allowed {
        let nets: Vec<String> = allow
            .iter()
            .filter(|c| !c.is_loopback())
            .map(ToString::to_string)
            .collect();
        w.push(format!(
            "the target is exposed to clients from {}",
            nets.join(", ")
        ));
    } else if !listen.ip().is_loopback() {
        w.push(format!(
            "{} is reachable from the network but only loopback clients are allowed: remote \
             clients will be refused (allow them with --allow CIDR, e.g. --allow 192.168.1.0/24)",
            listen.ip()
        ));
    }
    w
}

fn bind_error(addr: SocketAddr, e: std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::AddrNotAvailable => {
            crate::server::bind::not_local(&format!("LISTEN {addr}"), addr.ip())
        }
        _ => Error::io(format!("listening on {addr}/udp"), e),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn no_allow_means_loopback_only() {
        let opts = Options {
            listen: "127.0.0.1:0".parse().unwrap(),
            target: "127.0.0.1:3000".parse().unwrap(),
            udp: false,
            allow: Vec::new(),
            max_conns: 1024,
            idle_timeout: Duration::from_secs(600),
            quiet: false,
        };
        assert_eq!(config(&opts).allow, engine::loopback_only());
        let wide = vec![Cidr::parse("10.0.0.0/8").unwrap()];
        let opts = Options {
            allow: wide.clone(),
            ..opts
        };
        assert_eq!(config(&opts).allow, wide);
    }

    #[test]
    fn warns_about_exposure() {
        let any: SocketAddr = "0.0.0.0:80".parse().unwrap();
        let lo: SocketAddr = "127.0.0.1:80".parse().unwrap();
        assert!(warnings(lo, &engine::loopback_only()).is_empty());
        assert!(warnings(any, &engine::loopback_only())[0].contains("--allow"));
        let wide = vec![Cidr::parse("10.0.0.0/8").unwrap()];
        assert!(warnings(lo, &wide)[0].contains("exposed"));
    }
}
