//! `run`: the notices given while the child runs (standard error, each line starting with
//! `portscope:` so they stand apart from the child's own output), and the closing summary.

use crate::commands::run::{Advice, Chosen, Holder, RunNotice, RunReport};

use super::style::Palette;
use crate::text::{command_line, shell_word, terminal};

const P: &str = "portscope:";

/// One notice (one or more lines, each ending in a newline).
pub fn notice(n: &RunNotice, pal: &Palette) -> String {
    match n {
        RunNotice::Started {
            argv,
            pid,
            port,
            host,
            chosen,
            name,
            new_reservation,
        } => {
            let why = match (chosen, name) {
                (Chosen::Reserved, Some(n)) if *new_reservation => {
                    format!("newly reserved for {}", shell_word(n))
                }
                (Chosen::Reserved, Some(n)) => format!("reserved for {}", shell_word(n)),
                (Chosen::Reserved, None) => "reserved".into(),
                (Chosen::Picked, _) => "picked: a free port".into(),
                (Chosen::Given, _) => "from --port".into(),
            };
            let text = format!(
                "{P} running {} (pid {pid}) with PORT={port} HOST={} (port {why})",
                command_line(argv),
                terminal(host)
            );
            format!("{}\n", pal.dim(&text))
        }
        RunNotice::ReservedFor { port, name } => format!(
            "{}\n",
            pal.warn(&format!(
                "{P} note: port {port} is reserved for {} (portscope reserve --list); the two collide when both run",
                shell_word(name)
            ))
        ),
        RunNotice::PortHeld { port, holders } => {
            let who: Vec<String> = holders.iter().map(holder).collect();
            format!(
                "{P} {}\n{P} not started: see who with `portscope who {port}`, free it with `portscope kill {port}`, or use another port\n",
                pal.warn(&format!(
                    "port {port} is already in use: {}",
                    who.join(", ")
                )),
            )
        }
        RunNotice::Listening {
            port,
            address,
            url,
            protocol,
            pid,
            process,
            every_interface,
        } => {
            let head = format!("{P} {}[{pid}] listens on {address}", terminal(process));
            let mut out = match (url, protocol) {
                (Some(u), _) => format!("{head} → {}\n", pal.ok(&terminal(u))),
                (None, Some(p)) => format!("{head} ({}, not HTTP)\n", terminal(p)),
                (None, None) => format!("{head}\n"),
            };
            if *every_interface {
                out.push_str(&format!(
                    "{P} {}\n",
                    pal.warn(&format!(
                        "it listens on every interface ({address}), not only on HOST: other machines can reach port {port}"
                    ))
                ));
            }
            out
        }
        RunNotice::OtherPort {
            port,
            assigned,
            address,
            pid,
            process,
            advice,
        } => {
            let head = pal.warn(&format!(
                "warning: {}[{pid}] listens on {address}, not on its PORT {assigned}: it does not take its port from $PORT",
                terminal(process)
            ));
            format!("{P} {head}\n{P}   {}\n", advise(advice, *port))
        }
        RunNotice::AlsoListening {
            address,
            pid,
            process,
            ..
        } => format!(
            "{}\n",
            pal.dim(&format!(
                "{P} {}[{pid}] also listens on {address}",
                terminal(process)
            ))
        ),
        RunNotice::Forwarded {
            signal,
            sender,
            to,
            group,
        } => {
            let from = sender.map_or_else(String::new, |s| format!(" (sent by pid {s})"));
            let target = if *group {
                format!("its process group {to}")
            } else {
                format!("pid {to}")
            };
            format!(
                "{}\n",
                pal.dim(&format!("{P} passed {}{from} on to {target}", sig(signal)))
            )
        }
        RunNotice::Stopping {
            child,
            program,
            processes,
            wait_seconds,
        } => {
            let who: Vec<String> = processes.iter().map(holder).collect();
            format!(
                "{P} {} (pid {child}) ended and left {} running: stopping {} (SIGTERM, then SIGKILL after {wait_seconds} s)\n",
                terminal(program),
                who.join(", "),
                if processes.len() == 1 { "it" } else { "them" },
            )
        }
    }
}

/// `SIGTERM` for `TERM`; `signal 34` for a number.
fn sig(name: &str) -> String {
    if name.bytes().all(|b| b.is_ascii_digit()) {
        format!("signal {name}")
    } else {
        format!("SIG{name}")
    }
}

/// `python3[1234] on 127.0.0.1:4100`, or a hidden owner.
fn holder(h: &Holder) -> String {
    let who = match (&h.process, h.pid) {
        (Some(p), Some(pid)) => format!("{}[{pid}]", terminal(p)),
        (None, Some(pid)) => format!("pid {pid}"),
        _ => "a process portscope may not inspect (run as root to see it)".into(),
    };
    if h.address.is_empty() {
        who
    } else {
        format!("{who} on {}", terminal(&h.address))
    }
}

