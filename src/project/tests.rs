//! The project file's tests: what it accepts, every rejection with its line and what is
//! accepted, default names, clashes, and the shipped example file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::file::*;
use super::*;

fn parse_ok(text: &str) -> Project {
    parse(text, Path::new("/p/shop/ports.toml"), Path::new("/p/shop")).unwrap()
}

fn parse_err(text: &str) -> String {
    parse(text, Path::new("/p/shop/ports.toml"), Path::new("/p/shop"))
        .unwrap_err()
        .to_string()
}

const GOOD: &str = r#"# ports.toml
[project]
name = "shop"

[services.web]
port = 3000

[services.api]
port = 8000
proto = "tcp"
host = "127.0.0.1"

[services.worker-metrics]

[services.dns]
port = 5353
proto = "udp"
host = "::1"
"#;

#[test]
fn good_file_in_file_order() {
    let p = parse_ok(GOOD);
    assert_eq!(p.name, "shop");
    assert_eq!(p.dir, Path::new("/p/shop"));
    let names: Vec<_> = p.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["web", "api", "worker-metrics", "dns"]);
    let api = &p.services[1];
    assert_eq!(api.port, Some(8000));
    assert_eq!(api.proto, Proto::Tcp);
    assert_eq!(api.host, Some("127.0.0.1".parse().unwrap()));
    assert_eq!(api.line, 8);
    assert_eq!(p.services[2].port, None);
    assert_eq!(p.services[3].proto, Proto::Udp);
    assert_eq!(p.reservation_name("worker-metrics"), "shop/worker-metrics");
    assert_eq!(p.service_of("shop/web"), Some("web"));
    assert_eq!(p.service_of("shopping/web"), None);
    assert_eq!(p.service_of("other"), None);
}

#[test]
fn default_project_name_is_the_directory() {
    let p = parse(
        "[services.web]\nport = 1\n",
        Path::new("/x/ports.toml"),
        Path::new("/x/My App"),
    )
    .unwrap();
    assert_eq!(p.name, "My-App");
    assert_eq!(parse_ok("").services.len(), 0);
    assert_eq!(parse_ok("").name, "shop");
    assert_eq!(default_name(Path::new("/")), None);
    assert_eq!(
        default_name(Path::new("/x/.config")).as_deref(),
        Some("config")
    );
    assert_eq!(default_name(Path::new("/x/@@")), None);
}

#[test]
fn unknown_key_names_file_and_line() {
    let err = parse_err("[services.web]\nport = 3000\n\n[services.api]\nprot = \"tcp\"\n");
    assert!(
        err.starts_with("/p/shop/ports.toml line 5: unknown field `prot`"),
        "{err}"
    );
    assert!(err.contains("`port`, `proto`, `host`"), "{err}");
    assert!(err.contains("[services.NAME]"), "{err}");
    let err = parse_err("[service.web]\nport = 1\n");
    assert!(err.contains("line 1: unknown field `service`"), "{err}");
    let err = parse_err("[project]\nname = \"x\"\nowner = \"me\"\n");
    assert!(err.contains("line 3: unknown field `owner`"), "{err}");
}

#[test]
fn bad_values_name_the_line() {
    for (text, line, what) in [
        (
            "[services.web]\n\nport = 70000\n",
            3,
            "port 70000 is out of range",
        ),
        ("[services.web]\nport = 0\n", 2, "port 0 is out of range"),
        ("[services.web]\nport = -1\n", 2, "port -1 is out of range"),
        ("[services.web]\nport = \"3000\"\n", 2, "is a string"),
        ("[services.web]\nport = 3.5\n", 2, "a port number 1-65535"),
        (
            "[services.web]\nproto = \"sctp\"\n",
            2,
            "unknown variant `sctp`",
        ),
        (
            "[services.web]\nhost = \"localhost\"\n",
            2,
            "not an IP address",
        ),
        (
            "\n[services.\"a b\"]\n",
            2,
            "service name \"a b\" is not valid",
        ),
        ("[services.9web]\n", 1, "service name \"9web\" is not valid"),
        (
            "[project]\nname = \"a/b\"\n",
            2,
            "project name \"a/b\" is not valid",
        ),
        (
            "[services.web]\nport = 1\n[services.web]\n",
            3,
            "duplicate key",
        ),
        ("[services.web\n", 1, "unclosed table"),
        ("[services]\nweb = 3000\n", 2, "invalid type"),
    ] {
        let err = parse_err(text);
        assert!(
            err.starts_with(&format!("/p/shop/ports.toml line {line}: ")) && err.contains(what),
            "{text:?}: {err}"
        );
    }
}

