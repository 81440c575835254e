//! A project's `ports.toml`: the ports its services use, parsed and validated into plain
//! data. Finding the file and reading it is here too; what the ports collide with is
//! `commands::project`'s business.
//!
//! The format:
//!
//! ```toml
//! [project]
//! name = "shop"          # optional; default: the directory holding ports.toml
//!
//! [services.web]
//! port = 3000            # a fixed port
//!
//! [services.api]
//! port = 8000
//! proto = "tcp"          # tcp (default) or udp
//! host = "127.0.0.1"     # optional: the address it binds
//!
//! [services.worker-metrics]
//! # no port: `portscope env` reserves one in the registry as "shop/worker-metrics"
//! ```
//!
//! Unknown keys and bad values are rejected with the file, the line and what is accepted.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::{Error, Result};
use crate::model::Proto;

/// The file name looked for in the current directory and its parents.
pub const FILE_NAME: &str = "ports.toml";

/// What the format accepts, in one line (the second half of every parse error).
const ACCEPTED: &str = "ports.toml takes an optional [project] table with name = \"NAME\", and \
    one [services.NAME] table per service with optional port = 1-65535, proto = \"tcp\" or \
    \"udp\", host = \"IP address\" (see `portscope check-config --help`)";

/// Longest project name: with `/` and the longest service name it stays within a
/// reservation name's 128 characters.
const MAX_PROJECT: usize = 64;
/// Longest service name.
const MAX_SERVICE: usize = 63;

/// A parsed, valid `ports.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    /// The project's name: `[project] name`, else the directory's name made valid.
    pub name: String,
    /// The file it was read from.
    pub file: PathBuf,
    /// The project directory: the one holding the file.
    pub dir: PathBuf,
    /// The services, in the order the file declares them.
    pub services: Vec<Service>,
}

/// One `[services.NAME]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    /// The name: letters, digits, `-` and `_`, starting with a letter.
    pub name: String,
    /// The declared port; `None` = reserve one in the registry.
    pub port: Option<u16>,
    /// `tcp` (default) or `udp`.
    pub proto: Proto,
    /// The address it binds, when declared.
    pub host: Option<IpAddr>,
    /// The line of its `[services.NAME]` header in the file.
    pub line: usize,
}

impl Service {
    /// The environment variable `env` prints for it: `worker-metrics` → `WORKER_METRICS_PORT`.
    pub fn env_var(&self) -> String {
        env_var(&self.name)
    }
}

impl Project {
    /// The registry name of a service's reservation: `<project>/<service>`.
    pub fn reservation_name(&self, service: &str) -> String {
        format!("{}/{service}", self.name)
    }

    /// The service a registry name of this project refers to (`shop/web` → `web`), if the
    /// name has this project's prefix.
    pub fn service_of<'a>(&self, reservation: &'a str) -> Option<&'a str> {
        reservation
            .strip_prefix(self.name.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
    }
}

/// The variable name for a service name: upper-cased, `-` → `_`, then `_PORT`.
pub fn env_var(service: &str) -> String {
    let mut var: String = service
        .chars()
        .map(|c| match c {
            '-' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    var.push_str("_PORT");
    var
}

/// Whether two services binding `a` and `b` (`None` = not declared, so possibly every
/// address) on the same port would clash: the same address, `0.0.0.0` and any IPv4
/// address, `::` and anything (dual-stack); IPv4-mapped IPv6 addresses count as IPv4.
pub fn overlaps(a: Option<IpAddr>, b: Option<IpAddr>) -> bool {
    let canon = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    let wildcard_over = |w: IpAddr, other: IpAddr| match w {
        // The IPv6 wildcard is dual-stack unless bindv6only is set: assume the clash.
        IpAddr::V6(v6) => v6.is_unspecified(),
        IpAddr::V4(v4) => v4.is_unspecified() && other.is_ipv4(),
    };
    match (a.map(canon), b.map(canon)) {
        (Some(a), Some(b)) => a == b || wildcard_over(a, b) || wildcard_over(b, a),
        _ => true,
    }
}

/// Where something binds: what [`clashes`] compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    /// The port.
    pub port: u16,
    /// The protocol.
    pub proto: Proto,
    /// The address, when known.
    pub host: Option<IpAddr>,
}

/// Groups of indexes into `bindings` that clash: same port and protocol, overlapping
/// addresses. Each group lists, ascending, every binding that clashes with another of the
/// group's port and protocol; groups are ordered by their first index.
pub fn clashes(bindings: &[Binding]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut seen = vec![false; bindings.len()];
    for (i, a) in bindings.iter().enumerate() {
        if seen[i] {
            continue;
        }
        let same: Vec<usize> = (i..bindings.len())
            .filter(|&j| bindings[j].port == a.port && bindings[j].proto == a.proto)
            .collect();
        for &j in &same {
            seen[j] = true;
        }
        let group: Vec<usize> = same
            .iter()
            .copied()
            .filter(|&j| {
                same.iter()
                    .any(|&k| k != j && overlaps(bindings[j].host, bindings[k].host))
            })
            .collect();
        if group.len() > 1 {
            groups.push(group);
        }
    }
    groups
}

/// The project file to use: `config` when given (a directory means its `ports.toml`),
/// else `ports.toml` in `start` or its nearest parent.
pub fn locate(config: Option<&Path>, start: &Path) -> Result<PathBuf> {
    if let Some(given) = config {
        let path = if given.is_dir() {
            given.join(FILE_NAME)
        } else {
            given.to_path_buf()
        };
        return Ok(path);
    }
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            Error::bad_input(
                match start.parent() {
                    Some(_) => format!(
                        "no {FILE_NAME} in {} or any directory above it",
                        start.display()
                    ),
                    None => format!("no {FILE_NAME} in {}", start.display()),
                },
                format!(
                    "run portscope in the project (or a directory below it), create {FILE_NAME} there \
                     (format: `portscope check-config --help`), or pass --config FILE"
                ),
            )
        })
}

