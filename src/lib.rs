//! portscope tells the truth about local ports: which sockets exist, which processes hold
//! them, who started those processes, and what an address like `127.0.0.1:62893` means.
//!
//! (crate docs are completed with the library API section below.)

pub mod error;
pub mod exit;
pub mod knowledge;
pub mod model;
pub mod sys;
pub mod target;
