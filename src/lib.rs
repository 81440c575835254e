//! portscope tells the truth about local ports: which sockets exist, which processes hold
//! them, who started those processes, and what an address like `127.0.0.1:62893` means.
//!
//! The binary is a thin shell over this library. The flow is one way:
//! [`target`] parses what a user typed, [`sys`] (the only module that touches the OS) reads
//! sockets and processes, [`snapshot`] joins them, [`commands`] turn a snapshot into report
//! values, and [`render`] (the only module that prints) turns reports into text or JSON.
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

pub mod app;
pub mod audit;
pub mod cli;
pub mod commands;
pub mod config;
pub mod doctor;
pub mod error;
pub mod exit;
pub mod input;
pub mod knowledge;
pub mod model;
pub mod probe;
pub mod project;
pub mod render;
pub mod server;
pub mod snapshot;
pub mod store;
pub mod sys;
pub mod target;
pub mod text;
pub mod time;
pub mod traffic;
pub mod watch;
pub mod web;
