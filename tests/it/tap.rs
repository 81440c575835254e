//! `portscope tap`.
