//! From the command line's text to each verb's typed `Options`, once: every `XArgs::options()`
//! parses its flags with the one grammar for each kind of value (`crate::input`,
//! `crate::target`) and returns a bad-input error naming the flag. Nothing below `cli/` ever
//! sees a clap struct or parses a flag again.

mod follow;
mod inspect;
mod lifecycle;
mod monitoring;

/// The command `portscope ARGS…` parses to (unit tests of the conversions).
#[cfg(test)]
#[allow(clippy::expect_used)]
fn parsed(args: &[&str]) -> super::Command {
    use clap::Parser;
    let argv = std::iter::once("portscope").chain(args.iter().copied());
    super::Cli::try_parse_from(argv)
        .expect("parses")
        .command
        .expect("a command")
}
