//! Resolve the command line and the environment into one [`Config`], once, at start-up.

use std::io::IsTerminal;

use crate::cli::{Cli, ColorChoice};

/// Output settings every command and renderer share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Print JSON.
    pub json: bool,
    /// Use ANSI colour.
    pub color: bool,
    /// Indent JSON (on a terminal); compact when piped, where a program reads it.
    pub pretty: bool,
    /// Show progress bars on stderr (a terminal, and not JSON).
    pub progress: bool,
}

impl Config {
    /// Decide colour from `--color`, the terminal, `NO_COLOR` and `TERM=dumb`.
    pub fn resolve(cli: &Cli) -> Config {
        let env_allows = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::env::var("TERM").map_or(true, |t| t != "dumb");
        let color = !cli.json
            && match cli.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => env_allows && std::io::stdout().is_terminal(),
            };
        Config {
            json: cli.json,
            color,
            pretty: std::io::stdout().is_terminal(),
            progress: !cli.json && std::io::stderr().is_terminal(),
        }
    }
}
