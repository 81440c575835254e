//! Golden tests of the monitoring verbs (see `golden/mod.rs`).

#[allow(unused_imports)]
use super::pin;
