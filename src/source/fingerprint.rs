//! The identity of a local source directory: a sha256 over its files' relative paths, exec
//! bits, symlink targets and contents, in sorted order (`.git` and `target` skipped, as the
//! copy into a build skips them).
//!
//! A local tree is read only as regular files, folders and symlinks, here and in the copy into
//! a build (`build::copy_tree`), with the checks of this module: a FIFO, socket or device is an
//! error naming it (it is never opened: opening a FIFO blocks until a writer comes, reading a
//! device may never end), and so is a symlink that is absolute or leads out of the folder
//! (the build would read the build machine's files through it, and the fingerprint, which
//! hashes only the link's text, would not see them change).

use std::ffi::OsString;
use std::fs::{File, FileType};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::text;

pub fn fingerprint_dir(dir: &Path) -> std::io::Result<String> {
    use std::os::unix::fs::PermissionsExt;
    let mut h = Sha256::new();
    for e in source_tree(dir)? {
        let rel = e.rel.to_string_lossy();
        if e.file_type.is_symlink() {
            let target = checked_symlink(dir, &e.path)?;
            h.update(format!("L {rel} -> {}\n", target.display()).as_bytes());
        } else if e.file_type.is_dir() {
            h.update(format!("D {rel}\n").as_bytes());
        } else {
            let mut f = open_regular(dir, &e.path, e.file_type)?;
            let meta = f.metadata()?;
            let exec = meta.permissions().mode() & 0o111 != 0;
            h.update(
                format!("F {rel} {} {}\n", meta.len(), if exec { "x" } else { "-" }).as_bytes(),
            );
            let mut buf = [0u8; 1 << 16];
            loop {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
        }
    }
    Ok(hex::encode(h.finalize()))
}

/// The entries of a local source tree in path order, without `.git` and `target` (never part
/// of a source), through the one walker.
pub(crate) fn source_tree(dir: &Path) -> std::io::Result<Vec<crate::walk::Entry>> {
    crate::walk::walk_skipping(dir, |name| name == ".git" || name == "target")
        .map_err(|e| std::io::Error::new(e.source.kind(), e.to_string()))
}

/// What a special file is, in words; `None` for regular files, folders and symlinks.
fn special_kind(ty: FileType) -> Option<&'static str> {
    if ty.is_fifo() {
        Some("a fifo")
    } else if ty.is_socket() {
        Some("a socket")
    } else if ty.is_block_device() {
        Some("a block device")
    } else if ty.is_char_device() {
        Some("a character device")
    } else if ty.is_file() || ty.is_dir() || ty.is_symlink() {
        None
    } else {
        Some("not a regular file")
    }
}

fn refuse(base: &Path, path: &Path, why: &str) -> io::Error {
    let rel = path.strip_prefix(base).unwrap_or(path);
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "`{}` in `{}` {why}; only regular files, folders and symlinks that stay inside are read",
            text::path(rel),
            text::path(base)
        ),
    )
}

/// Opens a file of the local tree `base` for reading, refusing (without opening it) anything
/// but a regular file. `ty` is the type `read_dir` saw; the file is opened without following a
/// symlink and without blocking, and checked again once open, so a file swapped for a FIFO in
/// between is refused too.
pub(crate) fn open_regular(base: &Path, path: &Path, ty: FileType) -> io::Result<File> {
    if let Some(kind) = special_kind(ty) {
        return Err(refuse(base, path, &format!("is {kind}")));
    }
    // The one opener of regular files: type checked before and after an O_NONBLOCK open.
    crate::walk::open_regular(path, false)
        .map(|(f, _)| f)
        .map_err(|e| match e.kind() {
            io::ErrorKind::InvalidInput => refuse(base, path, &format!("is {e}")),
            _ => e,
        })
}

/// The target of the symlink `path` inside the local tree `base`, refused when it is absolute
/// or leads outside `base` (resolved as the kernel would, through the tree's other symlinks).
pub(crate) fn checked_symlink(base: &Path, path: &Path) -> io::Result<PathBuf> {
    let target = std::fs::read_link(path)?;
    let start: Vec<OsString> = path
        .parent()
        .and_then(|p| p.strip_prefix(base).ok())
        .map(|p| p.iter().map(|c| c.to_os_string()).collect())
        .unwrap_or_default();
    if let Err(why) = super::extract::resolve_within(base, &start, target.as_os_str().as_bytes()) {
        return Err(refuse(
            base,
            path,
            &format!("is a symlink whose target `{}` {why}", text::path(&target)),
        ));
    }
    Ok(target)
}
