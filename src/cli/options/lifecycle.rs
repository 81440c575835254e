//! Typed options for the lifecycle verbs, converted from their clap structs.
//!
//! `kill`, `pick`, `reserve`, `release`, `run`, `check-config` and `env`: each flag's text is
//! parsed here once (signals, durations, ports, ranges, addresses), in the order the verbs
//! checked them before, with the same messages. What needs the live system (does a host name
//! resolve, is the program on `$PATH`, where is the current directory) stays in the verb.

use std::net::IpAddr;
use std::time::Duration;

use crate::cli::{KillArgs, PickArgs, ProjectArgs, ReleaseArgs, ReserveArgs, RunArgs, WaitArgs};
use crate::commands::{kill, pick, project, reserve, run, wait};
use crate::error::{Error, Result};
use crate::sys::signal::Sig;
use crate::target::{self, Target};
use crate::text::echo;

impl KillArgs {
    /// The typed options of `kill`: targets (ports, addresses, ranges), then `--signal`, then
    /// `--timeout`.
    pub fn options(&self) -> Result<kill::Options> {
        Ok(kill::Options {
            targets: kill_targets(&self.targets)?,
            connections: self.connections,
            yes: self.yes,
            dry_run: self.dry_run,
            signal: signal(&self.signal)?,
            timeout: crate::input::duration(&self.timeout, "--timeout")?,
            no_escalate: self.no_escalate,
            tree: self.tree,
            force: self.force,
            respawn_wait: crate::input::duration(&self.respawn_wait, "--respawn-wait")?,
        })
    }
}

/// `kill`'s targets: ports, addresses and ranges only. A comma separates targets within one
/// argument (`3000,5173`, `3000, 5173`), as kill-port and fuser users write them; a URL is
/// kept whole (its query may hold commas).
fn kill_targets(texts: &[String]) -> Result<Vec<Target>> {
    let mut parts = Vec::new();
    for text in texts {
        if text.contains("://") || !text.contains(',') {
            parts.push(text.as_str());
            continue;
        }
        let pieces: Vec<&str> = text.split(',').filter(|p| !p.trim().is_empty()).collect();
        if pieces.is_empty() {
            return Err(Error::bad_input(
                format!("{} names no port", echo(text)),
                "expected ports separated by commas, e.g. 3000,5173",
            ));
        }
        parts.extend(pieces);
    }
    parts
        .into_iter()
        .map(|text| match target::parse(text)? {
            Target::Pid(_) | Target::Process(_) => Err(kill::names_a_process(text)),
            t => Ok(t),
        })
        .collect()
}

impl WaitArgs {
    /// The typed options of `wait`: the target, then `--timeout`, then `--interval`. A URL
    /// implies `--http` with its path; `--http PATH` written before the target, with no
    /// target after it (`wait --http 3000`), is the target.
    pub fn options(&self) -> Result<wait::Options> {
        let (text, http) = match (&self.target, &self.http) {
            (Some(t), http) => (t.clone(), http.clone()),
            (None, Some(p)) if !p.starts_with('/') => (p.clone(), Some("/".into())),
            (None, _) => {
                return Err(Error::bad_input(
                    "wait needs a TARGET",
                    "expected e.g. portscope wait 3000 or portscope wait http://localhost:3000/health",
                ));
            }
        };
        let target = target::parse(&text)?;
        let url_path = match &target {
            Target::Addr {
                scheme: Some(s),
                path,
                ..
            } if matches!(s.as_str(), "http" | "https" | "ws" | "wss") => {
                Some(path.clone().unwrap_or_else(|| "/".into()))
            }
            _ => None,
        };
        let until = if self.free {
            wait::Until::Free
        } else if let Some(path) = http.or(url_path) {
            if !path.starts_with('/') {
                return Err(Error::bad_input(
                    format!("--http {} is not a path", echo(&path)),
                    "expected a path starting with /, e.g. --http /health",
                ));
            }
            wait::Until::Http { path }
        } else {
            wait::Until::Accepts
        };
        let timeout = crate::input::duration(&self.timeout, "--timeout")?;
        let interval = crate::input::duration(&self.interval, "--interval")?;
        if interval < std::time::Duration::from_millis(10) {
            return Err(Error::bad_input(
                format!("--interval {} is too short", echo(&self.interval)),
                "expected 10ms or more, e.g. --interval 200ms",
            ));
        }
        Ok(wait::Options {
            target,
            until,
            timeout,
            interval,
        })
    }
}

