//! Asking systemd about units: `systemctl show` for a service's `Restart=`, `Type=`,
//! `TriggeredBy=` and state, and for the `.socket` units' `Listen=` addresses and the services
//! they start; `systemctl stop` for `kill`. systemctl is run only when systemd is the running
//! init (`/run/systemd/system` exists, as `sd_booted()` checks), with a deadline, its output
//! bounded; nothing is asked over D-Bus directly (systemctl already speaks it, and the light
//! library carries no D-Bus client).
//!
//! The parser of `systemctl show`'s `Key=Value` blocks is pure and tested on its real output.

use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one `systemctl show` may take (it answers in milliseconds when systemd is well).
pub const SHOW_TIMEOUT: Duration = Duration::from_secs(2);
/// The most of systemctl's output read.
const MAX_OUTPUT: u64 = 1 << 20;

/// Whether systemd is the running init here: `/run/systemd/system` exists (what
/// `sd_booted()` checks). Without it systemctl answers "System has not been booted with
/// systemd as init system (PID 1)".
pub fn running() -> bool {
    std::path::Path::new("/run/systemd/system").is_dir()
}

/// Which systemd instance a unit belongs to: the system's, or a user's (`systemctl --user`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Manager {
    /// The system manager (pid 1).
    System,
    /// The per-user manager of this uid (`user@UID.service`).
    User(u32),
}

impl Manager {
    /// The `systemctl` words that reach this manager from portscope (`--user` only when
    /// portscope runs as that user; another user's manager is reached with `--machine`).
    fn args(self) -> Vec<String> {
        match self {
            Manager::System => Vec::new(),
            Manager::User(uid) if uid == rustix::process::geteuid().as_raw() => {
                vec!["--user".into()]
            }
            Manager::User(uid) => vec!["--user".into(), format!("--machine={uid}@.host")],
        }
    }

    /// How a person types it: `systemctl stop UNIT` or `systemctl --user stop UNIT` (run
    /// as that user).
    pub fn command(self, verb: &str, units: &[String]) -> String {
        let user = match self {
            Manager::System => "",
            Manager::User(_) => " --user",
        };
        format!("systemctl{user} {verb} {}", units.join(" "))
    }
}

/// One unit's properties as `systemctl show` printed them: each key with its values (a key
/// printed on several lines, such as a socket's `Listen=`, has several).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties(pub BTreeMap<String, Vec<String>>);

impl Properties {
    /// The first value of `key`, when not empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .and_then(|v| v.first())
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The space-separated words of every value of `key` (`TriggeredBy=a.socket b.socket`).
    pub fn words(&self, key: &str) -> Vec<String> {
        self.0
            .get(key)
            .into_iter()
            .flatten()
            .flat_map(|v| v.split_whitespace())
            .map(str::to_string)
            .collect()
    }

    /// Every value of `key`, as printed.
    pub fn all(&self, key: &str) -> &[String] {
        self.0.get(key).map_or(&[], Vec::as_slice)
    }
}

/// Parse `systemctl show` output: `Key=Value` lines, one block per unit, blocks separated by
/// an empty line.
pub fn parse_show(text: &str) -> Vec<Properties> {
    let mut out = Vec::new();
    let mut cur = Properties::default();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.0.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            cur.0.entry(k.to_string()).or_default().push(v.to_string());
        }
    }
    if !cur.0.is_empty() {
        out.push(cur);
    }
    out
}

/// A socket unit's `Listen=` value (`[::]:22 (Stream)`, `127.0.0.1:8080 (Stream)`,
/// `/run/foo.sock (Stream)`, `0.0.0.0:53 (Datagram)`): the address and the kind.
pub fn parse_listen(value: &str) -> Option<(&str, &str)> {
    let value = value.trim();
    let open = value.rfind(" (")?;
    let kind = value[open + 2..].strip_suffix(')')?;
    Some((&value[..open], kind))
}

/// The properties `show` asks for about a service.
pub const SERVICE_PROPS: &str = "Id,Type,Restart,TriggeredBy,ActiveState,SubState,MainPID";
/// The properties `show` asks for about socket units.
pub const SOCKET_PROPS: &str = "Id,Listen,Triggers,Accept,ActiveState";

/// `systemctl show -p PROPS UNITS…` (unit names or glob patterns such as `*.socket`), parsed.
pub fn show(manager: Manager, units: &[&str], props: &str) -> Result<Vec<Properties>, String> {
    let mut args = manager.args();
    args.extend([
        "show".into(),
        "--no-pager".into(),
        format!("--property={props}"),
    ]);
    args.extend(units.iter().map(|u| u.to_string()));
    run(&args, SHOW_TIMEOUT).map(|t| parse_show(&t))
}

/// `systemctl stop UNITS…`, waiting for systemd to finish (up to `timeout`).
pub fn stop(manager: Manager, units: &[String], timeout: Duration) -> Result<(), String> {
    let mut args = manager.args();
    args.push("stop".into());
    args.extend(units.iter().cloned());
    run(&args, timeout).map(|_| ())
}

