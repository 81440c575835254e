//! Embedding portscope: a development server that cannot bind its port says who holds it,
//! what the address means, and why a client cannot connect — with the library's engine
//! alone (`default-features = false`).
//!
//! `cargo run --manifest-path examples/embed/Cargo.toml -- 127.0.0.1:8080`

use std::net::TcpListener;

use portscope::commands::{doctor, explain, who};
use portscope::target;

fn main() -> Result<(), portscope::error::Error> {
    let text = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8080".into());
    let target = target::parse(&text)?;

    // Who holds it? (Every socket on it, the processes in full, what could not be seen.)
    let held = who::report(&who::Options::new(target.clone()))?;
    for s in held.sockets.iter().filter(|s| s.socket.is_listening()) {
        for pid in &s.socket.pids {
            let comm = held.processes.get(pid).map_or("?", |p| p.comm.as_str());
            println!("{} is held by {comm} (pid {pid})", s.socket.local);
        }
        if s.socket.owner_hidden {
            println!("{} is held by a process this user may not inspect", s.socket.local);
        }
    }

    // Can I have it? Try, and if the kernel says no, the holder is named above.
    if let target::Target::Addr { port, .. } | target::Target::Port { port, .. } = target
        && let Err(e) = TcpListener::bind(("127.0.0.1", port))
    {
        println!("bind 127.0.0.1:{port}: {e}");
    }

    // What is it? Each fact with where it came from.
    for fact in explain::explain(&explain::Options::new(target.clone()))?.facts {
        println!("fact: {}", fact.text);
    }

    // Why can't a client connect (or: it works)?
    let diagnosis = doctor::diagnose(&doctor::Options::new(target))?;
    println!("doctor: {}", diagnosis.verdict);
    Ok(())
}