/// `--signal`: TERM, INT, HUP, QUIT, KILL, USR1 or USR2 (with or without SIG, any case) or
/// its number.
fn signal(text: &str) -> Result<Sig> {
    Sig::parse(text).ok_or_else(|| {
        Error::bad_input(
            format!("--signal {} is not a signal kill sends", echo(text)),
            "expected TERM, INT, HUP, QUIT, KILL, USR1 or USR2 (with or without SIG, any case) or its number (15, 2, 1, 3, 9, 10, 12)",
        )
    })
}

impl PickArgs {
    /// The typed options of `pick`: `--count`, `--lease`, `--range`, then `--host`.
    pub fn options(&self) -> Result<pick::Options> {
        let count = match self.count.trim().parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return Err(Error::bad_input(
                    format!(
                        "--count {} is not a number from 1 to 1000",
                        echo(&self.count)
                    ),
                    "expected e.g. --count 3",
                ));
            }
        };
        let lease = crate::input::duration(&self.lease, "--lease")?;
        if lease > Duration::from_secs(86_400) {
            return Err(Error::bad_input(
                format!("--lease {} is longer than a day", echo(&self.lease)),
                "a pick is a short hold until your program listens; use `portscope reserve NAME` for a lasting port",
            ));
        }
        Ok(pick::Options {
            range: self.range.as_deref().map(range).transpose()?,
            count,
            udp: self.udp,
            host: self.host.as_deref().map(pick_host).transpose()?,
            allow_ephemeral: self.allow_ephemeral,
            lease,
            state_dir: self.store.state_dir.clone(),
        })
    }
}

/// `--range`: `LOW-HIGH` (or one port).
fn range(text: &str) -> Result<(u16, u16)> {
    match target::parse(text)? {
        Target::Range {
            start,
            end,
            proto: None,
        } => Ok((start, end)),
        Target::Port { port, proto: None } => Ok((port, port)),
        _ => Err(Error::bad_input(
            format!("--range {} is not a port range", echo(text)),
            "expected LOW-HIGH with ports 1-65535, e.g. --range 3000-3999",
        )),
    }
}

/// `pick --host`: an IP address.
fn pick_host(text: &str) -> Result<IpAddr> {
    crate::input::ip(text, "--host", "--host 127.0.0.1 or --host ::1")
}

impl ReserveArgs {
    /// The typed options of `reserve`: the name, then `--port`, then `--range`.
    pub fn options(&self) -> Result<reserve::Options> {
        let request = if self.list {
            reserve::Request::List
        } else if self.prune {
            reserve::Request::Prune
        } else {
            let name = self.name.clone().unwrap_or_default();
            reserve::check_name(&name)?;
            reserve::Request::Name {
                name,
                port: self.port.as_deref().map(target::parse_port).transpose()?,
                range: self.range.as_deref().map(range).transpose()?,
                dir: self.dir.clone(),
            }
        };
        Ok(reserve::Options {
            request,
            state_dir: self.store.state_dir.clone(),
        })
    }
}

impl ReleaseArgs {
    /// The typed options of `release` (the name is checked by the verb).
    pub fn options(&self) -> Result<reserve::ReleaseOptions> {
        Ok(reserve::ReleaseOptions {
            name: self.name.clone(),
            state_dir: self.store.state_dir.clone(),
        })
    }
}

impl RunArgs {
    /// The typed options of `run`: `--name`, `--port`, then `--host` (the program is looked
    /// up by the verb).
    pub fn options(&self) -> Result<run::Options> {
        if let Some(name) = &self.name {
            reserve::check_name(name)?;
        }
        Ok(run::Options {
            name: self.name.clone(),
            port: self.port.as_deref().map(target::parse_port).transpose()?,
            host: run_host(&self.host)?,
            probe: self.probe,
            command: self.command.clone(),
            state_dir: self.store.state_dir.clone(),
        })
    }
}

