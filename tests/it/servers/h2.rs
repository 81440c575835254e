//! HTTP/2 and gRPC servers for `probe`'s HTTP/2 family (tests/it/probe_h2.rs): nghttpd (Debian
//! package nghttp2-server) in clear text with prior knowledge and over TLS, and a gRPC server in
//! Python (grpcio, grpcio-health-checking and grpcio-reflection from PyPI) serving the health
//! service, with reflection or without, in clear text or over TLS — each on a run-time port.
//!
//! The Python packages are not Debian's: `.ci/run` installs them in a virtual environment of
//! the checkout's own (`target/ci-pypi`) and names its interpreter in `PORTSCOPE_PYPI_PYTHON`;
//! elsewhere `python3` is used when it can import them, and the test is skipped with one line
//! when it cannot.

use super::*;

/// The title of the page nghttpd serves at `/`.
pub const NGHTTPD_TITLE: &str = "portscope h2 test";

/// `nghttpd -d DIR --address=127.0.0.1 PORT` (`--no-tls`, or on a self-signed certificate for
/// localhost and 127.0.0.1), serving an index.html titled [`NGHTTPD_TITLE`].
pub fn nghttpd(tls: bool) -> Option<Server> {
    let bin = need("nghttpd", "nghttp2-server")?;
    let dir = TempDir::new("nghttpd");
    let docs = dir.join("htdocs");
    fs::create_dir(&docs).unwrap();
    fs::write(
        dir.path().join("htdocs/index.html"),
        format!("<title>{NGHTTPD_TITLE}</title>\n"),
    )
    .unwrap();
    let pem = if tls { Some(certificate(&dir)?) } else { None };
    let (proc, port) = on_free_port("nghttpd", &dir, None, |port| {
        let mut cmd = Command::new(&bin);
        cmd.args(["-d", &docs, "--address=127.0.0.1", &port.to_string()]);
        match &pem {
            Some((cert, key)) => cmd.args([key, cert]),
            None => cmd.arg("--no-tls"),
        };
        cmd
    });
    let mut s = Server::new("nghttpd", port, proc, dir);
    s.cn = tls.then(|| TLS_CN.to_string());
    Some(s)
}

/// The gRPC server the tests start: the health service, reflection when asked (naming the
/// health service and itself), TLS when given a key and a certificate; it prints its port.
const GRPC_SERVER: &str = include_str!("../../fixtures/servers/grpc_server.py");

/// The Python modules the gRPC server imports.
const GRPC_MODULES: &str = "import grpc, grpc_health.v1.health, grpc_reflection.v1alpha.reflection";

/// A Python interpreter that can import grpcio, grpcio-health-checking and grpcio-reflection:
/// `PORTSCOPE_PYPI_PYTHON`, else `python3`. Skips the test (one line) when there is none.
fn grpc_python() -> Option<PathBuf> {
    harness::pypi_python(
        GRPC_MODULES,
        "grpcio, grpcio-health-checking, grpcio-reflection \
         (PyPI packages; .ci/run installs them in target/ci-pypi)",
    )
}

/// The gRPC server ([`GRPC_SERVER`]) with reflection or without, in clear text or over TLS
/// (a self-signed certificate for localhost and 127.0.0.1).
pub fn grpc_server(reflection: bool, tls: bool) -> Option<Server> {
    let python = grpc_python()?;
    let dir = TempDir::new("grpc");
    let script = dir.join("server.py");
    fs::write(&script, GRPC_SERVER).unwrap();
    let mut cmd = Command::new(python);
    cmd.args([
        "-u",
        &script,
        if reflection { "reflection" } else { "none" },
    ]);
    if tls {
        let (cert, key) = certificate(&dir)?;
        cmd.args([key, cert]);
    }
    cmd.current_dir(dir.path());
    let mut proc = start("grpc server", &dir, "out", &mut cmd);
    let port = wait_for_line("grpc server", &mut proc, &dir, SLOW_READY_TIMEOUT, |l| {
        l.strip_prefix("listening on port ")?.trim().parse().ok()
    });
    let mut s = Server::new("grpc server", port, proc, dir);
    s.cn = tls.then(|| TLS_CN.to_string());
    Some(s)
}
