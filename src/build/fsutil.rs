//! Small file-system helpers of the build stage: copying a source tree, reading a log's tail.

use std::path::Path;

/// Copies the directory `from` to `to` (created), keeping symlinks as symlinks and exec bits.
/// Skips `.git` and `target` folders, which are never part of a source.
///
/// Only regular files, folders and symlinks are copied: a FIFO, socket or device is an error
/// naming it and is never opened (opening a FIFO would block for ever), and so is a symlink
/// that is absolute or leads out of `from` (nothing is ever read through it from the build
/// machine). Copied files keep their modification times, and their permission bits without
/// setuid, setgid and sticky.
pub fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(to)?;
    for e in crate::source::source_tree(from)? {
        let dst = to.join(&e.rel);
        if e.file_type.is_symlink() {
            std::os::unix::fs::symlink(crate::source::checked_symlink(from, &e.path)?, &dst)?;
        } else if e.file_type.is_dir() {
            std::fs::create_dir_all(&dst)?;
        } else {
            let mut input = crate::source::open_regular(from, &e.path, e.file_type)?;
            let meta = input.metadata()?;
            let mode = meta.permissions().mode() & 0o777;
            // Never write through a symlink an earlier tree left at this path.
            if std::fs::symlink_metadata(&dst).is_ok_and(|m| !m.is_dir()) {
                std::fs::remove_file(&dst)?;
            }
            let mut output = std::fs::File::create(&dst)?;
            std::io::copy(&mut input, &mut output)?;
            output.set_permissions(std::fs::Permissions::from_mode(mode))?;
            // As an archive's extraction does: make compares these times (an automake tree's
            // Makefile.in must stay newer than its Makefile.am, or make regenerates it).
            output.set_modified(meta.modified()?)?;
        }
    }
    Ok(())
}

/// The last `n` lines of a text file (lossy), indented for an error message.
pub fn tail(path: &Path, n: usize) -> String {
    crate::text::file_tail(path, n)
        .lines()
        .map(|l| format!("  | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// True when the file starts with the ELF magic.
pub fn is_elf(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && &magic == b"\x7fELF"
}
