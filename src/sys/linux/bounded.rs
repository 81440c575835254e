//! Reading a file whose size portscope does not control (a CA bundle named by
//! `SSL_CERT_FILE`, a configuration, a token file) with a bound: more than the bound is an
//! error, never an unbounded allocation.

use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The whole of `path` when it holds at most `max` bytes; an `InvalidData` error when more.
pub fn read_bounded(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    read_bounded_mode(path, max).map(|(bytes, _)| bytes)
}

/// [`read_bounded`], with the permission bits (`st_mode & 0o7777`) of the file that was
/// read: asked of the same open descriptor, so a file renamed over `path` meanwhile cannot
/// answer for it.
pub fn read_bounded_mode(path: &Path, max: u64) -> io::Result<(Vec<u8>, u32)> {
    let file = std::fs::File::open(path)?;
    let mode = file.metadata()?.mode() & 0o7777;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("it is larger than {max} bytes"),
        ));
    }
    Ok((bytes, mode))
}
