//! Probes for the tls family (being written).

use super::Probe;

/// This family's probes.
pub const PROBES: &[Probe] = &[];