/// Run systemctl with `args`; its standard output when it exits 0 within `timeout`, else
/// why not in a sentence (its first line of error output, or the deadline).
fn run(args: &[String], timeout: Duration) -> Result<String, String> {
    let mut child = Command::new("systemctl")
        .args(args)
        .env("SYSTEMD_COLORS", "0")
        .env("SYSTEMD_PAGER", "")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "systemctl is not installed".to_string(),
            _ => format!("systemctl could not start: {e}"),
        })?;
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(p) = pipe {
                let _ = p.take(MAX_OUTPUT).read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = reader(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = reader(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                // Not reaped yet, so the pid is still this child's.
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("waiting for systemctl: {e}")),
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    match status {
        None => Err(format!(
            "systemctl {} gave no answer within {:.1} s",
            args.join(" "),
            timeout.as_secs_f64()
        )),
        Some(s) if s.success() => Ok(stdout),
        Some(s) => {
            let why = stderr
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map_or_else(|| format!("exited with {s}"), str::to_string);
            Err(format!("systemctl {}: {why}", args.join(" ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `systemctl show --property=Id,Type,Restart,TriggeredBy,ActiveState,SubState,MainPID
    /// nginx.service ssh.service` on Debian 12 (systemd 252): properties in systemd's own
    /// order, an empty line between units, an empty `TriggeredBy=` printed because it was
    /// asked for.
    const TWO_SERVICES: &str = "\
Type=forking
Restart=on-failure
MainPID=812
Id=nginx.service
TriggeredBy=
ActiveState=active
SubState=running

Type=notify
Restart=on-failure
MainPID=0
Id=ssh.service
TriggeredBy=ssh.socket
ActiveState=inactive
SubState=dead
";

    /// `systemctl show --property=Id,Listen,Triggers,Accept,ActiveState '*.socket'`
    /// (abridged): a socket unit with several `Listen=` lines, one with `Accept=yes`.
    const SOCKETS: &str = "\
Id=dbus.socket
Triggers=dbus.service
Listen=/run/dbus/system_bus_socket (Stream)
Accept=no
ActiveState=active

Id=ssh.socket
Triggers=ssh.service
Listen=[::]:22 (Stream)
Accept=no
ActiveState=active

Id=systemd-journald.socket
Triggers=systemd-journald.service
Listen=/run/systemd/journal/stdout (Stream)
Listen=/run/systemd/journal/socket (Datagram)
Accept=no
ActiveState=active

Id=cockpit.socket
Triggers=cockpit.service
Listen=[::]:9090 (Stream)
Accept=no
ActiveState=active

Id=echo.socket
Triggers=
Listen=127.0.0.1:7 (Stream)
Accept=yes
ActiveState=active
";

    #[test]
    fn services_parse_in_blocks() {
        let units = parse_show(TWO_SERVICES);
        assert_eq!(units.len(), 2);
        assert_eq!(units[0].get("Id"), Some("nginx.service"));
        assert_eq!(units[0].get("Restart"), Some("on-failure"));
        assert_eq!(units[0].get("TriggeredBy"), None, "empty is none");
        assert!(units[0].words("TriggeredBy").is_empty());
        assert_eq!(units[1].words("TriggeredBy"), ["ssh.socket"]);
        assert_eq!(units[1].get("ActiveState"), Some("inactive"));
    }

    #[test]
    fn sockets_keep_every_listen_line() {
        let units = parse_show(SOCKETS);
        assert_eq!(units.len(), 5);
        let journald = &units[2];
        assert_eq!(journald.all("Listen").len(), 2);
        assert_eq!(
            parse_listen(&journald.all("Listen")[1]),
            Some(("/run/systemd/journal/socket", "Datagram"))
        );
        assert_eq!(
            parse_listen(&units[1].all("Listen")[0]),
            Some(("[::]:22", "Stream"))
        );
        assert_eq!(units[4].get("Accept"), Some("yes"));
        assert!(units[4].words("Triggers").is_empty());
        assert_eq!(parse_listen("garbage"), None);
        assert!(parse_show("").is_empty());
        assert!(parse_show("\n\nno equals sign\n").is_empty());
    }

    #[test]
    fn commands_as_people_type_them() {
        let units = vec!["ssh.socket".to_string(), "ssh.service".to_string()];
        assert_eq!(
            Manager::System.command("stop", &units),
            "systemctl stop ssh.socket ssh.service"
        );
        assert_eq!(
            Manager::User(1000).command("stop", &units[1..]),
            "systemctl --user stop ssh.service"
        );
    }

    #[test]
    fn without_systemd_show_says_why() {
        if running() {
            return; // a systemd machine answers; the live test covers it
        }
        // systemctl is there but systemd is not pid 1: the first line of its complaint.
        if let Err(e) = show(Manager::System, &["nosuch.service"], SERVICE_PROPS) {
            assert!(
                e.starts_with("systemctl ") || e.contains("not installed"),
                "{e}"
            );
        }
    }
}
