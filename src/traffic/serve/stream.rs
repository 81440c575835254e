//! `echo` and `discard`: plain TCP. Echo writes back every byte it reads before reading
//! more (a 64 KiB buffer, so a client that does not read stalls only itself); discard
//! counts and drops. At most [`MAX_CONNECTIONS`] at once; a silent connection is closed
//! after [`STREAM_IDLE`].

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::timeout;

use super::{MAX_CONNECTIONS, STREAM_IDLE, ServeLine, Sink, Totals};

/// Bytes read (and echoed) at a time.
const CHUNK: usize = 64 * 1024;

/// Accept until `stop` completes; open connections are then closed.
pub(super) async fn serve(
    listener: TcpListener,
    echo: bool,
    sink: Sink,
    totals: Arc<Totals>,
    stop: impl Future<Output = &'static str>,
) -> &'static str {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut conns = JoinSet::new();
    tokio::pin!(stop);
    loop {
        while conns.try_join_next().is_some() {}
        let accepted = tokio::select! {
            name = &mut stop => return name,
            a = async {
                let slot = slots.clone().acquire_owned().await.ok();
                (listener.accept().await, slot)
            } => a,
        };
        match accepted {
            (Ok((sock, client)), slot) => {
                let _ = sock.set_nodelay(true);
                totals.io.connections.fetch_add(1, Ordering::Relaxed);
                let (sink, totals) = (sink.clone(), totals.clone());
                conns.spawn(async move {
                    connection(sock, client, echo, &sink, &totals).await;
                    drop(slot);
                });
            }
            // Out of file descriptors, most likely: wait for some to close.
            (Err(_), _) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
}

async fn connection(
    mut sock: TcpStream,
    client: SocketAddr,
    echo: bool,
    sink: &Sink,
    totals: &Totals,
) {
    let started = Instant::now();
    let mut buf = vec![0u8; CHUNK];
    let (mut bytes_in, mut bytes_out) = (0u64, 0u64);
    loop {
        let n = match timeout(STREAM_IDLE, sock.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => break,
        };
        let n64 = n as u64;
        bytes_in += n64;
        totals.io.bytes_in.fetch_add(n64, Ordering::Relaxed);
        if echo {
            let Some(chunk) = buf.get(..n) else { break };
            match timeout(STREAM_IDLE, sock.write_all(chunk)).await {
                Ok(Ok(())) => {
                    bytes_out += n64;
                    totals.io.bytes_out.fetch_add(n64, Ordering::Relaxed);
                }
                _ => break,
            }
        }
    }
    // The client's end of input: end ours too, so it sees everything arrived.
    let _ = timeout(STREAM_IDLE, sock.shutdown()).await;
    sink.send(ServeLine::Connection {
        client,
        bytes_in,
        bytes_out,
        seconds: started.elapsed().as_secs_f64(),
    });
}
