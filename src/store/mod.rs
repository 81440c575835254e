//! What portscope remembers between runs: the registry of reserved names and picks, and the
//! history of listeners. Every store is locked and written atomically, so a
//! crash at any instant leaves it readable and keeps what was committed.

#[cfg(feature = "history")]
pub mod history;
pub mod registry;
