//! Clap's usage errors as portscope tells them: one line naming the problem and, when clap
//! found one, the verb, flag or value the user probably meant (`did you mean 'kill'?`),
//! else where to read what is accepted. Under `check` the line is the plugin's own UNKNOWN
//! status on standard output with exit 3, because a monitoring system reads exit 2 as
//! CRITICAL.

use std::ffi::OsString;

use clap::CommandFactory;
use clap::error::{ContextKind, ContextValue, ErrorKind};

use super::argv;
use crate::commands::check::{self, Plugin};
use crate::exit::Exit;

/// A usage error, ready to be written: its text, where it goes, and the exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError {
    /// The text, ending in a newline.
    pub text: String,
    /// Standard output (a plugin's status line) rather than standard error.
    pub stdout: bool,
    /// 2 (bad input), or 3 (UNKNOWN) under `check`.
    pub exit: Exit,
}

/// What to say about clap's error `e` for the command line `args` (as it was parsed).
pub fn usage_error(args: &[OsString], e: &clap::Error) -> UsageError {
    let verbs = argv::verbs(args);
    let problem = problem(e, &verbs);
    let help = format!(
        "see 'portscope {}--help' for what is accepted",
        verbs.iter().map(|v| format!("{v} ")).collect::<String>()
    );
    let mut next = vec![similar(e, &verbs).unwrap_or(help)];
    next.extend(tips(e));
    let next = next.join("; ");
    let line = cut_input(&format!("{problem}; {next}"), args);
    let line = crate::text::terminal(&line).into_owned();
    if verbs.first().is_some_and(|v| v == "check") {
        let plugin = verbs.get(1).and_then(|p| Plugin::from_name(p));
        let (report, exit) = check::usage_error(plugin, &line);
        let cfg = crate::config::Config {
            json: argv::wants_json(args),
            color: false,
            pretty: std::io::IsTerminal::is_terminal(&std::io::stdout()),
            progress: false,
            width: None,
        };
        return UsageError {
            text: crate::render::report(&report, &cfg),
            stdout: true,
            exit,
        };
    }
    UsageError {
        text: format!("portscope: error: {line}\n"),
        stdout: false,
        exit: Exit::BadInput,
    }
}

/// The problem, on one line: the first paragraph of clap's message (it may continue on
/// indented lines), or for a verb that needs a sub-verb (`check`), which ones there are.
fn problem(e: &clap::Error, verbs: &[String]) -> String {
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        && let Some(text) = missing_subcommand(verbs)
    {
        return text;
    }
    let rendered = e.render().to_string();
    let first: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .collect();
    let text = first.join(" ");
    match text.trim_start_matches("error: ") {
        "" => "invalid arguments".to_string(),
        text => text.to_string(),
    }
}

/// The line with each long word of the user's input cut short, as bad-input errors show
/// input ([`crate::text::echo`]): clap repeats an unknown argument or a bad value whole, and
/// a 100 KB argument must not become a 100 KB error. An argument's value after `=` counts
/// as a word; whatever else is left long is cut at [`MAX_PROBLEM`] characters.
fn cut_input(line: &str, args: &[OsString]) -> String {
    let mut long: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .flat_map(|a| {
            let value = a.split_once('=').map(|(_, v)| v.to_string());
            std::iter::once(a).chain(value)
        })
        .filter(|a| a.chars().count() > crate::text::ECHOED)
        .collect();
    long.sort_by_key(|a| std::cmp::Reverse(a.len()));
    let mut out = line.to_string();
    for word in long {
        if out.contains(&word) {
            out = out.replace(&word, &crate::text::echo(&word));
        }
    }
    match out.char_indices().nth(MAX_PROBLEM) {
        Some((cut, _)) => format!("{}…", out.get(..cut).unwrap_or_default()),
        None => out,
    }
}

/// The most characters a usage error's line may have once the user's words are cut.
const MAX_PROBLEM: usize = 400;

/// `'portscope check' needs one of: listen, connect, audit`, for the innermost verb named.
fn missing_subcommand(verbs: &[String]) -> Option<String> {
    let cli = super::Cli::command();
    let mut cmd = &cli;
    for verb in verbs {
        cmd = cmd.find_subcommand(verb)?;
    }
    let subs: Vec<&str> = cmd.get_subcommands().map(clap::Command::get_name).collect();
    (!subs.is_empty()).then(|| {
        format!(
            "'portscope {}' needs one of: {}",
            verbs.join(" "),
            subs.join(", ")
        )
    })
}

/// `did you mean 'kill'?` (`'a' or 'b'` when there are two): the verb, flag or value clap
/// found similar, else one a typo away (`--tpc` for `--tcp`: clap's similarity misses a swap
/// of two letters in a short word).
fn similar(e: &clap::Error, verbs: &[String]) -> Option<String> {
    let names = [
        ContextKind::SuggestedSubcommand,
        ContextKind::SuggestedArg,
        ContextKind::SuggestedValue,
    ]
    .into_iter()
    .find_map(|kind| match e.get(kind)? {
        ContextValue::String(name) => Some(vec![name.clone()]),
        ContextValue::Strings(names) if !names.is_empty() => Some(names.clone()),
        _ => None,
    })
    .or_else(|| one_typo_away(e, verbs))?;
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    Some(format!("did you mean {}?", quoted.join(" or ")))
}

/// Clap's other tips (`'ls --tcp' exists`, `to pass '--x' as a value, use '-- --x'`).
fn tips(e: &clap::Error) -> Vec<String> {
    match e.get(ContextKind::Suggested) {
        Some(ContextValue::StyledStrs(tips)) => tips.iter().map(|t| format!("tip: {t}")).collect(),
        _ => Vec::new(),
    }
}

