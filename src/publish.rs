//! Publishing by rename, the one way a finished folder or file takes its place: it is written
//! complete under a temporary name beside its final place (a dot name), then renamed there in
//! one step; an old one is moved aside first and removed after. A run killed at any moment
//! leaves either the old complete thing or the new one, plus at most a dot-named leftover that
//! nothing reads (the cache's `gc` and the image folder's lock remove them).
//!
//! Architecture invariant: no other module renames a file or persists a temporary file
//! (`tests/it/tidy_layout.rs` reads `src/` and fails on a `rename(` or `persist(` elsewhere).
//! Folders: [`replace_dir`] (an old one goes), [`place_dir`] (content-addressed: the first one
//! placed stays, a later one is dropped), [`remove_dir`]; files: [`write_file`],
//! [`write_file_mode`], [`persist`]; [`move_path`] moves a part into a folder being put
//! together (not itself a publish).

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

/// What [`place_dir`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placed {
    /// The folder is now at its place.
    New,
    /// Another process placed one first: that one stays, and the caller's is left where it was
    /// (the caller's temporary folder removes it).
    AlreadyThere,
}

/// Puts the complete folder `tmp` (beside `dir`, same file system) at `dir` when no `dir`
/// exists, for a folder that is the same whoever makes it (a toolchain's install named by its
/// version): two processes racing to place it both succeed, the loser with
/// [`Placed::AlreadyThere`] (the winner's folder, complete since it came by one rename). An
/// empty `dir` is replaced.
pub fn place_dir(tmp: &Path, dir: &Path) -> io::Result<Placed> {
    match std::fs::rename(tmp, dir) {
        Ok(()) => Ok(Placed::New),
        // rename(2) onto a folder that has entries: ENOTEMPTY (or EEXIST, both allowed).
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::DirectoryNotEmpty | io::ErrorKind::AlreadyExists
            ) && dir.is_dir() =>
        {
            Ok(Placed::AlreadyThere)
        }
        Err(e) => Err(e),
    }
}

/// Removes the folder `dir` so that it disappears at once: renamed to a dot name beside it
/// (`.NAME.old-XXXX`, which `gc` removes after a killed run), then removed.
pub fn remove_dir(dir: &Path) -> io::Result<()> {
    let (parent, name) = parent_and_name(dir)?;
    let trash = tempfile::Builder::new()
        .prefix(&format!(".{name}.old-"))
        .tempdir_in(parent)?;
    std::fs::rename(dir, trash.path().join("old"))?;
    trash.close()
}

/// Moves `from` to `to` (same file system, `to` absent or a file): a part moved into a folder
/// that is being put together and published after (a job's tree into a cache entry's scratch
/// folder, an unpacked part into a job's source tree), or a finished file over an old one.
pub fn move_path(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::rename(from, to)
}

/// Puts the complete temporary file `tmp` at `path` (same file system) by one rename; an old
/// file there is replaced.
pub fn persist(tmp: tempfile::TempPath, path: &Path) -> io::Result<()> {
    tmp.persist(path).map(|_| ()).map_err(|e| e.error)
}

/// Writes `bytes` to `path` by a temporary file beside it and a rename. The file gets the mode
/// of the one it replaces, or a new file's (`0o666` less the umask, `0o644` as a rule), not the
/// temporary file's `0o600`.
pub fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write(path, bytes, None)
}

/// [`write_file`] with the permission bits `mode` (an executable script: `0o755`); a reader
/// never sees the file without them.
pub fn write_file_mode(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    write(path, bytes, Some(mode))
}

fn write(path: &Path, bytes: &[u8], mode: Option<u32>) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let (parent, name) = parent_and_name(path)?;
    let mode = mode.or_else(|| {
        std::fs::symlink_metadata(path)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.permissions().mode() & 0o7777)
    });
    // Without a mode to set, the file is created as any new file is (0o666 less the umask);
    // with one, it is created private and given that mode once written, so a file that was
    // private is never readable by others in between.
    let created = if mode.is_some() { 0o600 } else { 0o666 };
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .permissions(std::fs::Permissions::from_mode(created))
        .tempfile_in(parent)?;
    io::Write::write_all(&mut tmp, bytes)?;
    if let Some(mode) = mode {
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    tmp.as_file().sync_all()?;
    persist(tmp.into_temp_path(), path)
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

    /// A written file is readable as any file the user creates, not 0600 like the temporary
    /// file it was; one that replaces another keeps that one's mode.
    #[test]
    fn a_written_file_has_a_new_files_mode_or_the_one_it_replaces() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        std::fs::write(t.path().join("plain"), b"x").unwrap();
        write_file(&t.path().join("new"), b"x").unwrap();
        assert_eq!(mode(&t.path().join("new")), mode(&t.path().join("plain")));
        let kept = t.path().join("kept");
        std::fs::write(&kept, b"old").unwrap();
        std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_file(&kept, b"new").unwrap();
        assert_eq!(mode(&kept), 0o640);
        assert_eq!(std::fs::read(&kept).unwrap(), b"new");
        write_file_mode(&kept, b"script", 0o755).unwrap();
        assert_eq!(mode(&kept), 0o755);
    }

    /// Two processes placing the same content-addressed folder at once both succeed; the
    /// first one placed stays whole.
    #[test]
    fn racing_placements_of_one_folder_both_succeed() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("tool-1.0");
        let barrier = std::sync::Barrier::new(2);
        let placed: Vec<Placed> = std::thread::scope(|s| {
            let racers: Vec<_> = ["a", "b"]
                .into_iter()
                .map(|who| {
                    let (dir, barrier) = (&dir, &barrier);
                    s.spawn(move || {
                        let tmp = temp_dir_beside(dir).unwrap();
                        std::fs::write(tmp.path().join("bin"), who).unwrap();
                        std::fs::write(tmp.path().join("lib"), who).unwrap();
                        barrier.wait();
                        place_dir(tmp.path(), dir).unwrap()
                    })
                })
                .collect();
            racers.into_iter().map(|r| r.join().unwrap()).collect()
        });
        let mut kinds = placed.clone();
        kinds.sort_by_key(|p| *p == Placed::AlreadyThere);
        assert_eq!(kinds, [Placed::New, Placed::AlreadyThere], "{placed:?}");
        // One install, whole: both files from the same winner.
        let bin = std::fs::read(dir.join("bin")).unwrap();
        assert_eq!(std::fs::read(dir.join("lib")).unwrap(), bin);
        assert_eq!(std::fs::read_dir(t.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_removed_folder_leaves_nothing_beside_it() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("entry");
        std::fs::create_dir_all(dir.join("dest/sub")).unwrap();
        std::fs::write(dir.join("dest/sub/f"), b"x").unwrap();
        remove_dir(&dir).unwrap();
        assert_eq!(std::fs::read_dir(t.path()).unwrap().count(), 0);
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
