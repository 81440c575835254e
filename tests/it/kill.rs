//! Integration tests of `kill`.
