//! `mcp`: portscope's verbs as tools of the Model Context Protocol, for coding agents, over
//! standard input and output. The server is [`crate::web::mcp`]; this holds what the verb is
//! asked and what it says when the client has gone (nothing on standard output, which
//! belonged to the protocol: the report is for the library and the tests).

use serde::Serialize;

/// What `mcp` is asked to do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Offer neither `kill` nor `reserve` and `release`: the tools that read, and `pick`
    /// (whose short lease takes nothing from anyone).
    pub read_only: bool,
}

/// What one session did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct McpReport {
    /// Tool calls answered (a result or a tool error).
    pub calls: u64,
    /// Calls the client cancelled.
    pub cancelled: u64,
    /// The client's name and version, as it gave them in `initialize`.
    pub client: Option<String>,
}
