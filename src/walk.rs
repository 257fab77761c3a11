//! Walking a folder: every entry below it, symlinks not followed, sorted by path. The one walker
//! of every module that reads a tree (`recipe check` on a root filesystem, the image writer
//! packing a layout, the files of an included recipe).

use std::fs::FileType;
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
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let err = |source| WalkError {
            path: dir.clone(),
            source,
        };
        for e in std::fs::read_dir(&dir).map_err(err)? {
            let e = e.map_err(err)?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