/// Read and parse the project file at `path` (the project directory is its directory,
/// with symbolic links resolved).
pub fn load(path: &Path) -> Result<Project> {
    let unreadable = |e: std::io::Error| {
        Error::bad_input(
            format!("cannot read the project file {}: {e}", path.display()),
            format!(
                "pass --config FILE naming a readable {FILE_NAME}, or run portscope where one is"
            ),
        )
    };
    let file = std::fs::canonicalize(path).map_err(unreadable)?;
    let bytes = std::fs::read(&file).map_err(unreadable)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = line_of(e.as_bytes(), e.utf8_error().valid_up_to());
        Error::bad_input(
            format!("{} line {line}: not UTF-8 text", file.display()),
            ACCEPTED,
        )
    })?;
    let dir = file.parent().unwrap_or(Path::new("/")).to_path_buf();
    parse(&text, &file, &dir)
}

/// Parse the text of a project file. `file` names it in errors; `dir` is the project
/// directory (its name is the default project name). Pure: reads nothing.
pub fn parse(text: &str, file: &Path, dir: &Path) -> Result<Project> {
    let at = |span: std::ops::Range<usize>, problem: &str| {
        Error::bad_input(
            format!(
                "{} line {}: {problem}",
                file.display(),
                line_of(text.as_bytes(), span.start)
            ),
            ACCEPTED,
        )
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        at(span, e.message())
    })?;
    let name = match raw.project.and_then(|p| p.name) {
        Some(name) => {
            let span = name.span();
            let name = name.into_inner();
            check_project_name(&name).map_err(|why| at(span, &why))?;
            name
        }
        None => default_name(dir).ok_or_else(|| {
            Error::bad_input(
                format!(
                    "{}: the directory {} gives no usable project name",
                    file.display(),
                    dir.display()
                ),
                "add [project] name = \"NAME\" (letters, digits, . - _) to ports.toml",
            )
        })?,
    };
    let mut services: Vec<(usize, Service)> = Vec::with_capacity(raw.services.0.len());
    for (key, table) in raw.services.0 {
        let span = key.span();
        let service_name = key.into_inner();
        check_service_name(&service_name).map_err(|why| at(span.clone(), &why))?;
        let table_span = table.span();
        let raw = table.into_inner();
        services.push((
            table_span.start,
            Service {
                name: service_name,
                port: raw.port.map(|p| p.0),
                proto: raw.proto.map_or(Proto::Tcp, RawProto::proto),
                host: raw.host.map(|h| h.0),
                line: line_of(text.as_bytes(), table_span.start),
            },
        ));
    }
    // toml hands tables over sorted by name; the file's order is what people wrote.
    services.sort_by_key(|(start, _)| *start);
    let services: Vec<Service> = services.into_iter().map(|(_, s)| s).collect();
    check_env_vars(&services, file)?;
    Ok(Project {
        name,
        file: file.to_path_buf(),
        dir: dir.to_path_buf(),
        services,
    })
}

