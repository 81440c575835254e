//! Which addresses are this host's own: loopback, the interfaces' addresses and the
//! wildcards. Asked by the kernel itself (a bind to the address succeeds, or fails with
//! EADDRNOTAVAIL), so it agrees with what a server on this machine could listen on, in this
//! network namespace, with no address list to read and keep current.

use std::net::IpAddr;

/// Whether `ip` is one of this host's own addresses (traffic to it never leaves: it goes
/// over `lo`) or a wildcard (`0.0.0.0`, `::`), which a server here may listen on.
pub fn is_local(ip: IpAddr) -> bool {
    ip.is_loopback() || std::net::TcpListener::bind((ip, 0)).is_ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_wildcards_are_local_documentation_addresses_are_not() {
        for ip in ["127.0.0.1", "127.3.4.5", "::1", "0.0.0.0"] {
            assert!(is_local(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["192.0.2.77", "2001:db8::7"] {
            assert!(!is_local(ip.parse().unwrap()), "{ip}");
        }
    }
}
