//! The servers of `probe`'s confidence tests: a Redis-protocol server that is not Redis
//! (fakeredis), debug adapters and a language server (debugpy, Delve's `dlv dap`, pylsp), a
//! proxy in front of a backend (Varnish before Python's http.server), a `/metrics` that is not
//! Prometheus (etcd), websocket endpoints, and an Erlang node's distribution port — each on a
//! port picked at run time, in a temp dir of its own.
//!
//! PyPI packages (fakeredis: Debian's is too old to serve TCP) come from the virtual
//! environment `.ci/run` makes for the tests (its interpreter in `PORTSCOPE_PYPI_PYTHON`, else
//! `python3`); a missing one is skipped with one line (a failure under CI's
//! `PORTSCOPE_REQUIRE_ROOT=1`).

use super::*;

/// The interpreter of the PyPI packages the tests use: `PORTSCOPE_PYPI_PYTHON` (the virtual
/// environment `.ci/run` makes), else `python3`.
fn pypi_python() -> Option<PathBuf> {
    match std::env::var_os("PORTSCOPE_PYPI_PYTHON") {
        Some(p) => Some(PathBuf::from(p)),
        None => need("python3", "python3"),
    }
}

/// `python` can import `module` (with `path` on `PYTHONPATH` when given); else one skip line.
fn importable(python: &Path, module: &str, path: Option<&Path>, needs: &str) -> bool {
    let mut cmd = Command::new(python);
    cmd.args(["-c", &format!("import {module}")]);
    if let Some(p) = path {
        cmd.env("PYTHONPATH", p);
    }
    let found = cmd.output().is_ok_and(|o| o.status.success());
    harness::needs_installed(&harness::current_test(), found, needs)
}

/// A python3 script run in its own dir (with `PYTHONPATH` when given) that prints `port N`
/// once it listens.
fn python_server(name: &'static str, python: &Path, script: &str, path: Option<&Path>) -> Server {
    let dir = TempDir::new(name);
    let mut cmd = Command::new(python);
    cmd.args(["-u", "-c", script]).current_dir(dir.path());
    if let Some(p) = path {
        cmd.env("PYTHONPATH", p);
    }
    let mut proc = start(name, &dir, "out", &mut cmd);
    let port = wait_for_line(name, &mut proc, &dir, READY_TIMEOUT, |l| {
        l.strip_prefix("port ")?.trim().parse().ok()
    });
    Server::new(name, port, proc, dir)
}

/// fakeredis's `TcpFakeServer` (PyPI fakeredis ≥ 2.24) on 127.0.0.1 port 0: it speaks RESP,
/// answers `PING`, and has no `INFO`.
pub fn fakeredis() -> Option<Server> {
    let python = pypi_python()?;
    let needs = "fakeredis (PyPI package fakeredis; .ci/run installs it in target/ci-pypi)";
    if !importable(&python, "fakeredis", None, needs) {
        return None;
    }
    let script = "from fakeredis import TcpFakeServer\n\
                  s = TcpFakeServer(('127.0.0.1', 0))\n\
                  print('port', s.server_address[1], flush=True)\n\
                  s.serve_forever()\n";
    Some(python_server("fakeredis", &python, script, None))
}

/// Debian's debugpy (`/usr/bin/python3 -m debugpy --listen 127.0.0.1:PORT`) running a
/// program that sleeps: a debug adapter that speaks first. Its adapter listens in a session
/// of its own (debugpy detaches it), so readiness is any listener on the port, and the
/// adapter exits when the debugged program is killed with the group.
pub fn debugpy() -> Option<Server> {
    let python = need("/usr/bin/python3", "python3")?;
    let needs = "debugpy for /usr/bin/python3 (Debian package python3-debugpy)";
    if !importable(&python, "debugpy", None, needs) {
        return None;
    }
    let dir = TempDir::new("debugpy");
    let port = free_port();
    let mut cmd = Command::new(&python);
    cmd.args(["-m", "debugpy", "--listen", &format!("127.0.0.1:{port}")])
        .args(["-c", "import time; time.sleep(120)"])
        .env("PYDEVD_DISABLE_FILE_VALIDATION", "1")
        .current_dir(dir.path());
    let mut proc = start("debugpy", &dir, "out", &mut cmd);
    let deadline = Instant::now() + READY_TIMEOUT;
    // A listener on the port (not a connect loop: on a free port of the ephemeral range,
    // repeated connects can meet themselves — a TCP self-connect — and "succeed").
    while listening_inodes(port).is_empty() {
        if let Ok(Some(status)) = proc.child.try_wait() {
            panic!("debugpy exited ({status}): {}", read_logs(dir.path()));
        }
        assert!(
            Instant::now() < deadline,
            "debugpy not listening on {port}: {}",
            read_logs(dir.path())
        );
        std::thread::sleep(POLL);
    }
    Some(Server::new("debugpy", port, proc, dir))
}

/// Delve's single-use DAP server, `dlv dap --listen 127.0.0.1:PORT`: it exits when its first
/// client leaves.
pub fn dlv_dap() -> Option<Server> {
    let bin = need("dlv", "delve")?;
    let dir = TempDir::new("dlv-dap");
    let (proc, port) = on_free_port("dlv dap", &dir, Some("DAP server listening at"), |port| {
        let mut cmd = Command::new(&bin);
        cmd.args(["dap", "--listen", &format!("127.0.0.1:{port}")])
            .env("HOME", dir.join(""))
            .current_dir(dir.path());
        cmd
    });
    Some(Server::new("dlv dap", port, proc, dir))
}

