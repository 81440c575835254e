//! What a user may type, one grammar each: a port, an IP address, an endpoint (`PORT`,
//! `IP:PORT`, `localhost:PORT`), a listen address, a pid, a duration, a long span and a byte
//! count. The command line converts its text with these once (`cli/`); the dashboard's API
//! uses them for its query strings. Every error is a one-line [`Error::BadInput`] naming the
//! flag and what it accepts. Targets (ports, ranges, URLs, `pid:N`, process names) have their
//! own grammar in [`crate::target`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::error::{Error, Result};
use crate::text::echo;

/// A port flag: a decimal number 1-65535 (0 too when `zero` says it means "any free port").
/// The error is `{flag} {text} is not a port; {expected}`.
pub fn port(text: &str, flag: &str, zero: bool, expected: &str) -> Result<u16> {
    match text.trim().parse::<u16>() {
        Ok(p) if p > 0 || zero => Ok(p),
        _ => Err(Error::bad_input(
            format!("{flag} {} is not a port", echo(text)),
            expected,
        )),
    }
}

/// An IP address flag (`[::1]` as well as `::1`); the error names `flag` and shows
/// `examples`.
pub fn ip(text: &str, flag: &str, examples: &str) -> Result<IpAddr> {
    text.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| {
            Error::bad_input(
                format!("{flag} {} is not an IP address", echo(text)),
                format!("expected an IPv4 or IPv6 address, e.g. {examples}"),
            )
        })
}

/// The one address grammar: `IP:PORT`, `[IPv6]:PORT`, `localhost:PORT` (= 127.0.0.1) and,
/// when `bare_port`, a lone `PORT` on 127.0.0.1.
fn socket_addr(text: &str, bare_port: bool) -> Option<SocketAddr> {
    let t = text.trim();
    let loopback = |p: &str| {
        p.parse::<u16>()
            .ok()
            .map(|p| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), p))
    };
    match t.strip_prefix("localhost:") {
        Some(port) => loopback(port),
        None if bare_port => loopback(t).or_else(|| t.parse::<SocketAddr>().ok()),
        None => t.parse::<SocketAddr>().ok(),
    }
}

/// An endpoint the traffic tools take: `PORT` (on 127.0.0.1), `IP:PORT`, `[IPv6]:PORT` or
/// `localhost:PORT`. `what` names the argument in the error (`TARGET`, `LISTEN`, `--to`).
pub fn endpoint(text: &str, what: &str) -> Result<SocketAddr> {
    socket_addr(text, true).ok_or_else(|| {
        Error::bad_input(
            format!("{what} {} is not an address", echo(text)),
            "expected PORT (on 127.0.0.1), IP:PORT, [IPv6]:PORT or localhost:PORT, e.g. 8080, \
             127.0.0.1:8080 or [::1]:8080",
        )
    })
}

/// A server's `--listen`: `IP:PORT`, `[IPv6]:PORT` or `localhost:PORT` (= 127.0.0.1); port 0
/// lets the kernel choose (the startup line says which).
pub fn listen(text: &str) -> Result<SocketAddr> {
    socket_addr(text, false).ok_or_else(|| {
        Error::bad_input(
            format!("--listen {} is not ADDR:PORT", echo(text)),
            "expected an IP address and a port 0-65535, e.g. --listen 127.0.0.1:8080, \
             --listen [::1]:8080, or --listen 0.0.0.0:8080 to serve every interface \
             (port 0: any free port)",
        )
    })
}

/// Parse a `--pid` value: a whole number from 1 to 4194304 (Linux's pid_max limit).
pub fn pid(text: &str) -> Result<u32> {
    let t = text.trim().strip_prefix("pid:").unwrap_or(text.trim());
    match t.parse::<u32>() {
        Ok(p) if (1..=4_194_304).contains(&p) => Ok(p),
        _ => Err(Error::bad_input(
            format!("'{}' is not a process id", echo(text)),
            "expected a whole number from 1 to 4194304, e.g. --pid 1234",
        )),
    }
}

/// Parse a duration flag: `5` (seconds), `5s`, `500ms`, `1.5s`, `2m`; from 0 to one day.
pub fn duration(text: &str, flag: &str) -> Result<std::time::Duration> {
    parse_duration_upto(text, flag, 86_400.0).map_err(|_| {
        Error::bad_input(
            format!(
                "{flag} {} is not a duration",
                echo(text)
            ),
            format!(
                "expected a number with an optional unit ms, s, m or h, up to a day, e.g. {flag} 5s or {flag} 500ms"
            ),
        )
    })
}

