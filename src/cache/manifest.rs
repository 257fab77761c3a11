//! What a cache entry holds, file by file: kind, mode, size and sha256 of every file, target of
//! every symlink. Written when the entry is committed and checked each time it is used, so an
//! entry changed after the fact (one byte of a binary, a file swapped for a script, a file added)
//! is a miss, never packed.
//!
//! A file is hashed again only when its inode, size, mode or ctime differ from what was seen
//! when the entry was made ([`Seen`]): any write, chmod or replacement of a file sets its ctime
//! to the time of the change (user space cannot set it back), so a no-op run does not read every
//! byte of the cache. An entry made before `Seen` existed is hashed in full once, and its
//! manifest then records what was seen (`Cache::verify`).

use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
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
        /// The file's identity and change time when the entry was made.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seen: Option<Seen>,
    },
    Symlink {
        target: String,
    },
    /// A FIFO, socket or device: recorded, never opened.
    Other,
}

/// A file's inode and change time (seconds and nanoseconds): equal, the file was not written,
/// replaced or chmod-ed since.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    pub ino: u64,
    pub ctime: i64,
    pub ctime_nsec: i64,
}

impl Seen {
    fn of(m: &std::fs::Metadata) -> Seen {
        Seen {
            ino: m.ino(),
            ctime: m.ctime(),
            ctime_nsec: m.ctime_nsec(),
        }
    }
}

/// The manifest of the tree at `root`, in path order.
pub fn of_tree(root: &Path) -> io::Result<Vec<Item>> {
    of_tree_knowing(root, &[])
}

/// [`of_tree`], taking a file's sha256 from `known` (sorted by path) instead of reading it
/// when the file's inode, size, mode and ctime are those `known` saw.
fn of_tree_knowing(root: &Path, known: &[Item]) -> io::Result<Vec<Item>> {
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
            let meta = f.metadata()?;
            let mode = meta.permissions().mode() & 0o7777;
            let seen = Seen::of(&meta);
            let unchanged = known
                .binary_search_by(|k| k.path.as_str().cmp(&path))
                .ok()
                .and_then(|i| match &known[i].kind {
                    Kind::File {
                        mode: m,
                        size: s,
                        sha256,
                        seen: Some(was),
                    } if *m == mode && *s == meta.len() && *was == seen => Some(sha256.clone()),
                    _ => None,
                });
            let (sha256, size) = match unchanged {
                Some(sha256) => (sha256, meta.len()),
                None => {
                    let mut w = HashWriter::new(io::sink());
                    io::copy(&mut f, &mut w)?;
                    let (_, sha256, size) = w.finish();
                    (sha256, size)
                }
            };
            Kind::File {
                mode,
                size,
                sha256,
                seen: Some(seen),
            }
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
    check(root, expected).err()
}

/// The tree at `root` as it is now (with what is seen of each file), when it agrees with
/// `expected`; otherwise its first difference, said for people.
pub fn check(root: &Path, expected: &[Item]) -> Result<Vec<Item>, String> {
    let actual = of_tree_knowing(root, expected).map_err(|e| format!("cannot read it: {e}"))?;
    match first_difference(&actual, expected) {
        None => Ok(actual),
        Some(d) => Err(d),
    }
}

fn first_difference(actual: &[Item], expected: &[Item]) -> Option<String> {
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
                if !same(&x.kind, &y.kind) {
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

/// The same content and mode (whatever was seen of the file).
fn same(a: &Kind, b: &Kind) -> bool {
    match (a, b) {
        (
            Kind::File {
                mode: m1,
                size: s1,
                sha256: h1,
                ..
            },
            Kind::File {
                mode: m2,
                size: s2,
                sha256: h2,
                ..
            },
        ) => m1 == m2 && s1 == s2 && h1 == h2,
        _ => a == b,
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

    /// Rewriting a file moves its ctime, so it is hashed again: a changed byte whose mtime and
    /// size are put back is still found, and the same bytes written again still agree.
    #[test]
    fn a_rewritten_file_is_hashed_again_even_with_its_mtime_put_back() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("app");
        std::fs::write(&app, b"\x7fELF app").unwrap();
        let m = of_tree(dir.path()).unwrap();
        assert!(matches!(&m[0].kind, Kind::File { seen: Some(_), .. }));
        let mtime = std::fs::metadata(&app).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::fs::write(&app, b"\x7fELF apq").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&app)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        assert_eq!(
            differs(dir.path(), &m).unwrap(),
            "`app` changed (its content)"
        );
        std::fs::write(&app, b"\x7fELF app").unwrap();
        assert_eq!(differs(dir.path(), &m), None);
        // A manifest of an older `recipe` (nothing seen) is checked by hashing.
        let mut old = m.clone();
        if let Kind::File { seen, .. } = &mut old[0].kind {
            *seen = None;
        }
        assert_eq!(differs(dir.path(), &old), None);
    }

    fn m_mode(m: &[Item], path: &str) -> u32 {
        match &m.iter().find(|i| i.path == path).unwrap().kind {
            Kind::File { mode, .. } => *mode,
            _ => unreachable!(),
        }
    }
}
