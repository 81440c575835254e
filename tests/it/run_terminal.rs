//! `run` in a terminal: Ctrl+C typed into a pseudo-terminal reaches the child once, a child
//! that left the terminal's group still gets it (portscope passes it on), and a hang-up of
//! the terminal reaches the child when portscope leads the session.

use std::process::Stdio;

use crate::run::{StateDir, number_after};

/// Drive `portscope run` in a pseudo-terminal (python's `pty`; portscope leads the session):
/// wait for the child's READY, then type Ctrl+C (or with PTY_HANGUP=1 hang the terminal up),
/// collect everything; the last line is `STATUS n` (`STATUS hung` when portscope did not end
/// within 15 s: it is killed then).
const PTY_DRIVER: &str = r#"
import os, pty, select, sys, time
hangup = os.environ.get('PTY_HANGUP') == '1'
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
buf = b''
def read_until(done, seconds):
    global buf
    end = time.time() + seconds
    while not done() and time.time() < end:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                data = os.read(fd, 4096)
            except OSError:
                return
            if not data:
                return
            buf += data
read_until(lambda: b'READY' in buf, 15)
if hangup:
    read_until(lambda: b'\n' in buf[buf.find(b'READY'):], 5)
    os.close(fd)
else:
    os.write(fd, b'\x03')
    read_until(lambda: False, 15)
status = 'hung'
end = time.time() + 15
while time.time() < end:
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = os.waitstatus_to_exitcode(st)
        break
    time.sleep(0.02)
else:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
sys.stdout.write(buf.decode(errors='replace').replace('\r\n', '\n'))
print('STATUS', status)
"#;

/// The child: counts SIGINTs, says READY, and exits with the count half a second after the
/// first (a second copy would arrive in that time).
const COUNT_SIGINTS: &str = "import os,signal,sys,time\n\
    n=0\n\
    def h(s,f):\n\
    \x20   global n; n+=1\n\
    signal.signal(signal.SIGINT, h)\n\
    print('ready'.upper(), os.getpid(), flush=True)\n\
    end=time.time()+20\n\
    while n==0 and time.time()<end: time.sleep(0.05)\n\
    time.sleep(0.5)\n\
    sys.exit(n)\n";

fn in_a_terminal(state: &StateDir, hangup: bool, command: &[&str]) -> (String, String) {
    let out = std::process::Command::new("python3")
        .args(["-c", PTY_DRIVER, env!("CARGO_BIN_EXE_portscope"), "run"])
        .args(["--state-dir", state.arg(), "--"])
        .args(command)
        .env("NO_COLOR", "1")
        .env("PTY_HANGUP", if hangup { "1" } else { "0" })
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let status = text
        .lines()
        .last()
        .and_then(|l| l.strip_prefix("STATUS "))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no status from the pty driver: {text}\n{out:?}"));
    (status, text)
}

#[test]
fn ctrl_c_in_a_terminal_reaches_the_child_once() {
    let state = StateDir::new("ctrlc");
    let (status, text) = in_a_terminal(&state, false, &["python3", "-c", COUNT_SIGINTS]);
    // The terminal sent SIGINT to the whole foreground group: the child got it from there,
    // and portscope (not killed by it) did not pass on a second copy.
    assert_eq!(status, "1", "{text}");
    assert!(text.contains("python3 exited with code 1; port "), "{text}");
    assert!(!text.contains("passed SIGINT"), "{text}");
}

#[test]
fn ctrl_c_reaches_a_child_that_left_the_terminal_group() {
    let Some(setsid) = crate::harness::needs(
        "ctrl_c_reaches_a_child_that_left_the_terminal_group",
        "setsid",
        "util-linux",
    ) else {
        return;
    };
    let setsid = setsid.to_str().expect("a UTF-8 path");
    let state = StateDir::new("setsid");
    let (status, text) = in_a_terminal(&state, false, &[setsid, "python3", "-c", COUNT_SIGINTS]);
    // In its own session the terminal's Ctrl+C no longer reaches it: portscope passes it on.
    assert_eq!(status, "1", "{text}");
    assert!(
        text.contains("portscope: passed SIGINT on to its process group"),
        "{text}"
    );
}

#[test]
fn a_terminal_hang_up_reaches_the_child_when_portscope_leads_the_session() {
    let state = StateDir::new("hangup");
    let (status, text) = in_a_terminal(&state, true, &["python3", "-c", COUNT_SIGINTS]);
    // Only the session leader (portscope here) hears a hang-up: it passes SIGHUP on.
    assert_ne!(
        status, "hung",
        "portscope kept running after the hang-up:\n{text}"
    );
    let child: u32 = number_after(&text, "READY ").unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{child}/stat"));
    assert!(
        stat.is_err(),
        "the child outlived the hang-up: {stat:?}\n{text}"
    );
}
