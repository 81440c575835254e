//! The terminal view of `watch`, tested as a person would use it: run it in tmux (a private
//! server per test), press keys with `send-keys`, read the screen with `capture-pane`.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::harness;

/// What the pane's shell prints after portscope, before its exit status.
pub(crate) const EXITED: &str = "portscope exited with status ";

/// How long anything the view should show may take to show.
const PATIENCE: Duration = Duration::from_secs(10);

/// A tmux server of its own (`-S` socket in a private directory) running one pane; the server
/// is killed and the directory removed however the test ends.
pub(crate) struct Tmux {
    dir: PathBuf,
    /// The `tmux` program ([`harness::needs`]).
    tmux: PathBuf,
}

impl Tmux {
    /// Start `portscope watch ARGS…` in a detached `width`×`height` session. The pane stays
    /// after portscope exits (`remain-on-exit`), so the test can look at how it left. `None`
    /// without tmux, after one line saying the running test was skipped.
    fn watch(args: &str, width: u16, height: u16) -> Option<Tmux> {
        Tmux::portscope(&format!("watch {args}"), width, height)
    }

    /// Start `portscope ARGS…` in a detached `width`×`height` session, as [`Tmux::watch`].
    pub(crate) fn portscope(args: &str, width: u16, height: u16) -> Option<Tmux> {
        let tmux = harness::needs(&harness::current_test(), "tmux", "tmux")?;
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "portscope-tui-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("tmux.conf"), "set -g remain-on-exit on\n").unwrap();
        let tmux = Tmux { dir, tmux };
        let bin = env!("CARGO_BIN_EXE_portscope");
        // tmux runs it with `sh -c`; the shell says how portscope exited.
        let cmd = format!(
            "'{}' {args}; echo \"{EXITED}$?\"",
            bin.replace('\'', r"'\''")
        );
        let (w, h) = (width.to_string(), height.to_string());
        tmux.run(&["new-session", "-d", "-x", &w, "-y", &h, &cmd]);
        Some(tmux)
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.tmux);
        c.arg("-S")
            .arg(self.dir.join("sock"))
            .arg("-f")
            .arg(self.dir.join("tmux.conf"))
            .env_remove("TMUX");
        c
    }

    /// Run a tmux command; its standard output.
    fn run(&self, args: &[&str]) -> String {
        let out = self.command().args(args).output().unwrap_or_else(|e| {
            panic!(
                "cannot run tmux ({e}): the terminal-view tests need tmux \
                 (apt-get install tmux)"
            )
        });
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen as text.
    pub(crate) fn screen(&self) -> String {
        self.run(&["capture-pane", "-p"])
    }

    /// Press keys (tmux key names: `Enter`, `Escape`, `q`…).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys"];
        args.extend(keys);
        self.run(&args);
    }

    /// Type text literally.
    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-l", text]);
    }

    /// A pane variable (`#{alternate_on}`, `#{pane_dead}`…).
    fn var(&self, name: &str) -> String {
        self.run(&["display-message", "-p", &format!("#{{{name}}}")])
            .trim()
            .to_string()
    }

    /// Poll the screen until `want` holds; the screen then. Fails showing the last screen.
    fn wait_for(&self, what: &str, want: impl Fn(&str) -> bool) -> String {
        let t0 = Instant::now();
        loop {
            let screen = self.screen();
            if want(&screen) {
                return screen;
            }
            assert!(
                t0.elapsed() < PATIENCE,
                "the view did not show {what} within {PATIENCE:?}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Press `q` and check portscope exited with status 0 and left the alternate screen.
    fn quit(&self) {
        self.keys(&["q"]);
        self.exited_cleanly("q");
    }

    /// Check portscope exited with status 0 and left the alternate screen: the shell's line
    /// after it is on the normal screen (or scrolled into its history, once tmux has added
    /// its "Pane is dead" line).
    fn exited_cleanly(&self, after: &str) {
        let t0 = Instant::now();
        let text = loop {
            let text = self.run(&["capture-pane", "-p", "-S", "-"]);
            if text.contains(EXITED) {
                break text;
            }
            assert!(
                t0.elapsed() < PATIENCE,
                "portscope did not end after {after}; the screen:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(
            text.contains(&format!("{EXITED}0")),
            "portscope's exit status after {after}:\n{text}"
        );
        assert_eq!(
            self.var("alternate_on"),
            "0",
            "the terminal was left on the alternate screen"
        );
    }

    /// The pid of the portscope in the pane (the pane's process, or its child when a shell
    /// stayed in between).
    fn portscope_pid(&self) -> i32 {
        let pane: i32 = self.var("pane_pid").parse().unwrap();
        let comm =
            |pid: i32| std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm(pane).trim() == "portscope" {
            return pane;
        }
        let children =
            std::fs::read_to_string(format!("/proc/{pane}/task/{pane}/children")).unwrap();
        children
            .split_whitespace()
            .filter_map(|c| c.parse().ok())
            .find(|&c| comm(c).trim() == "portscope")
            .unwrap_or_else(|| panic!("no portscope under pane pid {pane}"))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The table row of the listener on 127.0.0.1:`port`, if shown.
fn row(screen: &str, port: u32) -> Option<&str> {
    let port = port.to_string();
    screen.lines().find(|l| {
        let words: Vec<&str> = l.split_whitespace().collect();
        words.contains(&"127.0.0.1") && words.contains(&port.as_str())
    })
}

/// A python3 listener on 127.0.0.1, port chosen by the kernel: (port, pid, process).
fn listener() -> (u32, u32, harness::Spawned) {
    let l = harness::tcp_listener("127.0.0.1");
    (l.num(0), l.num(1), l)
}

fn started(t: &Tmux) {
    t.wait_for("the header and the table", |s| {
        s.contains("portscope watch") && s.contains("PROTO") && s.contains("q quit")
    });
}

#[test]
fn the_view_shows_new_listeners_filters_and_fades_closed_ones() {
    let Some(t) = Tmux::watch("--interval 300ms", 160, 40) else {
        return;
    };
    started(&t);
    // Newest first, so the listeners opened here are on screen however many others exist.
    t.keys(&["s", "s", "s"]);
    t.wait_for("the sort by age", |s| {
        s.contains("sort: since (newest first)")
    });
    let (port_a, pid_a, a) = listener();
    let (port_b, pid_b, _b) = listener();

    let screen = t.wait_for("both new listeners", |s| {
        row(s, port_a).is_some() && row(s, port_b).is_some()
    });
    for (port, pid) in [(port_a, pid_a), (port_b, pid_b)] {
        let r = row(&screen, port).unwrap_or_default();
        assert!(
            r.starts_with('+'),
            "a listener opened while watching is marked new: {r:?}"
        );
        assert!(
            r.contains("python3") && r.contains(&pid.to_string()),
            "{r:?}"
        );
    }

    // Filter on the first one's port: its row only.
    t.keys(&["/"]);
    t.type_text(&port_a.to_string());
    t.keys(&["Enter"]);
    let screen = t.wait_for("the filter applied", |s| {
        s.contains(&format!("filter \"{port_a}\"")) && row(s, port_a).is_some()
    });
    assert!(
        row(&screen, port_b).is_none(),
        "the filter {port_a} still shows port {port_b}:\n{screen}"
    );

    // Esc clears it: both again.
    t.keys(&["Escape"]);
    let screen = t.wait_for("both listeners again", |s| {
        row(s, port_a).is_some() && row(s, port_b).is_some()
    });
    assert!(!screen.contains("filter \""), "{screen}");

    // The first one closes: its row lingers marked closed, then goes.
    drop(a);
    let screen = t.wait_for("the closed listener marked", |s| {
        row(s, port_a).is_some_and(|r| r.starts_with('-'))
    });
    let r = row(&screen, port_a).unwrap_or_default();
    assert!(
        r.contains("[process exited]") || r.contains("[socket closed]"),
        "a closed row says how it ended: {r:?}"
    );
    t.wait_for("the closed listener gone", |s| {
        row(s, port_a).is_none() && row(s, port_b).is_some()
    });

    t.quit();
}

#[test]
fn k_frees_the_selected_port_after_asking() {
    let Some(t) = Tmux::watch("--interval 300ms", 160, 40) else {
        return;
    };
    started(&t);
    let (port, pid, mut l) = listener();
    t.keys(&["/"]);
    t.type_text(&port.to_string());
    t.keys(&["Enter"]);
    t.wait_for("the listener, alone", |s| row(s, port).is_some());

    t.keys(&["k"]);
    let asked = format!("python3[{pid}]");
    let screen = t.wait_for("the confirmation", |s| s.contains("y: yes"));
    assert!(
        screen.contains(&asked) && screen.contains(&format!("127.0.0.1:{port}/tcp?")),
        "the confirmation names the port and {asked}:\n{screen}"
    );
    assert!(
        l.child.try_wait().unwrap().is_none(),
        "nothing is stopped before the answer"
    );

    t.keys(&["y"]);
    let freed = format!("127.0.0.1:{port}/tcp freed: python3[{pid}] stopped");
    t.wait_for("the outcome", |s| s.contains(&freed));
    let t0 = Instant::now();
    while l.child.try_wait().unwrap().is_none() {
        assert!(t0.elapsed() < PATIENCE, "pid {pid} still runs after y");
        std::thread::sleep(Duration::from_millis(50));
    }
    t.quit();
}

/// The process's state letter (`R`, `S`, `Z`…), `None` once it is gone.
fn proc_state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?.1.chars().next()
}

/// SIGKILL for a pid still running when the test ends (a failed test leaves no spinner).
struct KillOnDrop(i32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if proc_state(self.0).is_some_and(|s| s != 'Z')
            && let Some(pid) = rustix::process::Pid::from_raw(self.0)
        {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
        }
    }
}

#[test]
fn sigterm_and_a_hangup_end_the_view() {
    let Some(t) = Tmux::watch("--interval 300ms", 100, 30) else {
        return;
    };
    started(&t);
    let pid = t.portscope_pid();
    let _ = rustix::process::kill_process(
        rustix::process::Pid::from_raw(pid).unwrap(),
        rustix::process::Signal::TERM,
    );
    t.exited_cleanly("SIGTERM");

    // The terminal goes away (the tmux server is killed): portscope must end, not spin on a
    // terminal that is no longer there.
    let Some(t) = Tmux::watch("--interval 300ms", 100, 30) else {
        return;
    };
    started(&t);
    let pid = t.portscope_pid();
    let _reaper = KillOnDrop(pid);
    t.run(&["kill-server"]);
    let t0 = Instant::now();
    while let Some(state) = proc_state(pid).filter(|&s| s != 'Z') {
        assert!(
            t0.elapsed() < PATIENCE,
            "portscope (pid {pid}) still runs, state {state}, after its terminal hung up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
