//! Reading a file whose size portscope does not control (a CA bundle named by
//! `SSL_CERT_FILE`, a configuration) with a bound: more than the bound is an error, never an
//! unbounded allocation.

use std::io::{self, Read};
use std::path::Path;

/// The whole of `path` when it holds at most `max` bytes; an `InvalidData` error when more.
pub fn read_bounded(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is larger than {max} bytes", path.display()),
        ));
    }
    Ok(bytes)
}
