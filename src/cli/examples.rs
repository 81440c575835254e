//! The EXAMPLES block every subcommand's help ends with. Each command declares its examples
//! once, in its clap attributes (`after_help = help(NOTES, &[(COMMAND, WHAT IT DOES), …])`);
//! `--help` shows them and `generate` reads the same text back for the man pages, so the two
//! cannot drift apart.

use std::fmt::Write as _;

/// The heading that starts the block, styled like clap's own headings.
pub(crate) const HEADING: &str = "Examples:";

/// How far an example's command is indented.
const COMMAND_INDENT: &str = "  ";
/// How far the line saying what it does is indented.
const WHAT_INDENT: &str = "      ";

/// The `after_help` text: `notes` (may be empty), then the examples block.
pub(crate) fn help(notes: &str, examples: &[(&str, &str)]) -> String {
    let heading = anstyle::Style::new().bold().underline();
    let mut out = String::new();
    if !notes.is_empty() {
        out.push_str(notes);
        out.push_str("\n\n");
    }
    let _ = write!(out, "{heading}{HEADING}{heading:#}");
    for (command, what) in examples {
        let _ = write!(out, "\n{COMMAND_INDENT}{command}\n{WHAT_INDENT}{what}");
    }
    out
}

/// An `after_help` text split back into its notes and its examples (command, what it does).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Parsed {
    /// What stands before the examples (empty when nothing does).
    pub notes: String,
    /// The examples, in order.
    pub examples: Vec<(String, String)>,
}

/// Read back what `help` wrote (from clap's plain rendering, styles stripped). Text that
/// has no examples block is all notes.
pub(crate) fn parse(after_help: &str) -> Parsed {
    let Some((notes, block)) = after_help.split_once(HEADING) else {
        return Parsed {
            notes: after_help.trim().to_owned(),
            examples: vec![],
        };
    };
    let mut examples: Vec<(String, String)> = vec![];
    for line in block.lines() {
        if let Some(what) = line.strip_prefix(WHAT_INDENT) {
            if let Some((_, description)) = examples.last_mut() {
                if !description.is_empty() {
                    description.push(' ');
                }
                description.push_str(what.trim());
            }
        } else if let Some(command) = line.strip_prefix(COMMAND_INDENT) {
            examples.push((command.trim().to_owned(), String::new()));
        }
    }
    Parsed {
        notes: notes.trim().to_owned(),
        examples,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(styled: &str) -> String {
        clap::builder::StyledStr::from(styled.to_owned()).to_string()
    }

    #[test]
    fn help_round_trips_through_parse() {
        let text = help(
            "Exit status: 0 held, 1 free.",
            &[
                ("portscope who 3000", "Who holds port 3000."),
                (
                    "portscope who pid:42 --json",
                    "Process 42's sockets as JSON.",
                ),
            ],
        );
        let parsed = parse(&plain(&text));
        assert_eq!(parsed.notes, "Exit status: 0 held, 1 free.");
        assert_eq!(
            parsed.examples,
            vec![
                ("portscope who 3000".into(), "Who holds port 3000.".into()),
                (
                    "portscope who pid:42 --json".into(),
                    "Process 42's sockets as JSON.".into()
                ),
            ]
        );
    }

    #[test]
    fn no_notes_and_no_examples() {
        let parsed = parse(&plain(&help("", &[("portscope ls", "Listeners.")])));
        assert_eq!(parsed.notes, "");
        assert_eq!(parsed.examples.len(), 1);
        let none = parse("Only a note.");
        assert_eq!(none.notes, "Only a note.");
        assert!(none.examples.is_empty());
    }
}
