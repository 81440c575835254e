//! Zero-copy relaying between two sockets with splice(2) through a pipe.
