//! Supervising a child (for `run`): subreaper, signal forwarding, reaping.