/// python-lsp-server, `pylsp --tcp --host 127.0.0.1 --port PORT`.
pub fn pylsp() -> Option<Server> {
    let bin = need("pylsp", "python3-pylsp")?;
    let dir = TempDir::new("pylsp");
    let (proc, port) = on_free_port("pylsp", &dir, None, |port| {
        let mut cmd = Command::new(&bin);
        cmd.args(["--tcp", "--host", "127.0.0.1", "--port", &port.to_string()])
            .env("HOME", dir.join(""))
            .current_dir(dir.path());
        cmd
    });
    Some(Server::new("pylsp", port, proc, dir))
}

/// Varnish (`varnishd -F`, a work dir of its own, 16 MB of malloc storage) in front of
/// Python's http.server: (varnish, backend). The proxy drops first.
pub fn varnish_before_http_server() -> Option<(Server, Server)> {
    let bin = need("varnishd", "varnish")?;
    let backend = http_server()?;
    let dir = TempDir::new("varnish");
    let work = dir.join("work");
    let to = format!("127.0.0.1:{}", backend.port);
    let (proc, port) = on_free_port("varnishd", &dir, Some("Child launched OK"), |port| {
        let mut cmd = Command::new(&bin);
        cmd.args(["-F", "-n", &work, "-b", &to, "-s", "malloc,16m"])
            .args(["-a", &format!("127.0.0.1:{port}")]);
        cmd
    });
    Some((Server::new("varnishd", port, proc, dir), backend))
}

/// etcd (Debian's `etcd-server`) with a data dir of its own, clients and peers on free ports;
/// its client port (which also serves `/metrics`).
pub fn etcd() -> Option<Server> {
    let bin = need("etcd", "etcd-server")?;
    let dir = TempDir::new("etcd");
    let data = dir.join("data");
    let (proc, port) = on_free_port("etcd", &dir, Some("ready to serve client"), |port| {
        let peer = format!("http://127.0.0.1:{}", free_port());
        let client = format!("http://127.0.0.1:{port}");
        let mut cmd = Command::new(&bin);
        cmd.args(["--data-dir", &data])
            .args(["--listen-client-urls", &client])
            .args(["--advertise-client-urls", &client])
            .args(["--listen-peer-urls", &peer])
            .args(["--initial-advertise-peer-urls", &peer])
            .arg(format!("--initial-cluster=default={peer}"));
        cmd
    });
    Some(Server::new("etcd", port, proc, dir))
}

/// A websocket server of Debian's python3-websockets (10.4, `websockets.serve`) on port 0.
pub fn websockets() -> Option<Server> {
    let python = need("/usr/bin/python3", "python3")?;
    let needs = "websockets for /usr/bin/python3 (Debian package python3-websockets)";
    if !importable(&python, "websockets", None, needs) {
        return None;
    }
    let script = "import asyncio, websockets\n\
                  async def echo(ws, path=None):\n\
                  \x20   async for m in ws: await ws.send(m)\n\
                  async def main():\n\
                  \x20   async with websockets.serve(echo, '127.0.0.1', 0) as s:\n\
                  \x20       print('port', s.sockets[0].getsockname()[1], flush=True)\n\
                  \x20       await asyncio.sleep(120)\n\
                  asyncio.run(main())\n";
    Some(python_server("websockets", &python, script, None))
}

/// A websocket endpoint that refuses a plain `GET` with a `403` whose body is delimited by
/// the close — and does not close (for 5 s): the head is all that comes. Python's socket
/// module, not a packaged server: it stands for the endpoints that answered so in the field.
pub fn websocket_403_held() -> Option<Server> {
    let python = need("python3", "python3")?;
    let script = "import socket, threading, time\n\
                  s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(16)\n\
                  print('port', s.getsockname()[1], flush=True)\n\
                  def serve(c):\n\
                  \x20   try:\n\
                  \x20       c.settimeout(1); c.recv(4096)\n\
                  \x20       c.sendall(b'HTTP/1.1 403 Forbidden\\r\\nContent-Type: text/plain\\r\\n'\n\
                  \x20                 b'Sec-WebSocket-Version: 13\\r\\n\\r\\n')\n\
                  \x20       time.sleep(5)\n\
                  \x20   except OSError: pass\n\
                  \x20   c.close()\n\
                  while True:\n\
                  \x20   c, _ = s.accept()\n\
                  \x20   threading.Thread(target=serve, args=(c,), daemon=True).start()\n";
    Some(python_server("websocket 403", &python, script, None))
}

/// An Erlang node's distribution port: [`epmd_with_node`]'s node, its port read from epmd.
/// (epmd, node, the node's distribution port.)
pub fn erlang_node() -> Option<(Server, Spawned, u16)> {
    let (epmd, node) = epmd_with_node()?;
    let names = epmd_names(epmd.port);
    let port = names
        .lines()
        .find_map(|l| {
            l.strip_prefix(&format!("name {NODE} at port "))?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no port for {NODE} in epmd's names: {names:?}"));
    Some((epmd, node, port))
}

/// Whether the process group `pgid` (a server's [`Server::pid`]) still listens on `port`.
pub fn listening_on(pgid: u32, port: u16) -> bool {
    group_listens(pgid, port)
}
