//! The grammar itself: from the text a user pasted to a [`Target`], trying the readings in the
//! order the module documentation gives, with a one-line bad-input error for every refusal.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{Host, Target, host_port};
use crate::error::{Error, Result};
use crate::model::Proto;

/// `Error::bad_input(format!(problem…), accepted)`.
macro_rules! bad {
    ($accepted:expr, $($problem:tt)+) => { Error::bad_input(format!($($problem)+), $accepted) };
}

/// `return Err(bad!(accepted, problem…))`.
macro_rules! bail {
    ($($args:tt)+) => { return Err(bad!($($args)+)) };
}

const ANY: &str = "expected a port (8080), HOST:PORT (127.0.0.1:8080, [::1]:8080, \
                   localhost:8080), a URL (http://localhost:3000), a range (3000-3010), pid:N, \
                   or a process name (1-64 characters of A-Z a-z 0-9 . _ + @ : -)";
/// [`ANY`] without the examples, after a problem that already takes a line's room.
const ANY_SHORT: &str = "expected a port, HOST:PORT, a URL, a range, pid:N or a process name, \
                         e.g. 8080, localhost:8080 or node";
const PORT_OK: &str = "expected a port from 1 to 65535, e.g. 8080";
const PORT_DIGITS: &str = "expected a port from 1 to 65535 written as plain digits, e.g. 8080";
const PROTO_OK: &str = "expected tcp or udp, e.g. 53/udp or tcp/8080";
const RANGE_OK: &str = "expected START-END with ports from 1 to 65535, e.g. 3000-3010";
const PID_OK: &str = "expected pid:N with N from 1 to 4294967295, e.g. pid:1234";
const URL_OK: &str = "expected e.g. http://127.0.0.1:8080/path";
const HOST_OK: &str = "expected a host name of letters, digits, '-' and '.' (at most 253 \
                       characters) or an IP address, e.g. localhost:8080";
const V4_OK: &str = "expected four numbers from 0 to 255, e.g. 127.0.0.1:8080";
const V6_OK: &str = "expected an IPv6 address in brackets with a port, e.g. [::1]:8080";
const TWICE_OK: &str = "write the protocol once, e.g. 53/udp or udp/53";
/// URL schemes with a default port.
const SCHEMES: [(&str, u16); 4] = [("http", 80), ("https", 443), ("ws", 80), ("wss", 443)];

/// Parse what a user typed as a target. See the module docs for how ambiguous text is read.
///
/// ```
/// use portscope::target::{self, Host, Target};
///
/// // An address from a debugger line: host, port, no protocol yet.
/// let t = target::parse("127.0.0.1:62893")?;
/// assert!(matches!(&t, Target::Addr { host: Host::Ip(ip), port: 62893, .. } if ip.is_loopback()));
/// assert_eq!(t.port_range(), Some((62893, 62893)));
///
/// // A URL pasted from a browser: the scheme's default port when none is given.
/// assert_eq!(target::parse("https://localhost/app")?.port_range(), Some((443, 443)));
///
/// // `ss`'s wildcard form, and a protocol suffix.
/// assert_eq!(target::parse("*:5353/udp")?.to_string(), "5353/udp");
///
/// // Bad input is one line saying what is accepted, never a panic.
/// let e = target::parse("65536").unwrap_err();
/// assert!(e.to_string().contains("expected a port"), "{e}");
/// # Ok::<(), portscope::error::Error>(())
/// ```
pub fn parse(input: &str) -> Result<Target> {
    let text = input.trim();
    if text.is_empty() {
        bail!(ANY, "empty target");
    }
    let (prefix, rest) = split_proto_prefix(text);
    if prefix.is_some() && split_proto_prefix(rest).0.is_some() {
        bail!(TWICE_OK, "{} gives more than one protocol", Q(text));
    }
    let (target, suffix) = parse_body(rest, text)?;
    if prefix.is_some() && suffix.is_some() {
        bail!(TWICE_OK, "{} gives more than one protocol", Q(text));
    }
    with_proto(target, prefix.or(suffix), text)
}

