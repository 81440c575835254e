//! File metadata the audit needs about a unix socket's path: its type, mode and owner, and
//! whether other users can reach it at all (every directory above it searchable by others),
//! read in the mount namespace of the process that holds it (`/proc/<pid>/root`).

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// What `stat` says about a unix socket's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketFile {
    /// The path that was examined (`/proc/<pid>/root/run/x.sock`, or the path itself).
    pub examined: String,
    /// Whether the file is a socket (`S_IFSOCK`): another file may have replaced it.
    pub is_socket: bool,
    /// Permission bits (`st_mode & 0o7777`).
    pub mode: u32,
    /// Owner uid.
    pub uid: u32,
    /// Owner gid.
    pub gid: u32,
    /// The first directory above it that others may not search (`o-x`), with its mode:
    /// then only its owner and group reach the socket, whatever the socket's own mode.
    pub closed_by: Option<(String, u32)>,
}

impl SocketFile {
    /// Whether every user may connect: `o+w` on the socket and nothing above it closed.
    pub fn open_to_everyone(&self) -> bool {
        self.is_socket && self.mode & 0o002 != 0 && self.closed_by.is_none()
    }
}

/// Stat the absolute socket path `path` as the process `pid` sees it (its root directory,
/// hence its mount namespace), or in portscope's own view when `pid` is `None`. `None` when
/// the path is relative or cannot be read (it was removed, or the process exited).
pub fn socket_file(pid: Option<u32>, path: &str) -> Option<SocketFile> {
    let rel = path.strip_prefix('/')?;
    let root = match pid {
        Some(pid) => PathBuf::from(format!("/proc/{pid}/root")),
        None => PathBuf::from("/"),
    };
    let target = root.join(rel);
    let meta = std::fs::metadata(&target).ok()?;
    let closed_by = Path::new(path)
        .ancestors()
        .skip(1)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .find_map(|dir| {
            let rel = dir.strip_prefix("/").ok()?;
            let mode = std::fs::metadata(root.join(rel)).ok()?.mode() & 0o7777;
            (mode & 0o001 == 0).then(|| (dir.display().to_string(), mode))
        });
    Some(SocketFile {
        examined: target.display().to_string(),
        is_socket: meta.file_type().is_socket(),
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
        closed_by,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_socket_file_is_seen_with_its_mode_and_reach() {
        let dir = std::env::temp_dir().join(format!("portscope-fsmeta-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = dir.join("s.sock");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777)).unwrap();
        let text = path.display().to_string();

        let seen = socket_file(Some(std::process::id()), &text).unwrap();
        assert!(seen.is_socket);
        assert_eq!(seen.mode, 0o777);
        assert!(seen.examined.starts_with("/proc/"), "{}", seen.examined);
        assert!(seen.open_to_everyone(), "{seen:?}");

        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o750)).unwrap();
        let closed = socket_file(None, &text).unwrap();
        assert_eq!(closed.closed_by, Some((dir.display().to_string(), 0o750)));
        assert!(!closed.open_to_everyone());

        assert!(socket_file(None, "relative.sock").is_none());
        assert!(socket_file(None, &format!("{text}.missing")).is_none());
        drop(listener);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
