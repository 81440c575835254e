//! Golden tests of the inspect verbs (see `golden/mod.rs`).

#[allow(unused_imports)]
use super::pin;
