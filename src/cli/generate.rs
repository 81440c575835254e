//! Man pages and shell completions, generated from the one clap definition (`Cli`), so they
//! cannot drift from `--help`. One page for `portscope` and one per subcommand, named as git
//! and cargo name theirs (`portscope-who(1)`, `portscope-check-listen(1)`); each ends with the
//! command's EXAMPLES, read back from the same `after_help` text `--help` shows.
//!
//! This is the part of the command line that renders the command line itself, so it lives
//! beside the clap definition (only `cli/` knows clap), and so do the two verbs: [`run_man`]
//! (with `--dir`, every page written through a temporary file renamed into place, so a reader
//! never sees half a page) and [`run_completions`]. Their report is
//! `commands::generate::GeneratedReport`, which `render` prints.

use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory, ValueEnum};
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};

use super::Cli;
use super::examples::{self, help};
use crate::commands::Report;
use crate::commands::generate::GeneratedReport;
use crate::error::{Error, Result};
use crate::exit::Exit;

/// Arguments of `man`.
#[derive(Debug, Clone, Default, Args)]
#[command(after_help = help("", &[
    ("portscope man | man -l -", "Read portscope(1), the overview, in man."),
    ("portscope man who | man -l -", "Read portscope-who(1); `check listen` for portscope-check-listen(1)."),
    ("portscope man --dir ~/.local/share/man/man1", "Write every page there, for `man portscope-kill`."),
]))]
pub struct ManArgs {
    /// The command whose page to print (`who`, `check listen`); none = portscope(1).
    #[arg(value_name = "COMMAND", conflicts_with = "dir")]
    pub command: Vec<String>,
    /// Write every page (portscope.1, portscope-who.1, …) into this directory instead, and
    /// list them.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Arguments of `completions`.
#[derive(Debug, Clone, Args)]
#[command(after_help = help("", &[
    ("portscope completions bash > ~/.local/share/bash-completion/completions/portscope", "Tab completion in bash, for your user."),
    ("portscope completions zsh > \"${fpath[1]}/_portscope\"", "For zsh (any directory on $fpath)."),
    ("portscope completions fish > ~/.config/fish/completions/portscope.fish", "For fish."),
]))]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

/// The shells completions are made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// GNU bash (bash-completion).
    Bash,
    /// Z shell.
    Zsh,
    /// fish.
    Fish,
    /// Elvish.
    Elvish,
    /// PowerShell.
    Powershell,
}

/// Run `portscope man [COMMAND…] [--dir DIR]`.
pub fn run_man(args: &ManArgs) -> Result<(Report, Exit)> {
    let report = match &args.dir {
        None => GeneratedReport {
            command: "man",
            text: man_page(&args.command)?.roff,
            files: vec![],
        },
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("create {}", dir.display()), e))?;
            let mut files = vec![];
            for page in man_pages() {
                files.push(write_page(dir, &page)?);
            }
            GeneratedReport {
                command: "man",
                text: String::new(),
                files,
            }
        }
    };
    Ok((Report::Generated(Box::new(report)), Exit::Success))
}

/// Write one page as `dir/FILE`, atomically; the path written.
fn write_page(dir: &Path, page: &Page) -> Result<String> {
    let path = dir.join(&page.file);
    let tmp = dir.join(format!(".{}.tmp", page.file));
    std::fs::write(&tmp, &page.roff)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::io(format!("write {}", path.display()), e)
        })?;
    Ok(path.display().to_string())
}

/// Run `portscope completions SHELL`.
pub fn run_completions(args: &CompletionsArgs) -> Result<(Report, Exit)> {
    let report = GeneratedReport {
        command: "completions",
        text: completions(args.shell),
        files: vec![],
    };
    Ok((Report::Generated(Box::new(report)), Exit::Success))
}

/// One man page: its file name (`portscope-who.1`) and its roff text.
#[derive(Debug, Clone)]
pub struct Page {
    /// The file name, section included.
    pub file: String,
    /// The page in roff, for `man -l`.
    pub roff: String,
}

/// The whole command tree, built (so subcommands carry their `portscope-who` names).
fn tree() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// The page for `path` (empty: portscope itself; `["check", "listen"]`).
pub fn man_page(path: &[String]) -> Result<Page> {
    let root = tree();
    let mut cmd = &root;
    for word in path {
        cmd = cmd.find_subcommand(word).ok_or_else(|| {
            let names: Vec<&str> = cmd.get_subcommands().map(clap::Command::get_name).collect();
            Error::bad_input(
                format!(
                    "portscope has no command \"{}\"",
                    crate::text::echo(&path.join(" "))
                ),
                format!("expected one of: {}", names.join(", ")),
            )
        })?;
    }
    Ok(page(cmd))
}

/// Every page: portscope's, then each command's (and each `check` plugin's), depth first.
pub fn man_pages() -> Vec<Page> {
    fn walk(cmd: &clap::Command, out: &mut Vec<Page>) {
        out.push(page(cmd));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, out);
        }
    }
    let mut out = vec![];
    walk(&tree(), &mut out);
    out
}

