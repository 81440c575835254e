//! Typed options for the inspect verbs, converted from their clap structs.
