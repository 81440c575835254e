//! Typed options for the traffic tools: `serve`, `forward`, `tap` and `bench`. Addresses,
//! ports and durations go through `crate::input`; the limits are the verbs' own constants.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::cli::{BenchArgs, ForwardArgs, ServeArgs, TapArgs};
use crate::commands::{bench, forward, serve, tap};
use crate::error::{Error, Result};
use crate::input::endpoint;
use crate::traffic::forward::Cidr;
use crate::traffic::serve::ServeKind;

impl ServeArgs {
    /// `serve`'s typed options. The directory is checked first (it exists, and only `static`
    /// takes one), as the verb always did.
    pub fn options(&self) -> Result<serve::Options> {
        let kind: ServeKind = self.kind.unwrap_or_default().into();
        let dir = serve::check_dir(kind, self.dir.as_ref())?;
        let bind = self.bind.as_deref().map(parse_bind).transpose()?;
        let port = self.port.as_deref().map(parse_port).transpose()?;
        Ok(serve::Options {
            kind,
            dir,
            port,
            pick: self.pick,
            bind,
        })
    }
}

/// `--port`: 0-65535 (0: any free port).
fn parse_port(text: &str) -> Result<u16> {
    crate::input::port(
        text,
        "--port",
        true,
        "expected a number 1-65535 (or 0 for any free port), e.g. --port 8000",
    )
}

/// `--bind`: an IP address.
fn parse_bind(text: &str) -> Result<IpAddr> {
    crate::input::ip(
        text,
        "--bind",
        "--bind 127.0.0.1, --bind ::1 or --bind 0.0.0.0 (every interface)",
    )
}

impl ForwardArgs {
    /// `forward`'s typed options.
    pub fn options(&self) -> Result<forward::Options> {
        let listen = endpoint(&self.listen, "LISTEN")?;
        let target = endpoint(&self.target, "TARGET")?;
        if target.port() == 0 || target.ip().is_unspecified() {
            return Err(Error::bad_input(
                format!("TARGET {target} is not a reachable address"),
                "expected a host address and a port 1-65535, e.g. 127.0.0.1:3000",
            ));
        }
        let allow = self
            .allow
            .iter()
            .map(|a| Cidr::parse(a))
            .collect::<Result<Vec<_>>>()?;
        let max_conns = self
            .max_conns
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100_000).contains(n))
            .ok_or_else(|| {
                Error::bad_input(
                    format!(
                        "--max-conns {} is not a connection count",
                        crate::text::echo(&self.max_conns)
                    ),
                    "expected a whole number 1-100000, e.g. --max-conns 1024",
                )
            })?;
        let idle_timeout = crate::input::duration(&self.idle_timeout, "--idle-timeout")?;
        if idle_timeout < Duration::from_millis(100) {
            return Err(Error::bad_input(
                format!(
                    "--idle-timeout {} is too short",
                    crate::text::echo(self.idle_timeout.trim())
                ),
                "expected at least 100ms, e.g. --idle-timeout 30s (default 10m)",
            ));
        }
        Ok(forward::Options {
            listen,
            target,
            udp: self.udp,
            allow,
            max_conns,
            idle_timeout,
            quiet: self.quiet,
        })
    }
}

impl TapArgs {
    /// `tap`'s typed options.
    pub fn options(&self) -> Result<tap::Options> {
        let port = crate::input::port(
            &self.port,
            "PORT",
            false,
            "expected a port number 1-65535, e.g. portscope tap 8080",
        )?;
        let duration = self
            .duration
            .as_deref()
            .map(|d| crate::input::duration(d, "--duration"))
            .transpose()?;
        if self.count == Some(0) {
            return Err(Error::bad_input(
                "--count 0 would capture nothing",
                "expected a number of packets of 1 or more, e.g. --count 100",
            ));
        }
        Ok(tap::Options {
            port,
            write: self.write.clone(),
            duration,
            count: self.count,
        })
    }
}

