//! What a cache entry holds, file by file: kind, mode, size and sha256 of every file, target of
//! every symlink. Written when the entry is committed and checked each time it is used, so an
//! entry changed after the fact (one byte of a binary, a file swapped for a script, a file added)
//! is a miss, never packed.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::digest::HashWriter;

/// One entry of the tree, by its path relative to the tree's root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub path: String,
    #[serde(flatten)]
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Kind {
    Dir {
        mode: u32,
    },
    File {
        mode: u32,
        size: u64,
        sha256: String,
    },
    Symlink {
        target: String,
    },
    /// A FIFO, socket or device: recorded, never opened.
    Other,
}

/// The manifest of the tree at `root`, in path order.
pub fn of_tree(root: &Path) -> io::Result<Vec<Item>> {
    let entries = crate::walk::walk(root).map_err(|e| io::Error::new(e.source.kind(), e))?;
    let mut items = Vec::with_capacity(entries.len());
    for e in entries {
        let path = e.rel.to_string_lossy().into_owned();
        let kind = if e.file_type.is_symlink() {
            Kind::Symlink {
                target: std::fs::read_link(&e.path)?.to_string_lossy().into_owned(),
            }
        } else if e.file_type.is_dir() {
            Kind::Dir {
                mode: std::fs::symlink_metadata(&e.path)?.permissions().mode() & 0o7777,
            }
        } else if e.file_type.is_file() {
            let mut f = std::fs::File::open(&e.path)?;
            let mode = f.metadata()?.permissions().mode() & 0o7777;
            let mut w = HashWriter::new(io::sink());
            io::copy(&mut f, &mut w)?;
            let (_, sha256, size) = w.finish();
            Kind::File { mode, size, sha256 }
        } else {
            Kind::Other
        };
        items.push(Item { path, kind });
    }
    Ok(items)
}

/// The first difference between the tree at `root` and `expected`, said for people; `None`
/// when they agree.
pub fn differs(root: &Path, expected: &[Item]) -> Option<String> {
    let actual = match of_tree(root) {
        Ok(a) => a,
        Err(e) => return Some(format!("cannot read it: {e}")),
    };
    let mut a = actual.iter().peekable();
    let mut b = expected.iter().peekable();
    loop {
        match (a.peek(), b.peek()) {
            (None, None) => return None,
            (Some(x), None) => return Some(format!("`{}` was added", esc(&x.path))),
            (None, Some(y)) => return Some(format!("`{}` is missing", esc(&y.path))),
            (Some(x), Some(y)) if x.path < y.path => {
                return Some(format!("`{}` was added", esc(&x.path)));
            }
            (Some(x), Some(y)) if x.path > y.path => {
                return Some(format!("`{}` is missing", esc(&y.path)));
            }
            (Some(x), Some(y)) => {
                if x.kind != y.kind {
                    return Some(format!(
                        "`{}` changed ({})",
                        esc(&x.path),
                        what(&x.kind, &y.kind)
                    ));
                }
                a.next();
                b.next();
            }
        }
    }
}

fn esc(s: &str) -> String {
    crate::text::escape(s).into_owned()
}

fn what(now: &Kind, was: &Kind) -> &'static str {
    match (now, was) {
        (Kind::File { sha256: a, .. }, Kind::File { sha256: b, .. }) if a != b => "its content",
        (Kind::File { .. }, Kind::File { .. }) | (Kind::Dir { .. }, Kind::Dir { .. }) => "its mode",
        (Kind::Symlink { .. }, Kind::Symlink { .. }) => "its target",
        _ => "its kind",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_change_to_the_tree_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("usr/bin")).unwrap();
        std::fs::write(root.join("usr/bin/app"), b"\x7fELF app").unwrap();
        std::os::unix::fs::symlink("app", root.join("usr/bin/alias")).unwrap();
        let m = of_tree(root).unwrap();
        assert_eq!(m.len(), 4);
        assert_eq!(differs(root, &m), None);

        std::fs::write(root.join("usr/bin/app"), b"\x7fELF apq").unwrap();
        assert_eq!(
            differs(root, &m).unwrap(),
            "`usr/bin/app` changed (its content)"
        );
        std::fs::write(root.join("usr/bin/app"), b"\x7fELF app").unwrap();
        std::fs::set_permissions(
            root.join("usr/bin/app"),
            std::fs::Permissions::from_mode(0o4755),
        )
        .unwrap();
        assert_eq!(
            differs(root, &m).unwrap(),
            "`usr/bin/app` changed (its mode)"
        );
        std::fs::set_permissions(
            root.join("usr/bin/app"),
            std::fs::Permissions::from_mode(m_mode(&m, "usr/bin/app")),
        )
        .unwrap();
        assert_eq!(differs(root, &m), None);
        std::fs::write(root.join("usr/bin/extra"), b"#!/bin/sh").unwrap();
        assert_eq!(differs(root, &m).unwrap(), "`usr/bin/extra` was added");
        std::fs::remove_file(root.join("usr/bin/extra")).unwrap();
        std::fs::remove_file(root.join("usr/bin/alias")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("usr/bin/alias")).unwrap();
        assert_eq!(
            differs(root, &m).unwrap(),
            "`usr/bin/alias` changed (its target)"
        );
        std::fs::remove_file(root.join("usr/bin/alias")).unwrap();
        assert_eq!(differs(root, &m).unwrap(), "`usr/bin/alias` is missing");
    }

    fn m_mode(m: &[Item], path: &str) -> u32 {
        match &m.iter().find(|i| i.path == path).unwrap().kind {
            Kind::File { mode, .. } => *mode,
            _ => unreachable!(),
        }
    }
}
