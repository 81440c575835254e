//! The documentation: README.md is a front page, the manual lives in docs/, nothing of the old
//! README was lost on the way, every relative link resolves, and no help text is pasted (it
//! would go stale: `portscope help COMMAND` and `man portscope-COMMAND` are always current).
//! These tests read files only.

use std::collections::HashMap;
use std::fs;
use std::path::{Component, Path, PathBuf};

/// The hard limit on README.md: a front page, not the manual.
const README_MAX_BYTES: u64 = 25_600;

/// Every heading of the README as it was when it was the whole manual (commit e45a295,
/// `git show e45a295:README.md`, headings outside code blocks), with the file and the heading
/// line it lives under now.
const OLD_README_SECTIONS: &[(&str, &str, &str)] = &[
    ("# portscope", "README.md", "# portscope"),
    ("## Quick start", "README.md", "### Quick start"),
    ("## Commands", "README.md", "## Commands"),
    ("### `portscope ls`", "docs/inspect.md", "## `portscope ls`"),
    (
        "### `portscope who TARGET`",
        "docs/inspect.md",
        "## `portscope who TARGET`",
    ),
    (
        "### `portscope explain TARGET`",
        "docs/inspect.md",
        "## `portscope explain TARGET`",
    ),
    (
        "### `portscope probe [TARGET…]`",
        "docs/inspect.md",
        "## `portscope probe [TARGET…]`",
    ),
    (
        "### `portscope doctor TARGET`",
        "docs/diagnose.md",
        "## `portscope doctor TARGET`",
    ),
    (
        "### `portscope kill TARGET…`",
        "docs/lifecycle.md",
        "## `portscope kill TARGET…`",
    ),
    (
        "### `portscope pick`",
        "docs/lifecycle.md",
        "## `portscope pick`",
    ),
    (
        "### `portscope reserve NAME` / `release NAME`",
        "docs/lifecycle.md",
        "## `portscope reserve NAME` / `release NAME`",
    ),
    (
        "### `portscope run [--name NAME] [--port PORT] -- CMD…`",
        "docs/lifecycle.md",
        "## `portscope run [--name NAME] [--port PORT] -- CMD…`",
    ),
    (
        "### `portscope audit`",
        "docs/monitoring.md",
        "## `portscope audit`",
    ),
    (
        "### `portscope check-config` and `portscope env` (ports.toml)",
        "docs/lifecycle.md",
        "## `portscope check-config` and `portscope env` (ports.toml)",
    ),
    (
        "### `portscope check listen|connect|audit` (Nagios, Icinga, Zabbix)",
        "docs/monitoring.md",
        "## `portscope check listen|connect|audit` (Nagios, Icinga, Zabbix)",
    ),
    (
        "### `portscope exporter`",
        "docs/monitoring.md",
        "## `portscope exporter`",
    ),
    (
        "### `portscope watch` and `portscope daemon`",
        "docs/history.md",
        "## `portscope watch` and `portscope daemon`",
    ),
    (
        "#### The terminal view",
        "docs/history.md",
        "### The terminal view",
    ),
    (
        "### `portscope history [TARGET]`",
        "docs/history.md",
        "## `portscope history [TARGET]`",
    ),
    (
        "#### Recording: `portscope daemon`",
        "docs/history.md",
        "### Recording: `portscope daemon`",
    ),
    (
        "### `portscope ui`",
        "docs/dashboard.md",
        "## `portscope ui`",
    ),
    (
        "#### The dashboard's panels",
        "docs/dashboard.md",
        "### The dashboard's panels",
    ),
    (
        "### `portscope serve [KIND] [DIR]`",
        "docs/traffic.md",
        "## `portscope serve [KIND] [DIR]`",
    ),
    (
        "### `portscope forward LISTEN TARGET`",
        "docs/traffic.md",
        "## `portscope forward LISTEN TARGET`",
    ),
    (
        "### `portscope tap PORT`",
        "docs/traffic.md",
        "## `portscope tap PORT`",
    ),
    (
        "### `portscope bench [TARGET]`",
        "docs/traffic.md",
        "## `portscope bench [TARGET]`",
    ),
    ("## JSON", "README.md", "## JSON"),
    ("## Permissions", "docs/permissions.md", "# Permissions"),
    ("## Exit codes", "docs/exit-codes.md", "# Exit codes"),
    (
        "## Why not ss / lsof / netstat / fuser?",
        "README.md",
        "## Why not ss / lsof / netstat / fuser?",
    ),
    ("## As a library", "docs/library.md", "# As a library"),
    ("## Development", "docs/development.md", "# Development"),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// README.md and every docs/*.md, as paths relative to the repository root.
fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![PathBuf::from("README.md")];
    let mut docs: Vec<PathBuf> = fs::read_dir(root().join("docs"))
        .expect("docs/ exists")
        .map(|entry| entry.expect("a docs/ entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .map(|path| PathBuf::from("docs").join(path.file_name().expect("a file name")))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// Each line with whether it is inside a fenced code block (fence lines count as inside).
fn lines_with_fence(text: &str) -> Vec<(&str, bool)> {
    let mut in_fence = false;
    text.lines()
        .map(|line| {
            let fence =
                line.trim_start().starts_with("```") || line.trim_start().starts_with("~~~");
            if fence {
                in_fence = !in_fence;
                return (line, true);
            }
            (line, in_fence)
        })
        .collect()
}

/// The heading lines of a markdown text: lines starting with `#`, outside code blocks.
fn headings(text: &str) -> Vec<&str> {
    lines_with_fence(text)
        .into_iter()
        .filter(|(line, fenced)| !fenced && line.starts_with('#'))
        .map(|(line, _)| line)
        .collect()
}

/// The anchor GitHub gives a heading: lower case, spaces to `-`, punctuation dropped, and
/// `-1`, `-2`… on repeats.
fn anchors(text: &str) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    headings(text)
        .into_iter()
        .map(|heading| {
            let slug: String = heading
                .trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
                .map(|c| if c == ' ' { '-' } else { c })
                .collect();
            let count = seen.entry(slug.clone()).or_insert(0);
            let anchor = if *count == 0 {
                slug.clone()
            } else {
                format!("{slug}-{count}")
            };
            *count += 1;
            anchor
        })
        .collect()
}

/// The targets of the markdown links `[text](target)` outside code blocks and code spans.
fn link_targets(text: &str) -> Vec<(usize, String)> {
    let mut targets = Vec::new();
    for (number, (line, fenced)) in lines_with_fence(text).into_iter().enumerate() {
        if fenced {
            continue;
        }
        // Drop code spans: `a](b)` inside backticks is not a link.
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let mut rest = prose.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = after.find([')', ' ']).unwrap_or(after.len());
            targets.push((number + 1, after[..end].to_string()));
            rest = &after[end..];
        }
    }
    targets
}

/// `base/../x` → `x`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                assert!(out.pop(), "{} leaves the repository", path.display());
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Every relative link of the README and the docs, as (file, line, target path, anchor).
fn relative_links() -> Vec<(PathBuf, usize, PathBuf, Option<String>)> {
    let mut links = Vec::new();
    for file in markdown_files() {
        let text = read(&root().join(&file));
        for (line, target) in link_targets(&text) {
            if target.starts_with("http://")
                || target.starts_with("https://")
                || target.starts_with("mailto:")
            {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor.to_string())),
                None => (target.as_str(), None),
            };
            let resolved = if path.is_empty() {
                file.clone()
            } else {
                normalize(&file.parent().expect("a parent directory").join(path))
            };
            links.push((file.clone(), line, resolved, anchor));
        }
    }
    links
}