/// Parse one port, as flags that take a port want it: digits, 1 to 65535.
pub fn parse_port(input: &str) -> Result<u16> {
    match input.trim() {
        "" => Err(bad!(PORT_OK, "empty port")),
        text => port_in(text),
    }
}

/// Everything but a protocol prefix; returns the target and a protocol suffix, if any.
fn parse_body(text: &str, whole: &str) -> Result<(Target, Option<Proto>)> {
    if let Some(rest) = strip_prefix_ci(text, "pid:").filter(|r| !r.starts_with("//")) {
        return Ok((Target::Pid(parse_pid(rest.trim(), whole)?), None));
    }
    if text.contains("://") {
        return Ok((parse_url(text, whole)?, None));
    }
    let (suffix, rest) = split_proto_suffix(text, whole)?;
    if suffix.is_some() && rest.contains('/') {
        bail!(TWICE_OK, "{} gives more than one protocol or '/'", Q(whole));
    }
    if rest.is_empty() {
        bail!(ANY, "{} has no port", Q(whole));
    }
    Ok((parse_plain(rest)?, suffix))
}

fn with_proto(mut target: Target, proto: Option<Proto>, whole: &str) -> Result<Target> {
    match (&mut target, proto) {
        (Target::Port { proto: slot, .. }, _)
        | (Target::Addr { proto: slot, .. }, _)
        | (Target::Range { proto: slot, .. }, _) => *slot = proto,
        (Target::Pid(_) | Target::Process(_), None) => {}
        (Target::Pid(_) | Target::Process(_), Some(p)) => {
            let (p, w) = (p.as_str(), Q(whole));
            let fix = "expected e.g. 8080/tcp, 127.0.0.1:53/udp or 3000-3010/tcp";
            bail!(
                fix,
                "protocol {p} in {w} applies only to ports, addresses and ranges"
            )
        }
    }
    Ok(target)
}

/// `tcp/…`, `udp/…`, `tcp:…`, `udp:…` (any case; `tcp://` is a URL scheme, not a prefix).
fn split_proto_prefix(text: &str) -> (Option<Proto>, &str) {
    let Some((word, rest)) = text.split_once(['/', ':']) else {
        return (None, text);
    };
    let url = text.get(word.len()..).is_some_and(|r| r.starts_with("://"));
    match proto_word(word) {
        Some(proto) if !url => (Some(proto), rest),
        _ => (None, text),
    }
}

/// `…/tcp`, `…/udp`; rejects `80/sctp` and `sctp/80`. Other text with '/' is left for the
/// process-name check to reject.
fn split_proto_suffix<'a>(text: &'a str, whole: &str) -> Result<(Option<Proto>, &'a str)> {
    let Some((left, right)) = text.rsplit_once('/') else {
        return Ok((None, text));
    };
    if let Some(proto) = proto_word(right) {
        return Ok((Some(proto), left));
    }
    let word = |w: &str| (2..=8).contains(&w.len()) && w.bytes().all(|b| b.is_ascii_alphabetic());
    let digits = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit() || b == b'-');
    if word(right) && left.ends_with(|c: char| c.is_ascii_digit()) {
        bail!(PROTO_OK, "unknown protocol {} in {}", Q(right), Q(whole));
    }
    if word(left) && digits(right) {
        bail!(PROTO_OK, "unknown protocol {} in {}", Q(left), Q(whole));
    }
    Ok((None, text))
}

fn proto_word(word: &str) -> Option<Proto> {
    [Proto::Tcp, Proto::Udp]
        .into_iter()
        .find(|p| word.eq_ignore_ascii_case(p.as_str()))
}

