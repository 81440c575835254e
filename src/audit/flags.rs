//! Debugger flags on a command line, and the port each names: `node --inspect=0.0.0.0:9229`,
//! `-agentlib:jdwp=…,server=y,address=*:5005`, `--remote-debugging-port=9222`,
//! `dlv --listen=:2345`, `python -m debugpy --listen 5678`, `gdbserver :2159`. A listener on
//! that very port is the debugger, known without connecting to it.

use crate::model::Process;

use super::known::{Known, known};

/// A debugger whose flag on `p`'s command line names `port`, and the flag as written.
pub fn debugger_flag(p: &Process, port: u16) -> Option<(&'static Known, String)> {
    let args = &p.cmdline;
    for (i, arg) in args.iter().enumerate() {
        let next = args.get(i + 1).map(String::as_str);
        let found = inspector_flag(&p.comm, arg)
            .or_else(|| jdwp_flag(arg))
            .or_else(|| chrome_flag(arg))
            .or_else(|| delve_flag(&p.comm, arg, next))
            .or_else(|| debugpy_flag(args, arg, next))
            .or_else(|| gdbserver_arg(&p.comm, i, arg));
        if let Some((id, flag_port)) = found
            && flag_port == port
        {
            return known(id).map(|k| (k, arg.clone()));
        }
    }
    None
}

/// Whether `p` runs a JDWP agent that listens (`server=y`) on a port chosen at start
/// (`address=…:0`, or no address): which of its listeners is the agent cannot be told without
/// connecting, and the agent moves to a new port after every connection.
pub fn jdwp_on_any_port(p: &Process) -> bool {
    p.cmdline.iter().any(|arg| {
        let Some(opts) = jdwp_options(arg) else {
            return false;
        };
        let server = opts.split(',').any(|o| o == "server=y");
        let address = opts
            .split(',')
            .find_map(|o| o.strip_prefix("address="))
            .unwrap_or("0");
        server && port_of(address).is_none()
    })
}

/// The options of `-agentlib:jdwp=OPTS` or `-Xrunjdwp:OPTS`.
fn jdwp_options(arg: &str) -> Option<&str> {
    arg.strip_prefix("-agentlib:jdwp=")
        .or_else(|| arg.strip_prefix("-Xrunjdwp:"))
}

/// The port of `[host:]port` (`*:5005`, `0.0.0.0:9229`, `[::]:9229`, `9229`).
fn port_of(text: &str) -> Option<u16> {
    let port = text.rsplit(':').next()?;
    port.parse().ok().filter(|p| *p != 0)
}

/// `node --inspect[-brk|-wait][=[host:]port]` (default 9229), also deno and bun.
fn inspector_flag(comm: &str, arg: &str) -> Option<(&'static str, u16)> {
    let id = match comm {
        "deno" => "deno-inspector",
        _ => "node-inspector",
    };
    for flag in [
        "--inspect-brk",
        "--inspect-wait",
        "--inspect-port",
        "--inspect",
    ] {
        if let Some(rest) = arg.strip_prefix(flag) {
            return match rest.strip_prefix('=') {
                Some(value) => port_of(value).map(|p| (id, p)),
                None if rest.is_empty() && flag != "--inspect-port" => Some((id, 9229)),
                None => None,
            };
        }
    }
    None
}

/// `-agentlib:jdwp=…,server=y,…,address=[host:]port` and the old `-Xrunjdwp:…`.
fn jdwp_flag(arg: &str) -> Option<(&'static str, u16)> {
    let opts = jdwp_options(arg)?;
    let mut server = false;
    let mut port = None;
    for opt in opts.split(',') {
        match opt.split_once('=') {
            Some(("server", v)) => server = v == "y",
            Some(("address", v)) => port = port_of(v),
            _ => {}
        }
    }
    port.filter(|_| server).map(|p| ("jdwp", p))
}

/// Chromium's `--remote-debugging-port=N`.
fn chrome_flag(arg: &str) -> Option<(&'static str, u16)> {
    let port = arg.strip_prefix("--remote-debugging-port=")?;
    port_of(port).map(|p| ("chrome-devtools", p))
}

/// `dlv … --listen=[host]:port` (or `--listen [host]:port`, `-l`).
fn delve_flag(comm: &str, arg: &str, next: Option<&str>) -> Option<(&'static str, u16)> {
    if comm != "dlv" {
        return None;
    }
    let value = match arg.strip_prefix("--listen=").or(arg.strip_prefix("-l=")) {
        Some(v) => v,
        None if arg == "--listen" || arg == "-l" => next?,
        None => return None,
    };
    port_of(value).map(|p| ("delve", p))
}

