//! Socket dump via NETLINK_SOCK_DIAG (stub, being written).
