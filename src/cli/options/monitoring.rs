//! Typed options for the monitoring verbs, converted from their clap structs: `audit`, the
//! `check` plugins and `exporter`. A `check` plugin's bad argument value is still an error
//! here; `app` hands it to `commands::check::bad_arguments`, which makes it the plugin's
//! UNKNOWN line (exit 3), as the Nagios convention wants.

use std::time::Duration;

use crate::cli::{
    AuditArgs, CheckAuditArgs, CheckCommand, CheckConnectArgs, CheckListenArgs, ExporterArgs,
};
use crate::commands::check::dial::Expect;
use crate::commands::check::listen::BindRule;
use crate::commands::check::threshold::Range;
use crate::commands::check::{self, Plugin, State, safe};
use crate::commands::{audit, exporter};
use crate::error::{Error, Result};
use crate::model::Proto;
use crate::target::{self, Target};

impl AuditArgs {
    /// The typed options of `audit`.
    pub fn options(&self) -> Result<audit::Options> {
        Ok(audit::Options {
            fail_on: self.fail_on.into(),
            allowlist: self.allowlist.clone(),
            probe: !self.no_probe,
            sarif: self.sarif,
            show_allowed: self.show_allowed,
            ports: self.ports.clone(),
        })
    }
}

impl CheckCommand {
    /// The plugin this command line runs (named in its UNKNOWN line when its arguments are
    /// bad).
    pub fn plugin(&self) -> Plugin {
        match self {
            CheckCommand::Listen(_) => Plugin::Listen,
            CheckCommand::Connect(_) => Plugin::Connect,
            CheckCommand::Audit(_) => Plugin::Audit,
        }
    }

    /// The typed options of the plugin.
    pub fn options(&self) -> Result<check::Options> {
        Ok(match self {
            CheckCommand::Listen(a) => check::Options::Listen(a.options()?),
            CheckCommand::Connect(a) => check::Options::Connect(a.options()?),
            CheckCommand::Audit(a) => check::Options::Audit(a.options()?),
        })
    }
}

const PORT_OK: &str = "expected a port, e.g. check listen 8080 or check listen 5353/udp";
const BIND_OK: &str = "expected --bind loopback (every listener on a loopback address) or \
                       --bind any (reachable from other hosts)";
const PROCESS_OK: &str = "expected a process name, e.g. --process nginx";
const TARGET_OK: &str = "expected HOST:PORT, e.g. 127.0.0.1:8080, [::1]:8080 or db.example:5432";

impl CheckListenArgs {
    /// The typed options of `check listen`.
    pub fn options(&self) -> Result<check::listen::Options> {
        let (port, proto) = listen_port(&self.port)?;
        let bind = self.bind.as_deref().map(bind_rule).transpose()?;
        let process = match self.process.as_deref().map(str::trim) {
            Some("") => return Err(Error::bad_input("--process is empty", PROCESS_OK)),
            other => other.map(str::to_string),
        };
        Ok(check::listen::Options {
            port,
            proto,
            bind,
            process,
        })
    }
}

impl CheckConnectArgs {
    /// The typed options of `check connect` (check_tcp's flags).
    pub fn options(&self) -> Result<check::connect::Options> {
        let (host, port) = match plugin_target(&self.target, TARGET_OK)? {
            Target::Addr {
                proto: Some(Proto::Udp),
                ..
            } => {
                return Err(Error::bad_input(
                    format!(
                        "{}: check connect speaks TCP only",
                        safe(&crate::text::echo(&self.target))
                    ),
                    TARGET_OK,
                ));
            }
            Target::Addr { host, port, .. } => (host, port),
            Target::Port { port, .. } => {
                return Err(Error::bad_input(
                    format!("{port} has no host"),
                    format!("{TARGET_OK} (127.0.0.1:{port} for this machine)"),
                ));
            }
            other => {
                return Err(Error::bad_input(
                    format!(
                        "check connect takes HOST:PORT, not {}",
                        safe(&crate::text::echo(&other.to_string()))
                    ),
                    TARGET_OK,
                ));
            }
        };
        let range = |text: &Option<String>, flag| text.as_deref().map(|t| Range::parse(t, flag));
        if self.expect.iter().any(String::is_empty) {
            return Err(Error::bad_input(
                "--expect is empty",
                "expected a string the banner contains, e.g. --expect SSH-2.0",
            ));
        }
        Ok(check::connect::Options {
            host,
            port,
            warning: range(&self.warning, "-w").transpose()?,
            critical: range(&self.critical, "-c").transpose()?,
            expect: Expect {
                strings: self.expect.clone(),
                all: self.all,
            },
            mismatch: state(&self.mismatch, "-M")?,
            refuse: state(&self.refuse, "-r")?,
            timeout: timeout(&self.timeout)?,
        })
    }
}

