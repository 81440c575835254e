//! `run`: start a dev server on its reserved (or a freshly picked) port with `PORT` and
//! `HOST` set, watch it listen, and free the port when it exits.
//!
//! The port is decided first (a reservation for `--name`, `--port` as given, or a leased
//! pick) and the registry is closed again before the child starts, so other portscope runs
//! are never blocked by a running server. The child stays in portscope's process group (the
//! terminal's Ctrl+C reaches it directly); portscope is a child subreaper, forwards only the
//! signals the child did not get (`sys::supervise`), watches the listening sockets of its
//! descendants, and when the child ends stops whatever it left behind and checks the port is
//! free. Everything said on the way is a [`RunNotice`] for `ui.run_notice`.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::commands::{Report, Ui};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::model::SockState;
use crate::snapshot::{self, Owners, Request};
use crate::store::registry::{self, Registry};
use crate::sys::SocketQuery;
use crate::sys::procfs::Detail;
use crate::sys::supervise::{self, ChildRef, Ended, Event};
use crate::text::terminal;

use super::{pick, reserve};

mod host;
mod watch;

pub use host::Host;

use watch::Supervision;

/// How long a picked port is held for the child before it listens.
const LEASE: Duration = Duration::from_secs(60);

/// How the port was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Chosen {
    /// `--name`: the name's reservation (made now if it had none).
    Reserved,
    /// Neither flag: a free port, leased until the child listens.
    Picked,
    /// `--port`.
    Given,
}

/// A process on a port (or a leftover), as named in notices and reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holder {
    /// Its pid (`null` when it could not be seen: another user's process).
    pub pid: Option<u32>,
    /// Its short name (`comm`), when known.
    pub process: Option<String>,
    /// The local address it listens on (`127.0.0.1:4100`); empty for leftovers.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub address: String,
}

/// A process left running by the child, and how it was stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stopped {
    /// Its pid.
    pub pid: u32,
    /// Its short name (`comm`).
    pub process: String,
    /// The last signal it needed: `SIGTERM`, or `SIGKILL` when it outlived the wait.
    pub signal: String,
    /// Whether it is gone now.
    pub gone: bool,
}

/// How to make a server listen on its port (from `knowledge::dev_servers`, general knowledge).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Advice {
    /// The dev server recognised in the command line (`null`: unknown; the advice is generic).
    pub server: Option<&'static str>,
    /// The variable it documents for its port (`PORT` when it honours `$PORT`).
    pub port_env: Option<&'static str>,
    /// Its default port.
    pub default_port: Option<u16>,
    /// What to put in its command line: `--port $PORT`, or `$PORT after http.server`.
    pub pass: Option<String>,
    /// The command to run instead (`$PORT`/`$HOST` are filled in by `run`).
    pub command: Option<Vec<String>>,
    /// A complete example when the command could not be rewritten.
    pub example: Option<&'static str>,
}

/// Something that happened while the child runs.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunNotice {
    /// The child was started.
    Started {
        /// The command as run (`$PORT`/`$HOST` filled in).
        argv: Vec<String>,
        /// The child's pid.
        pid: u32,
        /// The port in `PORT`.
        port: u16,
        /// `HOST`.
        host: String,
        /// How the port was chosen.
        chosen: Chosen,
        /// The reservation name (`--name`).
        name: Option<String>,
        /// The reservation was made just now.
        new_reservation: bool,
    },
    /// `--port` gave a port the registry has reserved for another name: it still runs
    /// there, but the two will collide when both run.
    ReservedFor {
        /// The port.
        port: u16,
        /// The name it is reserved for.
        name: String,
    },
    /// Someone else listens on the port: the child was not started.
    PortHeld {
        /// The port.
        port: u16,
        /// Who listens there.
        holders: Vec<Holder>,
    },
    /// The child (or one of its descendants) listens on its port.
    Listening {
        /// The port.
        port: u16,
        /// The listening address.
        address: String,
        /// Where to open it (`null` when it speaks something other than HTTP).
        url: Option<String>,
        /// What the read-only probe found there (`http`, `https`, `redis`…), if it ran and
        /// recognised it.
        protocol: Option<String>,
        /// The listening process.
        pid: u32,
        /// Its short name.
        process: String,
        /// It listens on every interface although `HOST` is a loopback address.
        every_interface: bool,
    },
    /// It listens on another port than the one it was given (it ignores `$PORT`).
    OtherPort {
        /// The port it listens on.
        port: u16,
        /// The port it was given.
        assigned: u16,
        /// The listening address.
        address: String,
        /// The listening process.
        pid: u32,
        /// Its short name.
        process: String,
        /// How to pass the port.
        advice: Advice,
    },
    /// After listening on its port, it listens on another one too (a helper, a debugger).
    AlsoListening {
        /// The other port.
        port: u16,
        /// The listening address.
        address: String,
        /// The listening process.
        pid: u32,
        /// Its short name.
        process: String,
    },
    /// A signal sent to portscope by a process was passed on.
    Forwarded {
        /// `SIGTERM`, `SIGINT`…
        signal: String,
        /// Who sent it to portscope.
        sender: Option<u32>,
        /// The child's pid, or its process group (`group`).
        to: u32,
        /// Sent to the child's own process group.
        group: bool,
    },
    /// The child ended and left these running: they get SIGTERM, then SIGKILL.
    Stopping {
        /// The child's pid.
        child: u32,
        /// The program it ran (the first word of the command, without its directory).
        program: String,
        /// The leftovers.
        processes: Vec<Holder>,
        /// Seconds between SIGTERM and SIGKILL.
        wait_seconds: f64,
    },
}