/// `python -m debugpy --listen [host:]port` (a command line that names debugpy).
fn debugpy_flag(args: &[String], arg: &str, next: Option<&str>) -> Option<(&'static str, u16)> {
    if !args
        .iter()
        .any(|a| a == "debugpy" || a.ends_with("/debugpy"))
    {
        return None;
    }
    let value = match arg.strip_prefix("--listen=") {
        Some(v) => v,
        None if arg == "--listen" => next?,
        None => return None,
    };
    port_of(value).map(|p| ("debugpy", p))
}

/// `gdbserver [host]:port PROGRAM` (the first argument).
fn gdbserver_arg(comm: &str, i: usize, arg: &str) -> Option<(&'static str, u16)> {
    if comm != "gdbserver" || i != 1 || !arg.contains(':') {
        return None;
    }
    port_of(arg.trim_start_matches("tcp:")).map(|p| ("gdbserver", p))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::audit::tests::process;

    fn flag(comm: &str, args: &[&str], port: u16) -> Option<&'static str> {
        let mut p = process(10, comm, 1000);
        p.cmdline = args.iter().map(|a| a.to_string()).collect();
        debugger_flag(&p, port).map(|(k, _)| k.id)
    }

    #[test]
    fn a_jdwp_agent_on_port_zero_is_noticed() {
        let java = |arg: &str| {
            let mut p = process(10, "java", 1000);
            p.cmdline = vec!["java".into(), arg.into(), "Main".into()];
            jdwp_on_any_port(&p)
        };
        assert!(java(
            "-agentlib:jdwp=transport=dt_socket,server=y,address=127.0.0.1:0"
        ));
        assert!(java(
            "-agentlib:jdwp=transport=dt_socket,server=y,suspend=n"
        ));
        assert!(!java(
            "-agentlib:jdwp=transport=dt_socket,server=y,address=5005"
        ));
        assert!(!java(
            "-agentlib:jdwp=transport=dt_socket,server=n,address=127.0.0.1:0"
        ));
        assert!(!java("-Xmx1g"));
    }

    #[test]
    fn debugger_flags_name_their_port() {
        assert_eq!(
            flag("node", &["node", "--inspect=0.0.0.0:9230", "a.js"], 9230),
            Some("node-inspector")
        );
        assert_eq!(
            flag("node", &["node", "--inspect", "a.js"], 9229),
            Some("node-inspector")
        );
        assert_eq!(
            flag("node", &["node", "--inspect-brk=9231"], 9231),
            Some("node-inspector")
        );
        assert_eq!(
            flag("node", &["node", "--inspect=0.0.0.0:9230"], 3000),
            None,
            "the app's own port"
        );
        assert_eq!(
            flag("node", &["node", "--inspect=127.0.0.1:0"], 41000),
            None,
            "port 0: the probe decides"
        );
        assert_eq!(
            flag("deno", &["deno", "run", "--inspect=[::]:9229"], 9229),
            Some("deno-inspector")
        );
        assert_eq!(
            flag(
                "java",
                &[
                    "java",
                    "-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=*:5005",
                    "Main"
                ],
                5005
            ),
            Some("jdwp")
        );
        assert_eq!(
            flag(
                "java",
                &[
                    "java",
                    "-agentlib:jdwp=transport=dt_socket,server=n,address=127.0.0.1:5005"
                ],
                5005
            ),
            None,
            "server=n connects out"
        );
        assert_eq!(
            flag(
                "java",
                &[
                    "java",
                    "-Xrunjdwp:transport=dt_socket,address=8000,server=y"
                ],
                8000
            ),
            Some("jdwp")
        );
        assert_eq!(
            flag("chrome", &["chrome", "--remote-debugging-port=9222"], 9222),
            Some("chrome-devtools")
        );
        assert_eq!(
            flag(
                "dlv",
                &["dlv", "debug", "--headless", "--listen=:2345"],
                2345
            ),
            Some("delve")
        );
        assert_eq!(
            flag("dlv", &["dlv", "exec", "--listen", "0.0.0.0:2346"], 2346),
            Some("delve")
        );
        assert_eq!(
            flag(
                "python3",
                &[
                    "python3",
                    "-m",
                    "debugpy",
                    "--listen",
                    "0.0.0.0:5678",
                    "x.py"
                ],
                5678
            ),
            Some("debugpy")
        );
        assert_eq!(
            flag("python3", &["python3", "app.py", "--listen", "5678"], 5678),
            None
        );
        assert_eq!(
            flag("gdbserver", &["gdbserver", ":2159", "./prog"], 2159),
            Some("gdbserver")
        );
    }
}
