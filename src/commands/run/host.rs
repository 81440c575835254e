//! `run --host`: the `HOST` a dev server is told to listen on. Only a place it can listen
//! is accepted — an address of this machine, a wildcard (`0.0.0.0`, `::`: every interface),
//! `localhost`, or a name that resolves to an address of this machine — so a typo or a
//! remote address is exit 2 before anything starts, not a server that fails to bind.

use std::net::IpAddr;

use crate::error::{Error, Result};
use crate::server::bind::{not_local, require_local};

/// The `HOST` given to the command: an IP address or a host name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// An IP address (IPv6 without brackets in `HOST`).
    Ip(IpAddr),
    /// A host name: letters, digits, `-` and `.`, as given.
    Name(String),
}

impl std::fmt::Display for Host {
    /// The address or the name, as `HOST` holds it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Name(name) => f.write_str(name),
        }
    }
}

/// What `--host` accepts.
const HOST_OK: &str = "expected an address of this machine (see `ip -br addr`), localhost, \
                       127.0.0.1, ::1, or 0.0.0.0 for every interface";

/// Refuse a `HOST` no server here could listen on: an address that is not this machine's,
/// or a name that does not resolve, or resolves to no address of this machine.
pub fn check(host: &Host) -> Result<()> {
    let name = match host {
        Host::Ip(ip) => return require_local(*ip, &format!("--host {ip}")),
        Host::Name(name) if name.eq_ignore_ascii_case("localhost") => return Ok(()),
        Host::Name(name) => name,
    };
    let given = format!("--host {}", crate::text::echo(name));
    let res = crate::sys::sysctl::resolve(name);
    let Some(first) = res.addresses.first() else {
        // Bad input when the name does not exist; a resolver failure stays a failure.
        return Err(match crate::snapshot::unresolved(&res) {
            Error::BadInput { problem, .. } => {
                Error::bad_input(format!("--host {problem}"), HOST_OK)
            }
            other => other,
        });
    };
    if res
        .addresses
        .iter()
        .any(|ip| crate::sys::local::is_local(*ip))
    {
        return Ok(());
    }
    Err(match res.addresses.len() {
        1 => not_local(&given, *first),
        _ => Error::bad_input(
            format!(
                "{given}: none of its addresses ({}) is an address of this host",
                shown(&res.addresses)
            ),
            HOST_OK,
        ),
    })
}

/// Addresses, comma-separated.
fn shown(ips: &[IpAddr]) -> String {
    ips.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn places_a_server_can_listen_on() {
        for ok in ["127.0.0.1", "::1", "0.0.0.0"] {
            assert!(check(&Host::Ip(ok.parse().unwrap())).is_ok(), "{ok}");
        }
        assert!(check(&Host::Name("localhost".into())).is_ok());
        let e = check(&Host::Ip("192.0.2.77".parse().unwrap()))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("--host 192.0.2.77 is not an address of this host"),
            "{e}"
        );
        assert_eq!(Host::Ip("::1".parse().unwrap()).to_string(), "::1");
    }
}
