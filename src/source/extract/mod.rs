//! Safe archive extraction: tar (plain, gz, xz, bz2) and zip, sniffed by magic bytes, unpacked
//! into a temporary sibling of the destination and renamed into place only when all went well.
//! `tar.rs` and `zip.rs` read the formats; both hand each entry to the one [`Extractor`] here,
//! which checks its path, caps and links; `paths.rs` resolves links inside the tree.

mod paths;
mod tar;
mod zip;

use paths::join;
pub(crate) use paths::resolve_within;

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, BufReader, Read};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::limits::{Budget, Limits};
use super::{SourceError, io_err};

/// The archive formats [`extract`] understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    TarGz,
    TarXz,
    TarBz2,
    Tar,
    Zip,
}

/// Sniffs the format of `path` by its magic bytes (never by its name, which in the store is a
/// bare sha256).
pub fn sniff(path: &Path) -> Result<ArchiveKind, SourceError> {
    let mut file = File::open(path).map_err(io_err(format!("opening {}", path.display())))?;
    let mut buf = [0u8; 512];
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_err(format!("reading {}", path.display()))(e)),
        }
    }
    let head = &buf[..n];
    let kind = if head.starts_with(&[0x1f, 0x8b]) {
        ArchiveKind::TarGz
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        ArchiveKind::TarXz
    } else if head.starts_with(b"BZh") {
        ArchiveKind::TarBz2
    } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        ArchiveKind::Zip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Err(bad(path, "zstd-compressed archives are not supported"));
    } else if n == 512 && (&head[257..262] == b"ustar" || tar_checksum_ok(head)) {
        ArchiveKind::Tar
    } else {
        return Err(bad(
            path,
            "unknown archive format (not tar, tar.gz, tar.xz, tar.bz2 or zip)",
        ));
    };
    Ok(kind)
}

/// True when a 512-byte block is a tar header with a valid checksum (old v7 tars have no magic).
fn tar_checksum_ok(block: &[u8]) -> bool {
    if block.iter().all(|&b| b == 0) {
        return false;
    }
    let field = &block[148..156];
    let digits: String = field
        .iter()
        .map(|&b| b as char)
        .filter(|c| !matches!(c, ' ' | '\0'))
        .collect();
    let Ok(stored) = u32::from_str_radix(&digits, 8) else {
        return false;
    };
    let sum: u32 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                u32::from(b' ')
            } else {
                u32::from(b)
            }
        })
        .sum();
    sum == stored
}

fn bad(archive: &Path, reason: impl Into<String>) -> SourceError {
    SourceError::BadArchive {
        archive: archive.to_path_buf(),
        reason: reason.into(),
    }
}

/// Extracts `archive` into `dest`, removing the first `strip` path components of every entry
/// (like `tar --strip-components`; entries with no more components than that are skipped). For
/// a Go module zip, `strip` is [`super::go_module_strip`] of the module path.
///
/// `dest` is created and must be absent or an empty directory; its parent is created if
/// needed. Everything is unpacked into a temporary sibling directory and renamed to `dest` at
/// the end, so on error nothing partial is left (and `dest` is as it was).
///
/// Safety: refused, with the entry named, are entries whose path is absolute or contains `..`;
/// entries that would be written through a symlink (any symlink: like GNU tar, symlinks from the
/// archive are never followed while extracting); symlinks whose target is absolute or resolves
/// outside `dest` (resolved the way the kernel would, through the other symlinks of the tree,
/// once when created and again when all is extracted); hard links whose target is not a
/// regular file already extracted; devices and fifos.
///
/// Modes: permission bits are kept (exec bits included) but setuid, setgid and sticky bits are
/// dropped, and the owner can always read and write files and enter directories. Ownership is
/// never changed. Modification times are kept (builds compare them).
///
/// Size: the caps of [`Limits::from_env`] apply (see [`extract_with`]).
pub fn extract(archive: &Path, dest: &Path, strip: usize) -> Result<(), SourceError> {
    extract_with(archive, dest, strip, &Limits::from_env()?)
}

