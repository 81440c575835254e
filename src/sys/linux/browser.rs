//! Opening a URL in the person's browser (`xdg-open`), for `ui --open`. The browser is
//! started detached: portscope neither waits for it nor stops it.

use std::process::{Command, Stdio};

/// Ask `xdg-open` to open `url`. `Err` says why it could not (not installed, failed); the
/// caller reports that and carries on.
pub fn open(url: &str) -> std::result::Result<(), String> {
    let child = Command::new("xdg-open")
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match child {
        Ok(mut child) => {
            // Reap it in the background, so it never lingers as a zombie.
            let _ = std::thread::Builder::new()
                .name("portscope-xdg-open".into())
                .spawn(move || child.wait());
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err("xdg-open is not installed (package xdg-utils)".into())
        }
        Err(e) => Err(format!("xdg-open could not start: {e}")),
    }
}
