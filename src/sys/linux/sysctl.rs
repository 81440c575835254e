//! Live sysctls that decide what a port number means on this machine, and how `localhost`
//! resolves here. Read fresh on every call: containers and admins change them.

use std::net::{IpAddr, ToSocketAddrs};

use serde::Serialize;

/// Kernel settings about local ports, each `None` when it could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PortSysctls {
    /// `net.ipv4.ip_local_port_range` (also governs IPv6): the ephemeral range.
    pub ephemeral: Option<(u16, u16)>,
    /// `net.ipv4.ip_local_reserved_ports`: ports the kernel never hands out as ephemeral.
    pub reserved: Vec<(u16, u16)>,
    /// `net.ipv4.ip_unprivileged_port_start`: ports below it need `CAP_NET_BIND_SERVICE`.
    pub unprivileged_port_start: Option<u16>,
    /// `net.ipv6.bindv6only`: 0 means an IPv6 wildcard listener also accepts IPv4.
    pub bindv6only: Option<bool>,
    /// `net.ipv6.conf.all.disable_ipv6`.
    pub ipv6_disabled: Option<bool>,
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Parse `"32768\t60999"`.
pub fn parse_range(text: &str) -> Option<(u16, u16)> {
    let mut it = text.split_whitespace().map(str::parse::<u16>);
    match (it.next(), it.next()) {
        (Some(Ok(a)), Some(Ok(b))) => Some((a, b)),
        _ => None,
    }
}

/// Parse `"8080,9000-9010"` (empty = none).
pub fn parse_port_list(text: &str) -> Vec<(u16, u16)> {
    text.split(',')
        .filter_map(|part| {
            let part = part.trim();
            match part.split_once('-') {
                Some((a, b)) => Some((a.trim().parse().ok()?, b.trim().parse().ok()?)),
                None => part.parse().ok().map(|p| (p, p)),
            }
        })
        .collect()
}

/// Read the port sysctls now.
pub fn port_sysctls() -> PortSysctls {
    PortSysctls {
        ephemeral: read("/proc/sys/net/ipv4/ip_local_port_range").and_then(|t| parse_range(&t)),
        reserved: read("/proc/sys/net/ipv4/ip_local_reserved_ports")
            .map(|t| parse_port_list(&t))
            .unwrap_or_default(),
        unprivileged_port_start: read("/proc/sys/net/ipv4/ip_unprivileged_port_start")
            .and_then(|t| t.parse().ok()),
        bindv6only: read("/proc/sys/net/ipv6/bindv6only").map(|t| t == "1"),
        ipv6_disabled: read("/proc/sys/net/ipv6/conf/all/disable_ipv6").map(|t| t == "1"),
    }
}

/// Whether network interface `name` is administratively up (`IFF_UP` in
/// `/sys/class/net/<name>/flags`, which `ip netns exec` remounts for its namespace).
pub fn interface_up(name: &str) -> Option<bool> {
    let flags = read(&format!("/sys/class/net/{name}/flags"))?;
    let flags = u32::from_str_radix(flags.trim_start_matches("0x"), 16).ok()?;
    Some(flags & 0x1 != 0)
}

/// How a host name resolves on this machine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Resolution {
    /// The name asked about.
    pub name: String,
    /// Addresses in the order the system resolver (getaddrinfo) returns them: clients that try
    /// only the first will connect there.
    pub addresses: Vec<IpAddr>,
    /// Lines of `/etc/hosts` that name it, verbatim.
    pub hosts_lines: Vec<String>,
    /// The resolver error, if resolution failed.
    pub error: Option<String>,
}

/// Resolve `name` with the system resolver and report `/etc/hosts` lines that mention it.
pub fn resolve(name: &str) -> Resolution {
    let mut addresses = Vec::new();
    let mut error = None;
    match (name, 0u16).to_socket_addrs() {
        Ok(iter) => {
            for sa in iter {
                if !addresses.contains(&sa.ip()) {
                    addresses.push(sa.ip());
                }
            }
        }
        Err(e) => error = Some(e.to_string()),
    }
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    Resolution {
        name: name.to_string(),
        addresses,
        hosts_lines: hosts_lines(&hosts, name),
        error,
    }
}

/// Lines of hosts-file text whose names include `name` (comments stripped).
pub fn hosts_lines(text: &str, name: &str) -> Vec<String> {
    text.lines()
        .filter(|line| {
            let data = line.split('#').next().unwrap_or("");
            data.split_whitespace()
                .skip(1)
                .any(|n| n.eq_ignore_ascii_case(name))
        })
        .map(|l| l.trim().to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(parse_range("32768\t60999\n"), Some((32768, 60999)));
        assert_eq!(parse_range("x"), None);
        assert_eq!(
            parse_port_list("8080,9000-9010"),
            vec![(8080, 8080), (9000, 9010)]
        );
        assert!(parse_port_list("").is_empty());
        let h = "127.0.0.1 localhost\n::1 localhost ip6-localhost # c\n# 1.2.3.4 localhost\n10.0.0.1 other\n";
        assert_eq!(hosts_lines(h, "localhost").len(), 2);
    }

    #[test]
    fn live_values_are_sane() {
        let s = port_sysctls();
        let (lo, hi) = s.ephemeral.unwrap_or((1, 0));
        assert!(lo <= hi, "ephemeral range {lo}-{hi}");
        assert!(s.unprivileged_port_start.is_some());
        let r = resolve("localhost");
        assert!(r.addresses.iter().all(IpAddr::is_loopback), "{r:?}");
    }
}
