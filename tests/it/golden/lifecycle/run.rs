//! Golden tests of `run`: the child exited, left a server running, listened on another port
//! than `$PORT`, or left a listener that outlived it.

use portscope::commands::Report;
use portscope::commands::run::{Chosen, Holder, RunReport, Stopped};

use super::strings;
use crate::golden::pin;

fn run_report(argv: &[&str], port: u16) -> RunReport {
    RunReport {
        argv: strings(argv),
        name: Some("blog".into()),
        port,
        host: "127.0.0.1".into(),
        chosen: Chosen::Reserved,
        started: true,
        held_by: vec![],
        pid: Some(4242),
        listened_on: vec![port],
        url: Some(format!("http://127.0.0.1:{port}/")),
        exit_code: Some(0),
        signal: None,
        forwarded: vec![],
        descendants_stopped: vec![],
        port_free_after: Some(true),
        held_after: vec![],
        exit_status: 0,
    }
}

/// `run --name blog -- python3 -m http.server '$PORT' --bind '$HOST'`, ended with Ctrl+C.
#[test]
fn run_exited() {
    let r = run_report(
        &[
            "python3",
            "-m",
            "http.server",
            "24791",
            "--bind",
            "127.0.0.1",
        ],
        24791,
    );
    pin("lifecycle-run-exited", &Report::Run(Box::new(r)));
}

/// `run --name blog -- ./serve.sh`: the script returned and left its server running, which
/// portscope stopped.
#[test]
fn run_left_running() {
    let mut r = run_report(&["./serve.sh"], 24791);
    r.descendants_stopped = vec![Stopped {
        pid: 4244,
        process: "python3".into(),
        signal: "TERM".into(),
        gone: true,
    }];
    pin("lifecycle-run-left-running", &Report::Run(Box::new(r)));
}

/// `run --name shop -- flask --app hello run`: it ignored `$PORT` and listened on 5000; a
/// supervisor's SIGTERM was passed on and ended it.
#[test]
fn run_other_port_signal() {
    let mut r = run_report(&["flask", "--app", "hello", "run"], 17964);
    r.name = Some("shop".into());
    r.listened_on = vec![5000];
    r.url = None;
    r.exit_code = None;
    r.signal = Some("TERM".into());
    r.forwarded = vec!["TERM".into()];
    r.exit_status = 143;
    pin("lifecycle-run-other-port", &Report::Run(Box::new(r)));
}

/// `run --port 3000 -- npm run dev` when the child left a listener behind that outlived it.
#[test]
fn run_still_held() {
    let mut r = run_report(&["npm", "run", "dev"], 3000);
    r.name = None;
    r.chosen = Chosen::Given;
    r.descendants_stopped = vec![Stopped {
        pid: 4250,
        process: "node".into(),
        signal: "KILL".into(),
        gone: false,
    }];
    r.port_free_after = Some(false);
    r.held_after = vec![Holder {
        pid: Some(4250),
        process: Some("node".into()),
        address: "127.0.0.1:3000".into(),
    }];
    pin("lifecycle-run-still-held", &Report::Run(Box::new(r)));
}
