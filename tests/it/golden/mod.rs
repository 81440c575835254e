//! Golden tests: every verb's JSON and human layout, rendered from reports built here in code
//! (fixtures, not the live machine), pinned by insta snapshots in `snapshots/`. Output is a
//! contract: when a snapshot changes, the change must be on purpose. Review it
//! (`cargo insta review`, or `INSTA_UPDATE=always cargo test --test it golden::` and read
//! `git diff tests/it/golden/snapshots`), then update docs/json.md — and `schema_version` when a
//! field was renamed or removed.

mod follow;
mod inspect;
mod lifecycle;
mod monitoring;

use portscope::commands::Report;
use portscope::config::Config;
use portscope::model::{Finding, Severity};
use portscope::render;

/// What every snapshot masks: relative times ("3m ago", "12d 3h ago", measured against the
/// real clock) and portscope's own version wherever a format carries it (the envelope, SARIF's
/// tool, `/metrics`' build info). Fixtures fix the rest.
fn masks() -> Vec<(String, String)> {
    let version = env!("CARGO_PKG_VERSION").replace('.', r"\.");
    let mut masks = vec![(
        r"\b\d+(\.\d+)?(ms|s|m|h|d)( \d+(\.\d+)?(ms|s|m|h|d))? ago\b".to_owned(),
        "[AGO] ago".to_owned(),
    )];
    masks.push((
        format!(r#""(portscope_version|version|semanticVersion)": "{version}""#),
        r#""$1": "[VERSION]""#.to_owned(),
    ));
    masks.push((
        format!(r#"portscope_build_info\{{version="{version}"\}}"#),
        r#"portscope_build_info{version="[VERSION]"}"#.to_owned(),
    ));
    masks.push((
        format!(r"\bportscope {version}\b"),
        "portscope [VERSION]".to_owned(),
    ));
    masks
}

/// Date-times in a table, which are shown in the machine's own time zone.
const LOCAL_TIME: (&str, &str) = (
    r"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?( ?(UTC|Z|[A-Z]{3,5}|[+-]\d{2}:?\d{2}))?",
    "[TIME]",
);

/// Pin `report` as `NAME.txt` (the table, no colour) and `NAME.json` (the envelope, indented).
pub fn pin(name: &str, report: &Report) {
    pin_with(name, report, &[]);
}

/// [`pin`], with `extra` masks (regex, replacement) for both files: for what a report carries
/// that no fixture can fix (the moment a line was printed).
pub fn pin_with(name: &str, report: &Report, extra: &[(&str, &str)]) {
    let config = |json| Config {
        json,
        color: false,
        pretty: true,
        progress: false,
        width: None,
    };
    let text = render::report(report, &config(false));
    let json = render::report(report, &config(true));
    pin_text(
        &format!("{name}.txt"),
        &text,
        &[&[LOCAL_TIME], extra].concat(),
    );
    pin_text(&format!("{name}.json"), &json, extra);
}

/// Pin any text (live lines, SARIF, `/metrics`) as the snapshot `NAME` (with its extension),
/// with [`masks`] and `extra` applied.
pub fn pin_text(name: &str, text: &str, extra: &[(&str, &str)]) {
    let masks = masks();
    let filters: Vec<(&str, &str)> = masks
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .chain(extra.iter().copied())
        .collect();
    insta::with_settings!({
        snapshot_path => "snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
        filters => filters,
    }, {
        insta::assert_snapshot!(name.to_owned(), text);
    });
}

/// A finding (doctor's, audit's) with its evidence and fix lines.
pub fn finding(
    code: &'static str,
    severity: Severity,
    title: &str,
    evidence: &[&str],
    fix: &[&str],
) -> Finding {
    let lines = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect();
    Finding {
        code,
        severity,
        title: title.into(),
        evidence: lines(evidence),
        fix: lines(fix),
    }
}

/// `man --dir`: the pages written, one per line; the JSON lists them.
#[test]
fn man_dir() {
    use portscope::commands::generate::GeneratedReport;
    let report = GeneratedReport {
        command: "man",
        text: String::new(),
        files: vec![
            "/tmp/man/portscope.1".into(),
            "/tmp/man/portscope-ls.1".into(),
        ],
    };
    pin("man-dir", &Report::Generated(Box::new(report)));
}
