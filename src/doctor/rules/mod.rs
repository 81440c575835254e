//! The doctor's rules: each file one cause, each a pure function of the [`Context`].

mod bind_container;
mod bind_held;
mod bind_not_available;
mod bind_privileged;
mod bind_time_wait;
mod clients_differ;
mod closed_at_once;
mod container_loopback;
mod docker_proxy;
mod ephemeral;
mod facts;
mod fd_limit;
mod firewall;
mod firewall_policy;
mod from_container;
mod http_answer;
mod inherited;
mod leftover_proxy;
mod listens_elsewhere;
mod loopback_down;
mod not_accepting;
mod nothing_listens;
mod other_address;
mod other_netns;
#[cfg(feature = "probe")]
mod protocol_mismatch;
mod proxy;
mod published_elsewhere;
mod queue_full;
mod reuseport;
mod split_family;
mod stopped;
#[cfg(feature = "probe")]
mod tls_certificate;
pub mod unexplained;
mod unix_only;
mod v6only;

use super::Context;
use crate::model::Finding;

/// A rule: the findings it has about this context (usually none or one).
pub type Rule = fn(&Context) -> Vec<Finding>;

/// Rules for "why can't I connect?". Findings are sorted by severity later, ties kept in this
/// order: the forwarder's cause comes before the rest.
pub const CONNECT: &[Rule] = &[
    from_container::check,
    leftover_proxy::check,
    docker_proxy::check,
    container_loopback::check,
    published_elsewhere::check,
    firewall::check,
    firewall_policy::check,
    other_netns::check,
    unix_only::check,
    nothing_listens::check,
    listens_elsewhere::check,
    other_address::check,
    stopped::check,
    queue_full::check,
    fd_limit::check,
    #[cfg(feature = "probe")]
    protocol_mismatch::check,
    loopback_down::check,
    proxy::check,
    ephemeral::check,
    inherited::check,
    http_answer::check,
    closed_at_once::check,
    not_accepting::check,
    #[cfg(feature = "probe")]
    tls_certificate::check,
    reuseport::check,
    split_family::check,
    v6only::check,
    clients_differ::check,
];

/// Rules for "why can't my program listen?" (`doctor --bind`).
pub const BIND: &[Rule] = &[
    bind_held::check,
    leftover_proxy::check,
    bind_container::check,
    bind_time_wait::check,
    bind_privileged::check,
    bind_not_available::check,
    inherited::check,
    split_family::check,
];
