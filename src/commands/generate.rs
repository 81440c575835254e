//! `man` and `completions`: the documentation generated from the command line itself
//! (`cli::generate` makes the text). `man --dir` writes every page into a directory, each
//! through a temporary file renamed into place, so a reader never sees half a page.

use std::path::Path;

use serde::Serialize;

use crate::cli::generate::{self, Page};
use crate::cli::{CompletionsArgs, ManArgs};
use crate::error::{Error, Result};

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

/// `portscope man [COMMAND…] [--dir DIR]`.
pub fn man(args: &ManArgs) -> Result<GeneratedReport> {
    let Some(dir) = &args.dir else {
        let page = generate::man_page(&args.command)?;
        return Ok(GeneratedReport {
            command: "man",
            text: page.roff,
            files: vec![],
        });
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("create {}", dir.display()), e))?;
    let mut files = vec![];
    for page in generate::man_pages() {
        files.push(write_page(dir, &page)?);
    }
    Ok(GeneratedReport {
        command: "man",
        text: String::new(),
        files,
    })
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

/// `portscope completions SHELL`.
pub fn completions(args: &CompletionsArgs) -> GeneratedReport {
    GeneratedReport {
        command: "completions",
        text: generate::completions(args.shell),
        files: vec![],
    }
}
