//! Rule: nothing listens on the port, but a program that was told the port (`--port 5173`,
//! `-p 5173`, `0.0.0.0:5173`, `PORT=5173` in its environment) is running — and listens on
//! another port, or on none. A config file or a framework default overrode the flag, or the
//! server failed before it listened. Listeners a few ports away are DOC-NEARBY-LISTENER's.

use crate::doctor::{Context, NEARBY, Outcome};
use crate::model::{Finding, Severity};

/// DOC-LISTENS-ELSEWHERE (warning) for a program that names the port and listens elsewhere;
/// DOC-NAMES-PORT-NOT-LISTENING (info) for one that listens nowhere.
pub fn check(ctx: &Context) -> Vec<Finding> {
    if ctx.listeners().next().is_some()
        || ctx.attempts.iter().any(|a| a.outcome == Outcome::Connected)
    {
        return Vec::new();
    }
    let port = ctx.port;
    let mut out = Vec::new();
    // A program serving the port on a unix socket is DOC-UNIX-SOCKET-ONLY's.
    let serving_unix = |pid: u32| ctx.wider.unix.sockets.iter().any(|s| s.pids.contains(&pid));
    for n in ctx
        .wider
        .programs
        .iter()
        .filter(|n| !serving_unix(n.process.pid))
    {
        let p = &n.process;
        let who = format!("{}[{}]", p.comm, p.pid);
        let mut evidence = vec![
            format!("pid {}: {}", p.pid, crate::text::command_line(&p.cmdline)),
            format!("it names port {port}: {}", n.words),
        ];
        if let Some(cwd) = &p.cwd {
            evidence.push(format!("started in {cwd}"));
        }
        let far = n
            .listens
            .iter()
            .any(|e| e.port().is_some_and(|q| q.abs_diff(port) > NEARBY));
        if n.listens.is_empty() {
            evidence.push("it listens on no TCP port (netlink sock_diag, its fds)".into());
            out.push(Finding {
                code: "DOC-NAMES-PORT-NOT-LISTENING",
                severity: Severity::Info,
                title: format!(
                    "{who} names port {port} ({}) but listens on no TCP port: a server that has not listened yet (or failed to), or a client of the port",
                    n.words
                ),
                evidence,
                fix: vec![
                    "if it is the server: read its output or log for why it does not listen".into(),
                    format!("portscope who pid:{}   # what it holds", p.pid),
                ],
            });
        } else if far {
            let at: Vec<String> = n.listens.iter().map(ToString::to_string).collect();
            evidence.push(format!("it listens on {}", at.join(", ")));
            let first = n.listens.first().and_then(|e| e.port()).unwrap_or(0);
            out.push(Finding {
                code: "DOC-LISTENS-ELSEWHERE",
                severity: Severity::Warning,
                title: format!(
                    "{who} was told port {port} ({}) but listens on {}: something overrode it",
                    n.words,
                    at.join(", ")
                ),
                evidence,
                fix: vec![
                    format!("if that is your server, connect to port {first}"),
                    "or find what overrides the port: its config file, an environment variable (PORT), a framework default".into(),
                ],
            });
        }
    }
    out
}
