//! A server that listens on a unix socket only, for `doctor`'s DOC-UNIX-SOCKET-ONLY:
//! PostgreSQL with `listen_addresses` empty, its socket `.s.PGSQL.PORT` in its temp dir.

use super::*;

/// PostgreSQL with TCP off (`-h ''`) and its socket in its own dir (`-k DIR`), named for a
/// port nobody listens on (its number is only a name here: no TCP port is taken). The
/// socket's path is `DIR/.s.PGSQL.PORT`; [`Server::port`] is PORT.
pub fn postgres_unix_only() -> Option<(Server, String)> {
    let pg = Postgres::init("postgres-unix")?;
    let port = free_port();
    let mut cmd = pg.command();
    cmd.args(["-h", "", "-p", &port.to_string()])
        .args(["-k", pg.dir.arg()]);
    let mut proc = start("postgres (unix socket only)", &pg.dir, "out", &mut cmd);
    wait_for_line(
        "postgres (unix socket only)",
        &mut proc,
        &pg.dir,
        SLOW_READY_TIMEOUT,
        |l| {
            l.contains("database system is ready to accept connections")
                .then_some(())
        },
    );
    let socket = pg.dir.join(&format!(".s.PGSQL.{port}"));
    assert!(
        Path::new(&socket).exists(),
        "no {socket}: {}",
        read_logs(pg.dir.path())
    );
    let mut s = Server::new("postgres (unix socket only)", port, proc, pg.dir);
    s.stop = Some(rustix::process::Signal::INT);
    Some((s, socket))
}