/// How the run ended.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The command as run (`$PORT`/`$HOST` filled in).
    pub argv: Vec<String>,
    /// The reservation name (`--name`).
    pub name: Option<String>,
    /// The port given to the child in `PORT`.
    pub port: u16,
    /// `HOST`.
    pub host: String,
    /// How the port was chosen.
    pub chosen: Chosen,
    /// Whether the child was started (`false`: the port was held, see `held_by`).
    pub started: bool,
    /// Who held the port when the child was to start.
    pub held_by: Vec<Holder>,
    /// The child's pid.
    pub pid: Option<u32>,
    /// Ports its process tree listened on, in the order seen.
    pub listened_on: Vec<u16>,
    /// The URL announced once it listened on its port.
    pub url: Option<String>,
    /// The child's exit code, when it exited.
    pub exit_code: Option<i32>,
    /// The signal that ended the child, when one did (`SIGINT`).
    pub signal: Option<String>,
    /// Signals passed on to the child, in order.
    pub forwarded: Vec<String>,
    /// Processes the child left running, stopped after it ended.
    pub descendants_stopped: Vec<Stopped>,
    /// Whether nothing listens on the port any more (`null`: could not be checked).
    pub port_free_after: Option<bool>,
    /// Who still listens on the port afterwards.
    pub held_after: Vec<Holder>,
    /// portscope's exit status: the child's code, 128+N after signal N, 1 when not started.
    pub exit_status: u8,
}

/// What `run` is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Use this name's reservation, made now if it has none.
    pub name: Option<String>,
    /// Use this port (with `name`: a new reservation gets it; an existing one must have it).
    pub port: Option<u16>,
    /// The `HOST` exported to the command (and put in its arguments for `$HOST`).
    pub host: Host,
    /// Once it listens, probe it to choose http or https for the URL.
    pub probe: bool,
    /// The command to run; `$PORT`, `${PORT}`, `$HOST` and `${HOST}` in its arguments are
    /// replaced.
    pub command: Vec<String>,
    /// portscope's state directory (`None`: the default one).
    pub state_dir: Option<PathBuf>,
}

/// What the arguments say, checked before anything is changed.
struct Plan {
    name: Option<String>,
    port: Option<u16>,
    host: String,
    program: PathBuf,
}

/// Run `run`: the child's exit status passes through (128+N after signal N); exit 1 when
/// the port was held and nothing was started.
pub fn run(opts: &Options, ui: &dyn Ui) -> Result<(Report, Exit)> {
    supervise_child(opts, ui).map(|(r, code)| (Report::Run(Box::new(r)), code))
}

