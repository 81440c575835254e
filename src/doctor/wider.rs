//! When nothing listens on the port, the truth is usually one look away: a unix socket whose
//! name carries the port (PostgreSQL's `.s.PGSQL.5432` with TCP switched off), or the program
//! the user meant, told `--port 5173` and listening somewhere else. This is the doctor's
//! gathering for those looks — the I/O, through `sys` and the snapshot engine — and the pure
//! matching of names and command lines it needs.

use crate::model::{Endpoint, Process, Snapshot, SockState, Socket};
use crate::snapshot::{self, Owners, Request};
use crate::sys::SocketQuery;
use crate::sys::procfs::{self, Detail, ProcContext};

/// What the wider look found, and how much it looked at.
#[derive(Debug, Clone, Default)]
pub struct Wider {
    /// Whether the look happened (it does when nothing listens on the port here).
    pub looked: bool,
    /// Listening unix sockets examined.
    pub unix_seen: usize,
    /// Those whose name carries the port as a word of its own, with owners in full.
    pub unix: Snapshot,
    /// Processes whose command line (or `PORT` in their environment) names the port.
    pub programs: Vec<Naming>,
    /// Processes whose command line was read.
    pub processes_seen: usize,
    /// Processes whose environment could not be read (another user's, without root).
    pub environ_unreadable: usize,
}

/// A process that names the port, and where it actually listens.
#[derive(Debug, Clone)]
pub struct Naming {
    /// The process.
    pub process: Process,
    /// The words that name the port (`--port 5173`, `PORT=5173` (environment)).
    pub words: String,
    /// Where it listens (TCP), none when it does not.
    pub listens: Vec<Endpoint>,
}

/// Look wider for `port`: unix sockets naming it, processes naming it. portscope itself and
/// its ancestors (the shell, `sudo`, `ip netns exec` that run it, whose command lines hold the
/// target too) are left out.
pub fn look(port: u16) -> Wider {
    let mut w = Wider {
        looked: true,
        ..Wider::default()
    };
    let listen = 1 << SockState::Listen.kernel_number();
    let unix = crate::sys::sock_diag::dump(&SocketQuery {
        tcp: false,
        udp: false,
        unix: true,
        states: listen,
        ..SocketQuery::default()
    })
    .unwrap_or_default();
    w.unix_seen = unix.len();
    let naming: Vec<Socket> = unix
        .into_iter()
        .filter(|s| matches!(&s.local, Endpoint::Unix { path } if path_names_port(path, port)))
        .collect();
    if !naming.is_empty() {
        w.unix = snapshot::with_owners(naming, Detail::Full).unwrap_or_default();
    }
    let pids = procfs::list_pids().unwrap_or_default();
    let mine = own_line();
    let mut found: Vec<(u32, String)> = Vec::new();
    for entry in pids.iter().filter(|e| !mine.contains(&e.pid)) {
        // Kernel threads (an empty command line, no environment) are not programs.
        let Ok(raw) = std::fs::read(format!("/proc/{}/cmdline", entry.pid)) else {
            continue;
        };
        if raw.is_empty() {
            continue;
        }
        w.processes_seen += 1;
        let args: Vec<String> = raw
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if let Some(words) = args_name_port(&args, port) {
            found.push((entry.pid, words));
            continue;
        }
        match crate::sys::environ::of_pid(entry.pid) {
            Ok(env)
                if env
                    .iter()
                    .any(|(k, v)| k == "PORT" && v.trim() == port.to_string()) =>
            {
                found.push((entry.pid, format!("PORT={port} (environment)")));
            }
            Ok(_) => {}
            Err(_) => w.environ_unreadable += 1,
        }
    }
    w.programs = where_they_listen(found);
    w
}

/// This process and its ancestors.
fn own_line() -> Vec<u32> {
    let mut line = vec![std::process::id()];
    while let Some(parent) = line.last().and_then(|p| procfs::ppid(*p)) {
        if parent == 0 || line.contains(&parent) || line.len() > 64 {
            break;
        }
        line.push(parent);
    }
    line
}

