//! Integration tests of `pick`, `reserve` and `release`: the registry under concurrency and crashes.
