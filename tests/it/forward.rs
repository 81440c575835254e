//! `portscope forward`.
