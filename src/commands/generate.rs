//! What `man` and `completions` produce. Both render the command line's own definition, so
//! they run beside it (`cli::generate`); only their report, which `render` prints, lives
//! here.

use serde::Serialize;

/// What `man` or `completions` produced.
#[derive(Debug, Serialize)]
pub struct GeneratedReport {
    /// `man` or `completions`.
    #[serde(skip)]
    pub command: &'static str,
    /// The text to print (a man page in roff, a completion script); empty with `man --dir`.
    pub text: String,
    /// With `man --dir`: the files written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}