#[test]
fn the_documented_example_parses() {
    let p = parse_ok(include_str!("../../examples/ports.toml"));
    let vars: Vec<_> = p.services.iter().map(Service::env_var).collect();
    assert_eq!(
        vars,
        ["WEB_PORT", "API_PORT", "MDNS_PORT", "WORKER_METRICS_PORT"]
    );
    assert_eq!(p.services[3].port, None);
}

#[test]
fn bracketed_ipv6_host() {
    let p = parse_ok("[services.a]\nhost = \"[::1]\"\n");
    assert_eq!(p.services[0].host, Some("::1".parse().unwrap()));
}

#[test]
fn name_mangling() {
    assert_eq!(env_var("web"), "WEB_PORT");
    assert_eq!(env_var("worker-metrics"), "WORKER_METRICS_PORT");
    assert_eq!(env_var("api_v2"), "API_V2_PORT");
    let err = parse_err("[services.web-api]\n[services.web_api]\n");
    assert!(
        err.contains("line 2: services web-api (line 1) and web_api both become WEB_API_PORT"),
        "{err}"
    );
    let err = parse_err("[services.Web]\n[services.web]\n");
    assert!(err.contains("both become WEB_PORT"), "{err}");
}

#[test]
fn duplicate_detection() {
    let b = |port, proto, host: Option<&str>| Binding {
        port,
        proto,
        host: host.map(|h| h.parse().unwrap()),
    };
    let list = [
        b(3000, Proto::Tcp, None),
        b(8000, Proto::Tcp, None),
        b(3000, Proto::Tcp, Some("127.0.0.1")),
        b(3000, Proto::Udp, None),
        b(9000, Proto::Tcp, Some("127.0.0.1")),
        b(9000, Proto::Tcp, Some("127.0.0.2")),
        b(9100, Proto::Tcp, Some("::ffff:127.0.0.1")),
        b(9100, Proto::Tcp, Some("127.0.0.1")),
        b(9200, Proto::Tcp, Some("0.0.0.0")),
        b(9200, Proto::Tcp, Some("::1")),
        b(9300, Proto::Tcp, Some("::")),
        b(9300, Proto::Tcp, Some("127.0.0.1")),
        b(9400, Proto::Tcp, Some("0.0.0.0")),
        b(9400, Proto::Tcp, Some("127.0.0.3")),
    ];
    assert_eq!(
        clashes(&list),
        vec![vec![0, 2], vec![6, 7], vec![10, 11], vec![12, 13]]
    );
    assert!(clashes(&list[..2]).is_empty());
}

#[test]
fn clashes_counted_agree_with_every_pair_compared() {
    let hosts: Vec<Option<IpAddr>> = [
        None,
        Some("0.0.0.0"),
        Some("::"),
        Some("::ffff:0.0.0.0"),
        Some("127.0.0.1"),
        Some("::ffff:127.0.0.1"),
        Some("127.0.0.2"),
        Some("::1"),
    ]
    .iter()
    .map(|h| h.map(|h| h.parse().unwrap()))
    .collect();
    let choices: Vec<Binding> = hosts
        .iter()
        .flat_map(|&host| {
            [1, 2].map(|port| Binding {
                port,
                proto: Proto::Tcp,
                host,
            })
        })
        .collect();
    // The definition: per port and protocol (in first-seen order), every binding that
    // overlaps another.
    let pairwise = |list: &[Binding]| -> Vec<Vec<usize>> {
        let mut firsts: Vec<u16> = Vec::new();
        for b in list {
            if !firsts.contains(&b.port) {
                firsts.push(b.port);
            }
        }
        firsts
            .iter()
            .map(|&port| {
                (0..list.len())
                    .filter(|&j| {
                        list[j].port == port
                            && (0..list.len()).any(|k| {
                                k != j
                                    && list[k].port == port
                                    && overlaps(list[j].host, list[k].host)
                            })
                    })
                    .collect::<Vec<usize>>()
            })
            .filter(|g| g.len() > 1)
            .collect()
    };
    let n = choices.len();
    for a in 0..n {
        for b in 0..n {
            for c in 0..n {
                let list = [choices[a], choices[b], choices[c]];
                assert_eq!(clashes(&list), pairwise(&list), "{list:?}");
            }
        }
    }
}
