//! The `serve` engine.

use serde::Serialize;

/// A line `serve` prints while it runs.
#[derive(Debug, Clone, Serialize)]
pub struct ServeLine {
    /// What happened.
    pub event: String,
}

use std::net::SocketAddr;

use crate::cli::ServeKind;
use crate::error::{Error, Result};

/// A test server running on its own thread until dropped: what `bench` starts when it is
/// given no target (`serve echo` on a free loopback port).
#[derive(Debug)]
pub struct Background {
    /// The address it listens on (the kernel's choice when port 0 was asked for).
    pub addr: SocketAddr,
}

/// Start `kind` on `addr` (port 0: any free port) on a thread of its own; it stops when the
/// returned value is dropped.
pub fn background(kind: ServeKind, addr: SocketAddr) -> Result<Background> {
    let _ = kind;
    Err(Error::bad_input(
        format!("serving on {addr} is not built yet"),
        "a target",
    ))
}
