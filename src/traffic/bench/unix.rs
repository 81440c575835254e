//! The unix-socket baseline: an echo and a discard server on stream sockets in a private
//! temporary directory, on threads of their own, gone (files and directory) when dropped.

use std::io::{self, Read, Write};
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::{Error, Result};

/// A server connection that sees nothing for this long is closed.
const IDLE: Duration = Duration::from_secs(30);

/// Unix-socket echo and discard servers, running until dropped.
#[derive(Debug)]
pub struct UnixServers {
    dir: PathBuf,
    /// The echo server's socket.
    pub echo: PathBuf,
    /// The discard server's socket.
    pub discard: PathBuf,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl UnixServers {
    /// Create a private (0700) directory under the system temp dir and start both servers.
    pub fn start() -> Result<UnixServers> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let dir =
            std::env::temp_dir().join(format!("portscope-bench-{}-{nanos}", std::process::id()));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(|e| Error::io(format!("create {}", dir.display()), e))?;
        let mut servers = UnixServers {
            echo: dir.join("echo.sock"),
            discard: dir.join("discard.sock"),
            dir,
            stop: Arc::new(AtomicBool::new(false)),
            threads: Vec::new(),
        };
        // On an error, dropping `servers` stops what started and removes the directory.
        for (path, echo) in [
            (servers.echo.clone(), true),
            (servers.discard.clone(), false),
        ] {
            let listener = UnixListener::bind(&path)
                .map_err(|e| Error::io(format!("listen on {}", path.display()), e))?;
            let stop = Arc::clone(&servers.stop);
            let thread = std::thread::Builder::new()
                .name(
                    if echo {
                        "bench-unix-echo"
                    } else {
                        "bench-unix-discard"
                    }
                    .into(),
                )
                .spawn(move || accept_loop(&listener, &stop, echo))
                .map_err(|e| Error::io("start a unix-socket server thread", e))?;
            servers.threads.push(thread);
        }
        Ok(servers)
    }
}

fn accept_loop(listener: &UnixListener, stop: &AtomicBool, echo: bool) {
    for conn in listener.incoming() {
        if stop.load(Ordering::Acquire) {
            return;
        }
        let Ok(conn) = conn else { continue };
        // A connection the thread cannot be started for is dropped: the client sees EOF.
        let _ = std::thread::Builder::new()
            .name("bench-unix-conn".into())
            .spawn(move || {
                let _ = serve(conn, echo);
            });
    }
}

fn serve(mut conn: UnixStream, echo: bool) -> io::Result<()> {
    conn.set_read_timeout(Some(IDLE))?;
    conn.set_write_timeout(Some(IDLE))?;
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        if echo {
            conn.write_all(&buf[..n])?;
        }
    }
}

fn wake(path: &Path) {
    // Wakes the accept loop so it sees `stop`; failure means it is gone already.
    let _ = UnixStream::connect(path);
}

impl Drop for UnixServers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        wake(&self.echo);
        wake(&self.discard);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