/// Parse a long span (`--keep`, `--since`): as [`duration`], plus days (`d`) and weeks
/// (`w`), up to ten years.
pub fn span(text: &str, flag: &str) -> Result<std::time::Duration> {
    parse_duration_upto(text, flag, 3650.0 * 86_400.0).map_err(|_| {
        Error::bad_input(
            format!(
                "{flag} {} is not a duration",
                echo(text)
            ),
            format!(
                "expected a number with a unit ms, s, m, h, d or w, up to ten years, e.g. {flag} 30d or {flag} 12h"
            ),
        )
    })
}

/// A byte count with an optional unit: `64`, `1000B`, `4KiB`, `500MB`, `1GiB` (k/m/g are
/// decimal, KiB/MiB/GiB binary, case-insensitive). `None` when it is not one or overflows.
pub fn bytes(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

fn parse_duration_upto(text: &str, flag: &str, max_secs: f64) -> Result<std::time::Duration> {
    let t = text.trim();
    let (number, unit) = match t.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let scale = match unit.trim() {
        "ms" => 0.001,
        "s" | "sec" | "secs" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" if max_secs > 86_400.0 => 86_400.0,
        "w" if max_secs > 86_400.0 => 7.0 * 86_400.0,
        _ => f64::NAN,
    };
    match number.parse::<f64>().map(|n| n * scale) {
        Ok(secs) if secs.is_finite() && (0.0..=max_secs).contains(&secs) => {
            Ok(std::time::Duration::from_secs_f64(secs))
        }
        _ => Err(Error::bad_input(flag, "")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(duration("5", "-t").unwrap(), Duration::from_secs(5));
        assert_eq!(duration("500ms", "-t").unwrap(), Duration::from_millis(500));
        assert_eq!(duration("1.5s", "-t").unwrap(), Duration::from_millis(1500));
        assert_eq!(duration("2m", "-t").unwrap(), Duration::from_secs(120));
        for bad in ["", "-1", "5x", "abc", "2d", "1e9", "nan", "100000"] {
            assert!(duration(bad, "-t").is_err(), "{bad}");
        }
    }

    #[test]
    fn endpoints() {
        let p = |t| endpoint(t, "TARGET").map(|a| a.to_string());
        assert_eq!(p("8080").unwrap(), "127.0.0.1:8080");
        assert_eq!(p("localhost:81").unwrap(), "127.0.0.1:81");
        assert_eq!(p("0.0.0.0:8080").unwrap(), "0.0.0.0:8080");
        assert_eq!(p("[::1]:9").unwrap(), "[::1]:9");
        for bad in ["", "65536", "host:80", "::1:80", "1.2.3.4", "-1"] {
            let e = p(bad).unwrap_err().to_string();
            assert!(e.contains("TARGET"), "{bad}: {e}");
        }
    }

    #[test]
    fn listen_addresses() {
        let ok = |t: &str| listen(t).unwrap().to_string();
        assert_eq!(ok("127.0.0.1:9797"), "127.0.0.1:9797");
        assert_eq!(ok(" [::1]:9797 "), "[::1]:9797");
        assert_eq!(ok("0.0.0.0:0"), "0.0.0.0:0");
        assert_eq!(ok("localhost:9100"), "127.0.0.1:9100");
        for bad in [
            "",
            "9797",
            ":9797",
            "127.0.0.1",
            "127.0.0.1:65536",
            "::1:9797",
            "example.com:9797",
            "localhost:x",
            "1.2.3.4.5:80",
        ] {
            let e = listen(bad).unwrap_err();
            assert_eq!(e.exit_code(), crate::exit::Exit::BadInput, "{bad}");
        }
    }

    #[test]
    fn ports() {
        let tap = |t| {
            port(
                t,
                "PORT",
                false,
                "expected a port number 1-65535, e.g. portscope tap 8080",
            )
        };
        assert_eq!(tap(" 8080 ").unwrap(), 8080);
        assert!(tap("0").is_err());
        assert_eq!(port("0", "--port", true, "").unwrap(), 0);
        for bad in ["0", "70000", "abc", "", "-1", "127.0.0.1:80"] {
            let e = tap(bad).unwrap_err().to_string();
            assert!(e.starts_with("PORT "), "{bad}: {e}");
        }
    }
}
