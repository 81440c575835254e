//! Integration tests of `check-config` and `env` (ports.toml).
