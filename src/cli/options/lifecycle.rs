//! Typed options for the lifecycle verbs, converted from their clap structs.
//!
//! `kill`, `pick`, `reserve`, `release`, `run`, `check-config` and `env`: each flag's text is
//! parsed here once (signals, durations, ports, ranges, addresses), in the order the verbs
//! checked them before, with the same messages. What needs the live system (does a host name
//! resolve, is the program on `$PATH`, where is the current directory) stays in the verb.

use crate::cli::KillArgs;
use crate::commands::kill;
use crate::error::{Error, Result};
use crate::sys::signal::Sig;
use crate::target::{self, Target};
use crate::text::terminal;

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
        })
    }
}

/// `kill`'s targets: ports, addresses and ranges only.
fn kill_targets(texts: &[String]) -> Result<Vec<Target>> {
    texts
        .iter()
        .map(|text| match target::parse(text)? {
            Target::Pid(_) | Target::Process(_) => Err(kill::names_a_process(text)),
            t => Ok(t),
        })
        .collect()
}

/// `--signal`: TERM, INT, HUP, QUIT, KILL, USR1 or USR2 (with or without SIG, any case) or
/// its number.
fn signal(text: &str) -> Result<Sig> {
    Sig::parse(text).ok_or_else(|| {
        Error::bad_input(
            format!("--signal {} is not a signal kill sends", terminal(text)),
            "expected TERM, INT, HUP, QUIT, KILL, USR1 or USR2 (with or without SIG, any case) or its number (15, 2, 1, 3, 9, 10, 12)",
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn command(args: &[&str]) -> Command {
        let argv = std::iter::once("portscope").chain(args.iter().copied());
        Cli::try_parse_from(argv).unwrap().command.unwrap()
    }

    #[test]
    fn defaults_agree() {
        // kill needs a target; the rest is the defaults.
        let Command::Kill(a) = command(&["kill", "8080"]) else {
            panic!("not kill")
        };
        let want = kill::Options::new(vec![target::parse("8080").unwrap()]);
        assert_eq!(a.options().unwrap(), want);
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
}
