//! The audit's allowlist, `portscope-audit.toml`: findings someone looked at and accepted,
//! each with the reason. Parsed strictly — an unknown key, a missing reason or a rule name
//! that names no rule is an error with the file and the line, never a silent no-match.
//!
//! ```toml
//! [[allow]]
//! rule = "AUD-EXPOSED-DATASTORE"   # optional; a code, or a prefix ending in * (AUD-EXPOSED-*)
//! port = 6379                      # optional
//! process = "redis-server"         # optional: the process name (comm) as `portscope ls` shows it
//! address = "0.0.0.0"              # optional: the listening address, or a unix socket's path
//! reason = "lab box, firewalled at the edge"   # required
//! ```
//!
//! An entry matches a finding when every field it gives matches; it must give at least one.
//! The file is read only when it is a regular file of at most [`MAX_FILE_BYTES`].

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::AuditFinding;
use super::catalog;
use crate::error::{Error, Result};
use crate::sys::bounded::{read_regular_bounded, size_text};
use crate::text::Lines;

/// The file name looked for in the current directory.
pub const FILE_NAME: &str = "portscope-audit.toml";

/// The largest allowlist read (1 MiB: thousands of entries); a bigger one is refused before
/// a byte of it is read.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// What the format accepts, in one line (the second half of every parse error).
const ACCEPTED: &str = "portscope-audit.toml holds [[allow]] entries with reason = \"WHY\" \
    (required) and at least one of rule = \"AUD-CODE\" (or a prefix ending in *), \
    port = N, process = \"NAME\", address = \"ADDR\"";

/// A parsed allowlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowlist {
    /// The file it was read from.
    pub path: PathBuf,
    /// Its entries, in file order.
    pub entries: Vec<Entry>,
}

/// One `[[allow]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// A rule code, or a prefix ending in `*`.
    pub rule: Option<String>,
    /// The port.
    pub port: Option<u16>,
    /// The process name.
    pub process: Option<String>,
    /// The address (or unix socket path).
    pub address: Option<String>,
    /// Why the finding is accepted.
    pub reason: String,
    /// The line of its `[[allow]]` header.
    pub line: usize,
}

impl Entry {
    /// Whether every field this entry gives matches the finding.
    pub fn matches(&self, f: &AuditFinding) -> bool {
        let s = &f.subject;
        self.rule
            .as_deref()
            .is_none_or(|r| rule_matches(r, f.finding.code))
            && self.port.is_none_or(|p| s.port == Some(p))
            && self
                .process
                .as_deref()
                .is_none_or(|p| s.process.as_deref() == Some(p))
            && self
                .address
                .as_deref()
                .is_none_or(|a| s.address.as_deref() == Some(a))
    }
}

/// `AUD-EXPOSED-*` matches every code with that prefix; anything else must be equal.
fn rule_matches(pattern: &str, code: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => code.starts_with(prefix),
        None => pattern == code,
    }
}

