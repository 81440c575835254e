//! `ui`: the dashboard's report when it stops (usual port, usual port taken) and its lines on
//! standard error.

use portscope::commands::Report;
use portscope::commands::ui::{self as ui_cmd, UiReport};

use super::addr;
use crate::golden::{pin, pin_text};

/// The dashboard on its usual port, stopped by Ctrl-C (docs/dashboard.md).
#[test]
fn ui_stopped() {
    let report = UiReport {
        listen: addr("127.0.0.1:62893"),
        chosen: ui_cmd::Chosen::Default,
        requests: 1,
        events: 0,
        stopped_by: "SIGINT".into(),
    };
    pin("follow-ui-stopped", &Report::Ui(Box::new(report)));
}

/// The usual port was taken: a free loopback port, stopped by SIGTERM.
#[test]
fn ui_default_taken() {
    let report = UiReport {
        listen: addr("127.0.0.1:39107"),
        chosen: ui_cmd::Chosen::DefaultTaken,
        requests: 57,
        events: 4,
        stopped_by: "SIGTERM".into(),
    };
    pin("follow-ui-default-taken", &Report::Ui(Box::new(report)));
}

/// `ui`'s lines on standard error while it runs.
#[test]
fn ui_lines() {
    use portscope::render::ui as text;
    let token = "52a8b1b8a59ae229db176aef06a7303fb696951b10530d1b6601de24ae475672";
    let mut out = text::default_taken_line(ui_cmd::DEFAULT_PORT);
    out += &text::startup_line(&format!("http://127.0.0.1:39107/?token={token}"));
    out += &text::exposure_warning(addr("0.0.0.0:8090")).unwrap_or_default();
    out += &text::exposure_warning(addr("127.0.0.1:8090")).unwrap_or_default();
    out += &text::token_exposure_warning(&ui_cmd::TokenExposure::CommandLine);
    out += &text::token_exposure_warning(&ui_cmd::TokenExposure::ReadableFile {
        path: "/home/ana/.config/portscope/ui-token".into(),
        mode: 0o644,
    });
    out += &text::open_failed_line("xdg-open: no method available\nfor opening URLs");
    pin_text("follow-ui-lines.txt", &out, &[]);
}
