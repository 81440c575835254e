//! Typed options for the follow verbs, converted from their clap structs.
