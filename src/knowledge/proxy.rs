//! Where an HTTP client sends a request when the environment names a proxy: each common
//! client's own reading of `http_proxy`, `HTTP_PROXY`, `https_proxy`, `all_proxy` and
//! `no_proxy`, because they differ, and a user's request goes where *their* client decides.
//!
//! What each client does (checked against curl 7.88, Python 3.11's urllib and requests 2.34
//! on this project's machines; Go from `golang.org/x/net/http/httpproxy`):
//! - **curl**: `http_proxy` (lowercase only: it ignores `HTTP_PROXY`), `https_proxy` or
//!   `HTTPS_PROXY`, else `all_proxy`/`ALL_PROXY`; `no_proxy` (else `NO_PROXY`) entries match
//!   the host as written in the URL, as the name itself or a domain containing it, and IP
//!   addresses or CIDR blocks; `*` alone matches everything. `localhost` does not cover
//!   `127.0.0.1`.
//! - **Python urllib**: `<scheme>_proxy` in any case, the lowercase one winning; no
//!   `all_proxy`; `no_proxy` entries are names or domain suffixes, no CIDR.
//! - **Python requests**: as urllib, plus `all_proxy`, and CIDR entries for IPv4 hosts.
//! - **Go** (`net/http`): `HTTP_PROXY` before `http_proxy`, never `all_proxy`, and never a
//!   proxy for `localhost` or a loopback address.
//!
//! Pure: the environment is handed in (`sys::environ` reads it).

use std::net::IpAddr;

use serde::Serialize;

/// An HTTP client whose proxy rules are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Client {
    /// curl and libcurl.
    Curl,
    /// Python's `urllib.request`.
    PythonUrllib,
    /// Python's `requests`.
    PythonRequests,
    /// Go's `net/http`.
    Go,
}

impl Client {
    /// Every client, in the order findings name them.
    pub const ALL: [Client; 4] = [
        Client::Curl,
        Client::PythonUrllib,
        Client::PythonRequests,
        Client::Go,
    ];

    /// The client's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Client::Curl => "curl",
            Client::PythonUrllib => "Python urllib",
            Client::PythonRequests => "Python requests",
            Client::Go => "Go net/http",
        }
    }
}

/// A client that would send the request to a proxy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    /// The client.
    pub client: Client,
    /// The variable it took the proxy from (`http_proxy`).
    pub variable: String,
    /// The proxy, with any user name and password replaced by `***`.
    pub proxy: String,
}

/// The clients that would send a request for `scheme://host/` to a proxy, given `env`. Only
/// `http` and `https` are judged; `host` is as written in the URL (a name, or an IP address
/// without brackets).
pub fn routes(env: &[(String, String)], scheme: &str, host: &str) -> Vec<Route> {
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Vec::new();
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Client::ALL
        .into_iter()
        .filter_map(|client| route(env, client, &scheme, host))
        .collect()
}

fn route(env: &[(String, String)], client: Client, scheme: &str, host: &str) -> Option<Route> {
    let var = |name: &str| {
        env.iter()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(k, v)| (k.clone(), v.trim().to_owned()))
    };
    let lower = format!("{scheme}_proxy");
    let upper = lower.to_ascii_uppercase();
    // CGI programs get HTTP_PROXY from a request header ("httpoxy"): clients ignore it there.
    let cgi = var("REQUEST_METHOD").is_some();
    let upper_ok = !(cgi && upper == "HTTP_PROXY");
    let (proxy, no_proxy) = match client {
        Client::Curl => {
            let proxy = if scheme == "http" {
                var(&lower)
            } else {
                var(&lower).or_else(|| var(&upper))
            };
            let proxy = proxy.or_else(|| var("all_proxy").or_else(|| var("ALL_PROXY")));
            (proxy, var("no_proxy").or_else(|| var("NO_PROXY")))
        }
        Client::PythonUrllib | Client::PythonRequests => {
            let mut proxy = var(&lower).or_else(|| var(&upper).filter(|_| upper_ok));
            if client == Client::PythonRequests {
                proxy = proxy.or_else(|| var("all_proxy").or_else(|| var("ALL_PROXY")));
            }
            (proxy, var("no_proxy").or_else(|| var("NO_PROXY")))
        }
        Client::Go => {
            if is_local(host) {
                return None;
            }
            let proxy = var(&upper).filter(|_| upper_ok).or_else(|| var(&lower));
            (proxy, var("NO_PROXY").or_else(|| var("no_proxy")))
        }
    };
    let (variable, proxy) = proxy?;
    let list = no_proxy.map(|(_, v)| v).unwrap_or_default();
    if bypassed(client, &list, host) {
        return None;
    }
    Some(Route {
        client,
        variable,
        proxy: redact(&proxy),
    })
}

