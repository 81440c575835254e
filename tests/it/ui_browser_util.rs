//! Small helpers of the browser tests (`ui_browser.rs`): a listener row's selector, whether
//! a URL stays on this machine, where the screenshot goes, and waiting for a child to exit.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::harness::Spawned;

/// The CSS selector of the row of 127.0.0.1:`port`/tcp.
pub(crate) fn row(port: u32) -> String {
    format!("tr.listener[data-proto=\"tcp\"][data-address=\"127.0.0.1\"][data-port=\"{port}\"]")
}

/// The loopback-or-not of a URL's host; `None` for URLs without one (data:, about:).
pub(crate) fn loopback_url(url: &str) -> Option<bool> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .or_else(|| url.strip_prefix("ws://"))
        .or_else(|| url.strip_prefix("wss://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host.split(':').next().unwrap_or("")
    };
    Some(
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback()),
    )
}

/// Where the screenshot goes: `target/ui-screenshot.png` (next to `target/tmp`).
pub(crate) fn screenshot_path() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("ui-screenshot.png")
}

/// True once the process has exited (it is our child, so it is reaped here).
pub(crate) fn wait_exit(p: &mut Spawned, timeout: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if p.child.try_wait().unwrap().is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}
