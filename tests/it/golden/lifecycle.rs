//! Golden tests of the lifecycle verbs (see `golden/mod.rs`).

#[allow(unused_imports)]
use super::pin;