/// [`run`], with the report as `run`'s own type.
fn supervise_child(opts: &Options, ui: &dyn Ui) -> Result<(RunReport, Exit)> {
    let plan = prepare(opts)?;
    let (port, chosen, new_reservation) = decide_port(opts, &plan)?;
    if chosen == Chosen::Given
        && let Some(name) = reserved_for(opts, port)
    {
        ui.run_notice(&RunNotice::ReservedFor { port, name });
    }
    let command: Vec<String> = opts
        .command
        .iter()
        .map(|a| substitute(a, port, &plan.host))
        .collect();
    let mut report = RunReport {
        argv: command.clone(),
        name: plan.name.clone(),
        port,
        host: plan.host.clone(),
        chosen,
        started: false,
        held_by: Vec::new(),
        pid: None,
        listened_on: Vec::new(),
        url: None,
        exit_code: None,
        signal: None,
        forwarded: Vec::new(),
        descendants_stopped: Vec::new(),
        port_free_after: None,
        held_after: Vec::new(),
        exit_status: 1,
    };
    report.held_by = holders(port)?;
    if !report.held_by.is_empty() {
        ui.run_notice(&RunNotice::PortHeld {
            port,
            holders: report.held_by.clone(),
        });
        return Ok((report, Exit::Nothing));
    }

    // Catch signals before the child exists: from here on Ctrl+C no longer ends portscope.
    let catcher = supervise::catch()?;
    supervise::become_subreaper()?;
    let env = [("PORT", port.to_string()), ("HOST", plan.host.clone())];
    let pid = supervise::spawn(&plan.program, &command, &env)
        .map_err(|e| spawn_error(&plan.program, e))?;
    let watcher = catcher.watch(ChildRef::new(pid))?;
    report.started = true;
    report.pid = Some(pid);
    ui.run_notice(&RunNotice::Started {
        argv: command,
        pid,
        port,
        host: plan.host.clone(),
        chosen,
        name: plan.name.clone(),
        new_reservation,
    });

    let mut sup = Supervision::new(opts, &plan, port, pid);
    let ended = sup.until_child_ends(ui, &watcher);
    report.descendants_stopped = sup.stop_leftovers(ui);
    for event in watcher.finish() {
        if let Event::Signal(r) = event {
            sup.on_signal(ui, &r);
        }
    }

    let mut seen: Vec<(usize, u16)> = sup.seen.iter().map(|(&p, e)| (e.0, p)).collect();
    seen.sort_unstable();
    report.listened_on = seen.into_iter().map(|(_, p)| p).collect();
    report.url = sup.url;
    report.forwarded = sup.forwarded;
    match ended {
        Ended::Code(c) => report.exit_code = Some(c),
        Ended::Signal(s) => report.signal = Some(supervise::signal_name(s)),
    }
    report.exit_status = exit_status(ended);
    if let Ok(after) = holders(port) {
        report.port_free_after = Some(after.is_empty());
        report.held_after = after;
    }
    let exit = exit_for(report.exit_status);
    Ok((report, exit))
}

/// The shell's convention: the exit code, or 128+N when signal N ended the child.
fn exit_status(ended: Ended) -> u8 {
    let n = match ended {
        Ended::Code(c) => c,
        Ended::Signal(s) => 128 + s,
    };
    u8::try_from(n & 0xff).unwrap_or(u8::MAX)
}

/// portscope's exit for the child's status.
fn exit_for(status: u8) -> Exit {
    Exit::Child(status)
}

/// Check what needs the system (`--host` is a place to listen here, the program exists and
/// may run); nothing is changed yet.
fn prepare(opts: &Options) -> Result<Plan> {
    if let Some(name) = &opts.name {
        reserve::check_name(name)?;
    }
    host::check(&opts.host)?;
    let Some(first) = opts.command.first() else {
        return Err(Error::bad_input(
            "no command to run",
            "expected the command after --, e.g. portscope run -- python3 -m http.server '$PORT'",
        ));
    };
    let program = supervise::find_program(first).map_err(|exists| {
        let what = if exists {
            "is not executable"
        } else if first.contains('/') {
            "not found"
        } else {
            "not found in $PATH"
        };
        Error::bad_input(
            format!("{}: {what}", crate::text::echo(first)),
            "expected a program on $PATH or the path of an executable, e.g. portscope run -- python3 -m http.server '$PORT'",
        )
    })?;
    Ok(Plan {
        name: opts.name.clone(),
        port: opts.port,
        host: opts.host.to_string(),
        program,
    })
}

/// The name the registry reserves `port` for, if any: read without the lock and without
/// creating anything (writers replace the file atomically); a missing or unreadable
/// registry means none.
fn reserved_for(opts: &Options, port: u16) -> Option<String> {
    let dir = registry::state_dir(opts.state_dir.as_deref()).ok()?;
    let path = dir.join(registry::FILE);
    let data = registry::read_unlocked(&path).ok()?;
    data.reserved_by(port).map(|r| r.name.clone())
}

