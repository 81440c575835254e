//! General knowledge about ports and addresses: the IANA registry, the port ranges, special
//! address blocks, what developers commonly run on a port and where random ports come from.
//!
//! Nothing here reads this machine: no files, no sysctls, no sockets (that is `sys`'s job).
//! Every fact is a constant with a source (`IANA_SOURCE`, an RFC, `DEV_PORTS_SOURCE`…), and
//! output must label it as general knowledge so it is never mistaken for something observed
//! here. Where a default and the live value can differ (the ephemeral range, the unprivileged
//! port threshold), this module holds only the default; `explain` compares it with what `sys`
//! read.

pub mod addr_class;
pub mod clients;
pub mod containers;
pub mod dev_ports;
pub mod dev_servers;
pub mod iana;
pub mod proxy;
pub mod ranges;
pub mod supervisors;

pub use addr_class::{AddrClass, AddrInfo, Exposure, classify, exposure};
pub use dev_ports::{DevPort, Source, dev_ports, random_port_sources};
pub use iana::{ServiceName, iana_entry, iana_service};
pub use ranges::{IANA_DYNAMIC, IanaRange, LINUX_DEFAULT_EPHEMERAL, iana_range};

/// The label output puts next to every fact from this module.
pub const LABEL: &str = "general knowledge";