/// Port, `:port`, range, address or process name, without protocol.
fn parse_plain(text: &str) -> Result<Target> {
    let digit = |b: u8| b.is_ascii_digit();
    let colon_rest = text.strip_prefix(':').or_else(|| text.strip_prefix("*:"));
    let port = if text.bytes().all(digit) {
        port_in(text)?
    } else if let Some(rest) = colon_rest.filter(|r| !r.contains(':')) {
        colon_port(rest, text)?
    } else if text.bytes().all(|b| digit(b) || b == b'-') && !text.starts_with('-') {
        return parse_range(text);
    } else if text
        .strip_prefix(['+', '-'])
        .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
    {
        bail!(PORT_DIGITS, "{} is not a valid port", Q(text));
    } else if text.eq_ignore_ascii_case("localhost") {
        bail!("expected e.g. localhost:8080", "{} needs a port", Q(text));
    } else if address_like(text) {
        return parse_addr(text);
    } else {
        return parse_process(text);
    };
    Ok(Target::Port { port, proto: None })
}

/// Whether text with no scheme is meant as an address rather than a process name.
fn address_like(text: &str) -> bool {
    if text.contains('/') {
        return false;
    }
    if text.starts_with('[') || dotted_numeric(text) || text.parse::<Ipv6Addr>().is_ok() {
        return true;
    }
    match text.split_once(':') {
        None => false,
        Some((host, port)) if !port.contains(':') => {
            port.bytes().all(|b| b.is_ascii_digit())
                || dotted_numeric(host)
                || host.eq_ignore_ascii_case("localhost")
        }
        Some(_) => text.contains("::") || text.rsplit_once(':').is_some_and(|(h, _)| is_v6(h)),
    }
}

