//! Typed options for the inspect verbs, converted from their clap structs: `ls`, `who`,
//! `explain`, `probe` and `doctor`. Each conversion parses every flag once, with the same
//! grammar and the same bad-input message as before; questions only the live system can
//! answer (does this user or pid exist) stay with the verb.

use std::time::Duration;

use crate::cli::{DoctorArgs, ExplainArgs, LsArgs, ProbeArgs, WhoArgs};
use crate::commands::{doctor, explain, ls, probe, who};
use crate::error::{Error, Result};
use crate::model::SockState;
use crate::target::{self, Target};
use crate::text::echo;

impl LsArgs {
    /// The typed options of `ls`.
    pub fn options(&self) -> Result<ls::Options> {
        let states = self
            .state
            .iter()
            .map(|text| {
                SockState::parse(text).ok_or_else(|| {
                    Error::bad_input(
                        format!("unknown state '{}'", echo(text)),
                        "expected one of listen, established, syn_sent, syn_recv, fin_wait1, fin_wait2, time_wait, close (unconn), close_wait, last_ack, closing, new_syn_recv",
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let user = self.user.as_ref().map(|u| match u.parse::<u32>() {
            Ok(uid) => ls::User::Uid(uid),
            Err(_) => ls::User::Name(u.clone()),
        });
        Ok(ls::Options {
            all: self.all,
            tcp: self.tcp,
            udp: self.udp,
            unix: self.unix,
            ipv4: self.ipv4,
            ipv6: self.ipv6,
            states,
            user,
            pid: self.pid.as_deref().map(crate::input::pid).transpose()?,
            process: self.process.clone(),
            no_owners: self.no_owners,
        })
    }
}

impl WhoArgs {
    /// The typed options of `who`: `--pid N` is the target `pid:N`.
    pub fn options(&self) -> Result<who::Options> {
        let target = match (&self.pid, &self.target) {
            (Some(pid), _) => Target::Pid(crate::input::pid(pid)?),
            (None, Some(text)) => target::parse(text)?,
            (None, None) => {
                return Err(Error::bad_input(
                    "who needs a target",
                    "expected a port (8080), an address (127.0.0.1:8080), a range, pid:N or a process name",
                ));
            }
        };
        Ok(who::Options {
            target,
            probe: self.probe,
            state_dir: self.store.state_dir.clone(),
        })
    }
}

impl ExplainArgs {
    /// The typed options of `explain`.
    pub fn options(&self) -> Result<explain::Options> {
        Ok(explain::Options {
            target: target::parse(&self.target)?,
            probe: self.probe,
            state_dir: self.store.state_dir.clone(),
        })
    }
}

impl ProbeArgs {
    /// The typed options of `probe`: the deadline and concurrency bounded, each target parsed
    /// (and kept as written, for the results).
    pub fn options(&self) -> Result<probe::Options> {
        if !(10..=60_000).contains(&self.deadline_ms) {
            return Err(Error::bad_input(
                format!("--deadline {} is out of range", self.deadline_ms),
                "expected milliseconds from 10 to 60000 (default 1200)",
            ));
        }
        if !(1..=256).contains(&self.concurrency) {
            return Err(Error::bad_input(
                format!("--concurrency {} is out of range", self.concurrency),
                "expected 1 to 256 ports at a time (default 32)",
            ));
        }
        let targets = self
            .targets
            .iter()
            .map(|text| {
                Ok(probe::ProbeTarget {
                    target: target::parse(text)?,
                    text: text.clone(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(probe::Options {
            targets,
            deadline: Duration::from_millis(self.deadline_ms),
            concurrency: self.concurrency,
        })
    }
}

impl DoctorArgs {
    /// The typed options of `doctor`: the timeout bounded, the target parsed.
    pub fn options(&self) -> Result<doctor::Options> {
        if !(10..=30_000).contains(&self.timeout_ms) {
            return Err(Error::bad_input(
                format!("--timeout {} is out of range", self.timeout_ms),
                "expected milliseconds from 10 to 30000 (default 500)",
            ));
        }
        Ok(doctor::Options {
            target: target::parse(&self.target)?,
            timeout: Duration::from_millis(self.timeout_ms),
            bind: self.bind,
            env_from: self.env_from.as_deref().map(env_from).transpose()?,
            from_container: self.from_container.as_deref().map(container).transpose()?,
            state_dir: self.store.state_dir.clone(),
        })
    }
}

/// `--from-container NAME`: a container's name or id as engines spell them.
fn container(text: &str) -> Result<String> {
    let ok = !text.is_empty()
        && text.len() <= 128
        && text
            .trim_start_matches('/')
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if !ok {
        return Err(Error::bad_input(
            format!(
                "--from-container {} is not a container name or id",
                crate::text::echo(text)
            ),
            "expected a name or id as docker ps shows it (letters, digits, _ . -), e.g. --from-container web",
        ));
    }
    Ok(text.trim_start_matches('/').to_string())
}

/// `--env-from PID`: a process id.
fn env_from(text: &str) -> Result<u32> {
    crate::input::pid(text).map_err(|_| {
        Error::bad_input(
            format!("--env-from {} is not a process id", crate::text::echo(text)),
            "expected the pid of the failing client (1 to 4194304), e.g. --env-from 4242",
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::cli::Command;

    use crate::cli::options::parsed as parse;

    #[test]
    fn ls_defaults_match() {
        let Command::Ls(a) = parse(&["ls"]) else {
            panic!("not ls")
        };
        assert_eq!(a.options().unwrap(), ls::Options::default());
    }

    #[test]
    fn probe_defaults_match() {
        let Command::Probe(a) = parse(&["probe"]) else {
            panic!("not probe")
        };
        assert_eq!(a.options().unwrap(), probe::Options::default());
    }

    #[test]
    fn ls_flags_are_typed() {
        let Command::Ls(a) = parse(&[
            "ls",
            "--state",
            "listen,time_wait",
            "--user",
            "0",
            "-p",
            "pid:42",
        ]) else {
            panic!("not ls")
        };
        let o = a.options().unwrap();
        assert_eq!(o.states, [SockState::Listen, SockState::TimeWait]);
        assert_eq!(o.user, Some(ls::User::Uid(0)));
        assert_eq!(o.pid, Some(42));
        let Command::Ls(a) = parse(&["ls", "--user", "postgres", "--state", "nap"]) else {
            panic!("not ls")
        };
        let e = a.options().unwrap_err().to_string();
        assert!(e.contains("unknown state 'nap'"), "{e}");
        let Command::Ls(a) = parse(&["ls", "--user", "postgres"]) else {
            panic!("not ls")
        };
        assert_eq!(
            a.options().unwrap().user,
            Some(ls::User::Name("postgres".into()))
        );
    }

    #[test]
    fn who_pid_is_a_target() {
        let Command::Who(a) = parse(&["who", "--pid", "7"]) else {
            panic!("not who")
        };
        assert_eq!(a.options().unwrap().target, Target::Pid(7));
        let Command::Who(a) = parse(&["who", "8080"]) else {
            panic!("not who")
        };
        let o = a.options().unwrap();
        assert_eq!(o.target, target::parse("8080").unwrap());
        assert!(!o.probe && o.state_dir.is_none());
    }

    #[test]
    fn bounds_are_checked_before_targets() {
        let Command::Probe(a) = parse(&["probe", "--deadline", "5", "no such"]) else {
            panic!("not probe")
        };
        let e = a.options().unwrap_err().to_string();
        assert!(e.contains("--deadline 5 is out of range"), "{e}");
        let Command::Doctor(a) = parse(&["doctor", "--timeout", "99999", "3000"]) else {
            panic!("not doctor")
        };
        let e = a.options().unwrap_err().to_string();
        assert!(e.contains("--timeout 99999 is out of range"), "{e}");
        let Command::Probe(a) = parse(&["probe", "localhost:5432", ":6379"]) else {
            panic!("not probe")
        };
        let texts: Vec<String> = a
            .options()
            .unwrap()
            .targets
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(texts, ["localhost:5432", ":6379"]);
    }
}