impl BenchArgs {
    /// `bench`'s typed options, each within the verb's limits.
    pub fn options(&self) -> Result<bench::Options> {
        let defaults = bench::Options::default();
        let target = self
            .target
            .as_deref()
            .map(|t| loopback(t, "TARGET"))
            .transpose()?;
        let discard = self
            .discard
            .as_deref()
            .map(|t| loopback(t, "--discard"))
            .transpose()?;
        let connects = match &self.connects {
            Some(t) => count(t, "--connects", bench::MAX_CONNECTS)?,
            None => defaults.connects,
        };
        let requests = match &self.requests {
            Some(t) => count(t, "--requests", bench::MAX_REQUESTS)?,
            None => defaults.requests,
        };
        let size = match &self.size {
            Some(t) => request_size(t)?,
            None => defaults.size,
        };
        let duration = match &self.duration {
            Some(t) => {
                let d = crate::input::duration(t, "--duration")?;
                if d < bench::MIN_DURATION || d > bench::MAX_DURATION {
                    return Err(Error::bad_input(
                        format!("--duration {} is out of range", crate::text::echo(t)),
                        "expected 10ms to 60s, e.g. --duration 2s or --duration 500ms",
                    ));
                }
                d
            }
            None => defaults.duration,
        };
        if requests.saturating_mul(size) > bench::MAX_ROUND_TRIP_BYTES {
            return Err(Error::bad_input(
                format!("--requests {requests} × --size {size} is more than 1GiB of round trips"),
                "expected at most 1GiB in all, e.g. --requests 100 --size 1MiB",
            ));
        }
        Ok(bench::Options {
            target,
            discard,
            connects,
            requests,
            size,
            duration,
            unix: self.unix,
        })
    }
}

/// A loopback endpoint (127.0.0.0/8 or ::1, port 1-65535).
fn loopback(text: &str, what: &str) -> Result<SocketAddr> {
    let addr = endpoint(text, what)?;
    let shown = crate::text::echo(text);
    if !addr.ip().to_canonical().is_loopback() {
        return Err(Error::bad_input(
            format!("{what} {shown} is not a loopback address"),
            "bench measures loopback only: expected a port on 127.0.0.0/8 or [::1], e.g. 8080, \
             127.0.0.1:8080 or [::1]:8080",
        ));
    }
    if addr.port() == 0 {
        return Err(Error::bad_input(
            format!("{what} {shown} has port 0"),
            "expected a port from 1 to 65535, e.g. 8080",
        ));
    }
    Ok(addr)
}

/// A whole number from 1 to `max`.
fn count(text: &str, flag: &str, max: u64) -> Result<u64> {
    match text.trim().parse::<u64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(Error::bad_input(
            format!("{flag} {} is not a count", crate::text::echo(text)),
            format!("expected a whole number from 1 to {max}, e.g. {flag} 100"),
        )),
    }
}

