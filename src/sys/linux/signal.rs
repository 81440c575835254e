//! Signals to other processes (for `kill`): pidfd-based, so a recycled pid is never hit.
