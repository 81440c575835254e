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
use portscope::render;

/// Pin `report` as `NAME.txt` (the table, no colour) and `NAME.json` (the envelope, indented).
/// Masked: relative times ("3m ago") and the version in both; in the table also date-times,
/// which are shown in the machine's own time zone. Fixtures fix everything else.
pub fn pin(name: &str, report: &Report) {
    let config = |json| Config {
        json,
        color: false,
        pretty: true,
        progress: false,
    };
    let text = render::report(report, &config(false));
    let json = render::report(report, &config(true));
    let common = [
        (r"\b\d+(\.\d+)?(s|m|h|d|ms) ago\b", "[AGO] ago"),
        (
            r#""portscope_version": "[^"]+""#,
            r#""portscope_version": "[VERSION]""#,
        ),
    ];
    let local_time = (
        r"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?( ?(UTC|Z|[A-Z]{3,5}|[+-]\d{2}:?\d{2}))?",
        "[TIME]",
    );
    insta::with_settings!({
        snapshot_path => "snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
        filters => common.iter().copied().chain([local_time]).collect::<Vec<_>>(),
    }, {
        insta::assert_snapshot!(format!("{name}.txt"), text);
    });
    insta::with_settings!({
        snapshot_path => "snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
        filters => common.to_vec(),
    }, {
        insta::assert_snapshot!(format!("{name}.json"), json);
    });
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
