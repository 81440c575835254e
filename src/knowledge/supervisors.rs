//! What supervises a process that holds a port, told from what the process shows of itself:
//! a socket-activation manager's command line (`systemd-socket-activate`, inetd, xinetd,
//! `socat …-LISTEN…,fork EXEC:…`), the systemd unit and user manager in its cgroup path, and
//! what a unit's `Restart=` policy does after the signals `kill` sends. General knowledge in
//! pure functions (systemd.service(5), systemd-socket-activate(1), socat(1)); reading the
//! process and asking systemd is `sys`'s job.

/// Where this knowledge comes from, for output that cites it.
pub const SOURCE: &str =
    "systemd.service(5), systemd.socket(5), systemd-socket-activate(1), inetd(8), socat(1)";

/// What `systemd-socket-activate` (its older name: `systemd-activate`) was told to do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SocketActivate {
    /// The `-l`/`--listen` addresses (`127.0.0.1:8080`, `8080`, `/run/x.sock`).
    pub listen: Vec<String>,
    /// `-a`/`--accept`: a new process per connection; else the first connection starts the
    /// command, which takes over the listener (the manager execs into it: same pid).
    pub accept: bool,
    /// `--inetd`: the connection is the command's standard input and output.
    pub inetd: bool,
    /// `-d`/`--datagram`: datagram sockets.
    pub datagram: bool,
    /// The command it starts, with its arguments.
    pub command: Vec<String>,
}

/// The last path component of `argv0`.
fn base(argv0: &str) -> &str {
    argv0.rsplit('/').next().unwrap_or(argv0)
}

/// Read a `systemd-socket-activate` command line (getopt with `+`: options end at the first
/// word that is not one). `None` for any other program.
pub fn socket_activate(argv: &[String]) -> Option<SocketActivate> {
    let first = argv.first()?;
    if !matches!(base(first), "systemd-socket-activate" | "systemd-activate") {
        return None;
    }
    let mut sa = SocketActivate::default();
    let mut i = 1;
    while i < argv.len() {
        let arg = argv[i].as_str();
        i += 1;
        if arg == "--" {
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let mut value = || -> Option<String> {
                inline.clone().or_else(|| {
                    i += 1;
                    argv.get(i - 1).cloned()
                })
            };
            match name {
                "listen" => sa.listen.extend(value()),
                "accept" => sa.accept = true,
                "inetd" => sa.inetd = true,
                "datagram" => sa.datagram = true,
                "setenv" | "environment" | "fdname" => {
                    value();
                }
                _ => {}
            }
            continue;
        }
        let Some(cluster) = arg.strip_prefix('-').filter(|c| !c.is_empty()) else {
            i -= 1; // the command starts here
            break;
        };
        for (at, flag) in cluster.char_indices() {
            match flag {
                'a' => sa.accept = true,
                'd' => sa.datagram = true,
                'l' | 'E' => {
                    let rest = &cluster[at + 1..];
                    let value = if rest.is_empty() {
                        i += 1;
                        argv.get(i - 1).cloned()
                    } else {
                        Some(rest.to_string())
                    };
                    if flag == 'l' {
                        sa.listen.extend(value);
                    }
                    break;
                }
                _ => {}
            }
        }
    }
    sa.command = argv.get(i..).unwrap_or_default().to_vec();
    Some(sa)
}

/// An inetd-style super-server by its process name, with where its services are configured.
pub fn inetd(comm: &str) -> Option<&'static str> {
    match comm {
        "inetd" | "inetutils-inetd" => Some("/etc/inetd.conf"),
        "xinetd" => Some("/etc/xinetd.conf and /etc/xinetd.d/"),
        "rlinetd" => Some("/etc/rlinetd.conf"),
        _ => None,
    }
}

/// What a listening `socat` runs for each connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocatFork {
    /// The listening address as written (`TCP-LISTEN:8080,fork,reuseaddr`).
    pub listen: String,
    /// `fork` is among its options: a child per connection (else socat serves one and exits).
    pub fork: bool,
    /// The program it runs (`EXEC:`/`SYSTEM:`), as written.
    pub command: String,
}

/// Options of socat that take a value (the next word).
const SOCAT_VALUED: [&str; 11] = [
    "-b", "-t", "-T", "-lf", "-lp", "-L", "-W", "-r", "-R", "-S", "-D",
];

/// Read a socat command line whose one address listens and whose other runs a program
/// (`socat TCP-LISTEN:8080,fork EXEC:/usr/bin/cat`): inetd in one line. `None` otherwise
/// (a plain forwarder is just the holder of its port).
pub fn socat(argv: &[String]) -> Option<SocatFork> {
    if base(argv.first()?) != "socat" {
        return None;
    }
    let mut addrs = Vec::new();
    let mut it = argv.iter().skip(1);
    while let Some(a) = it.next() {
        if SOCAT_VALUED.contains(&a.as_str()) {
            it.next();
        } else if a.len() > 1 && a.starts_with('-') && addrs.is_empty() {
            continue;
        } else {
            addrs.push(a.as_str());
        }
    }
    let [a, b] = addrs.as_slice() else {
        return None;
    };
    let kind = |addr: &str| -> String {
        addr.split([':', ','])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase()
    };
    let listens = |addr: &str| {
        let k = kind(addr);
        k.ends_with("-LISTEN") || k.ends_with("-L") || k.ends_with("-RECVFROM")
    };
    let runs = |addr: &str| matches!(kind(addr).as_str(), "EXEC" | "SYSTEM");
    let (listen, exec) = if listens(a) && runs(b) {
        (*a, *b)
    } else if listens(b) && runs(a) {
        (*b, *a)
    } else {
        return None;
    };
    let fork = listen
        .split_once(',')
        .is_some_and(|(_, opts)| opts.split(',').any(|o| o.trim() == "fork"));
    let body = exec.split_once(':').map_or("", |(_, rest)| rest);
    // EXEC's options follow the first comma; SYSTEM's command is shell text, taken whole.
    let command = if kind(exec) == "EXEC" {
        body.split(',').next().unwrap_or(body)
    } else {
        body
    };
    Some(SocatFork {
        listen: listen.to_string(),
        fork,
        command: command.to_string(),
    })
}

