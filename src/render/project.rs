//! `check-config` and `env`.

use crate::commands::project::{CheckReport, EnvReport};

use super::style::Palette;

/// The `check-config` table of declared services and what collides with them.
pub fn check(_r: &CheckReport, _pal: &Palette) -> String {
    String::new()
}

/// `NAME_PORT=…` lines.
pub fn env(_r: &EnvReport) -> String {
    String::new()
}
