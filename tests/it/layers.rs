//! The layers hold: no module of the library names a layer above it. Read from the source
//! (every `crate::…` path and every `super::…` path that leaves its folder, comments left
//! out), so a backward import fails here, in `cargo test`, before anyone has to find it.
//!
//! From the top: `main.rs` and `cli/` (the command line) → `app` (maps a command to a verb)
//! → `web/` (servers) → `render/` (text and JSON) → `commands/` (the verbs) → everything else
//! (the engines: target, snapshot, sys, doctor, audit, probe, store, traffic, …).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What a layer must not name.
fn forbidden(layer: &str) -> &'static [&'static str] {
    match layer {
        "main" | "cli" | "app" => &[],
        "web" => &["cli", "app"],
        "render" => &["cli", "app", "web"],
        "commands" => &["cli", "app", "web", "render"],
        _ => &["cli", "app", "commands", "render", "web"],
    }
}

#[test]
fn no_module_names_a_layer_above_it() {
    // PORTSCOPE_LAYERS_SRC checks another tree (an older commit's `src`, for a before/after).
    let src = std::env::var_os("PORTSCOPE_LAYERS_SRC").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        PathBuf::from,
    );
    let mut found = BTreeSet::new();
    for file in rust_files(&src) {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let module = module_path(&rel);
        let layer = module.first().map_or("main", String::as_str).to_owned();
        let text = strip_comments(&std::fs::read_to_string(&file).unwrap());
        for named in named_modules(&text, &module) {
            if forbidden(&layer).contains(&named.as_str()) {
                found.insert(format!("src/{rel} -> {named}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "backward imports (a module naming a layer above it):\n  {}",
        found.into_iter().collect::<Vec<_>>().join("\n  ")
    );
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// `commands/check/listen.rs` → `[commands, check, listen]`; `commands/mod.rs` → `[commands]`;
/// `lib.rs`/`main.rs` → `[]`.
fn module_path(rel: &str) -> Vec<String> {
    let rel = rel.strip_suffix(".rs").unwrap();
    let mut parts: Vec<String> = rel.split('/').map(str::to_owned).collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The source without `//` comments (doc comments included) and without `/* */` blocks;
/// string literals are kept whole so a `//` inside one does not cut the line.
fn strip_comments(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let (mut i, mut in_str) = (0, false);
    while i < b.len() {
        let c = b[i];
        if in_str {
            out.push(c);
            if c == b'\\' && i + 1 < b.len() {
                out.push(b[i + 1]);
                i += 2;
                continue;
            }
            in_str = c != b'"';
        } else if c == b'"' && (i == 0 || b[i - 1] != b'\'') {
            in_str = true;
            out.push(c);
        } else if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        } else if b[i..].starts_with(b"/*") {
            i = text[i..].find("*/").map_or(b.len(), |e| i + e + 2);
            continue;
        } else {
            out.push(c);
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The top-level modules a file names: `crate::x…`, `crate::{x, y::z}` and `super::…` paths
/// that climb out of the file's own top-level module.
fn named_modules(text: &str, module: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let idents = |s: &str| -> Vec<String> {
        // The first identifier of each top-level item of a `{ … }` group.
        let mut depth = 0;
        let mut items = vec![String::new()];
        for c in s.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => items.push(String::new()),
                _ if depth == 0 => items.last_mut().unwrap().push(c),
                _ => {}
            }
        }
        items
            .iter()
            .filter_map(|i| {
                let id: String = i
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                (!id.is_empty()).then_some(id)
            })
            .collect()
    };
    let group_after = |rest: &str| -> Option<String> {
        let rest = rest.strip_prefix('{')?;
        let mut depth = 1;
        for (i, c) in rest.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(rest[..i].to_owned());
                    }
                }
                _ => {}
            }
        }
        None
    };
    let word_start = |i: usize| {
        i == 0 || {
            let p = text.as_bytes()[i - 1];
            !(p.is_ascii_alphanumeric() || p == b'_' || p == b':')
        }
    };
    for (i, _) in text.match_indices("crate::") {
        if !word_start(i) {
            continue;
        }
        let rest = &text[i + "crate::".len()..];
        match group_after(rest) {
            Some(group) => out.extend(idents(&group)),
            None => out.extend(idents(rest).into_iter().take(1)),
        }
    }
    for (i, _) in text.match_indices("super::") {
        if !word_start(i) {
            continue;
        }
        let mut rest = &text[i..];
        let mut up = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            up += 1;
            rest = r;
        }
        // `mod.rs` files are their folder's module, so `super` leaves the folder.
        let Some(base) = module.len().checked_sub(up) else {
            continue;
        };
        if base > 0 {
            continue; // still inside the file's own top-level module
        }
        match group_after(rest) {
            Some(group) => out.extend(idents(&group)),
            None => out.extend(idents(rest).into_iter().take(1)),
        }
    }
    out
}
