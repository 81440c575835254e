//! The traffic tools' engines: test servers (`serve`), a relay (`forward`), a loopback capture
//! (`tap`) and a load measurer (`bench`). Commands set them up and hand what they report as
//! [`Line`]s to `render`; the socket calls that need more than std/tokio live in `sys`.

pub mod bench;
pub mod forward;
pub mod serve;
pub mod tap;

use serde::Serialize;

/// Something a running traffic tool reports as it happens (printed at once, one line each).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Line {
    /// From `serve`.
    Serve(serve::ServeLine),
    /// From `forward`.
    Forward(forward::ForwardLine),
    /// From `tap`.
    Tap(tap::TapLine),
    /// From `bench`.
    Bench(bench::BenchLine),
}

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::error::{Error, Result};

/// Parse an endpoint the traffic tools take: `PORT` (on 127.0.0.1), `IP:PORT`, `[IPv6]:PORT`
/// or `localhost:PORT`. `what` names the argument in the error (`TARGET`, `LISTEN`, `--to`).
pub fn parse_endpoint(text: &str, what: &str) -> Result<SocketAddr> {
    let t = text.trim();
    let loopback = |p: &str| {
        p.parse::<u16>()
            .ok()
            .map(|p| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), p))
    };
    let parsed = match t.strip_prefix("localhost:") {
        Some(port) => loopback(port),
        None => loopback(t).or_else(|| t.parse::<SocketAddr>().ok()),
    };
    parsed.ok_or_else(|| {
        Error::bad_input(
            format!("{what} {} is not an address", crate::text::terminal(text)),
            "expected PORT (on 127.0.0.1), IP:PORT, [IPv6]:PORT or localhost:PORT, e.g. 8080, \
             127.0.0.1:8080 or [::1]:8080",
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let p = |t| parse_endpoint(t, "TARGET").map(|a| a.to_string());
        assert_eq!(p("8080").unwrap(), "127.0.0.1:8080");
        assert_eq!(p("localhost:81").unwrap(), "127.0.0.1:81");
        assert_eq!(p("0.0.0.0:8080").unwrap(), "0.0.0.0:8080");
        assert_eq!(p("[::1]:9").unwrap(), "[::1]:9");
        for bad in ["", "65536", "host:80", "::1:80", "1.2.3.4", "-1"] {
            let e = p(bad).unwrap_err().to_string();
            assert!(e.contains("TARGET"), "{bad}: {e}");
        }
    }
}