impl Allowlist {
    /// The reason of the first entry that accepts this finding.
    pub fn reason_for(&self, f: &AuditFinding) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.matches(f))
            .map(|e| e.reason.as_str())
    }

    /// Read and parse the file at `path`: a regular file of at most [`MAX_FILE_BYTES`].
    pub fn load(path: &Path) -> Result<Allowlist> {
        let bytes = read_regular_bounded(path, MAX_FILE_BYTES).map_err(|e| {
            Error::unreadable_file(
                "the allowlist",
                path,
                &e,
                format!(
                    "pass --allowlist FILE naming a readable portscope-audit.toml, a regular file \
                     of at most {}",
                    size_text(MAX_FILE_BYTES)
                ),
            )
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let line = Lines::of(e.as_bytes()).line_of(e.utf8_error().valid_up_to());
            Error::bad_input(
                format!("{} line {line}: not UTF-8 text", path.display()),
                ACCEPTED,
            )
        })?;
        Allowlist::parse(&text, path)
    }

    /// Parse the text of an allowlist; `path` names it in errors. Pure.
    pub fn parse(text: &str, path: &Path) -> Result<Allowlist> {
        let lines = Lines::of(text.as_bytes());
        let at = |span: std::ops::Range<usize>, problem: &str| {
            Error::bad_input(
                format!(
                    "{} line {}: {problem}",
                    path.display(),
                    lines.line_of(span.start)
                ),
                ACCEPTED,
            )
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            at(span, e.message().trim_end())
        })?;
        let mut entries = Vec::with_capacity(raw.allow.len());
        for spanned in raw.allow {
            let span = spanned.span();
            let r = spanned.into_inner();
            let rule = match r.rule {
                Some(rule) => {
                    let s = rule.span();
                    let rule = rule.into_inner();
                    if !catalog::RULES.iter().any(|k| rule_matches(&rule, k.code)) {
                        return Err(at(
                            s,
                            &format!(
                                "rule \"{}\" names no audit rule (portscope audit --help lists the codes)",
                                rule.escape_debug()
                            ),
                        ));
                    }
                    Some(rule)
                }
                None => None,
            };
            let port = match r.port {
                Some(p) => {
                    let s = p.span();
                    let n = p.into_inner();
                    match u16::try_from(n) {
                        Ok(port) if port > 0 => Some(port),
                        _ => {
                            return Err(at(
                                s,
                                &format!("port {n} is out of range: a port is 1-65535"),
                            ));
                        }
                    }
                }
                None => None,
            };
            let text_field = |f: Option<Spanned<String>>, name: &str| match f {
                Some(v) if v.get_ref().trim().is_empty() => {
                    Err(at(v.span(), &format!("{name} is empty")))
                }
                Some(v) => Ok(Some(v.into_inner())),
                None => Ok(None),
            };
            let process = text_field(r.process, "process")?;
            let address = text_field(r.address, "address")?;
            let reason = text_field(r.reason, "reason")?.ok_or_else(|| {
                at(
                    span.clone(),
                    "this [[allow]] entry has no reason: say why the finding is accepted (reason = \"…\")",
                )
            })?;
            if rule.is_none() && port.is_none() && process.is_none() && address.is_none() {
                return Err(at(
                    span,
                    "this [[allow]] entry names nothing to match: give a rule, port, process or address",
                ));
            }
            entries.push(Entry {
                rule,
                port,
                process,
                address,
                reason,
                line: lines.line_of(span.start),
            });
        }
        Ok(Allowlist {
            path: path.to_path_buf(),
            entries,
        })
    }
}

/// The allowlist to use: `given` (which must exist), else `./portscope-audit.toml`, else
/// `$XDG_CONFIG_HOME/portscope/audit.toml` (`~/.config/portscope/audit.toml`), when present.
/// Present means anything by that name: a FIFO or a directory there is an error naming it,
/// not skipped.
pub fn resolve(given: Option<&Path>) -> Result<Option<Allowlist>> {
    if let Some(path) = given {
        if !path.is_file() {
            let what = if path.exists() {
                "not a file"
            } else {
                "no such file"
            };
            return Err(Error::bad_input(
                format!(
                    "--allowlist {}: {what}",
                    crate::text::echo(&path.to_string_lossy())
                ),
                "pass the path of an existing portscope-audit.toml (or leave --allowlist out)",
            ));
        }
        return Allowlist::load(path).map(Some);
    }
    let cwd = std::env::current_dir().ok();
    let xdg = std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from);
    let home = std::env::var_os("HOME").map(PathBuf::from);
    match default_path(cwd, xdg, home, |p| p.symlink_metadata().is_ok()) {
        Some(path) => Allowlist::load(&path).map(Some),
        None => Ok(None),
    }
}

