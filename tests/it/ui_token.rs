//! `ui`'s token from a file (`--token-file`), where no other local user can read it, and the
//! warning for `--token VALUE`, which every local user can read in `/proc/PID/cmdline`.

use std::os::unix::fs::PermissionsExt;

use crate::bad_input::assert_bad_input;
use crate::harness::{self, TempDir};
use crate::ui::Ui;

const TOKEN: &str = "token-from-a-file-0123456789";

/// A token file holding `text`, with permission bits `mode`.
fn token_file(dir: &TempDir, text: &str, mode: u32) -> String {
    let path = dir.join("ui-token");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

#[test]
fn token_file_is_the_token() {
    let dir = TempDir::new("ui-token");
    let path = token_file(&dir, &format!("{TOKEN}\n"), 0o600);
    let ui = Ui::start_with(&["--token-file", &path]);
    assert_eq!(ui.token, TOKEN);
    let with = ui.get("/api/ls", &format!("X-Portscope-Token: {TOKEN}\r\n"));
    assert_eq!(with.status, 200);
    let login = ui.get(&format!("/?token={TOKEN}"), "");
    assert_eq!(login.status, 303);
    assert_eq!(ui.get("/api/ls", "").status, 401);
    let wrong = ui.get(
        "/api/ls",
        "X-Portscope-Token: token-from-a-file-0000000000\r\n",
    );
    assert_eq!(wrong.status, 401);
}

#[test]
fn a_token_file_others_may_read_is_warned_about() {
    let dir = TempDir::new("ui-token");
    let path = token_file(&dir, TOKEN, 0o644);
    let ui = Ui::start_with(&["--token-file", &path]);
    let warning = ui.stderr_line();
    assert!(
        warning.starts_with("portscope ui: warning: --token-file ")
            && warning.contains("(mode 0644) can be read by other users"),
        "{warning}"
    );
}

#[test]
fn token_on_the_command_line_is_warned_about() {
    let ui = Ui::start_with(&["--token", TOKEN]);
    assert_eq!(ui.token, TOKEN);
    let warning = ui.stderr_line();
    assert!(
        warning.starts_with(
            "portscope ui: warning: --token on the command line can be read by every local user"
        ) && warning.contains("--token-file"),
        "{warning}"
    );
}

#[test]
fn a_missing_or_empty_token_file_is_exit_2() {
    let dir = TempDir::new("ui-token");
    let missing = dir.join("none");
    let empty = token_file(&dir, "\n", 0o600);
    for (path, needle) in [(&missing, "cannot read it"), (&empty, "is empty")] {
        let args = ["ui", "--listen", "127.0.0.1:0", "--token-file", path];
        let r = harness::output(
            harness::portscope()
                .args(args)
                .env_remove("PORTSCOPE_UI_TOKEN"),
        );
        assert_bad_input(&r, &args, &format!("--token-file {path}"));
        assert!(r.stderr.contains(needle), "{r:?}");
    }
}