/// clap_mangen's sections, with the examples and the notes in sections of their own and a
/// SEE ALSO that ties the pages together.
fn page(cmd: &clap::Command) -> Page {
    let man = Man::new(cmd.clone())
        .source(format!("portscope {}", env!("CARGO_PKG_VERSION")))
        .manual("portscope manual");
    let file = man.get_filename();
    let mut out: Vec<u8> = vec![];
    let notes = cmd
        .get_after_long_help()
        .or(cmd.get_after_help())
        .map(|h| examples::parse(&h.to_string()))
        .unwrap_or_default();
    type Section = fn(&Man, &mut dyn std::io::Write) -> std::io::Result<()>;
    let sections: [Section; 4] = [
        Man::render_title,
        Man::render_name_section,
        Man::render_synopsis_section,
        Man::render_description_section,
    ];
    // Writing into a Vec cannot fail.
    for section in sections {
        let _ = section(&man, &mut out);
    }
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        let _ = man.render_options_section(&mut out);
    }
    if cmd.has_subcommands() {
        let _ = man.render_subcommands_section(&mut out);
    }
    let mut roff = Roff::new();
    if !notes.notes.is_empty() {
        roff.control("SH", ["NOTES"]);
        for (i, paragraph) in notes.notes.lines().enumerate() {
            if i > 0 {
                roff.control("PP", [] as [&str; 0]);
            }
            roff.text([roman(paragraph)]);
        }
    }
    if !notes.examples.is_empty() {
        roff.control("SH", ["EXAMPLES"]);
        for (command, what) in &notes.examples {
            roff.control("TP", [] as [&str; 0]);
            roff.text([bold(command.as_str())]);
            roff.text([roman(what.as_str())]);
        }
    }
    roff.control("SH", ["SEE ALSO"]);
    roff.text([roman(see_also(cmd))]);
    roff.control("SH", ["VERSION"]);
    roff.text([roman(format!("v{}", env!("CARGO_PKG_VERSION")))]);
    let _ = roff.to_writer(&mut out);
    Page {
        file,
        roff: String::from_utf8_lossy(&out).into_owned(),
    }
}

/// The related pages: portscope(1) from a command's page, every command's from portscope(1).
fn see_also(cmd: &clap::Command) -> String {
    let name = |c: &clap::Command| c.get_display_name().unwrap_or(c.get_name()).to_owned();
    let mut pages: Vec<String> = vec![];
    if cmd.get_name() != "portscope" {
        pages.push("portscope(1)".into());
    }
    pages.extend(
        cmd.get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| format!("{}(1)", name(s))),
    );
    if pages.is_empty() {
        pages.push("portscope(1)".into());
    }
    pages.join(", ")
}

/// The completion script for `shell`.
pub fn completions(shell: Shell) -> String {
    use clap_complete::Shell as S;
    let target = match shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Elvish => S::Elvish,
        Shell::Powershell => S::PowerShell,
    };
    let mut cmd = Cli::command();
    let mut out: Vec<u8> = vec![];
    clap_complete::generate(target, &mut cmd, "portscope", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    /// Every command and every `check` plugin, as the words that name it.
    fn every_path() -> Vec<Vec<String>> {
        fn walk(cmd: &clap::Command, path: Vec<String>, out: &mut Vec<Vec<String>>) {
            for sub in cmd.get_subcommands() {
                let mut p = path.clone();
                p.push(sub.get_name().to_owned());
                out.push(p.clone());
                walk(sub, p, out);
            }
        }
        let mut out = vec![];
        walk(&tree(), vec![], &mut out);
        out
    }

    #[test]
    fn every_command_has_two_to_four_examples_of_itself() {
        let root = tree();
        let paths = every_path();
        assert!(paths.len() > 25, "{paths:?}");
        for path in paths {
            let mut cmd = &root;
            for w in &path {
                cmd = cmd.find_subcommand(w).expect("listed");
            }
            let text = cmd.get_after_help().map(ToString::to_string);
            let parsed = examples::parse(text.as_deref().unwrap_or(""));
            let n = parsed.examples.len();
            assert!((2..=4).contains(&n), "{path:?} has {n} examples");
            // `check` lists its plugins' examples; the rest show their own command.
            let own = format!("portscope {}", path.join(" "));
            for (command, what) in &parsed.examples {
                assert!(!what.is_empty(), "{path:?}: {command} says nothing");
                if path != ["check"] {
                    assert!(command.contains(&own), "{path:?}: {command}");
                }
            }
        }
    }

    #[test]
    fn a_page_per_command_with_its_examples() {
        let pages = man_pages();
        assert_eq!(pages.len(), every_path().len() + 1);
        let who = pages
            .iter()
            .find(|p| p.file == "portscope-who.1")
            .expect("portscope-who.1");
        assert!(who.roff.contains(".SH EXAMPLES"), "{}", who.roff);
        assert!(who.roff.contains("portscope who 3000"));
        assert!(who.roff.contains("portscope(1)"));
        let listen = man_page(&["check".into(), "listen".into()]).expect("check listen");
        assert_eq!(listen.file, "portscope-check-listen.1");
        let top = man_page(&[]).expect("portscope");
        assert!(top.roff.contains("portscope\\-who(1)"), "{}", top.roff);
    }

    #[test]
    fn an_unknown_command_names_the_known_ones() {
        let e = man_page(&["frob".into()]).expect_err("no frob");
        assert!(e.to_string().contains("who"), "{e}");
    }

    #[test]
    fn completions_name_every_command() {
        let bash = completions(Shell::Bash);
        assert!(bash.contains("kill"), "bash completion lacks kill");
        assert!(completions(Shell::Fish).contains("portscope"));
    }
}