/// The first default place that `exists`.
fn default_path(
    cwd: Option<PathBuf>,
    xdg: Option<PathBuf>,
    home: Option<PathBuf>,
    exists: impl Fn(&Path) -> bool,
) -> Option<PathBuf> {
    let config = xdg
        .filter(|x| x.is_absolute())
        .or_else(|| home.map(|h| h.join(".config")));
    [
        cwd.map(|c| c.join(FILE_NAME)),
        config.map(|c| c.join("portscope").join("audit.toml")),
    ]
    .into_iter()
    .flatten()
    .find(|p| exists(p))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    allow: Vec<Spanned<RawEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    rule: Option<Spanned<String>>,
    port: Option<Spanned<i64>>,
    process: Option<Spanned<String>>,
    address: Option<Spanned<String>>,
    reason: Option<Spanned<String>>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::audit::{Subject, finding};
    use crate::model::Severity;

    fn parse(text: &str) -> Result<Allowlist> {
        Allowlist::parse(text, Path::new("/etc/portscope-audit.toml"))
    }

    fn err(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    fn redis_finding() -> AuditFinding {
        finding(
            "AUD-EXPOSED-DATASTORE",
            Severity::Critical,
            "t".into(),
            vec![],
            vec![],
            Subject {
                port: Some(6379),
                proto: Some("tcp".into()),
                address: Some("0.0.0.0".into()),
                pid: Some(42),
                process: Some("redis-server".into()),
            },
        )
    }

    #[test]
    fn entries_match_when_every_given_field_matches() {
        let f = redis_finding();
        let yes = [
            "rule = \"AUD-EXPOSED-DATASTORE\"",
            "rule = \"AUD-EXPOSED-*\"",
            "rule = \"AUD-*\"",
            "port = 6379",
            "process = \"redis-server\"",
            "address = \"0.0.0.0\"",
            "rule = \"AUD-EXPOSED-DATASTORE\"\nport = 6379\nprocess = \"redis-server\"",
        ];
        for body in yes {
            let a = parse(&format!("[[allow]]\n{body}\nreason = \"ok\"\n")).unwrap();
            assert_eq!(a.reason_for(&f), Some("ok"), "{body}");
        }
        let no = [
            "rule = \"AUD-EXPOSED-DEBUGGER\"",
            "rule = \"AUD-ROOT-*\"",
            "port = 6380",
            "process = \"redis\"",
            "rule = \"AUD-EXPOSED-DATASTORE\"\nport = 6380",
        ];
        for body in no {
            let a = parse(&format!("[[allow]]\n{body}\nreason = \"ok\"\n")).unwrap();
            assert_eq!(a.reason_for(&f), None, "{body}");
        }
        let example = parse(include_str!("../../examples/portscope-audit.toml")).unwrap();
        assert!(!example.entries.is_empty());
    }

    #[test]
    fn mistakes_name_the_file_and_line() {
        let e = err("[[allow]]\nport = 6379\nreason = \"x\"\nprot = \"tcp\"\n");
        assert!(
            e.starts_with("/etc/portscope-audit.toml line 4: unknown field `prot`"),
            "{e}"
        );
        assert!(!e.contains('\n'), "one line: {e}");
        let e = err("# c\n[[allow]]\nport = 6379\n");
        assert!(
            e.starts_with("/etc/portscope-audit.toml line 2: this [[allow]] entry has no reason"),
            "{e}"
        );
        let e = err("[[allow]]\nrule = \"AUD-EXPOSD-DATASTORE\"\nreason = \"x\"\n");
        assert!(
            e.contains("line 2: rule \"AUD-EXPOSD-DATASTORE\" names no audit rule"),
            "{e}"
        );
        let e = err("[[allow]]\nport = 70000\nreason = \"x\"\n");
        assert!(e.contains("line 2: port 70000 is out of range"), "{e}");
        let e = err("[[allow]]\nreason = \"x\"\n");
        assert!(
            e.contains("line 1: this [[allow]] entry names nothing to match"),
            "{e}"
        );
        let e = err("[[alow]]\nport = 1\nreason = \"x\"\n");
        assert!(e.contains("line 1: unknown field `alow`"), "{e}");
        let e = err("[[allow]]\nport = \"6379\"\nreason = \"x\"\n");
        assert!(e.contains("line 2:"), "{e}");
        let e = err("[[allow]]\nport = 1\nreason = \"  \"\n");
        assert!(e.contains("line 3: reason is empty"), "{e}");
        assert_eq!(parse("").unwrap().entries, vec![]);
    }

    #[test]
    fn default_places_are_the_directory_then_the_config_dir() {
        let cwd = Some(PathBuf::from("/w"));
        let xdg = Some(PathBuf::from("/x"));
        let home = Some(PathBuf::from("/h"));
        let all = |_: &Path| true;
        assert_eq!(
            default_path(cwd.clone(), xdg.clone(), home.clone(), all),
            Some(PathBuf::from("/w/portscope-audit.toml"))
        );
        let not_cwd = |p: &Path| !p.starts_with("/w");
        assert_eq!(
            default_path(cwd.clone(), xdg, home.clone(), not_cwd),
            Some(PathBuf::from("/x/portscope/audit.toml"))
        );
        assert_eq!(
            default_path(cwd.clone(), None, home.clone(), not_cwd),
            Some(PathBuf::from("/h/.config/portscope/audit.toml"))
        );
        assert_eq!(default_path(cwd, None, home, |_| false), None);
    }
}
