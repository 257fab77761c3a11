//! Publishing by rename, the one way a finished folder or file takes its place: it is written
//! complete under a temporary name beside its final place (a dot name), then renamed there in
//! one step; an old one is moved aside first and removed after. A run killed at any moment
//! leaves either the old complete thing or the new one, plus at most a dot-named leftover that
//! nothing reads (the cache's `gc` and the image folder's lock remove them).

use std::io;
use std::path::Path;

/// A new temporary folder beside `dir`, named `.NAME.tmp-XXXX` (removed when dropped).
pub fn temp_dir_beside(dir: &Path) -> io::Result<tempfile::TempDir> {
    let (parent, name) = parent_and_name(dir)?;
    std::fs::create_dir_all(parent)?;
    tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .tempdir_in(parent)
}

/// Puts the complete folder `tmp` (beside `dir`, same file system) in the place of `dir`: an
/// old `dir` is moved aside, `tmp` renamed to `dir`, then the old one removed. On failure the
/// old one is put back.
pub fn replace_dir(tmp: &Path, dir: &Path) -> io::Result<()> {
    let (parent, name) = parent_and_name(dir)?;
    let old = match std::fs::symlink_metadata(dir) {
        Ok(_) => {
            let trash = tempfile::Builder::new()
                .prefix(&format!(".{name}.old-"))
                .tempdir_in(parent)?;
            std::fs::rename(dir, trash.path().join("old"))?;
            Some(trash)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    if let Err(e) = std::fs::rename(tmp, dir) {
        if let Some(trash) = &old {
            let _ = std::fs::rename(trash.path().join("old"), dir);
        }
        return Err(e);
    }
    // Dropping the trash folder removes the old `dir`.
    drop(old);
    Ok(())
}

/// Writes `bytes` to `path` by a temporary file beside it and a rename.
pub fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (parent, name) = parent_and_name(path)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .tempfile_in(parent)?;
    io::Write::write_all(&mut tmp, bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn parent_and_name(p: &Path) -> io::Result<(&Path, String)> {
    match (p.parent(), p.file_name()) {
        (Some(parent), Some(name)) => Ok((parent, name.to_string_lossy().into_owned())),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{}` has no parent folder", crate::text::path(p)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_replaced_whole_and_nothing_is_left_beside_it() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("out");
        for round in ["one", "two"] {
            let tmp = temp_dir_beside(&dir).unwrap();
            std::fs::write(tmp.path().join(round), round).unwrap();
            replace_dir(&tmp.keep(), &dir).unwrap();
            assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
            assert!(dir.join(round).is_file());
        }
        write_file(&t.path().join("stamp"), b"x").unwrap();
        let names: Vec<_> = std::fs::read_dir(t.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn a_failed_rename_keeps_the_old_folder() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("out");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("old"), "old").unwrap();
        let missing = t.path().join(".out.tmp-gone");
        assert!(replace_dir(&missing, &dir).is_err());
        assert!(dir.join("old").is_file());
    }
}
