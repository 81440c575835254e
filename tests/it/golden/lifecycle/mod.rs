//! Golden tests of the lifecycle verbs (see `golden/mod.rs`): `kill`, `pick`, `reserve`,
//! `release`, `run`, `check-config` and `env`, each from a report built here; this file holds
//! what the verb files share.

mod kill;
mod ports;
mod project;
mod run;

use std::net::{IpAddr, Ipv4Addr};

/// Where the registry of reservations lives in every fixture.
const REGISTRY: &str = "/home/dev/.local/state/portscope/registry.json";

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_string()).collect()
}
