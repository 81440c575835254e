//! The UDP relay: one connected socket to the target per client address (a session), closed
//! after the idle timeout; replies go back to the client from the listening socket.

use super::*;

/// One UDP client's session: a socket connected to the target.
#[derive(Debug)]
struct Session {
    id: u64,
    sock: Arc<UdpSocket>,
    started: Instant,
    /// Milliseconds after `started` of the last datagram either way.
    last: Arc<AtomicU64>,
    up: Arc<AtomicU64>,
    down: Arc<AtomicU64>,
}

/// Relay UDP datagrams received on `sock` (bound, std) until SIGINT/SIGTERM: one connected
/// socket to the target per client, replies sent back to it, sessions expire when idle.
pub async fn run_udp(
    sock: std::net::UdpSocket,
    cfg: Config,
    emit: &dyn Fn(ForwardLine),
) -> Result<(Totals, &'static str)> {
    let prep = |e| Error::io("preparing the listening socket", e);
    sock.set_nonblocking(true).map_err(prep)?;
    let listen = Arc::new(UdpSocket::from_std(sock).map_err(prep)?);
    let stop = stop_signal();
    tokio::pin!(stop);
    let mut totals = Totals::default();
    let mut sessions: HashMap<SocketAddr, Session> = HashMap::new();
    let mut told: HashSet<SocketAddr> = HashSet::new();
    let (ended_tx, mut ended_rx) = mpsc::unbounded_channel::<(SocketAddr, End)>();
    let mut buf = vec![0u8; DATAGRAM];
    let mut next_id = 0u64;
    let signal = loop {
        tokio::select! {
            s = &mut stop => break s?,
            Some((client, end)) = ended_rx.recv() => {
                if let Some(s) = sessions.remove(&client) {
                    close_session(client, &s, end, &cfg, &mut totals, emit);
                }
            }
            got = listen.recv_from(&mut buf) => {
                let Ok((n, client)) = got else { continue };
                if !allowed(&cfg.allow, client.ip()) {
                    totals.denied += 1;
                    if remember(&mut told, client) && !cfg.quiet {
                        emit(ForwardLine::Denied { client });
                    }
                    continue;
                }
                if !sessions.contains_key(&client) {
                    if sessions.len() >= cfg.max_conns {
                        totals.refused += 1;
                        if remember(&mut told, client) && !cfg.quiet {
                            emit(ForwardLine::Refused { client, max_conns: cfg.max_conns });
                        }
                        continue;
                    }
                    next_id += 1;
                    match open_session(next_id, client, &listen, &cfg, &ended_tx).await {
                        Ok(s) => {
                            totals.connections += 1;
                            if !cfg.quiet {
                                emit(ForwardLine::Open { id: next_id, client, target: cfg.target });
                            }
                            sessions.insert(client, s);
                        }
                        Err(e) => {
                            totals.target_failed += 1;
                            if !cfg.quiet {
                                emit(ForwardLine::TargetFailed {
                                    id: next_id, client, target: cfg.target, reason: e.to_string(),
                                });
                            }
                            continue;
                        }
                    }
                }
                if let Some(s) = sessions.get(&client) {
                    let data = buf.get(..n).unwrap_or_default();
                    if s.sock.send(data).await.is_ok() {
                        s.up.fetch_add(n as u64, Ordering::Relaxed);
                        s.last.store(ms_since(s.started), Ordering::Relaxed);
                    }
                }
            }
        }
    };
    for (client, s) in std::mem::take(&mut sessions) {
        close_session(client, &s, End::Stopped, &cfg, &mut totals, emit);
    }
    Ok((totals, signal))
}

fn remember(told: &mut HashSet<SocketAddr>, client: SocketAddr) -> bool {
    if told.len() >= TOLD_CAP {
        told.clear();
    }
    told.insert(client)
}

fn close_session(
    client: SocketAddr,
    s: &Session,
    end: End,
    cfg: &Config,
    totals: &mut Totals,
    emit: &dyn Fn(ForwardLine),
) {
    let (up, down) = (s.up.load(Ordering::Relaxed), s.down.load(Ordering::Relaxed));
    totals.bytes_to_target += up;
    totals.bytes_to_client += down;
    if !cfg.quiet {
        emit(ForwardLine::Close {
            id: s.id,
            client,
            bytes_to_target: up,
            bytes_to_client: down,
            duration_s: s.started.elapsed().as_secs_f64(),
            end,
            error: None,
        });
    }
}

async fn open_session(
    id: u64,
    client: SocketAddr,
    listen: &Arc<UdpSocket>,
    cfg: &Config,
    ended: &mpsc::UnboundedSender<(SocketAddr, End)>,
) -> io::Result<Session> {
    let local: SocketAddr = match cfg.target {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let sock = UdpSocket::bind(local).await?;
    sock.connect(cfg.target).await?;
    let s = Session {
        id,
        sock: Arc::new(sock),
        started: Instant::now(),
        last: Arc::new(AtomicU64::new(0)),
        up: Arc::new(AtomicU64::new(0)),
        down: Arc::new(AtomicU64::new(0)),
    };
    let (sock, last, down, started) = (
        Arc::clone(&s.sock),
        Arc::clone(&s.last),
        Arc::clone(&s.down),
        s.started,
    );
    let (listen, ended, idle) = (Arc::clone(listen), ended.clone(), cfg.idle);
    tokio::spawn(async move {
        let mut buf = vec![0u8; DATAGRAM];
        let end = loop {
            let deadline = started + Duration::from_millis(last.load(Ordering::Relaxed)) + idle;
            if Instant::now() >= deadline {
                break End::Idle;
            }
            tokio::select! {
                () = tokio::time::sleep_until(deadline.into()) => {}
                got = sock.recv(&mut buf) => match got {
                    Ok(n) => {
                        let data = buf.get(..n).unwrap_or_default();
                        if listen.send_to(data, client).await.is_ok() {
                            down.fetch_add(n as u64, Ordering::Relaxed);
                        }
                        last.store(ms_since(started), Ordering::Relaxed);
                    }
                    // ICMP port unreachable from the target: keep the session, like a
                    // lost datagram; the idle timeout ends it.
                    Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {}
                    Err(_) => break End::Error,
                },
            }
        };
        let _ = ended.send((client, end));
    });
    Ok(s)
}
