//! The one integration-test binary: real sockets and processes, the built `portscope`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod audit;
mod bad_input;
mod bench;
mod check;
mod containers;
mod contrib;
mod docs;
mod doctor;
mod doctor_containers;
mod doctor_docker;
mod doctor_exchange;
mod doctor_firewall;
mod doctor_names;
mod doctor_netns;
mod doctor_sockets;
mod doctor_wider;
mod engines;
mod explain;
mod exporter;
mod file_bounds;
mod flag_checks;
mod forward;
mod generate;
mod golden;
mod habits;
mod harness;
mod history;
mod hostile;
mod kill;
mod kill_asking;
mod kill_containers;
mod kill_nat;
mod kill_respawn;
mod layers;
mod lifecycle;
mod ls;
mod names;
mod nat_published;
mod nss;
mod ownerless;
mod probe;
mod probe_confidence;
mod probe_services;
mod probe_udp;
mod progress;
mod project;
mod project_scale;
mod registry_edits;
mod reports;
mod run;
mod run_terminal;
mod serve;
mod servers;
mod skips;
mod slowloris;
mod stream;
mod supervisors;
mod tables;
mod tap;
mod ui;
mod ui_browser;
mod ui_browser_containers;
mod ui_browser_session;
mod ui_browser_util;
mod ui_token;
mod wait;
mod watch;
mod watch_tui;
mod who;

#[test]
fn cli_definition_is_consistent() {
    use clap::CommandFactory;
    portscope::cli::Cli::command().debug_assert();
}
