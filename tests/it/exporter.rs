//! Integration tests of `exporter`.
