//! The system's own service names, from `/etc/services` (Debian's `netbase`): what `ss`,
//! `netstat` and `getservbyport` print, so portscope says `http` for 80 where the IANA registry
//! says `www-http`. Read once per listing with a size bound; a missing, unreadable or
//! oversized file leaves the embedded IANA registry ([`crate::knowledge::iana`]) to answer.

use std::path::Path;
use std::sync::Arc;

use crate::model::Proto;

/// Where the system keeps them.
pub const SERVICES_PATH: &str = "/etc/services";

/// More than this is not a services file (Debian's is about 13 KB).
const MAX_BYTES: u64 = 1 << 20;

/// Service names by port and protocol, as the system names them.
#[derive(Debug, Default, Clone)]
pub struct Services {
    /// Looked up once per row of a listing: hashed with foldhash, not SipHash.
    names: foldhash::HashMap<(u16, Proto), Arc<str>>,
}

impl Services {
    /// The name of `port`/`proto`; `None` when the file does not list it.
    pub fn name(&self, port: u16, proto: Proto) -> Option<Arc<str>> {
        self.names.get(&(port, proto)).cloned()
    }

    /// How many port/protocol pairs are named.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when nothing is named (no file, or an empty one).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// The system's services file, or an empty table when it cannot be read within the bound.
pub fn read() -> Services {
    read_from(Path::new(SERVICES_PATH))
}

/// [`read`] for another file.
pub fn read_from(path: &Path) -> Services {
    super::bounded::read_bounded(path, MAX_BYTES)
        .map(|bytes| parse(&String::from_utf8_lossy(&bytes)))
        .unwrap_or_default()
}

/// Parse `services(5)` text: `name port/proto [aliases…] [# comment]`. The first line for a
/// port and protocol wins, as `getservbyport` answers; other protocols (sctp, ddp) are skipped.
pub fn parse(text: &str) -> Services {
    let mut names = foldhash::HashMap::default();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut fields = line.split_whitespace();
        let (Some(name), Some(port_proto)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Some((port, proto)) = port_proto.split_once('/') else {
            continue;
        };
        let proto = match proto {
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            _ => continue,
        };
        let Ok(port) = port.parse::<u16>() else {
            continue;
        };
        names
            .entry((port, proto))
            .or_insert_with(|| Arc::from(name));
    }
    Services { names }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN: &str = "\
# Network services, Internet style
tcpmux\t\t1/tcp\t\t\t\t# TCP port service multiplexer
http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP
domain\t\t53/tcp\t\t\t\t# Domain Name Server
domain\t\t53/udp
sctp-only\t9/sctp
bad line
noport\t\tx/tcp
https\t\t443/tcp
https\t\t443/udp\t\t\t\t# HTTP/3
http-again\t80/tcp
";

    #[test]
    fn parses_names_by_port_and_protocol() {
        let s = parse(DEBIAN);
        assert_eq!(
            s.name(80, Proto::Tcp).as_deref(),
            Some("http"),
            "first wins"
        );
        assert_eq!(s.name(53, Proto::Udp).as_deref(), Some("domain"));
        assert_eq!(s.name(443, Proto::Udp).as_deref(), Some("https"));
        assert_eq!(s.name(80, Proto::Udp), None);
        assert_eq!(s.name(9, Proto::Tcp), None, "sctp is not tcp");
        assert_eq!(s.len(), 6);
    }

    #[test]
    fn a_missing_file_names_nothing() {
        assert!(read_from(Path::new("/nonexistent/services")).is_empty());
    }
}
