//! Linux implementation of the OS boundary: netlink sock_diag for sockets, `/proc` for
//! processes, `/proc/sys` for the sysctls that decide what a port means, and the container
//! engines' unix sockets for what they publish.

pub mod attempt;
pub mod bounded;
pub mod browser;
pub mod cgroup;
pub mod creds;
pub mod engine;
pub mod environ;
pub mod firewall;
pub mod fsmeta;
pub mod local;
pub mod netns;
pub mod output;
pub mod packet;
pub mod proc_net;
pub mod procfs;
pub mod random;
pub mod rlimit;
pub mod sched;
pub mod services;
pub mod signal;
pub mod sock_diag;
#[cfg(feature = "web")]
pub mod splice;
pub mod stop;
pub mod supervise;
pub mod sysctl;
pub mod systemd;
pub mod terminal;
pub mod users;