/// What `Restart=` does after `kill`'s signals (SIGTERM, then SIGKILL for what is still
/// running): `Some(when)` when systemd starts the service again, saying after what; `None`
/// when it stays down. SIGTERM is a clean exit to systemd (as are SIGHUP, SIGINT, SIGPIPE);
/// SIGKILL is not (systemd.service(5), `Restart=`).
pub fn restarts_after_kill(restart: &str) -> Option<&'static str> {
    match restart {
        "always" => Some("after any exit"),
        "on-success" => Some("after a clean exit, which SIGTERM counts as"),
        "on-failure" => Some("after a failure, which SIGKILL counts as (and a non-zero exit)"),
        "on-abnormal" | "on-abort" => Some("after an unclean signal such as SIGKILL"),
        _ => None, // "no", "on-watchdog"
    }
}

/// For a unit run by a user's own manager (`…/user@1000.service/app.slice/foo.service`):
/// that user's uid. `None` for the system manager's units (and for `user@1000.service`
/// itself, which the system manager runs).
pub fn user_manager(cgroup: &str, unit: &str) -> Option<u32> {
    let comps: Vec<&str> = cgroup.split('/').collect();
    let at = comps.iter().rposition(|c| *c == unit)?;
    comps[..at].iter().rev().find_map(|c| {
        c.strip_prefix("user@")?
            .strip_suffix(".service")?
            .parse()
            .ok()
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn socket_activate_lines() {
        let sa = socket_activate(&argv(&[
            "systemd-socket-activate",
            "-l",
            "127.0.0.1:8080",
            "python3",
            "-m",
            "http.server",
        ]))
        .unwrap();
        assert_eq!(sa.listen, ["127.0.0.1:8080"]);
        assert!(!sa.accept);
        assert_eq!(sa.command, ["python3", "-m", "http.server"]);

        let sa = socket_activate(&argv(&[
            "/usr/bin/systemd-socket-activate",
            "-a",
            "--listen=2000",
            "-l[::1]:2001",
            "-E",
            "A=1",
            "--inetd",
            "--fdname",
            "x",
            "cat",
            "-l",
        ]))
        .unwrap();
        assert_eq!(sa.listen, ["2000", "[::1]:2001"]);
        assert!(sa.accept && sa.inetd);
        assert_eq!(sa.command, ["cat", "-l"], "options end at the command");

        let sa = socket_activate(&argv(&["systemd-activate", "-al", "9", "--", "-x"])).unwrap();
        assert!(sa.accept);
        assert_eq!(sa.listen, ["9"]);
        assert_eq!(sa.command, ["-x"]);
        assert_eq!(socket_activate(&argv(&["python3", "-l", "1"])), None);
        assert_eq!(socket_activate(&[]), None);
        let bare = socket_activate(&argv(&["systemd-socket-activate", "-l"])).unwrap();
        assert!(bare.command.is_empty() && bare.listen.is_empty());
    }

    #[test]
    fn socat_runs_a_program_per_connection() {
        let s = socat(&argv(&[
            "socat",
            "-d",
            "-T",
            "30",
            "TCP-LISTEN:8080,reuseaddr,fork",
            "EXEC:/usr/bin/cat,pty",
        ]))
        .unwrap();
        assert!(s.fork);
        assert_eq!(s.command, "/usr/bin/cat");
        let s = socat(&argv(&["socat", "SYSTEM:echo hi,there", "tcp4-l:7"])).unwrap();
        assert!(!s.fork);
        assert_eq!(s.command, "echo hi,there");
        assert_eq!(
            socat(&argv(&["socat", "TCP-LISTEN:80,fork", "TCP:10.0.0.2:80"])),
            None,
            "a forwarder is no supervisor"
        );
        assert_eq!(socat(&argv(&["nc", "-l", "80"])), None);
    }

    #[test]
    fn restart_policies() {
        assert!(restarts_after_kill("always").is_some());
        assert!(restarts_after_kill("on-failure").is_some());
        assert!(restarts_after_kill("on-success").is_some());
        assert!(restarts_after_kill("on-abnormal").is_some());
        assert_eq!(restarts_after_kill("no"), None);
        assert_eq!(restarts_after_kill("on-watchdog"), None);
    }

    #[test]
    fn user_units() {
        let cg = "/user.slice/user-1000.slice/user@1000.service/app.slice/vite.service";
        assert_eq!(user_manager(cg, "vite.service"), Some(1000));
        assert_eq!(
            user_manager(
                "/user.slice/user-1000.slice/user@1000.service/init.scope",
                "user@1000.service"
            ),
            None
        );
        assert_eq!(
            user_manager("/system.slice/nginx.service", "nginx.service"),
            None
        );
        assert_eq!(inetd("xinetd"), Some("/etc/xinetd.conf and /etc/xinetd.d/"));
        assert_eq!(inetd("nginx"), None);
    }
}
