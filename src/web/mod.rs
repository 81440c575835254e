//! portscope's servers: over HTTP (axum on a small tokio runtime) the exporter's `/metrics`
//! and the `ui` dashboard; over standard input and output the MCP server of `portscope mcp`.
//! Servers here only move bytes: what they serve is collected by `commands` and formatted
//! by `render`, and every server is bounded (connections, idle time, one collection at a
//! time) so that a flood of requests cannot take the machine with it. The runtime and the
//! bounds are [`crate::server`]'s, shared with the traffic tools.

pub mod exporter;
pub mod mcp;
pub mod metrics_server;
pub mod ui;
