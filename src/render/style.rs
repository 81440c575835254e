//! Colour, decided once in `Config`: these helpers wrap text in ANSI styles only when asked.

use anstyle::{AnsiColor, Style};

/// Styles used across reports.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    on: bool,
}

impl Palette {
    /// A palette that colours only when `on`.
    pub fn new(on: bool) -> Palette {
        Palette { on }
    }

    fn paint(&self, style: Style, text: &str) -> String {
        if self.on {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }

    /// Table headers and section titles.
    pub fn header(&self, text: &str) -> String {
        self.paint(Style::new().bold(), text)
    }

    /// Something the reader should notice (all-interfaces exposure, a stopped process).
    pub fn warn(&self, text: &str) -> String {
        self.paint(AnsiColor::Yellow.on_default().bold(), text)
    }

    /// Secondary detail.
    pub fn dim(&self, text: &str) -> String {
        self.paint(Style::new().dimmed(), text)
    }

    /// Good news (loopback only).
    pub fn ok(&self, text: &str) -> String {
        self.paint(AnsiColor::Green.on_default(), text)
    }
}