/// `--size`: `64`, `4KiB`, `1MiB`, `1000B` → bytes, from 1 to 1 MiB.
fn request_size(text: &str) -> Result<u64> {
    let bad = || {
        Error::bad_input(
            format!("--size {} is not a request size", crate::text::echo(text)),
            "expected 1 byte to 1MiB, e.g. --size 64, --size 4KiB or --size 1MiB",
        )
    };
    match crate::input::bytes(text) {
        Some(b) if (1..=bench::MAX_SIZE).contains(&b) => Ok(b),
        _ => Err(bad()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::cli::Command;

    use crate::cli::options::parsed as parse;

    #[test]
    fn defaults_match_the_command_line() {
        let Command::Serve(s) = parse(&["serve"]) else {
            panic!("serve")
        };
        assert_eq!(s.options().unwrap(), serve::Options::default());
        let Command::Bench(b) = parse(&["bench"]) else {
            panic!("bench")
        };
        assert_eq!(b.options().unwrap(), bench::Options::default());
    }

    #[test]
    fn serve_flags() {
        assert_eq!(parse_port("8000").unwrap(), 8000);
        assert_eq!(parse_port("0").unwrap(), 0);
        for bad in ["70000", "-1", "x", ""] {
            assert!(
                matches!(parse_port(bad), Err(Error::BadInput { .. })),
                "{bad}"
            );
        }
        assert_eq!(
            parse_bind("[::1]").unwrap(),
            "::1".parse::<IpAddr>().unwrap()
        );
        assert!(parse_bind("localhost").is_err());
        // The directory is checked before the flags after it.
        let Command::Serve(s) = parse(&["serve", "static", "/nonexistent-x", "--bind", "x"]) else {
            panic!("serve")
        };
        let e = s.options().unwrap_err().to_string();
        assert!(e.contains("DIR"), "{e}");
    }

    fn forward(args: &[&str]) -> Result<forward::Options> {
        let argv: Vec<&str> = std::iter::once("forward")
            .chain(args.iter().copied())
            .collect();
        let Command::Forward(f) = parse(&argv) else {
            panic!("forward")
        };
        f.options()
    }

    #[test]
    fn forward_flags() {
        let o = forward(&["0", "3000"]).unwrap();
        assert_eq!(o.target.to_string(), "127.0.0.1:3000");
        assert!(o.allow.is_empty());
        assert_eq!(o.max_conns, 1024);
        assert_eq!(o.idle_timeout, Duration::from_secs(600));
        for (args, what) in [
            (&["x", "3000"][..], "LISTEN"),
            (&["0", "0.0.0.0:80"][..], "TARGET"),
            (&["0", "1", "--max-conns", "0"][..], "--max-conns"),
            (&["0", "1", "--allow", "10.0.0.0/40"][..], "--allow"),
            (&["0", "1", "--idle-timeout", "10ms"][..], "--idle-timeout"),
        ] {
            let e = forward(args).unwrap_err().to_string();
            assert!(e.contains(what), "{e}");
        }
    }

    #[test]
    fn tap_flags() {
        let Command::Tap(t) = parse(&["tap", "8080", "--duration", "30s"]) else {
            panic!("tap")
        };
        let o = t.options().unwrap();
        assert_eq!((o.port, o.duration), (8080, Some(Duration::from_secs(30))));
        for (args, what) in [
            (&["tap", "0"][..], "PORT"),
            (&["tap", "80", "--duration", "x"][..], "--duration"),
            (&["tap", "80", "-c", "0"][..], "--count"),
        ] {
            let Command::Tap(t) = parse(args) else {
                panic!("tap")
            };
            let e = t.options().unwrap_err().to_string();
            assert!(e.contains(what), "{e}");
        }
    }

    fn bench_args(f: impl FnOnce(&mut BenchArgs)) -> BenchArgs {
        let mut a = BenchArgs::default();
        f(&mut a);
        a
    }

    #[test]
    fn bench_flags() {
        let p = bench_args(|a| {
            a.target = Some("9000".into());
            a.size = Some("4KiB".into());
            a.requests = Some("10".into());
            a.duration = Some("500ms".into());
        })
        .options()
        .unwrap();
        assert_eq!(p.target.unwrap().to_string(), "127.0.0.1:9000");
        assert_eq!((p.size, p.requests), (4096, 10));
        assert_eq!(request_size("1MiB").unwrap(), 1 << 20);
        assert_eq!(loopback("[::1]:80", "TARGET").unwrap().port(), 80);
        assert!(loopback("127.3.4.5:80", "TARGET").is_ok());
    }

    #[test]
    fn bench_refusals() {
        let bad: [fn(&mut BenchArgs); 12] = [
            |a| {
                a.requests = Some("2000".into());
                a.size = Some("1MiB".into());
            },
            |a| a.target = Some("10.0.0.1:80".into()),
            |a| a.target = Some("0.0.0.0:80".into()),
            |a| a.target = Some("127.0.0.1:0".into()),
            |a| a.discard = Some("[2001:db8::1]:9".into()),
            |a| a.size = Some("0".into()),
            |a| a.size = Some("2MiB".into()),
            |a| a.size = Some("-1".into()),
            |a| a.requests = Some("abc".into()),
            |a| a.connects = Some("0".into()),
            |a| a.duration = Some("2m".into()),
            |a| a.duration = Some("0".into()),
        ];
        for f in bad {
            let e = bench_args(f).options().unwrap_err();
            assert!(matches!(e, Error::BadInput { .. }), "{e}");
            assert!(!e.to_string().contains('\n'), "{e}");
        }
    }
}
