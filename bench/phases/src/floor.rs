//! `portscope-phases floor WHAT [PORT]`: only the kernel's work a command cannot do without,
//! through the library, then exit — a lower bound to time beside the command itself and its
//! anchor (`bench/compare.sh --floor`). Nothing is joined, read about processes, sorted or printed.
//!
//! - `exit`: start and exit only.
//! - `who PORT`: the port's sockets, as `who` asks for them: the connection tables and the
//!   bind table (bound-only sockets, the "address already in use" ones), one dump on each of
//!   two threads.
//! - `ls`: the listeners' dump, then every fd table walked for their owners.
//! - `ls-all`: every TCP and UDP socket dumped beside the walk of every fd table.

use portscope::snapshot::Request;
use portscope::sys::procfs::{self, InodeSet, Wanted};
use portscope::sys::{SocketQuery, sock_diag};

/// Run the floor named by `args` (after `floor`); the count of what it found, for the
/// caller to print on request.
pub fn run(args: &[String]) -> Result<usize, String> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    match args.first().map(String::as_str) {
        Some("exit") => Ok(0),
        Some("who") => {
            let port: u16 = args
                .get(1)
                .and_then(|p| p.parse().ok())
                .ok_or("floor who: expected a port number")?;
            let q = Request::port(port).sockets;
            let (rest, bound) = sock_diag::bound_apart(&q).ok_or("no bound-only query")?;
            std::thread::scope(|s| {
                let lane = s.spawn(|| sock_diag::dump(&bound).map(|v| v.len()));
                let rest = sock_diag::dump(&rest).map(|v| v.len());
                let bound = lane.join().map_err(|_| "the lane panicked".to_string())?;
                Ok(rest.map_err(|e| e.to_string())? + bound.map_err(|e| e.to_string())?)
            })
        }
        Some("ls") => {
            let sockets =
                sock_diag::dump(&Request::listeners().sockets).map_err(|e| e.to_string())?;
            let inodes: InodeSet = sockets.iter().map(|s| s.inode).collect();
            let pids = procfs::list_pids().map_err(|e| e.to_string())?;
            let wanted = Wanted {
                inodes: &inodes,
                stop_early: false,
            };
            Ok(procfs::scan_fds(&pids, Some(&wanted), threads).owners.len())
        }
        Some("ls-all") => {
            let q = every_socket();
            std::thread::scope(|s| {
                let dump = s.spawn(|| sock_diag::dump(&q).map(|v| v.len()));
                let pids = procfs::list_pids().map_err(|e| e.to_string())?;
                let owned = procfs::scan_fds(&pids, None, threads).owners.len();
                let dumped = dump.join().map_err(|_| "the dump panicked".to_string())?;
                Ok(owned + dumped.map_err(|e| e.to_string())?)
            })
        }
        _ => Err("floor: expected exit, who PORT, ls or ls-all".into()),
    }
}

/// Every TCP and UDP socket, IPv4 and IPv6, in every state: `ls --all`'s query.
pub fn every_socket() -> SocketQuery {
    let mut q = SocketQuery::default();
    q.tcp = true;
    q.udp = true;
    q.ipv4 = true;
    q.ipv6 = true;
    q.states = u32::MAX;
    q
}