fn dotted_numeric(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

fn is_v6(text: &str) -> bool {
    text.parse::<Ipv6Addr>().is_ok()
}

fn parse_addr(text: &str) -> Result<Target> {
    match parse_authority(text)? {
        (host, Some(port)) => Ok(Target::Addr {
            host,
            port,
            proto: None,
            scheme: None,
            path: None,
        }),
        (host, None) => {
            let fix = format!("expected e.g. {}", host_port(&host, 8080));
            Err(bad!(fix, "address {} needs a port", Q(text)))
        }
    }
}

/// `HOST`, `HOST:PORT`, `[V6]`, `[V6]:PORT`; the port is `None` when there is no ':'.
fn parse_authority(text: &str) -> Result<(Host, Option<u16>)> {
    let Some(inner) = text.strip_prefix('[') else {
        return match text.split_once(':') {
            None => Ok((parse_host(text, text)?, None)),
            Some((host, port)) if !port.contains(':') => {
                Ok((parse_host(host, text)?, Some(colon_port(port, text)?)))
            }
            Some(_) => Err(unbracketed_v6(text)),
        };
    };
    let Some((addr, after)) = inner.split_once(']') else {
        bail!(V6_OK, "unclosed '[' in {}", Q(text));
    };
    let ip = parse_v6(addr, text)?;
    let port = match after.strip_prefix(':') {
        Some(p) => Some(colon_port(p, text)?),
        None if after.is_empty() => None,
        None => bail!(V6_OK, "unexpected {} after ']' in {}", Q(after), Q(text)),
    };
    Ok((Host::Ip(IpAddr::V6(ip)), port))
}

fn parse_v6(addr: &str, whole: &str) -> Result<Ipv6Addr> {
    if let Some((ip, zone)) = addr.split_once('%') {
        let fix = match is_v6(ip) {
            true => format!("write {}", Q(&whole.replacen(&format!("%{zone}"), "", 1))),
            false => V6_OK.to_string(),
        };
        bail!(fix, "zone id {} in {} is not supported", Q(zone), Q(whole));
    }
    let (a, w) = (Q(addr), Q(whole));
    addr.parse()
        .map_err(|_| bad!(V6_OK, "{a} in {w} is not a valid IPv6 address"))
}

fn unbracketed_v6(text: &str) -> Error {
    let split = text
        .rsplit_once(':')
        .filter(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|(h, p)| Some((h.parse::<Ipv6Addr>().ok()?, p)));
    match (split, text.parse::<Ipv6Addr>()) {
        (Some((ip, port)), whole) => {
            let also = whole.map_or(String::new(), |w| format!(" (or [{w}]:PORT)"));
            let fix = format!("write [{ip}]:{port}{also}");
            bad!(fix, "IPv6 address in {} needs brackets", Q(text))
        }
        (None, Ok(ip)) => {
            let fix = format!("expected it in brackets with a port, e.g. [{ip}]:8080");
            bad!(fix, "address {} needs a port", Q(text))
        }
        (None, Err(_)) => bad!(V6_OK, "{} is not a valid address", Q(text)),
    }
}

fn parse_host(host: &str, whole: &str) -> Result<Host> {
    let bad_char = |c: &char| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.');
    let bad_label = |l: &str| l.is_empty() || l.len() > 63 || l.starts_with('-');
    let why = if host.is_empty() {
        bail!(HOST_OK, "missing host in {}", Q(whole));
    } else if dotted_numeric(host) {
        return parse_v4(host).map(|ip| Host::Ip(IpAddr::V4(ip)));
    } else if host.len() > 253 {
        "it is longer than 253 characters".to_string()
    } else if let Some(c) = host.chars().find(bad_char) {
        format!("{c:?} is not allowed")
    } else if host.split('.').any(bad_label) {
        "each dot-separated part needs 1-63 characters, not starting with '-'".to_string()
    } else {
        return Ok(Host::Name(host.to_ascii_lowercase()));
    };
    Err(bad!(HOST_OK, "{} is not a valid host name: {why}", Q(host)))
}

/// A dotted-numeric host; says which part is wrong when it is not an IPv4 address.
fn parse_v4(host: &str) -> Result<Ipv4Addr> {
    if let Ok(ip) = host.parse() {
        return Ok(ip);
    }
    let parts: Vec<&str> = host.split('.').collect();
    let too_big = |p: &&&str| p.len() > 3 || p.parse::<u16>().is_ok_and(|n| n > 255);
    let why = if parts.len() != 4 {
        format!("it has {} parts, not 4", parts.len())
    } else if let Some(p) = parts.iter().find(|p| p.is_empty()) {
        format!("part {} is empty", Q(p))
    } else if let Some(p) = parts.iter().find(too_big) {
        format!("{} is greater than 255", Q(p))
    } else if let Some(p) = parts.iter().find(|p| p.len() > 1 && p.starts_with('0')) {
        format!("{} has a leading zero", Q(p))
    } else {
        "it is malformed".to_string()
    };
    let host = Q(host);
    Err(bad!(V4_OK, "{host} is not a valid IPv4 address: {why}"))
}

/// The port after a ':' (`text` is the whole address, for the message).
fn colon_port(port: &str, text: &str) -> Result<u16> {
    if port.is_empty() {
        let text = Q(text);
        bail!(
            "expected e.g. 127.0.0.1:8080",
            "missing port after ':' in {text}"
        );
    }
    port_in(port)
}

/// A port written as digits (leading zeros allowed), 1 to 65535.
fn port_in(text: &str) -> Result<u16> {
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        bail!(PORT_DIGITS, "{} is not a valid port", Q(text));
    }
    port_value(text).ok_or_else(|| bad!(PORT_OK, "port {} is out of range", Q(text)))
}

/// Digits (leading zeros allowed) to a port 1 to 65535; `None` otherwise.
fn port_value(text: &str) -> Option<u16> {
    let digits = text.trim_start_matches('0');
    let ok = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && digits.len() <= 5;
    digits.parse::<u16>().ok().filter(|p| ok && *p >= 1)
}

fn parse_range(text: &str) -> Result<Target> {
    let parts = text
        .split_once('-')
        .filter(|(a, b)| !a.is_empty() && !b.contains('-'));
    let Some((a, b)) = parts.filter(|(_, b)| !b.is_empty()) else {
        bail!(RANGE_OK, "{} is not a valid range", Q(text));
    };
    let range = Q(text);
    let end_of = |p| {
        port_value(p)
            .ok_or_else(|| bad!(RANGE_OK, "port {} in range {range} is out of range", Q(p)))
    };
    let (start, end) = (end_of(a)?, end_of(b)?);
    if start > end {
        let fix = format!("write it as {end}-{start}");
        bail!(fix, "range start is greater than end in {}", Q(text));
    }
    Ok(Target::Range {
        start,
        end,
        proto: None,
    })
}

