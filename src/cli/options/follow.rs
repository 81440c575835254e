//! Typed options for the follow verbs, converted from their clap structs: the traffic tools
//! (`serve`, `forward`, `tap`, `bench`) in [`traffic`].

mod traffic;
