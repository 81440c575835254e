//! The port-number ranges IANA defines, and the ephemeral ranges operating systems use by default.
//!
//! These two are often confused. IANA (RFC 6335) calls 49152–65535 the *dynamic/private* range,
//! and Windows and macOS draw ephemeral ports from it — but **Linux's default ephemeral range is
//! 32768–60999**. The kernel draws from that range both for outgoing connections and for a
//! bind to port 0, so on a Linux machine with default settings a port like 62893 was not
//! assigned by the kernel: a program asked for that number (or the range was changed). Every
//! value here is a *default*; the live range is `net.ipv4.ip_local_port_range`, which `sys`
//! reads.

use serde::Serialize;

/// Source of the IANA range definitions.
pub const RANGES_SOURCE: &str = "RFC 6335 section 6 (IANA port number ranges)";

/// The IANA dynamic/private range, inclusive.
pub const IANA_DYNAMIC: (u16, u16) = (49152, 65535);

/// Linux's default `net.ipv4.ip_local_port_range`, inclusive.
pub const LINUX_DEFAULT_EPHEMERAL: (u16, u16) = (32768, 60999);

/// The three ranges of RFC 6335.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IanaRange {
    /// 0–1023: system (well-known) ports, assigned by IETF process.
    System,
    /// 1024–49151: user (registered) ports, assigned by IANA on request.
    User,
    /// 49152–65535: dynamic/private ports, never assigned.
    Dynamic,
}

impl IanaRange {
    /// Human name of the range, as RFC 6335 words it.
    pub fn label(self) -> &'static str {
        match self {
            IanaRange::System => "system (well-known) ports",
            IanaRange::User => "user (registered) ports",
            IanaRange::Dynamic => "dynamic/private ports",
        }
    }

    /// First and last port of the range, inclusive.
    pub fn span(self) -> (u16, u16) {
        match self {
            IanaRange::System => (0, 1023),
            IanaRange::User => (1024, 49151),
            IanaRange::Dynamic => IANA_DYNAMIC,
        }
    }
}

/// Which IANA range `port` falls in.
pub fn iana_range(port: u16) -> IanaRange {
    match port {
        0..=1023 => IanaRange::System,
        1024..=49151 => IanaRange::User,
        _ => IanaRange::Dynamic,
    }
}

/// An operating system's default ephemeral (automatically assigned local) port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EphemeralDefault {
    /// The system (`Linux`, `Windows (Vista and later)`, …).
    pub os: &'static str,
    /// First and last port, inclusive.
    pub range: (u16, u16),
    /// Where the default is set, so a reader can check it.
    pub source: &'static str,
}

/// Default ephemeral ranges of common systems. Only systems whose default is well established
/// are listed; every value can be changed by an administrator.
pub const EPHEMERAL_DEFAULTS: &[EphemeralDefault] = &[
    EphemeralDefault {
        os: "Linux",
        range: LINUX_DEFAULT_EPHEMERAL,
        source: "kernel default of net.ipv4.ip_local_port_range (/proc/sys/net/ipv4/ip_local_port_range)",
    },
    EphemeralDefault {
        os: "Windows (Vista / Server 2008 and later)",
        range: IANA_DYNAMIC,
        source: "netsh int ipv4 show dynamicport tcp; Microsoft KB 929851",
    },
    EphemeralDefault {
        os: "macOS",
        range: IANA_DYNAMIC,
        source: "sysctl net.inet.ip.portrange.first / net.inet.ip.portrange.last",
    },
    EphemeralDefault {
        os: "FreeBSD",
        range: (10000, 65535),
        source: "IPPORT_EPHEMERALFIRST/IPPORT_EPHEMERALLAST in sys/netinet/in.h \
                 (sysctl net.inet.ip.portrange.first / .last)",
    },
];

/// One paragraph for users who read "ports above 49152 are ephemeral" somewhere.
pub const EPHEMERAL_NOTE: &str = "IANA calls 49152-65535 the dynamic/private range, and Windows \
    (Vista and later) and macOS pick ephemeral ports from it. Linux picks them from \
    net.ipv4.ip_local_port_range, 32768-60999 by default, so under default settings the Linux \
    kernel never assigns a port above 60999, neither to an outgoing connection nor to a bind to \
    port 0: a program that holds one asked for that number.";

/// True when `port` is inside Linux's *default* ephemeral range (not the live one).
pub fn in_linux_default_ephemeral(port: u16) -> bool {
    (LINUX_DEFAULT_EPHEMERAL.0..=LINUX_DEFAULT_EPHEMERAL.1).contains(&port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries() {
        assert_eq!(iana_range(0), IanaRange::System);
        assert_eq!(iana_range(1023), IanaRange::System);
        assert_eq!(iana_range(1024), IanaRange::User);
        assert_eq!(iana_range(49151), IanaRange::User);
        assert_eq!(iana_range(49152), IanaRange::Dynamic);
        assert_eq!(iana_range(65535), IanaRange::Dynamic);
    }

    #[test]
    fn spans_tile_the_port_space() {
        let spans = [IanaRange::System, IanaRange::User, IanaRange::Dynamic].map(IanaRange::span);
        assert_eq!(spans[0].0, 0);
        assert_eq!(spans[0].1 + 1, spans[1].0);
        assert_eq!(spans[1].1 + 1, spans[2].0);
        assert_eq!(spans[2].1, u16::MAX);
        for r in [IanaRange::System, IanaRange::User, IanaRange::Dynamic] {
            let (a, b) = r.span();
            assert_eq!(iana_range(a), r);
            assert_eq!(iana_range(b), r);
        }
    }

    #[test]
    fn the_62893_myth() {
        // IANA-dynamic, but outside Linux's default ephemeral range.
        assert_eq!(iana_range(62893), IanaRange::Dynamic);
        assert!(!in_linux_default_ephemeral(62893));
        assert!(in_linux_default_ephemeral(32768));
        assert!(in_linux_default_ephemeral(60999));
        assert!(!in_linux_default_ephemeral(61000));
        assert!(!in_linux_default_ephemeral(32767));
    }

    #[test]
    fn labels_and_serialisation() {
        assert_eq!(IanaRange::Dynamic.label(), "dynamic/private ports");
        assert_eq!(IanaRange::System.label(), "system (well-known) ports");
        assert_eq!(
            serde_json::to_string(&IanaRange::User).ok().as_deref(),
            Some("\"user\"")
        );
    }

    #[test]
    fn defaults_table() {
        let linux = EPHEMERAL_DEFAULTS.iter().find(|d| d.os == "Linux");
        assert_eq!(linux.map(|d| d.range), Some((32768, 60999)));
        assert!(EPHEMERAL_DEFAULTS.iter().all(|d| d.range.0 < d.range.1));
        assert!(EPHEMERAL_NOTE.contains("32768-60999"));
    }
}
