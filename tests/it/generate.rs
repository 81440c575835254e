//! The documentation the binary generates from its own command line, checked by the programs
//! that read it: `man` renders every page, bash loads the completion script and completes
//! with it, and every command's `--help` ends with its examples.

use std::process::Command;

use crate::harness::{self, TempDir};

/// Every command path (`["who"]`, `["check", "listen"]`), from the top-level help and
/// `check`'s: what a user can type.
fn commands() -> Vec<Vec<String>> {
    let names = |help: &str| -> Vec<String> {
        help.lines()
            .skip_while(|l| !l.starts_with("Commands:"))
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .filter(|l| !l.starts_with("   "))
            .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
            .filter(|n| n != "help")
            .collect()
    };
    let top = harness::run(&["--help"]);
    assert_eq!(top.code, 0, "{}", top.stderr);
    let mut out = vec![];
    for name in names(&top.stdout) {
        if name == "check" {
            let check = harness::run(&["check", "--help"]);
            for plugin in names(&check.stdout) {
                out.push(vec!["check".to_owned(), plugin]);
            }
        }
        out.push(vec![name]);
    }
    out
}

#[test]
fn every_help_ends_with_examples_of_that_command() {
    let commands = commands();
    assert!(commands.len() >= 28, "{commands:?}");
    for path in commands {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let help = harness::run(&args);
        assert_eq!(help.code, 0, "{args:?}: {}", help.stderr);
        let (_, examples) = help
            .stdout
            .rsplit_once("Examples:\n")
            .unwrap_or_else(|| panic!("{args:?} --help has no Examples:\n{}", help.stdout));
        let lines: Vec<&str> = examples.lines().collect();
        let invocations: Vec<&&str> = lines
            .iter()
            .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
            .collect();
        assert!(
            (2..=4).contains(&invocations.len()),
            "{args:?}: {invocations:?}"
        );
        assert!(
            invocations.iter().all(|l| l.contains("portscope ")),
            "{args:?}: {invocations:?}"
        );
    }
}

#[test]
fn man_renders_every_page() {
    let test = "generate::man_renders_every_page";
    let Some(man) = harness::needs(test, "man", "man-db") else {
        return;
    };
    let dir = TempDir::new("man");
    let written = harness::run(&["man", "--dir", dir.arg()]);
    assert_eq!(written.code, 0, "{}", written.stderr);
    let files: Vec<&str> = written.stdout.lines().collect();
    assert_eq!(files.len(), commands().len() + 1, "{files:?}");
    for file in files {
        let out = Command::new(&man)
            .args(["-l", file])
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .expect("run man");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for section in ["NAME", "SYNOPSIS", "EXAMPLES", "SEE ALSO"] {
            assert!(text.contains(section), "{file} has no {section}:\n{text}");
        }
    }
    // The page on standard output, as `portscope man who | man -l -` reads it.
    let who = harness::run(&["man", "who"]);
    assert_eq!(who.code, 0);
    let out = harness::output_with_stdin(
        Command::new(&man)
            .args(["-l", "-"])
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100"),
        who.stdout.as_bytes(),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("portscope who 3000"), "{text}");
    assert!(text.contains("portscope-who"), "{text}");
}

#[test]
fn bash_completes_with_the_generated_script() {
    let test = "generate::bash_completes_with_the_generated_script";
    let Some(bash) = harness::needs(test, "bash", "bash") else {
        return;
    };
    let dir = TempDir::new("completions");
    let script = dir.join("portscope.bash");
    let out = harness::run(&["completions", "bash"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    std::fs::write(&script, &out.stdout).unwrap();
    // What bash offers after `portscope k<TAB>` and `portscope kill --d<TAB>`.
    let complete = |words: &str| {
        let shell = format!(
            "source {script:?} || exit 9\n\
             complete -p portscope >/dev/null || exit 8\n\
             COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))\n\
             COMP_LINE=\"{words}\"; COMP_POINT=${{#COMP_LINE}}\n\
             _portscope portscope \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
             echo \"${{COMPREPLY[*]}}\""
        );
        let out = Command::new(&bash).args(["-c", &shell]).output().unwrap();
        assert!(out.status.success(), "{words}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    assert_eq!(complete("portscope k"), "kill");
    assert_eq!(complete("portscope kill --d"), "--dry-run");
}

#[test]
fn other_shells_and_bad_names() {
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let out = harness::run(&["completions", shell]);
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        assert!(out.stdout.contains("portscope"), "{shell}");
    }
    let bad = harness::run(&["completions", "tcsh"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert_eq!(bad.stderr.lines().count(), 1, "{}", bad.stderr);
    assert!(bad.stderr.contains("tcsh"), "{}", bad.stderr);
    let nosuch = harness::run(&["man", "frob"]);
    assert_eq!(nosuch.code, 2, "{}", nosuch.stderr);
    assert!(
        nosuch.stderr.contains("\"frob\"") && nosuch.stderr.contains("who"),
        "{}",
        nosuch.stderr
    );
}
