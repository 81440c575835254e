//! portscope tells the truth about local ports: which sockets exist, which processes hold
//! them, who started those processes, and what an address like `127.0.0.1:62893` means.
//!
//! The binary is a thin shell over this library. The flow is one way:
//! [`target`] parses what a user typed, [`sys`] (the only module that touches the OS) reads
//! sockets and processes, [`snapshot`] joins them, [`commands`] turn a snapshot into report
//! values, and `render` (the only module that prints) turns reports into text or JSON.
//! ARCHITECTURE.md draws the layers; a test holds them.
//!
//! # Features
//! Everything is on by default, for the binary. A program that embeds the library can take
//! `default-features = false` and get the engine alone — [`target`], [`model`], [`snapshot`],
//! [`sys`], [`knowledge`], and the questions [`commands::who`], [`commands::explain`],
//! [`commands::ls`] and [`commands::doctor`] — in about 40 crates, then add what it needs:
//!
//! | feature | adds |
//! |---|---|
//! | `probe` | the prober: what speaks on a port, TLS certificates (rustls, x509-parser) |
//! | `history` | the history store (bundled SQLite): a free port's last holder |
//! | `web` | `server`: the bounded HTTP server runtime (tokio, axum) |
//! | `engines` | asking Docker and Podman which container a published port serves (httparse) |
//! | `mcp` | `portscope mcp`, the MCP server (rmcp, the official SDK; needs `web`) |
//! | `tui`, `capture` | the crates of the live terminal view (ratatui) and of `tap` (etherparse, pcap-file); only the command line uses them today |
//! | `cli` (default) | the command line, the renderers and every verb; needs all of the above |
//!
//! # Who holds my port?
//! A program whose `bind` failed with `EADDRINUSE` can say who is in the way:
//! ```no_run
//! use std::net::TcpListener;
//!
//! let port = 8080;
//! if let Err(e) = TcpListener::bind(("127.0.0.1", port)) {
//!     let snap = portscope::snapshot::take(&portscope::snapshot::Request::port(port))?;
//!     for s in snap.sockets.iter().filter(|s| s.is_listening()) {
//!         for pid in &s.pids {
//!             let p = snap.process(*pid);
//!             eprintln!("{e}: {} is held by pid {pid} ({})", s.local,
//!                 p.map_or("?", |p| p.comm.as_str()));
//!         }
//!         if s.owner_hidden {
//!             eprintln!("{e}: {} is held by a process you may not inspect", s.local);
//!         }
//!     }
//! }
//! # Ok::<(), portscope::error::Error>(())
//! ```
//!
//! # A full listing
//! ```no_run
//! let snap = portscope::snapshot::take(&portscope::snapshot::Request::listeners())?;
//! println!("{} listening sockets, {} owners hidden", snap.sockets.len(), snap.hidden.sockets);
//! # Ok::<(), portscope::error::Error>(())
//! ```

#[cfg(feature = "cli")]
pub mod app;
#[cfg(feature = "cli")]
pub mod audit;
#[cfg(feature = "cli")]
pub mod cli;
pub mod commands;
#[cfg(feature = "cli")]
pub mod config;
pub mod containers;
pub mod doctor;
pub mod error;
pub mod exit;
pub mod input;
pub mod knowledge;
pub mod model;
#[cfg(feature = "probe")]
pub mod probe;
#[cfg(feature = "cli")]
pub mod project;
#[cfg(feature = "cli")]
pub mod render;
#[cfg(feature = "web")]
pub mod server;
pub mod snapshot;
pub mod store;
pub mod supervisors;
pub mod sys;
pub mod target;
pub mod text;
pub mod threads;
pub mod time;
#[cfg(feature = "cli")]
pub mod traffic;
pub mod watch;
#[cfg(feature = "cli")]
pub mod web;
