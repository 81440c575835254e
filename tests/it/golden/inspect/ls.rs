//! `ls` pinned: listeners by exposure with a hidden owner, `--all` with connections and a
//! TIME_WAIT nobody owns, and `--no-owners`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use portscope::commands::Report;
use portscope::commands::ls::{LsReport, LsRow};
use portscope::knowledge::{addr_class, iana};
use portscope::model::{Hidden, Process, Proto, SockState, Socket};
use portscope::sys::services;

use super::{
    ANY4, ANY6, CURL_HEALTH, LO4, LO6, NEXT_DEV, basic, connected, hidden, hidden_owner, listen,
    pin, processes, sock,
};

/// The service names a Debian system lists (`/etc/services`, as `netbase` ships it) for the
/// fixtures' ports: `ls` prefers them to IANA's (80 is `http`, not IANA's `www-http`).
const SYSTEM_SERVICES: &str = "ssh 22/tcp\nhttp 80/tcp www # WorldWideWeb HTTP\nmdns 5353/udp\n";

/// An `ls` row as `ls` annotates it: exposure, service name (the system's, else IANA's),
/// first owner's name and user —
/// for a hidden owner, the socket's uid's name (the fixtures' hidden sockets are root's).
fn ls_row(socket: Socket, procs: &BTreeMap<u32, Process>) -> LsRow {
    let first = socket.pids.first().and_then(|p| procs.get(p));
    let hidden_user = (socket.owner_hidden && socket.uid == 0).then(|| "root".into());
    LsRow {
        exposure: socket.local.ip().map(addr_class::exposure),
        service: socket.port().and_then(|p| {
            services::parse(SYSTEM_SERVICES)
                .name(p, socket.proto)
                .or_else(|| iana::iana_service(p, socket.proto).map(|s| s.name.into()))
        }),
        process: first.map(|p| p.comm.as_str().into()),
        user: first
            .map(|p| p.user.clone().unwrap_or_default().into())
            .or(hidden_user),
        container: None,
        socket,
    }
}

fn ls(
    all_states: bool,
    sockets: Vec<Socket>,
    procs: Vec<Process>,
    owners_looked_up: bool,
    hidden: Hidden,
) -> Report {
    let procs = processes(procs);
    let rows = sockets.into_iter().map(|s| ls_row(s, &procs)).collect();
    Report::Ls(Box::new(LsReport {
        all_states,
        sockets: rows,
        processes: procs,
        owners_looked_up,
        hidden,
        container_note: None,
        published: Vec::new(),
    }))
}

/// `ls`: listeners on loopback, all interfaces (v4 and v6) and IPv6 loopback; a UDP socket;
/// sshd's owner hidden from a non-root user (USER still names the socket's uid), and the
/// footer saying so; a web server on 80, named `http` as the system names it.
#[test]
fn listeners() {
    let report = ls(
        false,
        vec![
            hidden_owner(listen(Proto::Tcp, ANY4, 22, 18_211, 0, &[])),
            listen(Proto::Tcp, ANY4, 80, 18_300, 1000, &[4100]),
            listen(Proto::Tcp, LO4, 3000, 91_402, 1000, &[4242]),
            listen(Proto::Tcp, ANY6, 5173, 91_877, 1000, &[4311]),
            listen(Proto::Udp, ANY4, 5353, 20_114, 1000, &[3817]),
            listen(Proto::Tcp, LO6, 62893, 93_001, 1000, &[4398]),
        ],
        vec![
            basic(3817, "chrome", &["/opt/google/chrome/chrome"]),
            basic(4100, "caddy", &["caddy", "run"]),
            basic(4242, "node", NEXT_DEV),
            basic(
                4311,
                "node",
                &["node", "/home/dev/app/node_modules/.bin/vite", "--host"],
            ),
            basic(
                4398,
                "java",
                &["java", "-jar", "/home/dev/app/build/libs/app.jar"],
            ),
        ],
        true,
        hidden(1, 1),
    );
    pin("inspect-ls-listeners", &report);
}

/// `ls --all` (rows by port, then local and remote address, as `ls` sorts them): a listener,
/// both ends of a loopback connection, a TIME_WAIT no file refers to
/// any more (no owner: `-`), and a connection out to a remote HTTPS server.
#[test]
fn all_states() {
    let remote: IpAddr = "93.184.215.14".parse().unwrap();
    let lan: IpAddr = "192.168.1.23".parse().unwrap();
    let report = ls(
        true,
        vec![
            listen(Proto::Tcp, LO4, 3000, 91_402, 1000, &[4242]),
            sock(
                Proto::Tcp,
                SockState::TimeWait,
                (LO4, 3000),
                Some((LO4, 51498)),
                0,
                0,
                &[],
            ),
            connected((LO4, 3000), (LO4, 51514), 91_950, 1000, &[4242]),
            connected((LO4, 51514), (LO4, 3000), 91_949, 1000, &[4300]),
            connected((lan, 52210), (remote, 443), 92_300, 1000, &[3817]),
        ],
        vec![
            basic(3817, "chrome", &["/opt/google/chrome/chrome"]),
            basic(4242, "node", NEXT_DEV),
            basic(4300, "curl", CURL_HEALTH),
        ],
        true,
        Hidden::default(),
    );
    pin("inspect-ls-all", &report);
}

/// `ls --no-owners`: no owner columns filled, and the summary says owners were not looked up.
#[test]
fn no_owners() {
    let report = ls(
        false,
        vec![
            listen(Proto::Tcp, LO4, 3000, 91_402, 1000, &[]),
            listen(Proto::Tcp, ANY4, 8080, 91_455, 1000, &[]),
        ],
        vec![],
        false,
        Hidden::default(),
    );
    pin("inspect-ls-no-owners", &report);
}
