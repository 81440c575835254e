//! Reading the file's text: TOML into the raw shapes serde fills, then checks (names, ports,
//! hosts, duplicate variables) with the file, the line and what is accepted in every error.
//! Every check is linear in the number of services: a file of 20,000 parses in well under a
//! second.

use std::collections::HashMap;

use super::*;

/// Parse the text of a project file. `file` names it in errors; `dir` is the project
/// directory (its name is the default project name). Pure: reads nothing.
pub fn parse(text: &str, file: &Path, dir: &Path) -> Result<Project> {
    let lines = Lines::of(text.as_bytes());
    let at = |span: std::ops::Range<usize>, problem: &str| {
        Error::bad_input(
            format!(
                "{} line {}: {problem}",
                file.display(),
                lines.line_of(span.start)
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
                line: lines.line_of(table_span.start),
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

pub(super) fn check_service_name(name: &str) -> std::result::Result<(), String> {
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

pub(super) fn check_project_name(name: &str) -> std::result::Result<(), String> {
    if valid_project_name(name) {
        return Ok(());
    }
    Err(format!(
        "project name \"{}\" is not valid: use 1-{MAX_PROJECT} letters, digits, . - and _, \
         starting with a letter or digit",
        name.escape_debug()
    ))
}

pub(super) fn valid_project_name(name: &str) -> bool {
    name.len() <= MAX_PROJECT
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
}

/// The directory's name made a valid project name: other characters become `-`, leading
/// non-alphanumerics are dropped. `None` when nothing is left (`/`, a name of symbols).
pub(super) fn default_name(dir: &Path) -> Option<String> {
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
/// One map from variable to the first service that has it: linear (it compared each service
/// with every one before it, and 20,000 services took minutes).
pub(super) fn check_env_vars(services: &[Service], file: &Path) -> Result<()> {
    let mut first: HashMap<String, &Service> = HashMap::with_capacity(services.len());
    for a in services {
        let var = a.env_var();
        if let Some(b) = first.get(&var) {
            return Err(Error::bad_input(
                format!(
                    "{} line {}: services {} (line {}) and {} both become {var}",
                    file.display(),
                    a.line,
                    b.name,
                    b.line,
                    a.name,
                ),
                "rename one: service names are upper-cased and - becomes _ in `portscope env`",
            ));
        }
        first.insert(var, a);
    }
    Ok(())
}

/// The file as written, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    project: Option<RawProject>,
    #[serde(default)]
    services: RawServices,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProject {
    name: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawService {
    port: Option<Port>,
    proto: Option<RawProto>,
    host: Option<Host>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum RawProto {
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
pub(super) struct RawServices(Vec<(Spanned<String>, Spanned<RawService>)>);

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
pub(super) struct Port(u16);

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
pub(super) struct Host(IpAddr);

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