impl CheckAuditArgs {
    /// The typed options of `check audit`.
    pub fn options(&self) -> Result<check::audit::Options> {
        Ok(check::audit::Options {
            allowlist: self.allowlist.clone(),
            probe: !self.no_probe,
        })
    }
}

impl ExporterArgs {
    /// The typed options of `exporter`: `--listen` parsed (the allowlist is read when the
    /// exporter starts).
    pub fn options(&self) -> Result<exporter::Options> {
        Ok(exporter::Options {
            listen: crate::input::listen(&self.listen)?,
            textfile: self.textfile.clone(),
            probe: self.probe,
            allowlist: self.allowlist.clone(),
        })
    }
}

/// Parse a target with [`crate::target::parse`], but say what this plugin accepts when it fails.
fn plugin_target(text: &str, accepted: &str) -> Result<Target> {
    target::parse(text).map_err(|e| match e {
        Error::BadInput { problem, .. } => Error::bad_input(problem, accepted),
        other => other,
    })
}

/// `8080`, `8080/udp`, `udp/53`: the port and protocol (TCP unless given).
fn listen_port(text: &str) -> Result<(u16, Proto)> {
    match plugin_target(text, PORT_OK)? {
        Target::Port { port, proto } => Ok((port, proto.unwrap_or(Proto::Tcp))),
        other => Err(Error::bad_input(
            format!(
                "check listen takes a port, not {}",
                safe(&crate::text::echo(&other.to_string()))
            ),
            PORT_OK,
        )),
    }
}

/// `--bind loopback|any`.
fn bind_rule(text: &str) -> Result<BindRule> {
    match text.trim().to_ascii_lowercase().as_str() {
        "loopback" => Ok(BindRule::Loopback),
        "any" => Ok(BindRule::Any),
        _ => Err(Error::bad_input(
            format!("--bind '{}' is not a place", safe(&crate::text::echo(text))),
            BIND_OK,
        )),
    }
}

/// A state as check_tcp's `-r`/`-M` take it: `ok`, `warn`, `crit` (also `warning`,
/// `critical`).
fn state(text: &str, flag: &str) -> Result<State> {
    match text.trim().to_ascii_lowercase().as_str() {
        "ok" => Ok(State::Ok),
        "warn" | "warning" => Ok(State::Warning),
        "crit" | "critical" => Ok(State::Critical),
        _ => Err(Error::bad_input(
            format!("{flag} '{}' is not a state", crate::text::echo(text)),
            format!("expected ok, warn or crit, e.g. {flag} crit"),
        )),
    }
}

