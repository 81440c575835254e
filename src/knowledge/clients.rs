//! Which addresses common clients dial for a host name, and so whether each would connect.
//! Clients differ: curl (which also maps `localhost` to both loopback addresses itself),
//! browsers, Go and Node.js ≥ 20 race the families (Happy Eyeballs, RFC 8305) and take the
//! first that connects; Python, wget and most C programs try the resolver's addresses one
//! after the other; Node.js 17–19 (and any client that takes `getaddrinfo`'s first answer)
//! dials only the first. With a name whose addresses do not all serve, some of them fail.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

/// One family of clients, and what it would do here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientView {
    /// Who behaves this way.
    pub clients: &'static str,
    /// The same, short, for a sentence (`curl and browsers`).
    #[serde(skip)]
    pub short: &'static str,
    /// How they pick addresses.
    pub how: &'static str,
    /// The addresses they would try, in order.
    pub dials: Vec<IpAddr>,
    /// The address they would connect to, if any would.
    pub reaches: Option<IpAddr>,
}

/// The address families of clients for a name whose resolver answer is `order` (the system
/// resolver's order); `connects` says whether an address accepted. `localhost` is special
/// to curl and browsers: both loopback addresses, whatever `/etc/hosts` says (RFC 6761).
pub fn views(name: &str, order: &[IpAddr], connects: impl Fn(IpAddr) -> bool) -> Vec<ClientView> {
    let racing = as_curl_dials(name, order);
    let first_ok = |dials: &[IpAddr]| dials.iter().copied().find(|ip| connects(*ip));
    let first: Vec<IpAddr> = order.iter().copied().take(1).collect();
    vec![
        ClientView {
            clients: "curl, browsers, Go, Node.js ≥ 20",
            short: "curl and browsers",
            how: "both families raced (Happy Eyeballs); localhost is both loopback addresses",
            reaches: first_ok(&racing),
            dials: racing,
        },
        ClientView {
            clients: "Python, wget, most C programs",
            short: "Python",
            how: "each address of the resolver's answer in turn",
            reaches: first_ok(order),
            dials: order.to_vec(),
        },
        ClientView {
            clients: "Node.js 17–19, clients that take the first address",
            short: "Node.js 17–19",
            how: "the resolver's first address only",
            reaches: first_ok(&first),
            dials: first,
        },
    ]
}

impl ClientView {
    /// `curl and browsers: dial 127.0.0.1:5173, then [::1]:5173 → reach [::1]:5173`, with
    /// `failed` after the arrow when they reach nothing.
    pub fn sentence(&self, port: u16, failed: &str) -> String {
        let at = |ip: IpAddr| std::net::SocketAddr::new(ip, port).to_string();
        let dials: Vec<String> = self.dials.iter().map(|ip| at(*ip)).collect();
        let result = self
            .reaches
            .map_or_else(|| failed.to_string(), |ip| format!("reach {}", at(ip)));
        format!("{}: dial {} → {result}", self.short, dials.join(", then "))
    }
}

/// Whether clients part ways: some reach the server and some do not.
pub fn part_ways(views: &[ClientView]) -> bool {
    let reach = views.iter().filter(|c| c.reaches.is_some()).count();
    reach > 0 && reach < views.len()
}

/// The addresses curl and browsers dial for `name`: the resolver's answer `order`, and for
/// `localhost` whichever of `127.0.0.1` and `::1` it lacks (RFC 6761: both are localhost).
pub fn as_curl_dials(name: &str, order: &[IpAddr]) -> Vec<IpAddr> {
    let mut dials = order.to_vec();
    if name.eq_ignore_ascii_case("localhost") {
        for lo in [
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ] {
            if !dials.contains(&lo) {
                dials.push(lo);
            }
        }
    }
    dials
}

#[cfg(test)]
mod tests {
    use super::*;

    const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
    const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

    #[test]
    fn clients_part_ways_on_localhost() {
        // /etc/hosts says 127.0.0.1 only; the server is on ::1.
        let v = views("localhost", &[V4], |ip| ip == V6);
        assert_eq!(v[0].reaches, Some(V6), "curl and browsers use ::1 anyway");
        assert_eq!(v[1].reaches, None, "Python tries 127.0.0.1 only");
        assert_eq!(v[2].reaches, None);
        // Resolver says ::1 first; the server is on 127.0.0.1.
        let v = views("localhost", &[V6, V4], |ip| ip == V4);
        assert_eq!(v[0].reaches, Some(V4));
        assert_eq!(v[1].reaches, Some(V4));
        assert_eq!(v[2].reaches, None, "Node 17 dials ::1 only");
        // Another name gets no loopback added.
        let v = views("app.test", &[V4], |ip| ip == V6);
        assert_eq!(v[0].dials, vec![V4]);
        assert!(v.iter().all(|c| c.reaches.is_none()));
    }
}