#[test]
fn readme_is_a_front_page() {
    let size = fs::metadata(root().join("README.md"))
        .expect("README.md exists")
        .len();
    assert!(
        size <= README_MAX_BYTES,
        "README.md is {size} bytes, more than {README_MAX_BYTES}: move the detail into docs/ \
         and link it"
    );
}

#[test]
fn every_old_readme_section_has_a_home() {
    let mut missing = Vec::new();
    for (old, file, heading) in OLD_README_SECTIONS {
        let path = root().join(file);
        if !path.is_file() {
            missing.push(format!("{old:?}: {file} does not exist"));
            continue;
        }
        if !headings(&read(&path)).contains(heading) {
            missing.push(format!("{old:?}: {file} has no heading line {heading:?}"));
        }
    }
    assert!(
        missing.is_empty(),
        "sections of the old README lost:\n{}",
        missing.join("\n")
    );
}

#[test]
fn relative_links_resolve() {
    let links = relative_links();
    assert!(
        links.len() > 50,
        "only {} relative links found: is the parser broken?",
        links.len()
    );
    let broken: Vec<String> = links
        .iter()
        .filter(|(_, _, target, _)| !root().join(target).exists())
        .map(|(file, line, target, _)| {
            format!(
                "{}:{line}: {} does not exist",
                file.display(),
                target.display()
            )
        })
        .collect();
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn anchors_into_markdown_resolve() {
    let mut broken = Vec::new();
    for (file, line, target, anchor) in relative_links() {
        let Some(anchor) = anchor else { continue };
        let path = root().join(&target);
        if target.extension().is_none_or(|ext| ext != "md") || !path.is_file() {
            continue;
        }
        if !anchors(&read(&path)).contains(&anchor) {
            broken.push(format!(
                "{}:{line}: {} has no heading with anchor #{anchor}",
                file.display(),
                target.display()
            ));
        }
    }
    assert!(broken.is_empty(), "broken anchors:\n{}", broken.join("\n"));
}

#[test]
fn no_pasted_help() {
    let mut pasted = Vec::new();
    for file in markdown_files() {
        let text = read(&root().join(&file));
        for (number, (line, fenced)) in lines_with_fence(&text).into_iter().enumerate() {
            let Some(command) = line.trim_start().strip_prefix("$ portscope") else {
                continue;
            };
            let words: Vec<&str> = command.split_whitespace().collect();
            let asks_help = words.iter().any(|w| matches!(*w, "-h" | "--help"))
                || words.first() == Some(&"help");
            if fenced && asks_help {
                pasted.push(format!("{}:{}: {line}", file.display(), number + 1));
            }
        }
    }
    assert!(
        pasted.is_empty(),
        "help output pasted into the docs goes stale; say `portscope help COMMAND` or \
         `man portscope-COMMAND` instead:\n{}",
        pasted.join("\n")
    );
}

#[test]
fn the_parsers_of_this_module_work() {
    let text = "# A `b` c?\n\n```\n# not a heading [x](nowhere.md)\n```\n## A b c\n\
                see [d](docs/d.md#a-b-c) and `[e](code.md)` and [f](https://x.org/)\n";
    assert_eq!(headings(text), ["# A `b` c?", "## A b c"]);
    assert_eq!(anchors(text), ["a-b-c", "a-b-c-1"]);
    assert_eq!(
        link_targets(text),
        [
            (7, "docs/d.md#a-b-c".to_string()),
            (7, "https://x.org/".to_string())
        ]
    );
    assert_eq!(
        normalize(Path::new("docs/../README.md")),
        PathBuf::from("README.md")
    );
}