/// [`extract`] under explicit caps. Refused, with nothing left behind: more than
/// `limits.max_extract` bytes unpacked (the decompressed tar stream, or the data of zip
/// entries, counted as it is read, whatever the headers claim), more than `limits.max_entries`
/// entries, an entry path or symlink target longer than `limits.max_path_len` bytes, and sparse
/// tar entries (GNU `S` entries and PAX `GNU.sparse.*` ones: their holes would be written out
/// as zeros, and real source tarballs never use them).
pub fn extract_with(
    archive: &Path,
    dest: &Path,
    strip: usize,
    limits: &Limits,
) -> Result<(), SourceError> {
    let kind = sniff(archive)?;
    match fs::symlink_metadata(dest) {
        Ok(meta) => {
            let empty = meta.is_dir()
                && fs::read_dir(dest)
                    .map_err(io_err(format!("reading {}", dest.display())))?
                    .next()
                    .is_none();
            if !empty {
                return Err(SourceError::DestNotEmpty(dest.to_path_buf()));
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(format!("checking {}", dest.display()))(e)),
    }
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io_err(format!("creating {}", parent.display())))?;
    let tmp = tempfile::Builder::new()
        .prefix(".recipe-extract-")
        .tempdir_in(&parent)
        .map_err(io_err(format!(
            "creating a temporary directory in {}",
            parent.display()
        )))?;

    let budget = Budget::new(limits.max_extract);
    let mut x = Extractor {
        archive,
        root: tmp.path(),
        strip,
        dirs: Vec::new(),
        symlinks: HashMap::new(),
        limits,
        budget: &budget,
        current: None,
    };
    let file = File::open(archive).map_err(io_err(format!("opening {}", archive.display())))?;
    let reader = BufReader::with_capacity(1 << 16, file);
    match kind {
        ArchiveKind::TarGz => x.tar(flate2::read::MultiGzDecoder::new(reader))?,
        ArchiveKind::TarXz => x.tar(liblzma::read::XzDecoder::new_multi_decoder(reader))?,
        ArchiveKind::TarBz2 => x.tar(bzip2::read::MultiBzDecoder::new(reader))?,
        ArchiveKind::Tar => x.tar(reader)?,
        ArchiveKind::Zip => x.zip(reader.into_inner())?,
    }
    x.finish()?;
    fs::set_permissions(tmp.path(), Permissions::from_mode(0o755)).map_err(io_err(format!(
        "setting the mode of {}",
        tmp.path().display()
    )))?;
    let tmp_path = tmp.keep();
    if let Err(e) = crate::publish::move_path(&tmp_path, dest) {
        let _ = fs::remove_dir_all(&tmp_path);
        return Err(io_err(format!(
            "moving the extracted tree to {}",
            dest.display()
        ))(e));
    }
    Ok(())
}

/// What an archive entry is.
enum Kind<'r> {
    Dir,
    File(&'r mut dyn Read),
    Symlink(Vec<u8>),
    Hardlink(Vec<u8>),
}

/// One extraction in progress into `root` (the temporary directory).
struct Extractor<'a> {
    archive: &'a Path,
    root: &'a Path,
    strip: usize,
    /// Directories from the archive: (relative path, mode, mtime), applied at the end.
    dirs: Vec<(PathBuf, u32, Option<SystemTime>)>,
    /// Symlinks created: relative path -> entry name, to check them all again at the end.
    symlinks: HashMap<PathBuf, String>,
    limits: &'a Limits,
    /// What is left of `limits.max_extract`.
    budget: &'a Budget,
    /// The entry being read (or whose data is being skipped), for errors.
    current: Option<String>,
}