/// The advice line for a server on `port` instead of its PORT.
fn advise(a: &Advice, port: u16) -> String {
    let Some(server) = a.server else {
        return "pass the port the way this program expects it (often --port '$PORT' or -p '$PORT', or a setting in its configuration); portscope replaces $PORT in the command's arguments".into();
    };
    let flag = a.pass.as_deref().unwrap_or("its port flag");
    let default = match a.default_port {
        Some(d) if d == port => format!(", and {d} is its default"),
        Some(d) => format!(" (its default is {d})"),
        None => String::new(),
    };
    let reads = match a.port_env {
        Some("PORT") => format!(
            "{server} reads PORT, so a setting overrides it: its configuration, its script or the command"
        ),
        Some(var) => format!("{server} reads {var}, not PORT{default}"),
        None => format!("{server} does not read PORT{default}"),
    };
    let how = match (&a.command, a.example) {
        (Some(cmd), _) => format!(": {}", command_line(cmd)),
        (None, Some(example)) => format!(", e.g. {example}"),
        (None, None) => String::new(),
    };
    format!("{reads} (general knowledge); pass {flag}{how}")
}

/// The summary after the child exited: what ended it and whether the port is free.
pub fn render(r: &RunReport, pal: &Palette) -> String {
    if !r.started {
        return String::new(); // the notice on standard error said why
    }
    let program = r
        .argv
        .first()
        .map(|c| terminal(c.rsplit('/').next().unwrap_or(c)).into_owned())
        .unwrap_or_default();
    let ended = match (&r.signal, r.exit_code) {
        (Some(signal), _) => format!(
            "{program} was ended by {} (exit status {})",
            sig(signal),
            r.exit_status
        ),
        (None, Some(code)) => format!("{program} exited with code {code}"),
        (None, None) => format!("{program} ended"),
    };
    let port = r.port;
    let again = if r.listened_on.contains(&port) {
        " again"
    } else {
        ""
    };
    let free = match r.port_free_after {
        Some(true) => pal.ok(&format!("port {port} is free{again}")),
        Some(false) => {
            let who: Vec<String> = r.held_after.iter().map(holder).collect();
            pal.warn(&format!(
                "port {port} is still in use: {} (portscope who {port})",
                who.join(", ")
            ))
        }
        None => pal.warn(&format!(
            "could not check port {port} (portscope who {port})"
        )),
    };
    let mut out = format!("{ended}; {free}\n");
    if !r.descendants_stopped.is_empty() {
        let who: Vec<String> = r
            .descendants_stopped
            .iter()
            .map(|s| {
                let gone = if s.gone { "" } else { ", still running" };
                format!(
                    "{}[{}] ({}{gone})",
                    terminal(&s.process),
                    s.pid,
                    sig(&s.signal)
                )
            })
            .collect();
        out.push_str(&format!(
            "stopped what it left running: {}\n",
            who.join(", ")
        ));
    }
    let others: Vec<String> = r
        .listened_on
        .iter()
        .filter(|&&p| p != port)
        .map(u16::to_string)
        .collect();
    if !r.listened_on.contains(&port) && !others.is_empty() {
        out.push_str(&pal.warn(&format!(
            "it never listened on its port {port}, only on {}",
            others.join(", ")
        )));
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn advice(server: Option<&'static str>, env: Option<&'static str>) -> Advice {
        Advice {
            server,
            port_env: env,
            default_port: Some(5173),
            pass: Some("--port $PORT".into()),
            command: Some(
                ["portscope", "run", "--", "npx", "vite", "--port", "$PORT"]
                    .map(String::from)
                    .to_vec(),
            ),
            example: None,
        }
    }

    #[test]
    fn advice_lines() {
        let a = advise(&advice(Some("Vite"), None), 5173);
        assert_eq!(
            a,
            "Vite does not read PORT, and 5173 is its default (general knowledge); pass --port $PORT: portscope run -- npx vite --port '$PORT'"
        );
        assert!(advise(&advice(Some("Next.js"), Some("PORT")), 3000).contains("overrides"));
        assert!(advise(&advice(None, None), 1).contains("--port '$PORT'"));
    }

    #[test]
    fn notices_are_escaped() {
        let n = RunNotice::Listening {
            port: 4100,
            address: "127.0.0.1:4100".into(),
            url: Some("http://127.0.0.1:4100/".into()),
            protocol: Some("http".into()),
            pid: 7,
            process: "evil\x1b[2J".into(),
            every_interface: false,
        };
        let text = notice(&n, &Palette::new(false));
        assert_eq!(
            text,
            "portscope: evil\\x1b[2J[7] listens on 127.0.0.1:4100 → http://127.0.0.1:4100/\n"
        );
    }
}
