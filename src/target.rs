//! Parse every way a user writes a target: `8080`, `:8080`, `udp/53`, `127.0.0.1:8080`,
//! `[::1]:8080`, `http://localhost:3000/x`, `3000-3010`, `pid:1234`, `node`.
//!
//! Commands take "what to look at" as text pasted from logs, browsers, `ss` and `lsof`. This
//! module turns that text into one typed [`Target`], so no command re-parses strings and there is
//! one place that decides what ambiguous text means. Parsing is a pure function; every rejection
//! is a one-line [`Error::BadInput`] that quotes the input (control characters escaped) and says
//! what is accepted. [`Target`]'s `Display` is canonical: `parse(&t.to_string())` gives back `t`.
//!
//! How ambiguous text is read, in this order:
//! - `tcp/…`, `udp/…`, `tcp:…`, `udp:…`, `…/tcp`, `…/udp` set the protocol (once); `pid:N` is a pid;
//! - `SCHEME://…` is a URL (user info, path, query ignored; a URL alone sets no protocol);
//! - all digits is a port (numbers too big are port errors, never process names); `:N` and `*:N`
//!   (as `ss` prints wildcard binds) are ports too; `A-B` of digits is a range;
//! - `localhost`, a bare IP and `HOST:` are errors asking for the port; `HOST:DIGITS` is an
//!   address; IPv6 must be bracketed (`[::1]:80`); zone ids (`%eth0`) are rejected;
//! - anything else of 1-64 characters from `A-Z a-z 0-9 . _ + @ : -` (not starting with `-`) is a
//!   process name, so `php-fpm8.2`, `my.app`, `foo:bar` and `8080x` are process names.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Serialize, Serializer};

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

/// The host part of an address target. Serialises as a plain string (`"::1"`, `"localhost"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Host {
    /// A literal IPv4 or IPv6 address.
    Ip(IpAddr),
    /// A host name such as `localhost` or `my-host.local`, lower-cased.
    Name(String),
}

impl fmt::Display for Host {
    /// The address or name, without brackets or port.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Name(name) => f.write_str(name),
        }
    }
}

/// What the user asked about, as [`parse`] understood it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// One port on any address: `8080`, `:8080`, `*:8080`, `8080/tcp`, `udp/53`.
    Port {
        /// The port, 1 to 65535.
        port: u16,
        /// The protocol, when the user gave one.
        proto: Option<Proto>,
    },
    /// One host and port: `127.0.0.1:8080`, `[::1]:8080`, `localhost:3000/udp`, or a URL
    /// (`https://example.test` is port 443).
    Addr {
        /// The address or host name.
        host: Host,
        /// The port, 1 to 65535 (the scheme's default when a URL gives none).
        port: u16,
        /// The protocol, when the user gave one (a URL alone gives none).
        proto: Option<Proto>,
        /// The lower-cased URL scheme (`http`, `wss`…) when the target was written as a URL.
        scheme: Option<String>,
    },
    /// A port range, both ends included: `3000-3010`, `3000-3010/udp`.
    Range {
        /// First port, 1 to 65535, at most `end`.
        start: u16,
        /// Last port, 1 to 65535.
        end: u16,
        /// The protocol, when the user gave one.
        proto: Option<Proto>,
    },
    /// A process id: `pid:1234` (serialised as `{"kind":"pid","pid":1234}`).
    #[serde(serialize_with = "serialize_pid")]
    Pid(u32),
    /// A process name: `node`, `php-fpm8.2` (serialised as `{"kind":"process","name":"node"}`).
    #[serde(serialize_with = "serialize_process")]
    Process(String),
}

fn serialize_pid<S: Serializer>(pid: &u32, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Pid {
        pid: u32,
    }
    Pid { pid: *pid }.serialize(s)
}

fn serialize_process<S: Serializer>(name: &str, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Process<'a> {
        name: &'a str,
    }
    Process { name }.serialize(s)
}

impl Target {
    /// The ports this target covers: `(p, p)` for a port or address, `(start, end)` for a
    /// range, `None` for a pid or process name.
    pub fn port_range(&self) -> Option<(u16, u16)> {
        match self {
            Target::Port { port, .. } | Target::Addr { port, .. } => Some((*port, *port)),
            Target::Range { start, end, .. } => Some((*start, *end)),
            Target::Pid(_) | Target::Process(_) => None,
        }
    }

    /// The protocol the user asked for, if any.
    pub fn proto(&self) -> Option<Proto> {
        match self {
            Target::Port { proto, .. }
            | Target::Addr { proto, .. }
            | Target::Range { proto, .. } => *proto,
            Target::Pid(_) | Target::Process(_) => None,
        }
    }
}

