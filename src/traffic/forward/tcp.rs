//! The TCP relay: accept, check the allow list and the bound, connect to the target, then
//! move bytes both ways (splice(2) where it can, a buffer copy where it cannot) until either
//! side closes or the idle timeout passes.

use super::*;

/// Relay TCP connections accepted on `listener` (bound, std) until SIGINT/SIGTERM; `emit`
/// gets every line as it happens. Returns the totals and the signal's name.
pub async fn run_tcp(
    listener: std::net::TcpListener,
    cfg: Config,
    emit: &dyn Fn(ForwardLine),
) -> Result<(Totals, &'static str)> {
    let prep = |e| Error::io("preparing the listening socket", e);
    listener.set_nonblocking(true).map_err(prep)?;
    let listener = TcpListener::from_std(listener).map_err(prep)?;
    let stop = stop_signal();
    tokio::pin!(stop);
    let shared = Arc::new(Shared::default());
    let cfg = Arc::new(cfg);
    let (tx, mut rx) = mpsc::unbounded_channel::<ForwardLine>();
    let mut next_id = 0u64;
    let signal = loop {
        tokio::select! {
            s = &mut stop => break s?,
            Some(line) = rx.recv() => emit(line),
            accepted = listener.accept() => {
                let (client, peer) = match accepted {
                    Ok(a) => a,
                    // EMFILE and friends: back off a little instead of spinning.
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                if !allowed(&cfg.allow, peer.ip()) {
                    shared.denied.fetch_add(1, Ordering::Relaxed);
                    reject(client);
                    if !cfg.quiet {
                        emit(ForwardLine::Denied { client: peer });
                    }
                    continue;
                }
                if shared.active.load(Ordering::Relaxed) >= cfg.max_conns {
                    shared.refused.fetch_add(1, Ordering::Relaxed);
                    reject(client);
                    if !cfg.quiet {
                        emit(ForwardLine::Refused { client: peer, max_conns: cfg.max_conns });
                    }
                    continue;
                }
                next_id += 1;
                shared.active.fetch_add(1, Ordering::Relaxed);
                let guard = ActiveGuard(Arc::clone(&shared));
                let (cfg, shared, tx) = (Arc::clone(&cfg), Arc::clone(&shared), tx.clone());
                tokio::spawn(async move {
                    let _guard = guard;
                    connection(client, peer, next_id, &cfg, &shared, &tx).await;
                });
            }
        }
    };
    while let Ok(line) = rx.try_recv() {
        emit(line);
    }
    Ok((shared.totals(), signal))
}

/// Close a client we will not serve at once, with a reset so it does not linger.
fn reject(client: TcpStream) {
    let _ = socket2::SockRef::from(&client).set_linger(Some(Duration::ZERO));
    drop(client);
}

async fn connection(
    client: TcpStream,
    peer: SocketAddr,
    id: u64,
    cfg: &Config,
    shared: &Shared,
    tx: &mpsc::UnboundedSender<ForwardLine>,
) {
    let started = Instant::now();
    let target = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(cfg.target)).await {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => return target_failed(id, peer, cfg, shared, tx, e.to_string()),
        Err(_) => {
            let why = format!("no answer within {} s", CONNECT_TIMEOUT.as_secs());
            return target_failed(id, peer, cfg, shared, tx, why);
        }
    };
    shared.connections.fetch_add(1, Ordering::Relaxed);
    // Pass small writes on at once (interactive protocols); bulk throughput is the same.
    let _ = client.set_nodelay(true);
    let _ = target.set_nodelay(true);
    if !cfg.quiet {
        let _ = tx.send(ForwardLine::Open {
            id,
            client: peer,
            target: cfg.target,
        });
    }
    let up = AtomicU64::new(0);
    let down = AtomicU64::new(0);
    let (end, error) = pump(&client, &target, cfg.idle, &up, &down).await;
    if matches!(end, End::Reset | End::Error) {
        for s in [&client, &target] {
            let _ = socket2::SockRef::from(s).set_linger(Some(Duration::ZERO));
        }
    }
    let (up, down) = (up.load(Ordering::Relaxed), down.load(Ordering::Relaxed));
    shared.to_target.fetch_add(up, Ordering::Relaxed);
    shared.to_client.fetch_add(down, Ordering::Relaxed);
    if !cfg.quiet {
        let _ = tx.send(ForwardLine::Close {
            id,
            client: peer,
            bytes_to_target: up,
            bytes_to_client: down,
            duration_s: started.elapsed().as_secs_f64(),
            end,
            error,
        });
    }
}

fn target_failed(
    id: u64,
    peer: SocketAddr,
    cfg: &Config,
    shared: &Shared,
    tx: &mpsc::UnboundedSender<ForwardLine>,
    reason: String,
) {
    shared.target_failed.fetch_add(1, Ordering::Relaxed);
    if !cfg.quiet {
        let _ = tx.send(ForwardLine::TargetFailed {
            id,
            client: peer,
            target: cfg.target,
            reason,
        });
    }
}

/// Relay both ways until both sides have closed, one fails, or nothing moves for `idle`.
async fn pump(
    client: &TcpStream,
    target: &TcpStream,
    idle: Duration,
    up: &AtomicU64,
    down: &AtomicU64,
) -> (End, Option<String>) {
    let started = Instant::now();
    let last = AtomicU64::new(0);
    let both = async {
        tokio::try_join!(
            direction(client, target, up, &last, started),
            direction(target, client, down, &last, started)
        )
    };
    let watch = async {
        loop {
            let quiet_since = Duration::from_millis(last.load(Ordering::Relaxed));
            let deadline = started + quiet_since + idle;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline.into()).await;
        }
    };
    tokio::select! {
        r = both => match r {
            Ok(_) => (End::BothClosed, None),
            Err(e) => {
                let end = match e.kind() {
                    io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe => End::Reset,
                    _ => End::Error,
                };
                (end, Some(e.to_string()))
            }
        },
        () = watch => (End::Idle, None),
    }
}

/// One direction: relay until end-of-file, then pass the half-close on (shutdown write).
async fn direction(
    from: &TcpStream,
    to: &TcpStream,
    count: &AtomicU64,
    last: &AtomicU64,
    started: Instant,
) -> io::Result<()> {
    let moved = |n: usize| {
        count.fetch_add(n as u64, Ordering::Relaxed);
        let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        last.store(ms, Ordering::Relaxed);
    };
    match splice::Pipe::new() {
        Ok(pipe) => splice::relay(from, to, pipe, moved).await?,
        Err(_) => copy(from, to, moved).await?,
    }
    match socket2::SockRef::from(to).shutdown(Shutdown::Write) {
        Err(e) if e.kind() != io::ErrorKind::NotConnected => Err(e),
        _ => Ok(()),
    }
}

/// The fallback when no pipe can be made: a plain copy through a 64 KiB buffer.
async fn copy(from: &TcpStream, to: &TcpStream, mut moved: impl FnMut(usize)) -> io::Result<()> {
    let mut buf = vec![0u8; COPY_BUF];
    loop {
        from.readable().await?;
        let n = match from.try_read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        };
        let mut off = 0;
        while off < n {
            to.writable().await?;
            match to.try_write(buf.get(off..n).unwrap_or_default()) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(w) => {
                    off += w;
                    moved(w);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    }
}
