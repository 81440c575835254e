//! Where `portscope ls --all` spends its time: each step it takes, timed alone through the
//! library, then the whole listing, on the machine's current load. Run under `taskset` to
//! compare one core with two (`taskset -c 0`, then `-c 0,1`).
//!
//! `portscope-phases [REPS]` prints one line per step: median and minimum wall milliseconds.
//! `portscope-phases floor WHAT [PORT]` does only the kernel's part of a command and exits
//! (see `floor.rs`; timed by `bench/compare.sh --floor`); with `FLOOR_COUNT=1` it prints how
//! many sockets and owners it found, to check it did the work.

mod floor;

use std::io::Write;
use std::time::Instant;

use portscope::commands::{Report, ls};
use portscope::config::Config;
use portscope::snapshot::{self, Owners, Request};
use portscope::sys::procfs::{self, Detail};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("floor") {
        match floor::run(&args[1..]) {
            Ok(n) if std::env::var_os("FLOOR_COUNT").is_some() => println!("{n}"),
            Ok(_) => {}
            Err(e) => {
                eprintln!("portscope-phases: {e}");
                std::process::exit(2);
            }
        }
        return;
    }
    let reps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(11);
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let query = floor::every_socket();
    let cfg = Config {
        json: false,
        color: false,
        pretty: false,
        progress: false,
        width: None,
    };
    let mut opts = ls::Options::default();
    opts.all = true;
    let mut rows: Vec<(&str, Vec<f64>)> = Vec::new();
    let mut time = |name: &'static str, f: &mut dyn FnMut() -> usize| {
        let start = Instant::now();
        let n = f();
        let ms = start.elapsed().as_secs_f64() * 1e3;
        match rows.iter_mut().find(|(r, _)| *r == name) {
            Some((_, v)) => v.push(ms),
            None => rows.push((name, vec![ms])),
        }
        n
    };
    let mut counts = Vec::new();
    for _ in 0..reps {
        let pids = procfs::list_pids().expect("list pids");
        counts.push(("pids", pids.len()));
        counts.push((
            "dump: sockets",
            time("netlink dump (all TCP+UDP)", &mut || {
                portscope::sys::sock_diag::dump(&query).expect("dump").len()
            }),
        ));
        time("pid list (/proc)", &mut || {
            procfs::list_pids().map_or(0, |p| p.len())
        });
        counts.push((
            "walk: sockets owned",
            time("fd walk, 1 thread", &mut || {
                procfs::scan_fds(&pids, None, 1).owners.len()
            }),
        ));
        time("fd walk, all threads", &mut || {
            procfs::scan_fds(&pids, None, threads).owners.len()
        });
        time("snapshot (dump ‖ walk, join, processes)", &mut || {
            let mut req = Request::listeners();
            req.sockets = query.clone();
            req.owners = Owners::All;
            req.detail = Detail::Basic;
            snapshot::take(&req).map_or(0, |s| s.sockets.len())
        });
        let mut report = None;
        time(
            "ls --all: the report (all of the above + build)",
            &mut || {
                let r = ls::list(&opts).expect("ls");
                let n = r.sockets.len();
                report = Some(Report::Ls(Box::new(r)));
                n
            },
        );
        let mut report = Some(report.expect("a report"));
        let mut text = String::new();
        time("render the table", &mut || {
            text = report
                .as_ref()
                .map_or_else(String::new, |r| portscope::render::report(r, &cfg));
            text.len()
        });
        time("write to /dev/null", &mut || {
            let mut null = std::fs::File::create("/dev/null").expect("/dev/null");
            null.write_all(text.as_bytes()).map_or(0, |()| text.len())
        });
        time("drop the report and text", &mut || {
            drop(report.take());
            drop(std::mem::take(&mut text));
            0
        });
    }
    counts.dedup();
    println!("threads: {threads}; reps: {reps}");
    for (name, n) in counts.iter().take(3) {
        println!("  {name}: {n}");
    }
    println!("{:<50} {:>9} {:>9}", "step", "median ms", "min ms");
    for (name, mut v) in rows {
        v.sort_by(f64::total_cmp);
        println!("{:<50} {:>9.1} {:>9.1}", name, v[v.len() / 2], v[0]);
    }
}