impl fmt::Display for Target {
    /// Canonical text: `8080/tcp`, `[::1]:53/udp`, `tcp/https://example.test:443`, `3000-3010`,
    /// `pid:1234`, `node`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Port { port, .. } => write!(f, "{port}")?,
            Target::Addr {
                host,
                port,
                proto,
                scheme: Some(scheme),
            } => {
                if let Some(p) = proto {
                    write!(f, "{}/", p.as_str())?;
                }
                return write!(f, "{scheme}://{}", host_port(host, port));
            }
            Target::Addr { host, port, .. } => f.write_str(&host_port(host, port))?,
            Target::Range { start, end, .. } => write!(f, "{start}-{end}")?,
            Target::Pid(pid) => return write!(f, "pid:{pid}"),
            Target::Process(name) => return f.write_str(name),
        }
        match self.proto() {
            Some(p) => write!(f, "/{}", p.as_str()),
            None => Ok(()),
        }
    }
}

/// `HOST:PORT`, with IPv6 addresses in brackets.
fn host_port(host: &Host, port: impl fmt::Display) -> String {
    match host {
        Host::Ip(IpAddr::V6(ip)) => format!("[{ip}]:{port}"),
        other => format!("{other}:{port}"),
    }
}

const ANY: &str = "expected a port (8080), HOST:PORT (127.0.0.1:8080, [::1]:8080, \
                   localhost:8080), a URL (http://localhost:3000), a range (3000-3010), pid:N, \
                   or a process name (1-64 characters of A-Z a-z 0-9 . _ + @ : -)";
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
    })
}