fn parse_pid(text: &str, whole: &str) -> Result<u32> {
    let problem = if text.is_empty() {
        "has no process id"
    } else if !text.bytes().all(|b| b.is_ascii_digit()) {
        "has an invalid process id"
    } else {
        match text.trim_start_matches('0') {
            "" => "has pid 0, which is not a process",
            digits => match digits.parse::<u32>() {
                Ok(pid) => return Ok(pid),
                Err(_) => "has a process id that is too large",
            },
        }
    };
    Err(bad!(PID_OK, "{} {problem}", Q(whole)))
}

/// `SCHEME://[USER@]HOST[:PORT][/PATH][?QUERY][#FRAGMENT]`.
fn parse_url(text: &str, whole: &str) -> Result<Target> {
    let (scheme, rest) = text.split_once("://").unwrap_or((text, ""));
    let scheme_char = |b: u8| b.is_ascii_alphanumeric() || b"+.-".contains(&b);
    if !scheme.starts_with(|c: char| c.is_ascii_alphabetic()) || !scheme.bytes().all(scheme_char) {
        let (s, w) = (Q(scheme), Q(whole));
        bail!(URL_OK, "{s} in {w} is not a valid URL scheme");
    }
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let path = url_path(rest.get(authority.len()..).unwrap_or_default(), whole)?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.is_empty() {
        bail!(URL_OK, "URL {} has no host", Q(whole));
    }
    let (host, port) = parse_authority(host_port)?;
    let default = SCHEMES.iter().find(|(s, _)| *s == scheme).map(|(_, p)| *p);
    let Some(port) = port.or(default) else {
        let (w, s) = (Q(whole), Q(&scheme));
        let fix = "add the port (SCHEME://HOST:PORT) or use http, https, ws or wss";
        bail!(fix, "URL {w} has no port and scheme {s} has no default");
    };
    Ok(Target::Addr {
        host,
        port,
        proto: None,
        scheme: Some(scheme),
        path,
    })
}

/// The path and query a client requests (`after` is what follows the authority): `None` for
/// `/` or nothing, the fragment dropped (clients never send it). Whitespace and control
/// characters cannot be sent in a request line.
fn url_path(after: &str, whole: &str) -> Result<Option<String>> {
    let path = after.split('#').next().unwrap_or_default();
    if let Some(c) = path.chars().find(|c| c.is_whitespace() || c.is_control()) {
        bail!(
            URL_OK,
            "URL {} has {c:?} in its path; encode it (a space is %20)",
            Q(whole)
        );
    }
    Ok(match path {
        "" | "/" => None,
        p if p.starts_with('?') => Some(format!("/{p}")),
        p => Some(p.to_string()),
    })
}

fn parse_process(text: &str) -> Result<Target> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._+@:-".contains(c);
    let len = text.chars().count();
    if len > 64 {
        // Q says how long it is; the short list keeps a 100 KB argument's line short.
        let q = Q(text);
        bail!(
            ANY_SHORT,
            "{q} is too long for a process name (at most 64 characters)"
        );
    }
    let why = if let Some(c) = text.chars().find(|c| !allowed(*c)) {
        format!("{c:?} is not allowed in a process name")
    } else if text.starts_with('-') {
        "a process name cannot start with '-'".to_string()
    } else {
        return Ok(Target::Process(text.to_string()));
    };
    Err(bad!(ANY, "{} is not a valid target: {why}", Q(text)))
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

/// User text quoted for a one-line message: control and other unprintable characters are
/// escaped (`"\n"`, `"\u{7f}"`) and text past 48 characters is cut.
struct Q<'a>(&'a str);

impl fmt::Display for Q<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 48;
        match self.0.char_indices().nth(SHOWN) {
            None => write!(f, "{:?}", self.0),
            Some((cut, _)) => {
                let head = self.0.get(..cut).unwrap_or_default();
                write!(f, "{head:?}… ({} characters)", self.0.chars().count())
            }
        }
    }
}
