//! Resource limits of this process (open files).