/// `-t`: seconds, more than 0 and at most a day; decimals allowed (no unit, as check_tcp).
fn timeout(text: &str) -> Result<Duration> {
    let t = text.trim();
    let plain = !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '.');
    match t.parse::<f64>() {
        Ok(s) if plain && s > 0.0 && s <= 86_400.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err(Error::bad_input(
            format!("-t '{}' is not a timeout", safe(&crate::text::echo(text))),
            "expected seconds greater than 0 (at most 86400), e.g. -t 10 or -t 0.5",
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::cli::Command;

    use crate::cli::options::parsed as parse;

    fn check(args: &[&str]) -> CheckCommand {
        let mut argv = vec!["check"];
        argv.extend_from_slice(args);
        match parse(&argv) {
            Command::Check(c) => c,
            _ => panic!("not check"),
        }
    }

    fn connect(target: &str) -> Result<check::connect::Options> {
        check(&["connect", target]).options().map(|o| match o {
            check::Options::Connect(c) => c,
            _ => panic!("not connect"),
        })
    }

    #[test]
    fn audit_defaults_match() {
        let Command::Audit(a) = parse(&["audit"]) else {
            panic!("not audit")
        };
        assert_eq!(a.options().unwrap(), audit::Options::default());
        let Command::Audit(a) = parse(&["audit", "--fail-on", "never", "--no-probe"]) else {
            panic!("not audit")
        };
        let o = a.options().unwrap();
        assert_eq!((o.fail_on, o.probe), (audit::FailOn::Never, false));
    }

    #[test]
    fn check_audit_defaults_match() {
        let c = check(&["audit"]);
        assert_eq!(c.plugin(), Plugin::Audit);
        assert_eq!(
            c.options().unwrap(),
            check::Options::Audit(check::audit::Options::default())
        );
    }

    #[test]
    fn exporter_defaults_match() {
        let Command::Exporter(a) = parse(&["exporter"]) else {
            panic!("not exporter")
        };
        assert_eq!(a.options().unwrap(), exporter::Options::default());
    }

    #[test]
    fn ports_and_places() {
        assert_eq!(listen_port("8080").unwrap(), (8080, Proto::Tcp));
        assert_eq!(listen_port("5353/udp").unwrap(), (5353, Proto::Udp));
        assert_eq!(listen_port("udp/53").unwrap(), (53, Proto::Udp));
        for bad in ["", "0", "70000", "127.0.0.1:80", "node", "1-5", "pid:3"] {
            assert!(listen_port(bad).is_err(), "{bad}");
        }
        assert_eq!(bind_rule("Loopback").unwrap(), BindRule::Loopback);
        assert_eq!(bind_rule("any").unwrap(), BindRule::Any);
        let e = bind_rule("lan").unwrap_err().to_string();
        assert!(e.contains("--bind loopback"), "{e}");
        let c = check(&[
            "listen",
            "6379",
            "--bind",
            "loopback",
            "--process",
            " redis ",
        ]);
        assert_eq!(c.plugin(), Plugin::Listen);
        assert_eq!(
            c.options().unwrap(),
            check::Options::Listen(check::listen::Options {
                port: 6379,
                proto: Proto::Tcp,
                bind: Some(BindRule::Loopback),
                process: Some("redis".into()),
            })
        );
        let e = check(&["listen", "80", "--process", ""])
            .options()
            .unwrap_err()
            .to_string();
        assert!(e.contains("--process is empty"), "{e}");
    }

    #[test]
    fn targets_and_flags() {
        assert!(connect("127.0.0.1:22").is_ok());
        assert!(connect("[::1]:22").is_ok());
        assert!(connect("localhost:22").is_ok());
        for bad in ["22", "127.0.0.1:22/udp", "node", "1-2", "", "127.0.0.1:0"] {
            assert!(connect(bad).is_err(), "{bad}");
        }
        let e = connect("22").unwrap_err().to_string();
        assert!(e.contains("127.0.0.1:22"), "{e}");
        for (t, ok) in [
            ("10", true),
            ("0.5", true),
            ("0", false),
            ("-1", false),
            ("x", false),
            ("1e3", false),
            ("86401", false),
        ] {
            assert_eq!(timeout(t).is_ok(), ok, "{t}");
        }
        assert!(
            check(&["connect", "127.0.0.1:22", "-e", ""])
                .options()
                .is_err()
        );
        let c = check(&["connect", "127.0.0.1:22"]);
        assert_eq!(c.plugin(), Plugin::Connect);
        let o = connect("127.0.0.1:22").unwrap();
        assert_eq!(
            (o.mismatch, o.refuse, o.timeout),
            (State::Warning, State::Critical, Duration::from_secs(10))
        );
    }

    #[test]
    fn state_flags() {
        assert_eq!(state("ok", "-M").unwrap(), State::Ok);
        assert_eq!(state("WARN", "-M").unwrap(), State::Warning);
        assert_eq!(state("critical", "-r").unwrap(), State::Critical);
        let e = state("unknown", "-r").unwrap_err().to_string();
        assert!(e.contains("expected ok, warn or crit"), "{e}");
    }

    #[test]
    fn the_help_lists_every_rule() {
        use clap::CommandFactory;
        let cli = crate::cli::Cli::command();
        let audit = cli.find_subcommand("audit").unwrap();
        let help = audit.get_after_help().unwrap().to_string();
        for r in crate::audit::catalog::RULES {
            assert!(
                help.contains(&format!("{},", r.code)) || help.contains(&format!("{} ", r.code)),
                "{} missing from `audit --help`",
                r.code
            );
        }
    }
}
