//! Browser tests of `portscope ui`: the real binary on a kernel-chosen port, opened in real
//! headless Chromium driven over WebDriver (chromedriver, fantoccini). They check what a person
//! sees: the listener table and its live updates, hostile process names shown as text, the
//! open link of an HTTP service, freeing a port with confirmation, the detail panels, and that
//! the page talks to nothing but this machine. One test saves a screenshot
//! (`target/ui-screenshot.png`) for the README.
//!
//! Chromium and chromedriver come from Debian (`chromium`, `chromium-driver`; `.ci/run`
//! installs them). Without them these tests print that they were skipped — or fail, when
//! `PORTSCOPE_REQUIRE_BROWSER=1` (CI sets it).

use std::time::{Duration, Instant};

use fantoccini::Locator;
use serde_json::json;

use crate::harness::{self, TempDir};
use crate::ui_browser_session::{Browser, Ui, have_browser};
use crate::ui_browser_util::{loopback_url, row, screenshot_path, wait_exit};

/// The process name of the XSS test: markup with an event handler.
const HOSTILE: &str = "<img src=x onerror=alert(1)>";

#[tokio::test]
async fn ui_browser_table_is_live_and_screenshot() {
    let Some(paths) = have_browser("ui_browser_table_is_live_and_screenshot") else {
        return;
    };
    let ui = Ui::start();
    let before = harness::tcp_listener("127.0.0.1");
    let b = Browser::start(&paths).await;
    b.open(&ui, before.num(0)).await;

    // The row says what the kernel says.
    let tr = b
        .client
        .find(Locator::Css(&row(before.num(0))))
        .await
        .unwrap();
    assert_eq!(
        tr.attr("data-pid").await.unwrap(),
        Some(before.pid.to_string())
    );
    // The token was swapped for a cookie: it no longer sits in the address bar.
    let here = b.client.current_url().await.unwrap();
    assert_eq!(here.path(), "/", "{here}");
    assert!(!here.as_str().contains("token="), "{here}");

    // Live: wait until the event stream is up (the page says "live"), then a new listener's
    // row must appear within 2 s, without a reload; and go when it closes.
    b.wait_for(
        "document.getElementById('status').textContent.indexOf('live') >= 0",
        Duration::from_secs(10),
        "the event stream",
    )
    .await;
    b.js("window.__notReloaded = true; return null;").await;
    let fresh = harness::tcp_listener("127.0.0.1");
    let port = fresh.num(0);
    let took = b.wait_row(port, Duration::from_secs(2)).await;
    eprintln!("ui_browser: the row of a new listener appeared after {took:?}");
    assert_eq!(
        b.js("return window.__notReloaded === true;").await,
        json!(true)
    );
    assert_eq!(
        b.text(&format!("{} td.process", row(port))).await,
        b.text(&format!("{} td.process", row(before.num(0)))).await,
        "both are python3"
    );
    drop(fresh);
    b.wait_for(
        &format!("!document.querySelector('{}')", row(port)),
        Duration::from_secs(2),
        "the closed listener's row to go",
    )
    .await;

    // A screenshot for the README.
    let png = b.client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let path = screenshot_path();
    std::fs::write(&path, &png).unwrap();
    eprintln!("ui_browser: screenshot saved to {}", path.display());
    b.close().await;
}

