//! The pcap file `tap -w` writes (pcap-file's writer, Ethernet link type, 256 KiB snap
//! length), created mode 0600 since payloads are private, buffered and flushed on demand.

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};

use crate::error::{Error, Result};

use super::filter::SNAPLEN;

/// The buffered file, shared between the pcap writer and [`Pcap::flush`].
#[derive(Debug, Clone)]
struct Shared(Rc<RefCell<BufWriter<File>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.borrow_mut().flush()
    }
}

/// A pcap file being written.
pub struct Pcap {
    path: PathBuf,
    file: Shared,
    writer: PcapWriter<Shared>,
    /// Packets written.
    pub packets: u64,
}

impl std::fmt::Debug for Pcap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pcap")
            .field("path", &self.path)
            .field("packets", &self.packets)
            .finish()
    }
}

impl Pcap {
    /// Create (or truncate) `path`, mode 0600, and write the pcap header.
    pub fn create(path: &Path) -> Result<Pcap> {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let context = || {
            format!(
                "creating the pcap file {}",
                crate::text::echo(&path.to_string_lossy())
            )
        };
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| create_error(context(), e))?;
        // An existing file keeps its mode on truncation: narrow it too.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| create_error(context(), e))?;
        let file = Shared(Rc::new(RefCell::new(BufWriter::with_capacity(
            1 << 16,
            file,
        ))));
        let header = PcapHeader {
            snaplen: SNAPLEN,
            datalink: DataLink::ETHERNET,
            ..PcapHeader::default()
        };
        let writer = PcapWriter::with_header(file.clone(), header)
            .map_err(|e| Error::io(context(), std::io::Error::other(e.to_string())))?;
        let mut pcap = Pcap {
            path: path.to_path_buf(),
            file,
            writer,
            packets: 0,
        };
        pcap.flush()?;
        Ok(pcap)
    }

    /// Append one frame received at `time` (since the Unix epoch).
    pub fn write(&mut self, time: Duration, frame: &[u8]) -> Result<()> {
        let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        let kept = &frame[..frame.len().min(SNAPLEN as usize)];
        self.writer
            .write_packet(&PcapPacket::new(time, len, kept))
            .map_err(|e| {
                Error::io(
                    format!("writing the pcap file {}", self.path.display()),
                    std::io::Error::other(e.to_string()),
                )
            })?;
        self.packets += 1;
        Ok(())
    }

    /// Push what is buffered to the file, so readers see every packet so far.
    pub fn flush(&mut self) -> Result<()> {
        self.file
            .flush()
            .map_err(|e| Error::io(format!("writing the pcap file {}", self.path.display()), e))
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// An error creating the file: a permission problem is about the path, not capabilities.
fn create_error(context: String, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        return Error::PermissionDenied {
            what: context,
            hint: "choose a path you can write to".into(),
        };
    }
    Error::io(context, e)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_readable_file_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("portscope-pcap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.pcap");
        let mut p = Pcap::create(&path).unwrap();
        p.write(Duration::from_millis(1_500), &[0xab; 60]).unwrap();
        p.flush().unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let data = std::fs::read(&path).unwrap();
        let mut r = pcap_file::pcap::PcapReader::new(&data[..]).unwrap();
        assert_eq!(r.header().datalink, DataLink::ETHERNET);
        assert_eq!(r.header().snaplen, SNAPLEN);
        let pkt = r.next_packet().unwrap().unwrap();
        assert_eq!(pkt.timestamp, Duration::from_millis(1_500));
        assert_eq!(pkt.data.len(), 60);
        let missing = dir.join("no/such/dir/x.pcap");
        assert!(Pcap::create(&missing).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
