//! Reading a file whose size portscope does not control (a CA bundle named by
//! `SSL_CERT_FILE`, a configuration, the registry, a token file) with a bound: more than the bound is an
//! error, never an unbounded allocation.
//!
//! Files a user — or another user, through a world-writable directory such as `/tmp` — may
//! put in portscope's way go through [`read_regular_bounded`]: it refuses what is not a
//! regular file (a FIFO would block the read forever, `/dev/zero` never ends) and a file
//! larger than the bound before reading a byte of it, so a sparse 1 GiB file costs one
//! `fstat`, not a gigabyte of memory.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use rustix::fs::{Mode, OFlags};

/// Why [`read_regular_bounded`] refused a file. It travels inside the [`io::Error`] (kind
/// [`io::ErrorKind::InvalidInput`] or [`io::ErrorKind::FileTooLarge`]); [`refusal`] gets it
/// back. Its text does not name the path, and reads after "PATH is ": the caller names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Not a regular file: what it is (`a FIFO`, `a character device`, `a directory`…).
    NotRegular(&'static str),
    /// More than `max` bytes.
    TooLarge {
        /// The size `fstat` reported; `None` when the file grew past the bound while being
        /// read (or reports no size, as `/proc` files do).
        size: Option<u64>,
        /// The bound.
        max: u64,
    },
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Refused::NotRegular(what) => write!(f, "{what}, not a regular file"),
            Refused::TooLarge {
                size: Some(size),
                max,
            } => write!(
                f,
                "too large: {size} bytes, more than the limit of {}",
                size_text(max)
            ),
            Refused::TooLarge { size: None, max } => {
                write!(f, "too large: more than the limit of {}", size_text(max))
            }
        }
    }
}

impl std::error::Error for Refused {}

/// The refusal inside an error of [`read_regular_bounded`], if that is what it is.
pub fn refusal(e: &io::Error) -> Option<Refused> {
    e.get_ref()?.downcast_ref::<Refused>().copied()
}

/// A bound as people chose it: `1048576` → `1 MiB (1048576 bytes)`; plain bytes when it is
/// no whole number of KiB.
pub fn size_text(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    match bytes {
        0 => "0 bytes".to_string(),
        b if b % MIB == 0 => format!("{} MiB ({b} bytes)", b / MIB),
        b if b % KIB == 0 => format!("{} KiB ({b} bytes)", b / KIB),
        b => format!("{b} bytes"),
    }
}

/// The whole of `path` when it holds at most `max` bytes; an `InvalidData` error when more.
/// Anything that can be opened is read (see [`read_regular_bounded`] for files others may
/// control).
pub fn read_bounded(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let bytes = read_at_most(std::fs::File::open(path)?, max)?;
    if bytes.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("it is larger than {max} bytes"),
        ));
    }
    Ok(bytes)
}

/// The whole of the regular file `path` (symbolic links followed) when it holds at most
/// `max` bytes. Refused, with a [`Refused`] inside the error: anything that is not a regular
/// file, and a file larger than `max`, both before any byte is read. `NotFound` and
/// permission errors come through as they are.
///
/// The type is checked twice: on the path first, so a device is never even opened (opening
/// one can have effects: a tape rewinds, a watchdog starts), then on the opened descriptor,
/// which is what counts — the path may be swapped between the two. The open itself is
/// non-blocking, so a FIFO that appears there in between cannot hang it.
pub fn read_regular_bounded(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    read_regular_bounded_mode(path, max).map(|(bytes, _)| bytes)
}

/// [`read_regular_bounded`], with the permission bits (`st_mode & 0o7777`) of the file that
/// was read: asked of the same open descriptor, so a file renamed over `path` meanwhile
/// cannot answer for it (a token file others may read is warned about).
pub fn read_regular_bounded_mode(path: &Path, max: u64) -> io::Result<(Vec<u8>, u32)> {
    check_type(&std::fs::metadata(path)?.file_type())?;
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let file = File::from(fd);
    let meta = file.metadata()?;
    check_type(&meta.file_type())?;
    if meta.len() > max {
        return Err(too_large(Some(meta.len()), max));
    }
    let mode = meta.mode() & 0o7777;
    // The size may grow after the fstat: the read stops one byte past the bound anyway.
    let bytes = read_at_most(file, max)?;
    if bytes.len() as u64 > max {
        return Err(too_large(None, max));
    }
    Ok((bytes, mode))
}

/// Up to `max + 1` bytes of `file` (one more than allowed, so the caller can tell).
fn read_at_most(file: File, max: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn check_type(t: &std::fs::FileType) -> io::Result<()> {
    let what = if t.is_file() {
        return Ok(());
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a file"
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        Refused::NotRegular(what),
    ))
}

fn too_large(size: Option<u64>, max: u64) -> io::Error {
    io::Error::new(io::ErrorKind::FileTooLarge, Refused::TooLarge { size, max })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn temp(tag: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("portscope-bounded-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn regular_files_up_to_the_bound_are_read_and_others_refused() {
        let dir = temp("reg");
        let small = dir.join("small");
        std::fs::write(&small, b"12345").unwrap();
        assert_eq!(read_regular_bounded(&small, 5).unwrap(), b"12345");
        let e = read_regular_bounded(&small, 4).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(
            refusal(&e),
            Some(Refused::TooLarge {
                size: Some(5),
                max: 4
            })
        );
        let big = dir.join("sparse");
        File::create(&big).unwrap().set_len(1 << 30).unwrap();
        let e = read_regular_bounded(&big, 1 << 20).unwrap_err();
        assert_eq!(
            e.to_string(),
            "too large: 1073741824 bytes, more than the limit of 1 MiB (1048576 bytes)"
        );
        let e = read_regular_bounded(&dir, 10).unwrap_err();
        assert_eq!(refusal(&e), Some(Refused::NotRegular("a directory")));
        let e = read_regular_bounded(Path::new("/dev/zero"), 10).unwrap_err();
        assert_eq!(e.to_string(), "a character device, not a regular file");
        let fifo = dir.join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            Mode::RUSR | Mode::WUSR,
            0,
        )
        .unwrap();
        // No writer: a blocking open would wait forever.
        let e = read_regular_bounded(&fifo, 10).unwrap_err();
        assert_eq!(
            refusal(&e),
            Some(Refused::NotRegular("a FIFO (named pipe)"))
        );
        let e = read_regular_bounded(&dir.join("missing"), 10).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert_eq!(refusal(&e), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn sizes_are_said_in_the_unit_they_were_chosen_in() {
        assert_eq!(size_text(16 << 20), "16 MiB (16777216 bytes)");
        assert_eq!(size_text(64 << 10), "64 KiB (65536 bytes)");
        assert_eq!(size_text(1000), "1000 bytes");
    }
}