#[tokio::test]
async fn ui_browser_talks_only_to_loopback() {
    let Some(paths) = have_browser("ui_browser_talks_only_to_loopback") else {
        return;
    };
    let ui = Ui::start();
    let l = harness::tcp_listener("127.0.0.1");
    let b = Browser::start(&paths).await;
    b.open(&ui, l.num(0)).await;
    // Click into the detail too (when it exists), so that whatever it loads is counted.
    if let Ok(td) = b
        .client
        .find(Locator::Css(&format!("{} td.process", row(l.num(0)))))
        .await
    {
        td.click().await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let urls = b.urls().await;
    // Not vacuous: the page's own script and its data are among them.
    assert!(
        urls.iter().any(|u| u.ends_with("/assets/app.js")),
        "{urls:#?}"
    );
    assert!(urls.iter().any(|u| u.ends_with("/api/ls")), "{urls:#?}");
    for u in &urls {
        assert_ne!(loopback_url(u), Some(false), "a non-loopback request: {u}");
        assert!(
            u.starts_with(&ui.origin) || u.starts_with("data:"),
            "a request outside this server: {u}"
        );
    }
    b.close().await;
}

#[tokio::test]
async fn ui_browser_hostile_process_name_is_text() {
    let Some(paths) = have_browser("ui_browser_hostile_process_name_is_text") else {
        return;
    };
    // /api/ls gives the comm (15 bytes); the full name is argv[0].
    let shown = [HOSTILE, &HOSTILE[..15]];
    let ui = Ui::start();
    // One hostile row from /api/ls (it listens before the page loads) …
    let first = harness::named_listener(HOSTILE);
    let b = Browser::start(&paths).await;
    b.open(&ui, first.num(0)).await;
    let text = b.text(&format!("{} td.process", row(first.num(0)))).await;
    assert!(shown.contains(&text.as_str()), "{text:?}");
    b.assert_no_alert().await;

    // … and one from the event stream, with alert() hooked first (through WebDriver: the
    // CSP forbids inline script, which is also why an injected onerror could not run —
    // the element count below is the check that matters).
    b.js("window.alert = window.confirm = window.prompt = \
         function () { window.__alerted = true; }; return null;")
        .await;
    b.wait_for(
        "document.getElementById('status').textContent.indexOf('live') >= 0",
        Duration::from_secs(10),
        "the event stream",
    )
    .await;
    let second = harness::named_listener(HOSTILE);
    b.wait_row(second.num(0), Duration::from_secs(5)).await;
    let text = b.text(&format!("{} td.process", row(second.num(0)))).await;
    assert!(shown.contains(&text.as_str()), "{text:?}");

    assert_eq!(
        b.js("return document.querySelectorAll('#listeners img').length;")
            .await,
        json!(0),
        "markup from a process name became an element"
    );
    assert_eq!(
        b.js("return typeof window.__alerted;").await,
        json!("undefined")
    );
    b.assert_no_alert().await;
    let urls = b.urls().await;
    assert!(
        !urls.iter().any(|u| u.ends_with("/x")),
        "the payload's image was requested: {urls:#?}"
    );
    b.close().await;
}

#[tokio::test]
async fn ui_browser_open_link_opens_the_service() {
    let Some(paths) = have_browser("ui_browser_open_link_opens_the_service") else {
        return;
    };
    let root = TempDir::new("ui-browser-http");
    std::fs::write(root.path().join("portscope-marker.txt"), "here\n").unwrap();
    // python's http.server, quiet, for at most 120 s; prints `PORT PID`.
    let http = harness::python(&format!(
        "import functools,http.server,os,threading\n\
         threading.Timer(120, os._exit, [0]).start()\n\
         class H(http.server.SimpleHTTPRequestHandler):\n    def log_message(self, *a): pass\n\
         s=http.server.ThreadingHTTPServer(('127.0.0.1',0), functools.partial(H, directory={:?}))\n\
         print(s.server_address[1], os.getpid(), flush=True)\n\
         s.serve_forever()\n",
        root.arg()
    ));
    let port = http.num(0);
    let ui = Ui::start();
    let b = Browser::start(&paths).await;
    b.open(&ui, port).await;
    let link_css = format!("{} a.open-link", row(port));
    b.wait_for(
        &format!("document.querySelector('{link_css}')"),
        Duration::from_secs(10),
        "the open link of the HTTP service",
    )
    .await;
    let link = b.client.find(Locator::Css(&link_css)).await.unwrap();
    let want = format!("http://127.0.0.1:{port}/");
    assert_eq!(link.attr("href").await.unwrap(), Some(want.clone()));
    assert_eq!(
        link.attr("target").await.unwrap().as_deref(),
        Some("_blank")
    );

    let dashboard = b.client.window().await.unwrap();
    link.click().await.unwrap();
    let start = Instant::now();
    let tab = loop {
        let windows = b.client.windows().await.unwrap();
        if let Some(w) = windows.into_iter().find(|w| *w != dashboard) {
            break w;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "no new tab");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    b.client.switch_to_window(tab).await.unwrap();
    b.wait_for(
        "document.readyState === 'complete' && \
         document.body && document.body.textContent.indexOf('Directory listing') >= 0",
        Duration::from_secs(5),
        "the service's page",
    )
    .await;
    assert_eq!(b.client.current_url().await.unwrap().as_str(), want);
    let source = b.client.source().await.unwrap();
    assert!(source.contains("portscope-marker.txt"), "{source}");
    b.close().await;
}

#[tokio::test]
async fn ui_browser_kill_with_confirmation_frees_the_port() {
    let Some(paths) = have_browser("ui_browser_kill_with_confirmation_frees_the_port") else {
        return;
    };
    let ui = Ui::start();
    let mut l = harness::tcp_listener("127.0.0.1");
    let port = l.num(0);
    let b = Browser::start(&paths).await;
    b.open(&ui, port).await;
    let kill_css = format!("{} button.kill", row(port));
    let dialog_open = "document.querySelector('dialog#kill-dialog') && \
                       document.querySelector('dialog#kill-dialog').open";

    // Cancel first: nothing happens.
    b.click(&kill_css).await;
    b.wait_for(dialog_open, Duration::from_secs(2), "the kill dialog")
        .await;
    b.click("#kill-cancel").await;
    b.wait_for(
        &format!("!({dialog_open})"),
        Duration::from_secs(2),
        "the dialog to close",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(l.child.try_wait().unwrap().is_none(), "cancel killed it");

    // Then confirm: the process exits, the port is free, the row goes.
    b.click(&kill_css).await;
    b.wait_for(dialog_open, Duration::from_secs(2), "the kill dialog")
        .await;
    b.click("#kill-confirm").await;
    assert!(
        wait_exit(&mut l, Duration::from_secs(10)),
        "the listener survived the kill"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port as u16)).is_err(),
        "port {port} still accepts"
    );
    b.wait_for(
        &format!("!document.querySelector('{}')", row(port)),
        Duration::from_secs(5),
        "the killed listener's row to go",
    )
    .await;
    b.wait_for(
        &format!("document.getElementById('status').textContent.indexOf('{port}') >= 0"),
        Duration::from_secs(5),
        "the outcome in #status",
    )
    .await;
    b.close().await;
}

#[tokio::test]
async fn ui_browser_row_click_fills_the_detail() {
    let Some(paths) = have_browser("ui_browser_row_click_fills_the_detail") else {
        return;
    };
    let ui = Ui::start();
    let l = harness::tcp_listener("127.0.0.1");
    let port = l.num(0);
    let b = Browser::start(&paths).await;
    b.open(&ui, port).await;
    b.client
        .find(Locator::Css(&format!("{} td.process", row(port))))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for(
        &format!(
            "(function (t) {{ return t.indexOf('{port}') >= 0 && t.indexOf('{}') >= 0; }})\
             (document.querySelector('section#detail').textContent)",
            l.pid
        ),
        Duration::from_secs(5),
        "the detail of the clicked row (its port and pid)",
    )
    .await;
    for css in ["svg#graph", "section#audit", "section#history"] {
        b.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
    }
    b.close().await;
}

#[tokio::test]
async fn ui_browser_ownerless_is_not_hidden() {
    let Some(paths) = have_browser("ui_browser_ownerless_is_not_hidden") else {
        return;
    };
    let (ui, held) = (Ui::start(), crate::ownerless::listener_in_flight());
    let b = Browser::start(&paths).await;
    b.open(&ui, held.num(0)).await;
    let process = b.text(&format!("{} td.process", row(held.num(0)))).await;
    assert_eq!(
        process, "(no process)",
        "a descriptor in flight is no hidden owner"
    );
    b.close().await;
}
