//! `forward`: a TCP (or `--udp`) relay from LISTEN to TARGET. The command checks its input,
//! raises the open-file limit, binds LISTEN, announces itself (with a warning when the relay
//! is reachable from the network) and hands over to [`crate::traffic::forward`], which
//! relays until SIGINT/SIGTERM; the totals are the report.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;

use crate::cli::ForwardArgs;
use crate::commands::Ui;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::input::endpoint;
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

/// Checked arguments.
#[derive(Debug, Clone)]
struct Plan {
    listen: SocketAddr,
    udp: bool,
    cfg: Config,
}

/// Run `forward`.
pub fn run(args: &ForwardArgs, ui: &dyn Ui) -> Result<(ForwardReport, Exit)> {
    let plan = plan(args)?;
    if !plan.udp {
        fit_fds(plan.cfg.max_conns)?;
    }
    let rt = crate::server::runtime("portscope-forward", 1)?;
    let emit = |l: ForwardLine| ui.traffic(&Line::Forward(l));
    let proto = if plan.udp { "udp" } else { "tcp" };
    let start = |listen| ForwardLine::Start {
        proto,
        listen,
        target: plan.cfg.target,
        allow: plan.cfg.allow.clone(),
        max_conns: plan.cfg.max_conns,
        idle_timeout_s: plan.cfg.idle.as_secs_f64(),
        warnings: warnings(listen, &plan.cfg.allow),
    };
    let (listen, totals, signal) = if plan.udp {
        let sock =
            std::net::UdpSocket::bind(plan.listen).map_err(|e| bind_error(plan.listen, e))?;
        let listen = sock.local_addr().unwrap_or(plan.listen);
        emit(start(listen));
        let (t, s) = rt.block_on(engine::run_udp(sock, plan.cfg.clone(), &emit))?;
        (listen, t, s)
    } else {
        let listener = crate::commands::exporter::bind(plan.listen, "LISTEN")?;
        // A deeper accept queue than std's for bursts of clients (listen again updates it).
        let _ = socket2::SockRef::from(&listener).listen(4096);
        let listen = listener.local_addr().unwrap_or(plan.listen);
        emit(start(listen));
        let (t, s) = rt.block_on(engine::run_tcp(listener, plan.cfg.clone(), &emit))?;
        (listen, t, s)
    };
    let report = ForwardReport {
        proto,
        listen,
        target: plan.cfg.target,
        totals,
        stopped_by: signal.to_string(),
    };
    Ok((report, Exit::Success))
}

fn plan(args: &ForwardArgs) -> Result<Plan> {
    let listen = endpoint(&args.listen, "LISTEN")?;
    let target = endpoint(&args.target, "TARGET")?;
    if target.port() == 0 || target.ip().is_unspecified() {
        return Err(Error::bad_input(
            format!("TARGET {target} is not a reachable address"),
            "expected a host address and a port 1-65535, e.g. 127.0.0.1:3000",
        ));
    }
    let allow = if args.allow.is_empty() {
        engine::loopback_only()
    } else {
        args.allow
            .iter()
            .map(|a| Cidr::parse(a))
            .collect::<Result<Vec<_>>>()?
    };
    let max_conns = args
        .max_conns
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=100_000).contains(n))
        .ok_or_else(|| {
            Error::bad_input(
                format!(
                    "--max-conns {} is not a connection count",
                    crate::text::terminal(&args.max_conns)
                ),
                "expected a whole number 1-100000, e.g. --max-conns 1024",
            )
        })?;
    let idle = crate::input::duration(&args.idle_timeout, "--idle-timeout")?;
    if idle < Duration::from_millis(100) {
        return Err(Error::bad_input(
            format!("--idle-timeout {} is too short", args.idle_timeout.trim()),
            "expected at least 100ms, e.g. --idle-timeout 30s (default 10m)",
        ));
    }
    Ok(Plan {
        listen,
        udp: args.udp,
        cfg: Config {
            target,
            allow,
            max_conns,
            idle,
            quiet: args.quiet,
        },
    })
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
        std::io::ErrorKind::AddrNotAvailable => Error::bad_input(
            format!(
                "LISTEN {addr}: {} is not an address of this host",
                addr.ip()
            ),
            "expected a local address (see `ip -br addr`), 127.0.0.1, or 0.0.0.0 for every interface",
        ),
        _ => Error::io(format!("listening on {addr}/udp"), e),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn args(listen: &str, target: &str) -> ForwardArgs {
        ForwardArgs {
            listen: listen.into(),
            target: target.into(),
            max_conns: "1024".into(),
            idle_timeout: "10m".into(),
            ..ForwardArgs::default()
        }
    }

    #[test]
    fn plans() {
        let p = plan(&args("0", "3000")).unwrap();
        assert_eq!(p.cfg.target.to_string(), "127.0.0.1:3000");
        assert_eq!(p.cfg.allow, engine::loopback_only());
        assert_eq!(p.cfg.idle, Duration::from_secs(600));
        for (a, what) in [
            (args("x", "3000"), "LISTEN"),
            (args("0", "0.0.0.0:80"), "TARGET"),
            (
                ForwardArgs {
                    max_conns: "0".into(),
                    ..args("0", "1")
                },
                "--max-conns",
            ),
            (
                ForwardArgs {
                    allow: vec!["10.0.0.0/40".into()],
                    ..args("0", "1")
                },
                "--allow",
            ),
        ] {
            let e = plan(&a).unwrap_err().to_string();
            assert!(e.contains(what), "{e}");
        }
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
