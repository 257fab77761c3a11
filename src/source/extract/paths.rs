//! Paths inside an extracted tree: symlink targets resolved as the kernel would, never leaving
//! the tree.

use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

pub(super) fn join(comps: &[OsString]) -> PathBuf {
    comps.iter().collect()
}

/// Resolves `target` as the kernel would from the directory `start` (components relative to
/// `root`), following the symlinks that exist under `root`, and fails if it ever leaves `root`.
/// Parts that do not exist (yet) are taken as plain names.
pub(crate) fn resolve_within(root: &Path, start: &[OsString], target: &[u8]) -> Result<(), String> {
    if target.starts_with(b"/") {
        return Err("is absolute".to_string());
    }
    let mut stack: Vec<OsString> = start.to_vec();
    let mut queue: std::collections::VecDeque<OsString> = split(target).collect();
    let mut hops = 0;
    while let Some(c) = queue.pop_front() {
        match c.as_bytes() {
            b"" | b"." => continue,
            b".." => {
                if stack.pop().is_none() {
                    return Err("points outside the tree".to_string());
                }
                continue;
            }
            _ => {}
        }
        stack.push(c);
        let here = root.join(join(&stack));
        if fs::symlink_metadata(&here).is_ok_and(|m| m.file_type().is_symlink()) {
            hops += 1;
            if hops > 40 {
                return Err("has too many levels of symlinks".to_string());
            }
            let next = fs::read_link(&here).map_err(|e| format!("cannot be read: {e}"))?;
            let next = next.as_os_str().as_bytes();
            if next.starts_with(b"/") {
                return Err("goes through a symlink to an absolute path".to_string());
            }
            stack.pop();
            for (i, part) in split(next).enumerate() {
                queue.insert(i, part);
            }
        }
    }
    Ok(())
}

fn split(path: &[u8]) -> impl Iterator<Item = OsString> + '_ {
    path.split(|&b| b == b'/')
        .map(|c| OsString::from_vec(c.to_vec()))
}