fn parse_process(text: &str) -> Result<Target> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._+@:-".contains(c);
    let len = text.chars().count();
    let why = if len > 64 {
        format!("it is {len} characters long; process names have at most 64")
    } else if let Some(c) = text.chars().find(|c| !allowed(*c)) {
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn port(port: u16, proto: Option<Proto>) -> Target {
        Target::Port { port, proto }
    }

    fn addr(host: &str, port: u16, proto: Option<Proto>, scheme: Option<&str>) -> Target {
        let host = match host.parse::<IpAddr>() {
            Ok(ip) => Host::Ip(ip),
            Err(_) => Host::Name(host.to_string()),
        };
        Target::Addr {
            host,
            port,
            proto,
            scheme: scheme.map(str::to_string),
        }
    }

    fn range(start: u16, end: u16, proto: Option<Proto>) -> Target {
        Target::Range { start, end, proto }
    }

    const TCP: Option<Proto> = Some(Proto::Tcp);
    const UDP: Option<Proto> = Some(Proto::Udp);

    #[test]
    fn accepts() {
        let name64 = "a".repeat(64);
        let cases: Vec<(&str, Target)> = vec![
            ("62893", port(62893, None)),
            ("  62893\t", port(62893, None)),
            (":62893", port(62893, None)),
            ("*:8080", port(8080, None)),
            ("0080", port(80, None)),
            ("1", port(1, None)),
            ("65535", port(65535, None)),
            ("62893/tcp", port(62893, TCP)),
            ("53/UDP", port(53, UDP)),
            ("udp/53", port(53, UDP)),
            ("TCP/53", port(53, TCP)),
            ("tcp:53", port(53, TCP)),
            ("udp::53", port(53, UDP)),
            ("127.0.0.1:62893", addr("127.0.0.1", 62893, None, None)),
            ("0.0.0.0:80", addr("0.0.0.0", 80, None, None)),
            ("localhost:62893", addr("localhost", 62893, None, None)),
            ("LocalHost:3000", addr("localhost", 3000, None, None)),
            ("my-host.local:80", addr("my-host.local", 80, None, None)),
            ("[::1]:62893", addr("::1", 62893, None, None)),
            (
                "[::ffff:10.0.0.1]:22",
                addr("::ffff:10.0.0.1", 22, None, None),
            ),
            ("127.0.0.1:53/udp", addr("127.0.0.1", 53, UDP, None)),
            ("udp/127.0.0.1:53", addr("127.0.0.1", 53, UDP, None)),
            ("[::1]:53/tcp", addr("::1", 53, TCP, None)),
            ("tcp/localhost:5432", addr("localhost", 5432, TCP, None)),
            (
                "http://127.0.0.1:62893/path",
                addr("127.0.0.1", 62893, None, Some("http")),
            ),
            (
                "https://example.test",
                addr("example.test", 443, None, Some("https")),
            ),
            (
                "HTTP://Example.Test/",
                addr("example.test", 80, None, Some("http")),
            ),
            ("ws://localhost", addr("localhost", 80, None, Some("ws"))),
            (
                "wss://localhost?x=1",
                addr("localhost", 443, None, Some("wss")),
            ),
            ("http://[::1]:8080/x", addr("::1", 8080, None, Some("http"))),
            ("https://[::1]", addr("::1", 443, None, Some("https"))),
            (
                "http://user:pw@host:81/a?b#c",
                addr("host", 81, None, Some("http")),
            ),
            ("http://a@b@host#frag", addr("host", 80, None, Some("http"))),
            (
                "redis://127.0.0.1:6379",
                addr("127.0.0.1", 6379, None, Some("redis")),
            ),
            ("tcp/http://h:1", addr("h", 1, TCP, Some("http"))),
            ("tcp://h:1", addr("h", 1, None, Some("tcp"))),
            ("3000-3010", range(3000, 3010, None)),
            ("3000-3000", range(3000, 3000, None)),
            ("1-65535/udp", range(1, 65535, UDP)),
            ("tcp/3000-3010", range(3000, 3010, TCP)),
            ("pid:1234", Target::Pid(1234)),
            ("PID: 42", Target::Pid(42)),
            ("pid:4294967295", Target::Pid(u32::MAX)),
            ("node", Target::Process("node".into())),
            ("python3", Target::Process("python3".into())),
            ("lg007", Target::Process("lg007".into())),
            ("nginx-worker", Target::Process("nginx-worker".into())),
            ("php-fpm8.2", Target::Process("php-fpm8.2".into())),
            ("Web_Content", Target::Process("Web_Content".into())),
            ("g++", Target::Process("g++".into())),
            ("user@host", Target::Process("user@host".into())),
            ("foo:bar", Target::Process("foo:bar".into())),
            ("8080x", Target::Process("8080x".into())),
            ("tcp", Target::Process("tcp".into())),
            ("pid", Target::Process("pid".into())),
            (&name64, Target::Process(name64.clone())),
        ];
        for (input, want) in cases {
            assert_eq!(
                parse(input).ok(),
                Some(want),
                "input {input:?}: {:?}",
                parse(input)
            );
        }
    }

    #[test]
    fn rejects() {
        let long = "a".repeat(65);
        let long_host = format!("{}:80", ["a"; 130].join("."));
        let cases: &[(&str, &str)] = &[
            ("", "empty target"),
            ("   \t", "empty target"),
            ("0", "out of range"),
            (
                "65536",
                "port \"65536\" is out of range; expected a port from 1 to 65535",
            ),
            ("99999999999", "out of range"),
            ("00000", "out of range"),
            ("-1", "not a valid port"),
            ("+80", "not a valid port"),
            (":", "missing port after ':'"),
            (":0", "out of range"),
            (":x", "not a valid port"),
            (
                "80/sctp",
                "unknown protocol \"sctp\" in \"80/sctp\"; expected tcp or udp",
            ),
            ("sctp/80", "unknown protocol \"sctp\""),
            ("unix/80", "unknown protocol"),
            ("127.0.0.1:53/icmp", "unknown protocol"),
            ("tcp/", "has no port"),
            ("/udp", "has no port"),
            ("tcp/80/udp", "more than one protocol"),
            ("tcp/udp/80", "more than one protocol"),
            ("80/tcp/tcp", "more than one protocol"),
            ("tcp/node", "applies only to ports"),
            ("udp/pid:3", "applies only to ports"),
            ("300.1.1.1:80", "\"300\" is greater than 255"),
            ("1.2.3:80", "not a valid IPv4 address"),
            ("1..2.3:80", "is empty"),
            ("01.2.3.4:80", "leading zero"),
            ("123:80", "not a valid IPv4 address"),
            ("1.2", "not a valid IPv4 address"),
            ("127.0.0.1", "needs a port"),
            ("[::1]", "needs a port"),
            (
                "::1",
                "needs a port; expected it in brackets with a port, e.g. [::1]:8080",
            ),
            ("fe80::1", "needs a port"),
            ("localhost", "needs a port; expected e.g. localhost:8080"),
            ("127.0.0.1:", "missing port after ':'"),
            ("127.0.0.1:x", "not a valid port"),
            ("localhost:http", "not a valid port"),
            ("node:", "missing port after ':'"),
            ("127.0.0.1:65536", "out of range"),
            ("[::1", "unclosed '['"),
            ("[::1]80", "after ']'"),
            ("[::1]:", "missing port after ':'"),
            ("[zz]:80", "not a valid IPv6 address"),
            ("[127.0.0.1]:80", "not a valid IPv6 address"),
            (
                "[fe80::1%eth0]:80",
                "zone id \"eth0\" in \"[fe80::1%eth0]:80\" is not supported; write \"[fe80::1]:80\"",
            ),
            ("::1:80", "write [::1]:80"),
            ("1:2:3:4:5:6:7:8:80", "needs brackets"),
            ("my_host:80", "not a valid host name"),
            ("a..b:80", "not a valid host name"),
            ("-a:80", "not a valid host name"),
            (&long_host, "longer than 253"),
            ("http://", "has no host"),
            ("http://:80", "missing host"),
            ("http://user@/x", "has no host"),
            ("http://h:0", "out of range"),
            ("http://h:/", "missing port after ':'"),
            ("http://::1/", "in brackets with a port"),
            ("http://::1:80/", "write [::1]:80"),
            ("ftp://h", "no default; add the port"),
            ("1x://h:80", "not a valid URL scheme"),
            ("://h:80", "not a valid URL scheme"),
            ("3010-3000", "range start is greater than end"),
            ("0-10", "port \"0\" in range \"0-10\" is out of range"),
            ("3000-70000", "out of range"),
            ("3000-", "not a valid range"),
            ("1-2-3", "not a valid range"),
            ("-3000", "not a valid port"),
            ("pid:", "has no process id"),
            ("pid:abc", "invalid process id"),
            ("pid:-1", "invalid process id"),
            ("pid:0", "pid 0"),
            ("pid:4294967296", "too large"),
            ("node js", "' ' is not allowed"),
            ("/usr/bin/node", "'/' is not allowed"),
            ("kworker/0:1", "'/' is not allowed"),
            ("nodé", "'é' is not allowed"),
            ("a\u{7}b", "'\\u{7}' is not allowed"),
            ("-node", "cannot start with '-'"),
            (&long, "65 characters long"),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .filter_map(|(input, want)| match parse(input) {
                Err(Error::BadInput { problem, accepted }) => {
                    let msg = format!("{problem}; {accepted}");
                    (!msg.contains(want)).then(|| format!("{input:?}: {msg:?} lacks {want:?}"))
                }
                other => Some(format!("{input:?}: {other:?}")),
            })
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn messages_escape_and_cut_user_text() {
        let msg = parse("a\nb\u{1b}[31m c").unwrap_err().to_string();
        assert!(msg.contains(r#""a\nb\u{1b}[31m c""#), "{msg}");
        let msg = parse(&format!("x {}", "y".repeat(1000)))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("… (1002 characters)") && msg.len() < 400,
            "{msg}"
        );
    }

    #[test]
    fn parse_port_flag() {
        assert_eq!(parse_port(" 8080 ").unwrap(), 8080);
        assert_eq!(parse_port("0443").unwrap(), 443);
        for (bad, want) in [
            ("0", "out of range"),
            ("65536", "out of range"),
            ("", "empty port"),
        ] {
            assert!(
                parse_port(bad).unwrap_err().to_string().contains(want),
                "{bad}"
            );
        }
        for bad in [":80", "80/tcp", "-1", "+1", "8o"] {
            assert!(
                parse_port(bad)
                    .unwrap_err()
                    .to_string()
                    .contains("not a valid port")
            );
        }
    }

    #[test]
    fn helpers() {
        assert_eq!(parse("53/udp").unwrap().port_range(), Some((53, 53)));
        assert_eq!(parse("[::1]:9").unwrap().port_range(), Some((9, 9)));
        assert_eq!(parse("3-7").unwrap().port_range(), Some((3, 7)));
        assert_eq!(parse("pid:3").unwrap().port_range(), None);
        assert_eq!(parse("node").unwrap().port_range(), None);
        assert_eq!(parse("udp/1-2").unwrap().proto(), UDP);
        assert_eq!(parse("tcp/[::1]:2").unwrap().proto(), TCP);
        assert_eq!(parse("http://h").unwrap().proto(), None);
        assert_eq!(parse("node").unwrap().proto(), None);
    }

    #[test]
    fn display_is_canonical() {
        for (input, shown) in [
            ("0080/TCP", "80/tcp"),
            ("udp/53", "53/udp"),
            ("*:22", "22"),
            ("LOCALHOST:1", "localhost:1"),
            ("[0:0::1]:5", "[::1]:5"),
            (
                "tcp/HTTPS://u@Example.test/x",
                "tcp/https://example.test:443",
            ),
            ("3000-3010/udp", "3000-3010/udp"),
            ("pid:007", "pid:7"),
            ("node", "node"),
        ] {
            let t = parse(input).unwrap();
            assert_eq!(t.to_string(), shown);
            assert_eq!(parse(shown).unwrap(), t);
        }
        assert_eq!(Host::Ip("::1".parse().unwrap()).to_string(), "::1");
    }

    #[test]
    fn serialises_with_kind_tag() {
        let json = |s: &str| serde_json::to_string(&parse(s).unwrap()).unwrap();
        assert_eq!(json("80/tcp"), r#"{"kind":"port","port":80,"proto":"tcp"}"#);
        assert_eq!(
            json("http://[::1]:8080"),
            r#"{"kind":"addr","host":"::1","port":8080,"proto":null,"scheme":"http"}"#
        );
        assert_eq!(
            json("localhost:1/udp"),
            r#"{"kind":"addr","host":"localhost","port":1,"proto":"udp","scheme":null}"#
        );
        assert_eq!(
            json("1-2"),
            r#"{"kind":"range","start":1,"end":2,"proto":null}"#
        );
        assert_eq!(json("pid:12"), r#"{"kind":"pid","pid":12}"#);
        assert_eq!(json("node"), r#"{"kind":"process","name":"node"}"#);
    }

    fn proto() -> impl Strategy<Value = Option<Proto>> {
        prop_oneof![Just(None), Just(TCP), Just(UDP)]
    }

    fn host() -> impl Strategy<Value = Host> {
        prop_oneof![
            any::<[u8; 4]>().prop_map(|b| Host::Ip(IpAddr::from(b))),
            any::<[u16; 8]>().prop_map(|w| Host::Ip(IpAddr::from(w))),
            "[a-z][a-z0-9-]{0,12}(\\.[a-z0-9][a-z0-9-]{0,12}){0,3}".prop_map(Host::Name),
        ]
    }

    /// Process names `parse` must accept as such (no ':' — `a:1` is an address).
    fn process_name() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_][A-Za-z0-9._+@-]{0,63}".prop_filter("reads as port, range or IP", |n| {
            !n.bytes().all(|b| b.is_ascii_digit() || b"-.".contains(&b))
                && !n.eq_ignore_ascii_case("localhost")
        })
    }

    fn target() -> impl Strategy<Value = Target> {
        let scheme = prop_oneof![Just(None), "[a-z][a-z0-9+.-]{0,8}".prop_map(Some)];
        prop_oneof![
            (1u16.., proto()).prop_map(|(port, proto)| Target::Port { port, proto }),
            (host(), 1u16.., proto(), scheme).prop_map(|(host, port, proto, scheme)| {
                Target::Addr {
                    host,
                    port,
                    proto,
                    scheme,
                }
            }),
            (1u16.., 1u16.., proto()).prop_map(|(a, b, proto)| range(a.min(b), a.max(b), proto)),
            (1u32..).prop_map(Target::Pid),
            process_name().prop_map(Target::Process),
        ]
    }

    /// Text shaped like targets, so that a good share of it parses.
    fn target_like() -> impl Strategy<Value = String> {
        "((tcp|UDP)[/:])?([a-z]{1,5}://([a-z]{1,3}@)?)?(\\[[0-9a-f:.%]{0,12}\\]?|[0-9.]{1,16}|[a-zA-Z0-9._-]{1,12}|\\*)?(:[0-9]{0,6})?(-[0-9]{1,6})?(/[a-zA-Z]{0,4})?"
    }

    fn check_message(input: &str) {
        if let Err(e) = parse(input) {
            let msg = e.to_string();
            assert!(
                !msg.chars()
                    .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
            );
            assert!(msg.contains("; expected") || msg.contains("; write") || msg.contains("; add"));
        }
        let _ = parse_port(input);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn valid_targets_round_trip(t in target()) {
            prop_assert_eq!(parse(&t.to_string()).ok(), Some(t));
        }

        #[test]
        fn process_names_are_processes(name in process_name()) {
            prop_assert_eq!(parse(&name).ok(), Some(Target::Process(name)));
        }

        #[test]
        fn parsed_text_round_trips(s in target_like()) {
            check_message(&s);
            if let Ok(t) = parse(&s) {
                prop_assert_eq!(parse(&t.to_string()).ok(), Some(t));
            }
        }

        #[test]
        fn any_string_never_panics(s in ".*") {
            check_message(&s);
        }

        #[test]
        fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            check_message(&String::from_utf8_lossy(&bytes));
        }
    }
}
