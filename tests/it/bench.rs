//! `portscope bench`.
