//! The browser tests' session: the dashboard (`portscope ui` on a kernel-chosen port),
//! chromedriver on a port it picks, and a headless Chromium driven over WebDriver
//! (fantoccini), each stopped on drop. Used by `ui_browser.rs` and `ui_browser_containers.rs`.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::harness::{self, TempDir};
use crate::ui_browser_util::row;

/// Where Chromium and chromedriver are ([`harness::needs_browser`]).
pub(crate) struct Paths {
    pub(crate) chromium: PathBuf,
    pub(crate) chromedriver: PathBuf,
}

/// The browser, or `None` after one line saying `test` was skipped (a failure instead under
/// `PORTSCOPE_REQUIRE_BROWSER=1`).
pub(crate) fn have_browser(test: &str) -> Option<Paths> {
    let (chromium, chromedriver) = harness::needs_browser(test)?;
    Some(Paths {
        chromium,
        chromedriver,
    })
}

/// Read the rest of a pipe in a thread, so the writer never blocks or fails on a full or
/// closed pipe.
pub(crate) fn drain(mut pipe: impl Read + Send + 'static) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut pipe, &mut std::io::sink());
    });
}

/// A running `portscope ui` on 127.0.0.1 port 0.
pub(crate) struct Ui {
    pub(crate) child: Child,
    /// The URL it printed, with `?token=`.
    pub(crate) url: String,
    /// `http://127.0.0.1:PORT`.
    pub(crate) origin: String,
    _state: TempDir,
}

impl Ui {
    pub(crate) fn start() -> Ui {
        Ui::start_with(&[])
    }

    /// The dashboard with these extra environment variables (`DOCKER_HOST`, …).
    pub(crate) fn start_with(env: &[(&str, &str)]) -> Ui {
        let state = TempDir::new("ui-browser-state");
        let mut child = harness::portscope()
            .args(["ui", "--listen", "127.0.0.1:0"])
            .envs(env.iter().copied())
            .env("PORTSCOPE_STATE_DIR", state.path())
            .env_remove("PORTSCOPE_UI_TOKEN")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        drain(stderr);
        let url = line
            .trim_end()
            .strip_prefix("portscope ui: serving ")
            .unwrap_or_else(|| panic!("unexpected start line {line:?}"))
            .to_string();
        let origin = url.split_once("/?token=").unwrap().0.to_string();
        assert!(origin.starts_with("http://127.0.0.1:"), "{line}");
        Ui {
            child,
            url,
            origin,
            _state: state,
        }
    }
}

impl Drop for Ui {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// chromedriver on a port it picks itself (`--port=0`; it prints "ChromeDriver was started
/// successfully on port N."), in its own process group with the Chromium it starts; both are
/// killed on drop.
pub(crate) struct Driver {
    pub(crate) child: Child,
    pub(crate) port: u16,
}

impl Driver {
    /// chromedriver's `--port=0` binds ::1 first and exits ("IPv4 port not available") when
    /// that port is taken on 127.0.0.1: try a few times.
    pub(crate) fn start(chromedriver: &Path) -> Driver {
        let mut failures = String::new();
        for _ in 0..5 {
            match Driver::try_start(chromedriver) {
                Ok(d) => return d,
                Err(seen) => failures.push_str(&seen),
            }
        }
        panic!("chromedriver did not start:\n{failures}");
    }

    pub(crate) fn try_start(chromedriver: &Path) -> Result<Driver, String> {
        use std::os::unix::process::CommandExt;
        let mut child = Command::new(chromedriver)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut seen = String::new();
        let port = loop {
            let mut line = String::new();
            if out.read_line(&mut line).unwrap() == 0 {
                let _ = child.wait();
                return Err(seen);
            }
            seen.push_str(&line);
            if let Some((_, rest)) = line.split_once("started successfully on port ") {
                break rest.trim_end().trim_end_matches('.').parse().unwrap();
            }
        };
        drain(out);
        Ok(Driver { child, port })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(pid) = rustix::process::Pid::from_raw(self.child.id() as i32) {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
        let _ = self.child.wait();
    }
}

/// A headless Chromium session with a fresh profile.
pub(crate) struct Browser {
    pub(crate) client: Client,
    // Dropped after the client: the driver (and Chromium), then the profile directory.
    _driver: Driver,
    _profile: TempDir,
}

impl Browser {
    pub(crate) async fn start(paths: &Paths) -> Browser {
        let driver = Driver::start(&paths.chromedriver);
        let profile = TempDir::new("chromium-profile");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": paths.chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--disable-quic",
                    "--window-size=1280,800",
                    format!("--user-data-dir={}", profile.arg()),
                ],
            }),
        );
        // Leave any alert open, so that the tests can see it (the default dismisses it).
        caps.insert("unhandledPromptBehavior".into(), json!("ignore"));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .unwrap_or_else(|e| panic!("no WebDriver session: {e}"));
        Browser {
            client,
            _driver: driver,
            _profile: profile,
        }
    }

    /// Open the dashboard and wait until its table holds `port`'s row.
    pub(crate) async fn open(&self, ui: &Ui, port: u32) {
        self.client.goto(&ui.url).await.unwrap();
        self.wait_row(port, Duration::from_secs(10)).await;
    }

    /// Run `script` (a function body) and return its value.
    pub(crate) async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    /// Wait until the expression `expr` is true; how long it took. Panics with `what` when
    /// `timeout` passes first.
    /// Click the element `css` selects.
    pub(crate) async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    pub(crate) async fn wait_for(&self, expr: &str, timeout: Duration, what: &str) -> Duration {
        let start = Instant::now();
        loop {
            if self.js(&format!("return !!({expr});")).await == json!(true) {
                return start.elapsed();
            }
            assert!(start.elapsed() < timeout, "{what}: not within {timeout:?}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Wait until the row of `port` is in the table; how long it took.
    pub(crate) async fn wait_row(&self, port: u32, timeout: Duration) -> Duration {
        self.wait_for(
            &format!("document.querySelector('{}')", row(port)),
            timeout,
            &format!("the row of port {port}"),
        )
        .await
    }

    /// The text of the first element matching `css`.
    pub(crate) async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    /// Every URL the page loaded or fetched, and its own.
    pub(crate) async fn urls(&self) -> Vec<String> {
        let v = self
            .js(
                "return [location.href].concat(performance.getEntriesByType('resource')\
                 .map(function (e) { return e.name; }));",
            )
            .await;
        v.as_array()
            .unwrap()
            .iter()
            .map(|u| u.as_str().unwrap().to_string())
            .collect()
    }

    /// No alert, confirm or prompt is open.
    pub(crate) async fn assert_no_alert(&self) {
        match self.client.get_alert_text().await {
            Err(e) if e.is_no_such_alert() => {}
            Err(e) => panic!("asking for an alert: {e}"),
            Ok(text) => panic!("the page raised an alert: {text:?}"),
        }
    }

    pub(crate) async fn close(self) {
        self.client.clone().close().await.unwrap();
    }
}