/// Choose the port (under the registry lock, released before returning).
fn decide_port(opts: &Options, plan: &Plan) -> Result<(u16, Chosen, bool)> {
    if plan.name.is_none()
        && let Some(p) = plan.port
    {
        return Ok((p, Chosen::Given, false));
    }
    let dir = registry::state_dir(opts.state_dir.as_deref())?;
    let mut reg = Registry::open(&dir)?;
    if let Some(name) = &plan.name {
        let cwd = std::env::current_dir().ok();
        let (r, new) = reserve::ensure(&mut reg, name, plan.port, None, cwd.as_deref())?;
        return Ok((r.port, Chosen::Reserved, new));
    }
    let spec = pick::spec(None, None, false, false, pick::random_start())?;
    let (ports, _) = pick::lease(&mut reg, &spec, 1, LEASE)?;
    let port = ports
        .first()
        .copied()
        .ok_or_else(|| Error::bad_input("no free port", "free a port, or pass --port PORT"))?;
    Ok((port, Chosen::Picked, false))
}

/// Replace `$PORT`, `${PORT}`, `$HOST` and `${HOST}` in one argument (`$PORTS` is left
/// alone, as a shell would).
pub fn substitute(arg: &str, port: u16, host: &str) -> String {
    let port = port.to_string();
    let mut out = String::with_capacity(arg.len());
    let mut rest = arg;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let hit = [("{PORT}", &port, true), ("{HOST}", &host.to_string(), true)]
            .into_iter()
            .chain([("PORT", &port, false), ("HOST", &host.to_string(), false)])
            .find_map(|(key, value, braced)| {
                let tail = after.strip_prefix(key)?;
                let whole =
                    braced || !tail.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
                whole.then(|| (value.clone(), key.len()))
            });
        match hit {
            Some((value, used)) => {
                out.push_str(&value);
                rest = &after[used..];
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn spawn_error(program: &std::path::Path, e: std::io::Error) -> Error {
    let program = program.to_string_lossy();
    match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => Error::bad_input(
            format!("cannot start {}: {e}", terminal(&program)),
            "expected an executable program (a script needs a #! line naming an interpreter that exists)",
        ),
        _ => Error::io(format!("starting {}", terminal(&program)), e),
    }
}

/// TCP listeners on `port` (any address) and who holds them.
fn holders(port: u16) -> Result<Vec<Holder>> {
    let snap = snapshot::take(&Request {
        sockets: SocketQuery {
            udp: false,
            states: 1 << SockState::Listen.kernel_number(),
            port_range: Some((port, port)),
            ..SocketQuery::default()
        },
        owners: Owners::Targeted,
        detail: Detail::Basic,
        threads: 0,
    })?;
    let mut out = Vec::new();
    for s in snap
        .sockets
        .iter()
        .filter(|s| s.is_listening() && s.port() == Some(port))
    {
        let address = s.local.to_string();
        if s.pids.is_empty() {
            out.push(Holder {
                pid: None,
                process: None,
                address: address.clone(),
            });
        }
        for &pid in &s.pids {
            out.push(Holder {
                pid: Some(pid),
                process: snap.process(pid).map(|p| p.comm.clone()),
                address: address.clone(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn substitution() {
        let s = |a: &str| substitute(a, 4100, "127.0.0.1");
        assert_eq!(s("$PORT"), "4100");
        assert_eq!(s("${PORT}"), "4100");
        assert_eq!(s("--bind=$HOST:${PORT}"), "--bind=127.0.0.1:4100");
        assert_eq!(s("$PORTS $PORT_X ${PORTS}"), "$PORTS $PORT_X ${PORTS}");
        assert_eq!(s("a$PORT.b"), "a4100.b");
        assert_eq!(s("$$ $ $HOSTNAME"), "$$ $ $HOSTNAME");
        assert_eq!(s("plain"), "plain");
        assert_eq!(s("é$PORTé"), "é4100é");
    }

    #[test]
    fn exit_statuses() {
        assert_eq!(exit_status(Ended::Code(0)), 0);
        assert_eq!(exit_status(Ended::Code(7)), 7);
        assert_eq!(exit_status(Ended::Signal(2)), 130);
        assert_eq!(exit_status(Ended::Signal(15)), 143);
        assert_eq!(exit_for(130).code(), 130);
    }
}
