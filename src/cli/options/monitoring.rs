//! Typed options for the monitoring verbs, converted from their clap structs.