/// The 1-based line holding byte `offset` of `text`.
fn line_of(text: &[u8], offset: usize) -> usize {
    let end = offset.min(text.len());
    text[..end].iter().filter(|&&b| b == b'\n').count() + 1
}

fn check_service_name(name: &str) -> std::result::Result<(), String> {
    let ok = name.len() <= MAX_SERVICE
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        return Ok(());
    }
    Err(format!(
        "service name \"{}\" is not valid: use 1-{MAX_SERVICE} letters, digits, - and _, \
         starting with a letter (it becomes an environment variable name)",
        name.escape_debug()
    ))
}

fn check_project_name(name: &str) -> std::result::Result<(), String> {
    if valid_project_name(name) {
        return Ok(());
    }
    Err(format!(
        "project name \"{}\" is not valid: use 1-{MAX_PROJECT} letters, digits, . - and _, \
         starting with a letter or digit",
        name.escape_debug()
    ))
}

fn valid_project_name(name: &str) -> bool {
    name.len() <= MAX_PROJECT
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
}

/// The directory's name made a valid project name: other characters become `-`, leading
/// non-alphanumerics are dropped. `None` when nothing is left (`/`, a name of symbols).
fn default_name(dir: &Path) -> Option<String> {
    let raw = dir.file_name()?.to_string_lossy();
    let mapped: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = mapped.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    let name: String = trimmed.chars().take(MAX_PROJECT).collect();
    valid_project_name(&name).then_some(name)
}

/// Two services whose variables would be the same (`web-api` and `web_api`, `Web` and `web`).
fn check_env_vars(services: &[Service], file: &Path) -> Result<()> {
    for (i, a) in services.iter().enumerate() {
        if let Some(b) = services[..i].iter().find(|b| b.env_var() == a.env_var()) {
            return Err(Error::bad_input(
                format!(
                    "{} line {}: services {} (line {}) and {} both become {}",
                    file.display(),
                    a.line,
                    b.name,
                    b.line,
                    a.name,
                    a.env_var()
                ),
                "rename one: service names are upper-cased and - becomes _ in `portscope env`",
            ));
        }
    }
    Ok(())
}

/// The file as written, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    project: Option<RawProject>,
    #[serde(default)]
    services: RawServices,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProject {
    name: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    port: Option<Port>,
    proto: Option<RawProto>,
    host: Option<Host>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawProto {
    Tcp,
    Udp,
}

impl RawProto {
    fn proto(self) -> Proto {
        match self {
            RawProto::Tcp => Proto::Tcp,
            RawProto::Udp => Proto::Udp,
        }
    }
}

/// `[services.*]` with each name's span, in any order (the caller restores the file's).
#[derive(Debug, Default)]
struct RawServices(Vec<(Spanned<String>, Spanned<RawService>)>);

impl<'de> Deserialize<'de> for RawServices {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Tables;
        impl<'de> Visitor<'de> for Tables {
            type Value = RawServices;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("[services.NAME] tables")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<RawServices, A::Error> {
                let mut all = Vec::new();
                while let Some(name) = map.next_key::<Spanned<String>>()? {
                    all.push((name, map.next_value()?));
                }
                Ok(RawServices(all))
            }
        }
        d.deserialize_map(Tables)
    }
}

/// `port = N`, 1-65535, with a message that says so.
#[derive(Debug)]
struct Port(u16);

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Number;
        impl Visitor<'_> for Number {
            type Value = Port;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a port number 1-65535")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Port, E> {
                match u16::try_from(v) {
                    Ok(p) if p > 0 => Ok(Port(p)),
                    _ => Err(E::custom(format!(
                        "port {v} is out of range: a port is 1-65535 (leave port out to get one reserved)"
                    ))),
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Port, E> {
                self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Port, E> {
                Err(E::custom(format!(
                    "port \"{}\" is a string: write the number without quotes, e.g. port = 3000",
                    v.escape_debug()
                )))
            }
        }
        d.deserialize_any(Number)
    }
}

/// `host = "ADDR"`: an IP address.
#[derive(Debug)]
struct Host(IpAddr);

impl<'de> Deserialize<'de> for Host {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let trimmed = text.trim_start_matches('[').trim_end_matches(']');
        trimmed.parse().map(Host).map_err(|_| {
            de::Error::custom(format!(
                "host \"{}\" is not an IP address: write one such as \"127.0.0.1\", \"::1\" or \"0.0.0.0\"",
                text.escape_debug()
            ))
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
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
        let p = parse_ok(include_str!("../examples/ports.toml"));
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
}
