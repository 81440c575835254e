//! Integration tests of `check`.
