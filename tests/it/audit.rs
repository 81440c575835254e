//! Integration tests of `audit`.
