//! Linux implementation of the OS boundary: netlink sock_diag for sockets, `/proc` for processes.

pub mod sock_diag;
