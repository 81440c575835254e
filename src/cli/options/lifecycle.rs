//! Typed options for the lifecycle verbs, converted from their clap structs.
