//! From the command line's text to each verb's typed `Options`, once: every `XArgs::options()`
//! parses its flags with the one grammar for each kind of value (`crate::input`,
//! `crate::target`) and returns a bad-input error naming the flag. Nothing below `cli/` ever
//! sees a clap struct or parses a flag again.

mod follow;
mod inspect;
mod lifecycle;
mod monitoring;
