//! The target grammar's tests: what is accepted and how it reads, what is refused and the
//! message, and properties (no panic on any bytes, `Display` parses back to the same target).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::error::Error;
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
        path: None,
    }
}

/// `addr` with a URL path.
fn url(host: &str, port: u16, scheme: &str, path: &str) -> Target {
    match addr(host, port, None, Some(scheme)) {
        Target::Addr {
            host,
            port,
            proto,
            scheme,
            ..
        } => Target::Addr {
            host,
            port,
            proto,
            scheme,
            path: Some(path.to_string()),
        },
        other => other,
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
            url("127.0.0.1", 62893, "http", "/path"),
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
        ("wss://localhost?x=1", url("localhost", 443, "wss", "/?x=1")),
        ("http://[::1]:8080/x", url("::1", 8080, "http", "/x")),
        ("https://[::1]", addr("::1", 443, None, Some("https"))),
        (
            "http://user:pw@host:81/a?b#c",
            url("host", 81, "http", "/a?b"),
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
        ("http://h:1/a b", "in its path"),
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
        (&long, "(65 characters) is too long for a process name"),
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
            "tcp/https://example.test:443/x",
        ),
        ("http://h:1/a?b=1#top", "http://h:1/a?b=1"),
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
                path: None,
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