impl Extractor<'_> {
    fn refuse(&self, entry: &str, reason: impl Into<String>) -> SourceError {
        SourceError::UnsafeEntry {
            archive: self.archive.to_path_buf(),
            entry: entry.to_string(),
            reason: reason.into(),
        }
    }

    /// The error for a failed read: the extraction cap when that is what stopped it.
    fn read_error(&self, entry: Option<&str>, e: io::Error) -> SourceError {
        if self.budget.exceeded() {
            return SourceError::ExtractTooBig {
                archive: self.archive.to_path_buf(),
                entry: entry
                    .or(self.current.as_deref())
                    .unwrap_or("(the first header)")
                    .to_string(),
                cap: self.limits.max_extract,
            };
        }
        match entry {
            Some(name) => bad(self.archive, format!("reading entry {name:?}: {e}")),
            None => bad(self.archive, format!("reading: {e}")),
        }
    }

    /// Counts one more entry against `limits.max_entries`.
    fn count(&self, n: u64) -> Result<(), SourceError> {
        if n > self.limits.max_entries {
            return Err(SourceError::TooManyEntries {
                archive: self.archive.to_path_buf(),
                cap: self.limits.max_entries,
            });
        }
        Ok(())
    }

    /// Checks an entry's path and returns its components after stripping, or `None` when
    /// stripping leaves nothing.
    fn rel_components(
        &self,
        entry: &str,
        raw: &[u8],
    ) -> Result<Option<Vec<OsString>>, SourceError> {
        if raw.is_empty() {
            return Err(self.refuse(entry, "empty path"));
        }
        if raw.starts_with(b"/") {
            return Err(self.refuse(entry, "absolute path"));
        }
        let mut comps = Vec::new();
        for c in raw.split(|&b| b == b'/') {
            match c {
                b"" | b"." => {}
                b".." => return Err(self.refuse(entry, "path contains \"..\"")),
                _ => comps.push(OsString::from_vec(c.to_vec())),
            }
        }
        if comps.len() <= self.strip {
            return Ok(None);
        }
        Ok(Some(comps.split_off(self.strip)))
    }

    /// Makes sure every parent of `comps` is a real directory (creating missing ones, refusing
    /// symlinks) and returns the entry's full path.
    fn prepare_parents(&self, entry: &str, comps: &[OsString]) -> Result<PathBuf, SourceError> {
        let mut path = self.root.to_path_buf();
        for (i, c) in comps[..comps.len() - 1].iter().enumerate() {
            path.push(c);
            match fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_symlink() => {
                    let through = join(&comps[..=i]);
                    return Err(self.refuse(
                        entry,
                        format!(
                            "it would be written through the symlink {}",
                            through.display()
                        ),
                    ));
                }
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    let parent = join(&comps[..=i]);
                    return Err(self.refuse(
                        entry,
                        format!("its parent {} is not a directory", parent.display()),
                    ));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    fs::create_dir(&path)
                        .map_err(io_err(format!("creating {}", path.display())))?;
                }
                Err(e) => return Err(io_err(format!("checking {}", path.display()))(e)),
            }
        }
        path.push(&comps[comps.len() - 1]);
        Ok(path)
    }

    /// Removes whatever non-directory sits at `path`, so that creating the new entry never
    /// follows an old symlink. A directory there is refused.
    fn clear(&self, entry: &str, path: &Path) -> Result<(), SourceError> {
        match fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => Err(self.refuse(entry, "it would replace a directory")),
            Ok(_) => fs::remove_file(path).map_err(io_err(format!("removing {}", path.display()))),
            Err(_) => Ok(()),
        }
    }

    /// Writes one entry: a directory, file, symlink or hard link, its name checked and its
    /// parents made (never through a symlink).
    fn entry(
        &mut self,
        name: &str,
        raw: &[u8],
        kind: Kind<'_>,
        mode: u32,
        mtime: Option<SystemTime>,
    ) -> Result<(), SourceError> {
        let Some(comps) = self.rel_components(name, raw)? else {
            return Ok(());
        };
        let path = self.prepare_parents(name, &comps)?;
        let rel = join(&comps);
        match kind {
            Kind::Dir => {
                match fs::symlink_metadata(&path) {
                    Ok(m) if m.is_dir() => {}
                    Ok(_) => {
                        self.clear(name, &path)?;
                        fs::create_dir(&path)
                            .map_err(io_err(format!("creating {}", path.display())))?;
                    }
                    Err(_) => {
                        fs::create_dir(&path)
                            .map_err(io_err(format!("creating {}", path.display())))?;
                    }
                }
                self.symlinks.remove(&rel);
                self.dirs.push((rel, mode, mtime));
            }
            Kind::File(reader) => {
                self.clear(name, &path)?;
                self.symlinks.remove(&rel);
                self.file(name, &path, reader, mode, mtime)?;
            }
            Kind::Symlink(target) => {
                self.symlink(name, &comps, &path, &target)?;
                self.symlinks.insert(rel, name.to_string());
            }
            Kind::Hardlink(target) => {
                let tpath = self.hardlink_target(name, &target)?;
                if tpath == path {
                    return Ok(());
                }
                self.clear(name, &path)?;
                self.symlinks.remove(&rel);
                fs::hard_link(&tpath, &path)
                    .map_err(io_err(format!("creating hard link {}", path.display())))?;
            }
        }
        Ok(())
    }

    /// A new regular file at `path` (nothing there now) with `reader`'s bytes, its mode (owner
    /// read and write always) and mtime.
    fn file(
        &self,
        name: &str,
        path: &Path,
        reader: &mut dyn Read,
        mode: u32,
        mtime: Option<SystemTime>,
    ) -> Result<(), SourceError> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(io_err(format!("creating {}", path.display())))?;
        io::copy(reader, &mut f).map_err(|e| self.read_error(Some(name), e))?;
        f.set_permissions(Permissions::from_mode((mode & 0o777) | 0o600))
            .map_err(io_err(format!("setting the mode of {}", path.display())))?;
        if let Some(t) = mtime {
            f.set_modified(t)
                .map_err(io_err(format!("setting the mtime of {}", path.display())))?;
        }
        Ok(())
    }

    /// A symlink at `path` to `target`, which must resolve inside the tree.
    fn symlink(
        &self,
        name: &str,
        comps: &[OsString],
        path: &Path,
        target: &[u8],
    ) -> Result<(), SourceError> {
        if target.is_empty() {
            return Err(self.refuse(name, "symlink with an empty target"));
        }
        if target.len() > self.limits.max_path_len {
            return Err(self.refuse(
                name,
                format!(
                    "its symlink target is over the cap of {} bytes",
                    self.limits.max_path_len
                ),
            ));
        }
        resolve_within(self.root, &comps[..comps.len() - 1], target).map_err(|why| {
            self.refuse(
                name,
                format!("symlink target {:?} {why}", String::from_utf8_lossy(target)),
            )
        })?;
        self.clear(name, path)?;
        std::os::unix::fs::symlink(OsStr::from_bytes(target), path)
            .map_err(io_err(format!("creating symlink {}", path.display())))
    }

    /// Where a hard link's target is: a regular file inside the tree, extracted before it, not
    /// reached through a symlink.
    fn hardlink_target(&self, name: &str, target: &[u8]) -> Result<PathBuf, SourceError> {
        let target_name = String::from_utf8_lossy(target).into_owned();
        let tcomps = match self.rel_components(&target_name, target) {
            Ok(Some(t)) => t,
            Ok(None) => {
                return Err(self.refuse(
                    name,
                    format!("hard link target {target_name:?} is outside the extracted tree"),
                ));
            }
            Err(e) => {
                return Err(self.refuse(name, format!("hard link target refused: {e}")));
            }
        };
        let mut tpath = self.root.to_path_buf();
        for c in &tcomps {
            tpath.push(c);
            match fs::symlink_metadata(&tpath) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(self.refuse(
                        name,
                        format!("hard link target {target_name:?} goes through a symlink"),
                    ));
                }
                Ok(_) => {}
                Err(_) => {
                    return Err(self.refuse(
                        name,
                        format!("hard link target {target_name:?} was not extracted before it"),
                    ));
                }
            }
        }
        if !fs::symlink_metadata(&tpath).is_ok_and(|m| m.is_file()) {
            return Err(self.refuse(
                name,
                format!("hard link target {target_name:?} is not a regular file"),
            ));
        }
        Ok(tpath)
    }

    /// Checks every symlink again against the final tree, then applies directory modes and
    /// mtimes (deepest first, after their contents are written).
    fn finish(&mut self) -> Result<(), SourceError> {
        let found = crate::walk::walk(self.root)
            .map_err(|e| io_err(format!("walking {}", self.root.display()))(e.source))?;
        for rel in found
            .into_iter()
            .filter(|e| e.file_type.is_symlink())
            .map(|e| e.rel)
        {
            let full = self.root.join(&rel);
            let target = fs::read_link(&full)
                .map_err(io_err(format!("reading symlink {}", full.display())))?;
            let parent: Vec<OsString> = rel
                .parent()
                .map(|p| p.iter().map(OsStr::to_os_string).collect())
                .unwrap_or_default();
            if let Err(why) = resolve_within(self.root, &parent, target.as_os_str().as_bytes()) {
                let entry = self
                    .symlinks
                    .get(&rel)
                    .cloned()
                    .unwrap_or_else(|| rel.display().to_string());
                return Err(self.refuse(
                    &entry,
                    format!("symlink target {:?} {why}", target.display().to_string()),
                ));
            }
        }
        let mut dirs = std::mem::take(&mut self.dirs);
        dirs.sort_by_key(|(rel, _, _)| std::cmp::Reverse(rel.components().count()));
        for (rel, mode, mtime) in dirs {
            let path = self.root.join(&rel);
            fs::set_permissions(&path, Permissions::from_mode((mode & 0o777) | 0o700))
                .map_err(io_err(format!("setting the mode of {}", path.display())))?;
            if let Some(t) = mtime {
                File::open(&path)
                    .and_then(|d| d.set_modified(t))
                    .map_err(io_err(format!("setting the mtime of {}", path.display())))?;
            }
        }
        Ok(())
    }
}