/// Whether `host` is `localhost` or a loopback address (Go never proxies those).
fn is_local(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether `client` reads the `no_proxy` list `list` as covering `host`.
fn bypassed(client: Client, list: &str, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let ip = host.parse::<IpAddr>().ok();
    let mut entries = list
        .split([',', ' '])
        .map(str::trim)
        .filter(|e| !e.is_empty());
    entries.any(|entry| {
        let entry = entry.to_ascii_lowercase();
        if entry == "*" {
            return true;
        }
        if let (Some(ip), Some(block)) = (ip, cidr(&entry)) {
            let cidr_ok = match client {
                Client::Curl | Client::Go => true,
                Client::PythonRequests => ip.is_ipv4(),
                Client::PythonUrllib => false,
            };
            if cidr_ok && in_block(ip, block) {
                return true;
            }
        }
        // Otherwise a name (an address written out matches itself as text).
        let name = entry.trim_start_matches("*.").trim_start_matches('.');
        match client {
            // requests also tries a plain suffix of the host (no dot boundary).
            Client::PythonRequests if host.ends_with(name) => true,
            Client::Go if entry.starts_with('.') || entry.starts_with("*.") => {
                host.ends_with(&format!(".{name}"))
            }
            _ => host == name || host.ends_with(&format!(".{name}")),
        }
    })
}

/// `a.b.c.d/n`, `v6/n` or a bare address (a block of one).
fn cidr(entry: &str) -> Option<(IpAddr, u8)> {
    let (addr, bits) = match entry.split_once('/') {
        Some((a, b)) => (a, Some(b.parse::<u8>().ok()?)),
        None => (entry, None),
    };
    let ip: IpAddr = addr
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(max);
    (bits <= max).then_some((ip, bits))
}

fn in_block(ip: IpAddr, (net, bits): (IpAddr, u8)) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// A proxy URL without its credentials: `http://user:secret@p:3128` → `http://***@p:3128`.
pub fn redact(proxy: &str) -> String {
    let (scheme, rest) = match proxy.split_once("://") {
        Some((s, r)) => (format!("{s}://"), r),
        None => (String::new(), proxy),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}***{}", &rest[at..]),
        None => proxy.to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn who(pairs: &[(&str, &str)], scheme: &str, host: &str) -> Vec<Client> {
        routes(&env(pairs), scheme, host)
            .into_iter()
            .map(|r| r.client)
            .collect()
    }

    use Client::{Curl, Go, PythonRequests as Requests, PythonUrllib as Urllib};

    #[test]
    fn loopback_goes_to_the_proxy_except_in_go() {
        let e = [("http_proxy", "http://p:3128")];
        assert_eq!(who(&e, "http", "127.0.0.1"), [Curl, Urllib, Requests]);
        assert_eq!(who(&e, "http", "localhost"), [Curl, Urllib, Requests]);
        assert_eq!(who(&e, "http", "example.com"), [Curl, Urllib, Requests, Go]);
    }

    #[test]
    fn curl_ignores_uppercase_http_proxy() {
        let e = [("HTTP_PROXY", "http://p:3128")];
        assert_eq!(who(&e, "http", "10.0.0.1"), [Urllib, Requests, Go]);
        let e = [("HTTPS_PROXY", "http://p:3128")];
        assert_eq!(who(&e, "https", "10.0.0.1"), [Curl, Urllib, Requests, Go]);
    }

    #[test]
    fn all_proxy_is_curl_and_requests_only() {
        let e = [("ALL_PROXY", "socks5://p:1080")];
        assert_eq!(who(&e, "http", "127.0.0.1"), [Curl, Requests]);
    }

    #[test]
    fn no_proxy_is_matched_against_the_host_as_written() {
        let e = [("http_proxy", "http://p:3128"), ("no_proxy", "localhost")];
        assert_eq!(who(&e, "http", "localhost"), []);
        assert_eq!(who(&e, "http", "127.0.0.1"), [Curl, Urllib, Requests]);
        let e = [("http_proxy", "http://p:3128"), ("no_proxy", "127.0.0.0/8")];
        assert_eq!(who(&e, "http", "127.0.0.1"), [Urllib]);
        let e = [("http_proxy", "http://p:3128"), ("NO_PROXY", "127.0.0.1")];
        assert_eq!(who(&e, "http", "127.0.0.1"), []);
        let e = [("http_proxy", "http://p:3128"), ("NO_PROXY", "*")];
        assert_eq!(who(&e, "http", "127.0.0.1"), []);
        let e = [
            ("http_proxy", "http://p:3128"),
            ("no_proxy", ".corp.example"),
        ];
        assert_eq!(who(&e, "http", "api.corp.example"), []);
        assert_eq!(who(&e, "http", "corp.example"), [Go]);
    }

    #[test]
    fn cgi_ignores_http_proxy_from_the_request() {
        let e = [("HTTP_PROXY", "http://evil:1"), ("REQUEST_METHOD", "GET")];
        assert_eq!(who(&e, "http", "10.0.0.1"), []);
    }

    #[test]
    fn credentials_are_never_shown() {
        assert_eq!(redact("http://u:secret@p:3128/"), "http://***@p:3128/");
        assert_eq!(redact("p:3128"), "p:3128");
        let e = [("http_proxy", "http://u:secret@p:3128")];
        let r = routes(&env(&e), "http", "127.0.0.1");
        assert!(r.iter().all(|r| !r.proxy.contains("secret")), "{r:?}");
    }

    #[test]
    fn other_schemes_are_not_judged() {
        let e = [("all_proxy", "http://p:3128")];
        assert!(routes(&env(&e), "redis", "127.0.0.1").is_empty());
    }
}
