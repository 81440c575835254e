//! A running `portscope` that prints JSON lines as it goes (`watch --events`, `daemon
//! --events`, `serve`, `forward`, `tap`), read line by line on a thread, for their tests.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness;

/// A running `portscope` printing JSON lines (its own process group); the lines arrive on a
/// channel.
pub struct EventStream {
    child: Child,
    /// Its pid.
    pub pid: u32,
    lines: Receiver<Value>,
    /// Every line received so far.
    pub seen: Vec<Value>,
    /// The `watch-started` line.
    pub started: Value,
}

impl EventStream {
    /// Start `portscope ARGS` and wait for its `watch-started` line.
    pub fn start(args: &[&str]) -> EventStream {
        EventStream::start_until(args, "watch-started")
    }

    /// Start `portscope ARGS` and wait for its first line whose `event` is `first`.
    pub fn start_until(args: &[&str], first: &str) -> EventStream {
        EventStream::try_start_until(args, first).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`EventStream::start_until`], or what it printed on standard error if it did not start.
    pub fn try_start_until(args: &[&str], first: &str) -> Result<EventStream, String> {
        use std::os::unix::process::CommandExt;
        let mut child = harness::portscope()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("spawn portscope");
        let pid = child.id();
        let out = BufReader::new(child.stdout.take().unwrap());
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in out.lines() {
                let Ok(line) = line else { break };
                // A line cut by SIGKILL mid-write does not parse: it is not counted.
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && tx.send(v).is_err()
                {
                    break;
                }
            }
        });
        let mut d = EventStream {
            child,
            pid,
            lines: rx,
            seen: Vec::new(),
            started: Value::Null,
        };
        match d.wait_for(Duration::from_secs(20), |v| v["event"] == first) {
            Some(v) => {
                d.started = v;
                Ok(d)
            }
            None => {
                let _ = d.child.kill();
                let _ = d.child.wait();
                let mut err = String::new();
                if let Some(mut e) = d.child.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                Err(format!("portscope {args:?} did not start: {err}"))
            }
        }
    }

    /// The next line matching `pred` (lines before it are kept in `seen`).
    pub fn wait_for(&mut self, within: Duration, pred: impl Fn(&Value) -> bool) -> Option<Value> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(v) => {
                    self.seen.push(v.clone());
                    if pred(&v) {
                        return Some(v);
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// The next line whose `event` is `kind`, waiting up to 20 s.
    pub fn next_event(&mut self, kind: &str) -> Value {
        self.wait_for(Duration::from_secs(20), |v| v["event"] == kind)
            .unwrap_or_else(|| panic!("no {kind} line within 20 s; seen: {:?}", self.seen))
    }

    /// The event line of `kind` on `port`, waiting up to 15 s.
    pub fn event(&mut self, kind: &str, port: u32) -> Value {
        if let Some(v) = self.seen.iter().find(|v| is_event(v, kind, port)) {
            return v.clone();
        }
        self.wait_for(Duration::from_secs(15), |v| is_event(v, kind, port))
            .unwrap_or_else(|| panic!("no {kind} line for port {port}; seen: {:?}", self.seen))
    }

    /// Send it `sig`.
    pub fn signal(&self, sig: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_raw(self.pid as i32).unwrap();
        rustix::process::kill_process(pid, sig).unwrap();
    }

    /// Send `sig`, wait for the exit (bounded) and for every line it printed; the exit code.
    pub fn stop(&mut self, sig: rustix::process::Signal) -> i32 {
        self.signal(sig);
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "portscope did not stop on {sig:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        // The reader thread ends at EOF; collect what it read.
        while let Ok(v) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(v);
        }
        use std::os::unix::process::ExitStatusExt;
        status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        if let Some(pid) = rustix::process::Pid::from_raw(self.pid as i32) {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
        let _ = self.child.wait();
    }
}

/// Whether `v` is the `kind` event (`listen-opened`, `listen-closed`) on `port`.
pub fn is_event(v: &Value, kind: &str, port: u32) -> bool {
    v["event"] == kind && v["port"].as_u64() == Some(u64::from(port))
}