/// The processes found, each with the TCP sockets it listens on.
fn where_they_listen(found: Vec<(u32, String)>) -> Vec<Naming> {
    if found.is_empty() {
        return Vec::new();
    }
    let pids: Vec<u32> = found.iter().map(|(p, _)| *p).collect();
    let snap = snapshot::take(&Request {
        sockets: SocketQuery {
            udp: false,
            states: 1 << SockState::Listen.kernel_number(),
            ..SocketQuery::default()
        },
        owners: Owners::OnlyPids(pids),
        detail: Detail::Basic,
        threads: 0,
    })
    .unwrap_or_default();
    let ctx = ProcContext::new();
    found
        .into_iter()
        .filter_map(|(pid, words)| {
            let process = procfs::process(&ctx, pid, Detail::Full)?;
            let mut listens: Vec<Endpoint> = (snap.sockets.iter())
                .filter(|s| s.pids.contains(&pid))
                .map(|s| s.local.clone())
                .collect();
            listens.sort();
            listens.dedup();
            Some(Naming {
                process,
                words,
                listens,
            })
        })
        .collect()
}

/// Whether a unix socket's name carries `port` as a word of its own: `.s.PGSQL.5432`,
/// `app-5432.sock`, `/run/x:5432` — not `app15432.sock` or `v5432`.
pub fn path_names_port(path: &str, port: u16) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| word == port.to_string())
}

/// The words of a command line that name `port` as where to listen or connect: `--port 5173`,
/// `--port=5173`, `-p 5173`, `-p5173`, `--http-port=5173`, `PORT=5173`, `0.0.0.0:5173`,
/// `:5173`, `http://localhost:5173/`. A bare `5173` (a count, a size, a pid) is not enough.
pub fn args_name_port(args: &[String], port: u16) -> Option<String> {
    let p = port.to_string();
    let flag = |w: &str| {
        let w = w.trim_start_matches('-').to_ascii_lowercase();
        w == "p" || w.ends_with("port")
    };
    for (i, arg) in args.iter().enumerate().skip(1) {
        if flag(arg) && arg.starts_with('-') && args.get(i + 1) == Some(&p) {
            return Some(format!("{arg} {p}"));
        }
        if arg
            .split_once('=')
            .is_some_and(|(key, value)| flag(key) && value == p)
        {
            return Some(arg.clone());
        }
        if arg.strip_prefix("-p") == Some(&p) {
            return Some(arg.clone());
        }
        if host_port_names(arg, &p) {
            return Some(arg.clone());
        }
    }
    None
}

/// `HOST:PORT`, `:PORT`, `[::1]:PORT`, or a URL with that port (a path may follow).
fn host_port_names(arg: &str, p: &str) -> bool {
    let rest = arg.split_once("://").map_or(arg, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    let Some((host, port)) = authority.rsplit_once(':') else {
        return false;
    };
    port == p
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.[]:_".contains(c))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn socket_names_that_carry_the_port() {
        for path in [
            "/var/run/postgresql/.s.PGSQL.5432",
            "/tmp/app-5432.sock",
            "/run/x:5432",
            "@svc_5432",
        ] {
            assert!(path_names_port(path, 5432), "{path}");
        }
        for path in [
            "/tmp/app15432.sock",
            "/run/v5432",
            "/run/5432/other.sock",
            "",
        ] {
            assert!(!path_names_port(path, 5432), "{path}");
        }
    }

    #[test]
    fn command_lines_that_name_the_port() {
        let args = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let named = |s: &str| args_name_port(&args(s), 5173);
        assert_eq!(named("vite --port 5173").as_deref(), Some("--port 5173"));
        assert_eq!(named("node server.js -p 5173").as_deref(), Some("-p 5173"));
        assert_eq!(named("app -p5173").as_deref(), Some("-p5173"));
        assert_eq!(
            named("app --http-port=5173").as_deref(),
            Some("--http-port=5173")
        );
        assert_eq!(named("env PORT=5173 node x").as_deref(), Some("PORT=5173"));
        assert_eq!(
            named("gunicorn -b 0.0.0.0:5173 app").as_deref(),
            Some("0.0.0.0:5173")
        );
        assert_eq!(
            named("php -S localhost:5173").as_deref(),
            Some("localhost:5173")
        );
        assert_eq!(
            named("x --listen [::1]:5173").as_deref(),
            Some("[::1]:5173")
        );
        assert_eq!(
            named("curl http://127.0.0.1:5173/api").as_deref(),
            Some("http://127.0.0.1:5173/api")
        );
        assert_eq!(named("x :5173").as_deref(), Some(":5173"));
        for s in [
            "sleep 5173",
            "x --port 51730",
            "x --workers 5173",
            "x a:b:15173",
            "--port 5173",
        ] {
            assert_eq!(named(s), None, "{s}");
        }
    }
}
