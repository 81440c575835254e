//! Progress on a terminal: work that takes longer than a second shows a bar on standard error
//! (`audit`, `who --probe`, `explain --probe` and a slow `doctor`, as `probe` does), and
//! nothing when piped. Run in tmux, against listeners that accept and never answer, each of
//! which the prober gives up on after its deadline, and one whose accept queue is full.

use std::time::{Duration, Instant};

use crate::harness::{python, run};
use crate::watch_tui::{EXITED, Tmux};

/// One python process holding `n` listeners on 127.0.0.1 that accept and never answer; prints
/// the ports, comma-separated.
fn silent_listeners(n: usize) -> crate::harness::Spawned {
    python(&format!(
        "import socket,os,time,threading\n\
         ls=[]\n\
         for _ in range({n}):\n\
         \x20   s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(64); ls.append(s)\n\
         held=[]\n\
         def serve(s):\n\
         \x20   while True:\n\
         \x20       c,_=s.accept(); held.append(c)\n\
         for s in ls: threading.Thread(target=serve,args=(s,),daemon=True).start()\n\
         print(','.join(str(s.getsockname()[1]) for s in ls), os.getpid(), flush=True)\n\
         time.sleep(300)\n"
    ))
}

#[test]
fn a_long_audit_shows_progress_on_a_terminal_only() {
    // More silent ports than the audit probes at once: several rounds of a second each.
    let server = silent_listeners(40);
    let ports = server.words[0].clone();
    let Some(tmux) = Tmux::portscope(&format!("audit --port {ports}"), 120, 30) else {
        return;
    };
    let seen = first_line_with(&tmux, "probing ");
    let line = seen.unwrap_or_else(|| panic!("no progress line:\n{}", tmux.screen()));
    assert!(line.contains("/40 ports"), "{line}");
    // Piped, the same audit prints no bar.
    let piped = run(&["audit", "--port", &ports]);
    assert!(!piped.stderr.contains("probing "), "{piped:?}");
}

/// The first line of the tmux screen holding `needle`, looked for until the program exits
/// (or 20 s).
fn first_line_with(tmux: &Tmux, needle: &str) -> Option<String> {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(20) {
        let screen = tmux.screen();
        if let Some(line) = screen.lines().find(|l| l.contains(needle)) {
            return Some(line.to_string());
        }
        if screen.contains(EXITED) {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn a_slow_doctor_shows_its_step_on_a_terminal_only() {
    // A listener whose accept queue is full: new connections are dropped, so doctor's dial
    // waits its whole --timeout (3 s) before the diagnosis goes on.
    let server = python(
        "import socket,os,time\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(0)\n\
         cs=[]\n\
         for i in range(3):\n\
         \x20   c=socket.socket(); c.setblocking(False)\n\
         \x20   try: c.connect(s.getsockname())\n\
         \x20   except BlockingIOError: pass\n\
         \x20   cs.append(c)\n\
         time.sleep(0.2)\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         time.sleep(300)\n",
    );
    let target = format!("127.0.0.1:{}", server.words[0]);
    let args = format!("doctor {target} --timeout 3000");
    let Some(tmux) = Tmux::portscope(&args, 120, 30) else {
        return;
    };
    let line = first_line_with(&tmux, "dialling as clients do")
        .unwrap_or_else(|| panic!("no progress line:\n{}", tmux.screen()));
    assert!(line.contains("(step 1 of 5)"), "{line}");
    let piped = run(&["doctor", &target, "--timeout", "3000"]);
    assert_eq!(piped.code, 1, "{piped:?}");
    assert!(piped.stdout.contains("accept queue is full"), "{piped:?}");
    assert!(!piped.stderr.contains("step 1 of 5"), "{piped:?}");
}
