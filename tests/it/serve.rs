//! `portscope serve`.
