//! Walking a folder: every entry below it, symlinks not followed, sorted by path. The one walker
//! of every module that reads a tree (`recipe check` on a root filesystem, the image writer
//! packing a layout, the files of an included recipe, a local source's fingerprint and copy,
//! cache manifests and sizes, a Go module cache made writable). [`open_regular`] is the one way files
//! found by a walk, or named on the command line, are opened for reading: regular files only, so
//! a FIFO, a device or a socket is refused instead of blocking the reader; [`read_capped`] reads
//! a small one whole, up to a cap.

use std::fs::{File, FileType, Metadata};
use std::io;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// One entry below the root.
#[derive(Debug)]
pub struct Entry {
    pub path: PathBuf,
    /// Relative to the root.
    pub rel: PathBuf,
    pub file_type: FileType,
}

/// A folder that could not be read, or an entry whose type could not be.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct WalkError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Every entry below `root` (not `root` itself), sorted by relative path.
pub fn walk(root: &Path) -> Result<Vec<Entry>, WalkError> {
    walk_skipping(root, |_| false)
}

/// Like [`walk`], leaving out every entry whose file name `skip` accepts (and, for a folder,
/// all it holds): a source tree's `.git` and `target`.
pub fn walk_skipping(
    root: &Path,
    skip: impl Fn(&std::ffi::OsStr) -> bool,
) -> Result<Vec<Entry>, WalkError> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let err = |source| WalkError {
            path: dir.clone(),
            source,
        };
        for e in std::fs::read_dir(&dir).map_err(err)? {
            let e = e.map_err(err)?;
            if skip(&e.file_name()) {
                continue;
            }
            let path = e.path();
            let file_type = e.file_type().map_err(|source| WalkError {
                path: path.clone(),
                source,
            })?;
            if file_type.is_dir() {
                stack.push(path.clone());
            }
            let rel = path
                .strip_prefix(root)
                .expect("below the root")
                .to_path_buf();
            out.push(Entry {
                path,
                rel,
                file_type,
            });
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

/// What a file that is not a regular file or a directory is, for messages: `a FIFO`.
pub fn kind_name(t: FileType) -> &'static str {
    if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symlink"
    } else if t.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// Opens `path` for reading only if it is a regular file, without ever blocking: the type is
/// checked with `stat` first (so a FIFO or a device is never opened), the file is opened with
/// `O_NONBLOCK` (so one swapped in meanwhile cannot block the open) and checked again with
/// `fstat` on the open file. With `follow` false, a symlink is refused too (`O_NOFOLLOW`).
/// The error of a file that is no regular file is `InvalidInput`, saying what it is.
pub fn open_regular(path: &Path, follow: bool) -> io::Result<(File, Metadata)> {
    let refuse = |t: FileType| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}, not a regular file", kind_name(t)),
        )
    };
    let meta = if follow {
        std::fs::metadata(path)?
    } else {
        std::fs::symlink_metadata(path)?
    };
    if !meta.is_file() {
        return Err(refuse(meta.file_type()));
    }
    let mut flags = libc::O_NONBLOCK | libc::O_CLOEXEC;
    if !follow {
        flags |= libc::O_NOFOLLOW;
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(refuse(meta.file_type()));
    }
    Ok((file, meta))
}

/// Reads the whole of `path`, a regular file ([`open_regular`], symlinks followed) of at most
/// `max` bytes: how a small file named by the user (a signing key, a workflow to compare, a
/// recipe) is read, so `/dev/zero`, a FIFO or a huge file is refused, never read without end.
/// A larger file (or one that grows past `max` while read) is `InvalidData`, naming the cap.
pub fn read_capped(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let too_large = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {max} bytes, the most read of such a file"),
        )
    };
    let (file, meta) = open_regular(path, true)?;
    if meta.len() > max {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(too_large());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_open() {
        let t = tempfile::tempdir().unwrap();
        let fifo = t.path().join("f");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let e = open_regular(&fifo, true).unwrap_err();
        assert_eq!(e.to_string(), "a FIFO, not a regular file");
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(open_regular(Path::new("/dev/null"), true).is_err());
        std::fs::write(t.path().join("a"), "x").unwrap();
        std::os::unix::fs::symlink("a", t.path().join("l")).unwrap();
        assert_eq!(open_regular(&t.path().join("l"), true).unwrap().1.len(), 1);
        assert!(open_regular(&t.path().join("l"), false).is_err());
        assert!(open_regular(t.path(), true).is_err());
    }

    #[test]
    fn capped_reads_refuse_devices_fifos_and_large_files() {
        let t = tempfile::tempdir().unwrap();
        let e = read_capped(Path::new("/dev/zero"), 64).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{e}");
        assert_eq!(e.to_string(), "a character device, not a regular file");
        std::fs::write(t.path().join("a"), [7u8; 65]).unwrap();
        let e = read_capped(&t.path().join("a"), 64).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert_eq!(read_capped(&t.path().join("a"), 65).unwrap().len(), 65);
    }

    #[test]
    fn sorted_without_following_symlinks() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("b/c")).unwrap();
        std::fs::write(t.path().join("b/c/f"), "x").unwrap();
        std::fs::write(t.path().join("a"), "x").unwrap();
        std::os::unix::fs::symlink("/", t.path().join("b/root")).unwrap();
        let got: Vec<String> = walk(t.path())
            .unwrap()
            .iter()
            .map(|e| e.rel.display().to_string())
            .collect();
        assert_eq!(got, ["a", "b", "b/c", "b/c/f", "b/root"]);
        assert!(walk(&t.path().join("missing")).is_err());
    }
}
