//! The doctor's rules: each file one cause, each a pure function of the [`Context`].

mod nothing_listens;
mod other_address;
mod queue_full;
mod stopped;

use super::Context;
use crate::model::Finding;

/// A rule: the findings it has about this context (usually none or one).
pub type Rule = fn(&Context) -> Vec<Finding>;

/// Rules for "why can't I connect?", in no particular order (findings are sorted later).
pub const CONNECT: &[Rule] = &[
    nothing_listens::check,
    other_address::check,
    stopped::check,
    queue_full::check,
];
