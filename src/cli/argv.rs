//! The command line's words as people type them, read before clap parses them: which verbs
//! it names ([`verbs`]), so that a usage error can point at the right help and be told
//! where those verbs say (`check` answers as a plugin).

use std::ffi::OsString;

use clap::{Arg, Command, CommandFactory};

/// The verbs the command line names, outermost first: `["check", "connect"]` for
/// `portscope --json check connect db:22 -w 1`. The walk stops at the first word that is not
/// a verb of the one before, at any flag but the global ones (`--json`, `--color WHEN`), and
/// at `--`.
pub fn verbs(args: &[OsString]) -> Vec<String> {
    let cli = super::Cli::command();
    let globals: Vec<&Arg> = cli.get_arguments().collect();
    let mut names = Vec::new();
    let mut cmd: &Command = &cli;
    let mut from = 1;
    while let Some(at) = next_word(&globals, args, from) {
        let Some(sub) = args[at].to_str().and_then(|w| cmd.find_subcommand(w)) else {
            break;
        };
        names.push(sub.get_name().to_string());
        cmd = sub;
        from = at + 1;
    }
    names
}

/// Whether `--json` was asked for (before any `--`).
pub fn wants_json(args: &[OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--json")
}

/// The index of the first word at or after `from` that is neither a global flag nor its
/// value; `None` at the end, at `--`, at any other flag, or at a word that is not UTF-8.
fn next_word(globals: &[&Arg], args: &[OsString], mut from: usize) -> Option<usize> {
    while let Some(word) = args.get(from) {
        let word = word.to_str()?;
        if word == "--" {
            return None;
        }
        if !word.starts_with('-') || word == "-" {
            return Some(from);
        }
        from += if global_flag(globals, word)? { 2 } else { 1 };
    }
    None
}

/// For a global flag (`--json`, `--color`, `--color=never`), whether its value is the next
/// word; `None` for any other flag.
fn global_flag(globals: &[&Arg], word: &str) -> Option<bool> {
    if let Some(long) = word.strip_prefix("--") {
        let (name, inline) = match long.split_once('=') {
            Some((name, _)) => (name, true),
            None => (long, false),
        };
        let arg = globals.iter().find(|a| a.get_long() == Some(name))?;
        return Some(arg.get_action().takes_values() && !inline);
    }
    let mut chars = word.strip_prefix('-')?.chars();
    let short = chars.next()?;
    let arg = globals.iter().find(|a| a.get_short() == Some(short))?;
    let takes = arg.get_action().takes_values();
    match (takes, chars.as_str().is_empty()) {
        (true, attached) => Some(attached),
        (false, true) => Some(false),
        (false, false) => None, // a cluster of short flags: not worth guessing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<OsString> {
        std::iter::once("portscope")
            .chain(words.iter().copied())
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn verbs_are_walked_past_global_flags() {
        assert_eq!(
            verbs(&argv(&[
                "--json", "check", "--color", "never", "connect", "x:1"
            ])),
            ["check", "connect"]
        );
        assert_eq!(verbs(&argv(&["check", "--bogus"])), ["check"]);
        assert_eq!(verbs(&argv(&["check", "bogus"])), ["check"]);
        assert_eq!(verbs(&argv(&["ls", "--tpc"])), ["ls"]);
        assert!(verbs(&argv(&["kil", "3000"])).is_empty());
        assert!(verbs(&argv(&["--bogus", "check"])).is_empty());
    }

    #[test]
    fn json_is_seen_before_the_end_of_flags() {
        assert!(wants_json(&argv(&["check", "--bogus", "--json"])));
        assert!(!wants_json(&argv(&["run", "--", "tool", "--json"])));
        assert!(!wants_json(&argv(&["check", "--bogus"])));
    }
}
