//! Rule: nothing listens on the TCP port, but a unix socket whose name carries the port
//! does — PostgreSQL with `listen_addresses = ''` serves `/var/run/postgresql/.s.PGSQL.5432`
//! only, and a client that dials TCP is refused.

use crate::doctor::{Context, Outcome};
use crate::model::{Endpoint, Finding, Severity};

/// DOC-UNIX-SOCKET-ONLY, one per unix socket that names the port.
pub fn check(ctx: &Context) -> Vec<Finding> {
    if ctx.listeners().next().is_some()
        || ctx.attempts.iter().any(|a| a.outcome == Outcome::Connected)
    {
        return Vec::new();
    }
    let port = ctx.port;
    let unix = &ctx.wider.unix;
    unix.sockets
        .iter()
        .filter_map(|s| match &s.local {
            Endpoint::Unix { path } => Some((s, path)),
            Endpoint::Inet { .. } => None,
        })
        .map(|(s, path)| {
            let owner = s.pids.first().and_then(|p| unix.process(*p));
            let held = match owner {
                Some(p) => format!(
                    "{}[{}] (user {})",
                    p.comm,
                    p.pid,
                    p.user.clone().unwrap_or_else(|| p.uid.to_string())
                ),
                None if s.owner_hidden => "a process you may not inspect".into(),
                None => "no process found".into(),
            };
            let mut evidence = vec![
                format!("{path}: a unix socket listening, held by {held}"),
                format!("no TCP socket listens on port {port} in this network namespace: TCP clients are refused"),
            ];
            if let Some(p) = owner.filter(|p| !p.cmdline.is_empty()) {
                evidence.push(format!("pid {}: {}", p.pid, crate::text::command_line(&p.cmdline)));
            }
            Finding {
                code: "DOC-UNIX-SOCKET-ONLY",
                severity: Severity::Critical,
                title: format!(
                    "port {port} is served on the unix socket {path} only: nothing listens on TCP port {port}"
                ),
                evidence,
                fix: fix(path, port, owner.map_or(&[][..], |p| &p.cmdline[..])),
            }
        })
        .collect()
}

/// Connect over the socket, or switch TCP on: PostgreSQL's own words for both.
fn fix(path: &str, port: u16, cmdline: &[String]) -> Vec<String> {
    let (dir, name) = path.rsplit_once('/').unwrap_or((".", path));
    if !name.starts_with(".s.PGSQL.") {
        return vec![
            format!(
                "connect over the socket: socat - UNIX-CONNECT:{path} (curl --unix-socket {path} http://localhost/ for HTTP)"
            ),
            format!("or configure the program to listen on TCP port {port} too, then restart it"),
        ];
    }
    let dir = if dir.is_empty() { "/" } else { dir };
    let data = cmdline
        .iter()
        .position(|a| a == "-D")
        .and_then(|i| cmdline.get(i + 1));
    let conf = data.map_or("postgresql.conf".into(), |d| format!("{d}/postgresql.conf"));
    let mut fix = vec![
        format!("connect over the socket: psql -h {dir} -p {port}"),
        format!("or enable TCP: listen_addresses = 'localhost' in {conf}, then restart the server"),
    ];
    // `-h ADDRS` is listen_addresses on the command line (an empty ADDRS is not even kept
    // in /proc's copy of it).
    let overridden = (cmdline.iter().skip(1)).any(|a| a == "-h" || a.contains("listen_addresses"));
    if overridden {
        fix.push(
            "its command line sets the listen addresses (-h or -c listen_addresses), which overrides postgresql.conf: change it where the server is started".into(),
        );
    }
    fix
}
