//! Progress on a terminal: work that takes longer than a second shows a bar on standard error
//! (`audit`, `who --probe`, `explain --probe`, as `probe` does), and nothing when piped. Run in
//! tmux, against listeners that accept and never answer, each of which the prober gives up on
//! after its deadline.

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
    let t0 = Instant::now();
    let mut seen = None;
    while t0.elapsed() < Duration::from_secs(20) {
        let screen = tmux.screen();
        if let Some(line) = screen.lines().find(|l| l.contains("probing ")) {
            seen = Some(line.to_string());
            break;
        }
        if screen.contains(EXITED) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let line = seen.unwrap_or_else(|| panic!("no progress line:\n{}", tmux.screen()));
    assert!(line.contains("/40 ports"), "{line}");
    // Piped, the same audit prints no bar.
    let piped = run(&["audit", "--port", &ports]);
    assert!(!piped.stderr.contains("probing "), "{piped:?}");
}