/// `run --host`: an IP address (`[::1]` too) or a host name. Digits and dots alone, or a
/// colon, mean an address (`300.1.1.1` is a bad one, not a name); whether it is this
/// machine's is the verb's question.
fn run_host(text: &str) -> Result<run::Host> {
    let t = text.trim();
    let bare = t.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(run::Host::Ip(ip));
    }
    if !bare.is_empty()
        && (bare.contains(':') || bare.chars().all(|c| c.is_ascii_digit() || c == '.'))
    {
        return Err(Error::bad_input(
            format!("--host {} is not an IP address", echo(text)),
            "expected an address of this machine or a name, e.g. --host 127.0.0.1, --host ::1, \
             --host 0.0.0.0 (every interface) or --host localhost",
        ));
    }
    let name_ok = !t.is_empty()
        && t.len() <= 253
        && !t.starts_with(['-', '.'])
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if name_ok {
        return Ok(run::Host::Name(t.to_string()));
    }
    Err(Error::bad_input(
        format!("--host {} is not an address or host name", echo(text)),
        "expected an IP address or a host name, e.g. --host 127.0.0.1, --host ::1 or --host localhost",
    ))
}

impl ProjectArgs {
    /// The typed options of `check-config` and `env`.
    pub fn options(&self) -> Result<project::Options> {
        Ok(project::Options {
            config: self.config.clone(),
            state_dir: self.store.state_dir.clone(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::cli::Command;

    use crate::cli::options::parsed as command;

    #[test]
    fn defaults_agree() {
        let Command::Pick(a) = command(&["pick"]) else {
            panic!("not pick")
        };
        assert_eq!(a.options().unwrap(), pick::Options::default());
        let Command::CheckConfig(a) = command(&["check-config"]) else {
            panic!("not check-config")
        };
        assert_eq!(a.options().unwrap(), project::Options::default());
        let Command::Env(a) = command(&["env"]) else {
            panic!("not env")
        };
        assert_eq!(a.options().unwrap(), project::Options::default());
        // kill and run need a target or a command; the rest is the defaults.
        let Command::Kill(a) = command(&["kill", "8080"]) else {
            panic!("not kill")
        };
        let want = kill::Options::new(vec![target::parse("8080").unwrap()]);
        assert_eq!(a.options().unwrap(), want);
        let Command::Run(a) = command(&["run", "--", "true"]) else {
            panic!("not run")
        };
        let o = a.options().unwrap();
        assert_eq!(o.host, run::Host::Ip(IpAddr::from([127, 0, 0, 1])));
        assert_eq!((o.name, o.port, o.probe), (None, None, false));
    }

    #[test]
    fn wait_conditions() {
        let opts = |args: &[&str]| {
            let mut all = vec!["wait"];
            all.extend_from_slice(args);
            let Command::Wait(a) = command(&all) else {
                panic!("not wait")
            };
            a.options()
        };
        let o = opts(&["3000"]).unwrap();
        assert_eq!(o.until, wait::Until::Accepts);
        assert_eq!(o.timeout, Duration::from_secs(30));
        let http = |p: &str| wait::Until::Http { path: p.into() };
        assert_eq!(opts(&["3000", "--http"]).unwrap().until, http("/"));
        assert_eq!(opts(&["--http", "3000"]).unwrap().until, http("/"));
        assert_eq!(
            opts(&["3000", "--http", "/health"]).unwrap().until,
            http("/health")
        );
        let url = opts(&["http://localhost:3000/health?full=1"]).unwrap();
        assert_eq!(url.until, http("/health?full=1"));
        assert_eq!(opts(&["http://localhost:3000"]).unwrap().until, http("/"));
        assert_eq!(opts(&["3000", "--free"]).unwrap().until, wait::Until::Free);
        assert_eq!(
            opts(&["3000", "--timeout", "300ms"]).unwrap().timeout,
            Duration::from_millis(300)
        );
        for bad in [
            vec![],
            vec!["3000", "--timeout", "soon"],
            vec!["3000", "--interval", "1ms"],
            vec!["3000", "--http", "health"],
        ] {
            assert!(opts(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn signal_names() {
        for (text, want) in [
            ("TERM", Sig::Term),
            ("SIGTERM", Sig::Term),
            ("term", Sig::Term),
            ("sigterm", Sig::Term),
            ("15", Sig::Term),
            ("KILL", Sig::Kill),
            ("9", Sig::Kill),
            ("INT", Sig::Int),
            ("2", Sig::Int),
            ("HUP", Sig::Hup),
            ("QUIT", Sig::Quit),
            ("USR1", Sig::Usr1),
            ("usr2", Sig::Usr2),
            ("12", Sig::Usr2),
        ] {
            assert_eq!(signal(text).unwrap(), want, "{text}");
        }
        for bad in [
            "", "0", "99", "-9", "STOP", "CONT", "SIGSTOP", "19", "TERMX", "SIG", "1.5",
        ] {
            assert!(signal(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn process_targets_are_refused() {
        for t in ["pid:12", "node"] {
            let e = kill_targets(&[t.to_string()]).unwrap_err().to_string();
            assert!(
                e.contains("kill frees ports: give PORT, HOST:PORT or LOW-HIGH"),
                "{e}"
            );
        }
        assert_eq!(kill_targets(&["8080/udp".into()]).unwrap().len(), 1);
    }

    #[test]
    fn commas_separate_targets() {
        let shown = |args: &[&str]| -> Vec<String> {
            let texts: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            kill_targets(&texts)
                .unwrap()
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        assert_eq!(shown(&["3000,5173"]), ["3000", "5173"]);
        assert_eq!(shown(&["3000,", "5173", "8080,127.0.0.1:9000"]).len(), 4);
        assert_eq!(shown(&["3000,5173/udp"]), ["3000", "5173/udp"]);
        assert_eq!(shown(&["http://localhost:3000/a?x=1,2"]).len(), 1);
        assert!(kill_targets(&[",".into()]).is_err());
        assert!(kill_targets(&["3000,pid:1".into()]).is_err());
        assert!(kill_targets(&["3000,70000".into()]).is_err());
    }

    #[test]
    fn range_parsing() {
        assert_eq!(range("3000-3999").unwrap(), (3000, 3999));
        assert_eq!(range("4000").unwrap(), (4000, 4000));
        for bad in ["4000-3000", "0-10", "1-70000", "abc", "localhost:3000"] {
            assert!(range(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn run_hosts() {
        let ip = |s: &str| run::Host::Ip(s.parse().unwrap());
        assert_eq!(run_host("127.0.0.1").unwrap(), ip("127.0.0.1"));
        assert_eq!(run_host("[::1]").unwrap(), ip("::1"));
        assert_eq!(run_host("[::1]").unwrap().to_string(), "::1");
        assert_eq!(
            run_host("localhost").unwrap(),
            run::Host::Name("localhost".into())
        );
        for bad in ["", "-x", "a b", "a;b", "ho$t", "300.1.1.1", "1.2.3", "::g"] {
            assert!(run_host(bad).is_err(), "{bad}");
        }
        let e = run_host("300.1.1.1").unwrap_err().to_string();
        assert!(
            e.starts_with("--host 300.1.1.1 is not an IP address"),
            "{e}"
        );
    }

    #[test]
    fn reserve_modes() {
        let Command::Reserve(a) = command(&["reserve", "--list"]) else {
            panic!("not reserve")
        };
        assert_eq!(a.options().unwrap().request, reserve::Request::List);
        let Command::Reserve(a) = command(&["reserve", "app", "--port", "8081"]) else {
            panic!("not reserve")
        };
        let want = reserve::Request::Name {
            name: "app".into(),
            port: Some(8081),
            range: None,
            dir: None,
        };
        assert_eq!(a.options().unwrap().request, want);
    }
}