/// The verbs or long flags of the innermost verb named that are one edit (a letter added,
/// dropped, changed, or two neighbours swapped) from the unknown word, when clap found none.
fn one_typo_away(e: &clap::Error, verbs: &[String]) -> Option<Vec<String>> {
    let cli = super::Cli::command();
    let mut cmd = &cli;
    for verb in verbs {
        cmd = cmd.find_subcommand(verb)?;
    }
    let (word, candidates): (&str, Vec<String>) = match (e.kind(), e.get(ContextKind::InvalidArg)) {
        (ErrorKind::UnknownArgument, Some(ContextValue::String(arg))) => {
            let flag = arg.strip_prefix("--")?;
            let flag = flag.split_once('=').map_or(flag, |(name, _)| name);
            let longs = cmd.get_arguments().chain(cli.get_arguments());
            let longs = longs.filter_map(|a| a.get_long().map(|l| format!("--{l}")));
            (flag, longs.collect())
        }
        _ => match e.get(ContextKind::InvalidSubcommand) {
            Some(ContextValue::String(sub)) => {
                let names = cmd.get_subcommands().map(|c| c.get_name().to_string());
                (sub.as_str(), names.collect())
            }
            _ => return None,
        },
    };
    let near: Vec<String> = candidates
        .into_iter()
        .filter(|c| word.chars().count() >= 3 && one_edit(word, c.trim_start_matches("--")))
        .collect();
    (!near.is_empty()).then_some(near)
}

/// Whether `a` becomes `b` by one insertion, deletion, substitution or swap of neighbours.
fn one_edit(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a == b || a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[head..], &b[head..]);
    match a.len().cmp(&b.len()) {
        std::cmp::Ordering::Less => a == &b[1..],
        std::cmp::Ordering::Greater => &a[1..] == b,
        std::cmp::Ordering::Equal => {
            a[1..] == b[1..] || (a.len() >= 2 && a[0] == b[1] && a[1] == b[0] && a[2..] == b[2..])
        }
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use clap::Parser as _;

    use super::*;

    fn told(words: &[&str]) -> UsageError {
        let args: Vec<OsString> = std::iter::once("portscope")
            .chain(words.iter().copied())
            .map(OsString::from)
            .collect();
        let args = argv::with_lone_target(args);
        let e = super::super::Cli::try_parse_from(&args).expect_err("a usage error");
        usage_error(&args, &e)
    }

    #[test]
    fn clap_suggestions_are_kept_on_the_line() {
        let u = told(&["kil", "3000"]);
        assert_eq!(
            u.text,
            "portscope: error: unrecognized subcommand 'kil'; did you mean 'kill'?\n"
        );
        assert_eq!((u.stdout, u.exit), (false, Exit::BadInput));
        let u = told(&["ls", "--tpc"]);
        assert_eq!(
            u.text,
            "portscope: error: unexpected argument '--tpc' found; did you mean '--tcp'?\n"
        );
        let u = told(&["--color", "nevr"]);
        assert!(u.text.ends_with("; did you mean 'never'?\n"), "{}", u.text);
    }

    #[test]
    fn long_input_is_cut() {
        let long = "x".repeat(100_000);
        for words in [
            vec![format!("--{long}")],
            vec!["who".into(), "1".into(), long.clone()],
            vec![format!("--color={long}")],
            vec![long.clone()],
        ] {
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            let u = told(&words);
            assert!(u.text.len() < 300, "{}", &u.text[..300]);
            assert!(u.text.contains("xxx…"), "{}", u.text);
        }
    }

    #[test]
    fn one_edit_is_a_swap_an_insertion_a_deletion_or_a_change() {
        for (a, b) in [
            ("tpc", "tcp"),
            ("kil", "kill"),
            ("killl", "kill"),
            ("wha", "who"),
        ] {
            assert!(one_edit(a, b), "{a} {b}");
        }
        for (a, b) in [
            ("tcp", "tcp"),
            ("pct", "tcp"),
            ("ki", "kill"),
            ("abc", "xyz"),
        ] {
            assert!(!one_edit(a, b), "{a} {b}");
        }
    }

    #[test]
    fn without_a_suggestion_it_points_at_the_verbs_help() {
        let u = told(&["frobnicate"]);
        assert_eq!(
            u.text,
            "portscope: error: unrecognized subcommand 'frobnicate'; \
             see 'portscope --help' for what is accepted\n"
        );
        let u = told(&["who"]);
        assert!(
            u.text
                .ends_with("; see 'portscope who --help' for what is accepted\n"),
            "{}",
            u.text
        );
    }

    #[test]
    fn check_usage_errors_are_the_plugins_unknown_line() {
        let u = told(&["check", "--bogus"]);
        assert_eq!(
            u.text,
            "PORTSCOPE UNKNOWN - unexpected argument '--bogus' found; \
             see 'portscope check --help' for what is accepted\n"
        );
        assert_eq!((u.stdout, u.exit.code()), (true, 3));
        let u = told(&["check"]);
        assert_eq!(
            u.text,
            "PORTSCOPE UNKNOWN - 'portscope check' needs one of: listen, connect, audit; \
             see 'portscope check --help' for what is accepted\n"
        );
        let u = told(&["check", "connect"]);
        assert!(
            u.text
                .starts_with("PORTSCOPE UNKNOWN - the following required arguments")
                && u.text.contains("'portscope check connect --help'"),
            "{}",
            u.text
        );
    }
}
