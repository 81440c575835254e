//! Servers bound where the audit tests need them (a non-loopback address, no password): the
//! same programs as the probe tests, started on the address given.

use super::*;

/// `redis-server` on 0.0.0.0 without a password and with protected mode off: a datastore open
/// to the network, which the audit must call critical. (Redis 7 keeps protected mode on even
/// with an explicit `--bind`, refusing remote clients; off, it is exposed for real.)
pub fn redis_exposed() -> Option<Server> {
    let names = Names {
        dir: "redis-exposed",
        server: "redis-server (exposed)",
    };
    redis_on(names, "0.0.0.0", true, None)
}

// ---------------------------------------------------------------------------------------------
// For `audit` (tests/it/audit.rs): the same servers, bound where the test says.

/// `redis-server` like [`redis`], bound to `bind` (e.g. `0.0.0.0`), protected mode left at its
/// default (on: without a password it then serves loopback clients only).
pub fn redis_bound(bind: &str, password: Option<&str>) -> Option<Server> {
    redis_on(
        Names {
            dir: "redis-bound",
            server: "redis-server (bound)",
        },
        bind,
        false,
        password,
    )
}

/// `memcached -l BIND -p PORT -U 0` (`-u nobody` as root), like [`memcached`].
pub fn memcached_bound(bind: &str) -> Option<Server> {
    memcached_on(
        Names {
            dir: "memcached-bound",
            server: "memcached (bound)",
        },
        bind,
    )
}

/// `node --inspect=BIND:0 -e "setTimeout(()=>{}, 120000)"` (an IPv4 `bind`); port from
/// `Debugger listening on ws://BIND:N/…`.
pub fn node_inspector_bound(bind: &str) -> Option<Server> {
    node_inspector_on(
        Names {
            dir: "node-bound",
            server: "node --inspect (bound)",
        },
        bind,
    )
}

// ---------------------------------------------------------------------------------------------
// The starters behind them, which take the address to bind.

/// How one start of a server is named: its temp dir and messages.
pub(super) struct Names {
    /// For [`TempDir::new`] (`redis-bound`).
    pub(super) dir: &'static str,
    /// [`Server::name`] (`redis-server (bound)`).
    pub(super) server: &'static str,
}

/// `redis-server` on `bind` with no persistence; `--protected-mode no` when
/// `protected_mode_off`, `--requirepass` when `password` is given.
pub(super) fn redis_on(
    names: Names,
    bind: &str,
    protected_mode_off: bool,
    password: Option<&str>,
) -> Option<Server> {
    let bin = need("redis-server", "redis-server")?;
    let dir = TempDir::new(names.dir);
    let (proc, port) = on_free_port(
        "redis-server",
        &dir,
        Some("Ready to accept connections"),
        |port| {
            let mut cmd = Command::new(&bin);
            cmd.args(["--port", &port.to_string(), "--bind", bind]);
            if protected_mode_off {
                cmd.args(["--protected-mode", "no"]);
            }
            cmd.args(["--save", "", "--appendonly", "no", "--dir", &dir.join("")])
                .args(["--daemonize", "no", "--logfile", ""]);
            if let Some(pw) = password {
                cmd.args(["--requirepass", pw]);
            }
            cmd
        },
    );
    Some(Server::new(names.server, port, proc, dir))
}

/// `memcached -l BIND -p PORT -U 0` (`-u nobody` as root: memcached refuses root).
pub(super) fn memcached_on(names: Names, bind: &str) -> Option<Server> {
    let bin = need("memcached", "memcached")?;
    let dir = TempDir::new(names.dir);
    let (proc, port) = on_free_port("memcached", &dir, None, |port| {
        let mut cmd = Command::new(&bin);
        cmd.args(["-l", bind, "-p", &port.to_string(), "-U", "0"]);
        if harness::is_root() {
            cmd.args(["-u", "nobody"]);
        }
        cmd
    });
    Some(Server::new(names.server, port, proc, dir))
}

/// `node --inspect=BIND:0 -e "setTimeout(()=>{}, 120000)"` (an IPv4 `bind`); port from
/// `Debugger listening on ws://BIND:N/…` (stderr).
pub(super) fn node_inspector_on(names: Names, bind: &str) -> Option<Server> {
    let node = need("node", "nodejs")?;
    let dir = TempDir::new(names.dir);
    let mut cmd = Command::new(node);
    cmd.args([
        &format!("--inspect={bind}:0"),
        "-e",
        "setTimeout(()=>{}, 120000)",
    ])
    .current_dir(dir.path());
    let mut proc = start("node --inspect", &dir, "out", &mut cmd);
    let prefix = format!("Debugger listening on ws://{bind}:");
    let port = wait_for_line("node --inspect", &mut proc, &dir, READY_TIMEOUT, |l| {
        let rest = l.strip_prefix(prefix.as_str())?;
        rest.split('/').next()?.parse().ok()
    });
    Some(Server::new(names.server, port, proc, dir))
}
