//! The command line's words as people type them, read before clap parses them.
//!
//! People who know kill-port, fuser or lsof type `portscope 3000`: a lone port, address, URL
//! or port range where the verb goes is read as `portscope who 3000` ([`with_lone_target`]).
//! Only text that names a port counts: a process name (`portscope node`) or `pid:N` could as
//! well be a mistyped verb, so it stays a usage error with clap's suggestion. And a usage
//! error is told where the verbs it names say ([`verbs`]): `check` answers as a plugin.

use std::ffi::OsString;

use clap::{Arg, Command, CommandFactory};

use crate::target::Target;

/// The command line with `who` inserted before a lone target that stands where a verb goes:
/// `portscope --json 3000` is parsed as `portscope --json who 3000`. Anything else is
/// returned as it was.
pub fn with_lone_target(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    let cli = super::Cli::command();
    let globals: Vec<&Arg> = cli.get_arguments().collect();
    let Some(at) = next_word(&globals, &args, 1) else {
        return args;
    };
    let lone = args[at]
        .to_str()
        .is_some_and(|w| cli.find_subcommand(w).is_none() && names_a_port(w));
    if lone {
        args.insert(at, OsString::from("who"));
    }
    args
}

/// Whether a word in the verb's place means a port: a port, address, URL or port range
/// (`3000`, `:3000`, `localhost:3000`, `http://localhost:3000/`, `3000-3010`), or text
/// written as one but wrong (`65536`, `127.0.0.1`, `http://x:0/`), which `who` rejects with
/// its own one-line reason. Process names and `pid:N` do not count.
fn names_a_port(word: &str) -> bool {
    match crate::target::parse(word) {
        Ok(Target::Port { .. } | Target::Addr { .. } | Target::Range { .. }) => true,
        Ok(_) => false,
        Err(_) => {
            word.starts_with(|c: char| c.is_ascii_digit() || c == ':' || c == '[')
                || word.contains("://")
        }
    }
}

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

    fn rewritten(words: &[&str]) -> Vec<OsString> {
        with_lone_target(argv(words))
    }

    #[test]
    fn a_lone_port_address_or_url_is_asked_of_who() {
        for target in [
            "3000",
            ":3000",
            "*:3000",
            "localhost:3000",
            "127.0.0.1:3000",
            "[::1]:3000",
            "http://localhost:3000/",
            "udp/53",
            "3000-3010",
            "65536",
            "127.0.0.1",
        ] {
            assert_eq!(rewritten(&[target]), argv(&["who", target]), "{target}");
        }
        assert_eq!(
            rewritten(&["--json", "3000"]),
            argv(&["--json", "who", "3000"])
        );
        assert_eq!(
            rewritten(&["--color", "never", "3000", "--json"]),
            argv(&["--color", "never", "who", "3000", "--json"])
        );
        assert_eq!(
            rewritten(&["--color=never", ":3000"]),
            argv(&["--color=never", "who", ":3000"])
        );
    }

    #[test]
    fn verbs_names_and_flags_are_left_alone() {
        for words in [
            &[][..],
            &["who", "3000"],
            &["kill", "3000"],
            &["kil", "3000"],
            &["node"],
            &["pid:1"],
            &["help"],
            &["help", "who"],
            &["--help"],
            &["-V"],
            &["--version"],
            &["--bogus", "3000"],
            &["--", "3000"],
            &["--color", "3000"],
            &["completions", "bash"],
            &["man"],
        ] {
            assert_eq!(rewritten(words), argv(words), "{words:?}");
        }
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
