//! Golden tests of the follow verbs (see `golden/mod.rs`).

#[allow(unused_imports)]
use super::pin;
