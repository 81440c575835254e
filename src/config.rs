//! The output settings every renderer shares: JSON or text, colour, indentation, progress,
//! the terminal's width.
//! The command line resolves them once, at start-up (`Cli::config`).

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
    /// Fit tables and notes into this many display columns: the width of the terminal
    /// standard output goes to (`COLUMNS` overrides it there). `None` when piped, so what a
    /// program reads never changes with the window.
    pub width: Option<usize>,
}
