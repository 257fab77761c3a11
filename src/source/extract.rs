//! Safe archive extraction: tar (plain, gz, xz, bz2) and zip, sniffed by magic bytes, unpacked
//! into a temporary sibling of the destination and renamed into place only when all went well.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, BufReader, Read};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::limits::{Budget, Capped, Limits};
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
    if let Err(e) = fs::rename(&tmp_path, dest) {
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

    /// Reads a tar stream; the decompressed stream (headers, long names and skipped data
    /// included) counts against the extraction cap.
    ///
    /// Entries are read raw: GNU long names and links and PAX headers are read here, each only
    /// after its size is checked against a cap, so no header can make the reader allocate by a
    /// size it claims. They apply to the next entry as GNU tar applies them: a GNU long name
    /// first, then a PAX `path`, then the header's own name (the same for link targets).
    fn tar(&mut self, reader: impl Read) -> Result<(), SourceError> {
        use tar::EntryType as T;
        let mut archive = tar::Archive::new(Capped::new(reader, self.budget));
        let entries = archive
            .entries()
            .map_err(|e| bad(self.archive, format!("reading: {e}")))?
            .raw(true);
        let mut n = 0u64;
        let mut meta = TarMeta::default();
        for entry in entries {
            let mut entry = entry.map_err(|e| self.read_error(None, e))?;
            n += 1;
            self.count(n)?;
            let ty = entry.header().entry_type();
            if matches!(
                ty,
                T::GNULongName | T::GNULongLink | T::XHeader | T::XGlobalHeader
            ) {
                self.tar_meta(&mut entry, &mut meta)?;
                continue;
            }
            let this = std::mem::take(&mut meta);
            let raw = match this.gnu_name.or(this.pax_path) {
                Some(name) => name,
                None => entry.path_bytes().into_owned(),
            };
            let name = String::from_utf8_lossy(&raw).into_owned();
            self.current = Some(name.clone());
            if raw.len() > self.limits.max_path_len {
                return Err(self.refuse(
                    &name,
                    format!(
                        "its path is {} bytes long, over the cap of {}",
                        raw.len(),
                        self.limits.max_path_len
                    ),
                ));
            }
            if ty == T::GNUSparse || this.sparse {
                return Err(self.refuse(
                    &name,
                    "sparse entries are not supported (their holes would be written out in full)",
                ));
            }
            if let Some(size) = this.pax_size
                && entry.header().entry_size().ok() != Some(size)
            {
                return Err(self.refuse(
                    &name,
                    "its PAX `size` differs from its header's (not supported)",
                ));
            }
            let header = entry.header();
            let mode = header.mode().unwrap_or(0o644);
            let mtime = header
                .mtime()
                .ok()
                .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s));
            let link = match this.gnu_link.or(this.pax_link) {
                Some(l) => Some(l),
                None => entry.link_name_bytes().map(|l| l.into_owned()),
            };
            let kind = match ty {
                T::Regular | T::Continuous => Kind::File(&mut entry),
                T::Directory => Kind::Dir,
                T::Symlink => Kind::Symlink(link.unwrap_or_default()),
                T::Link => Kind::Hardlink(link.unwrap_or_default()),
                other => {
                    return Err(self.refuse(&name, format!("unsupported entry type {other:?}")));
                }
            };
            self.entry(&name, &raw, kind, mode, mtime)?;
        }
        Ok(())
    }

    /// Reads a GNU long name or link, or a PAX header, into `meta` for the next entry; its size
    /// is checked before any of it is read.
    fn tar_meta<R: Read>(
        &self,
        entry: &mut tar::Entry<'_, R>,
        meta: &mut TarMeta,
    ) -> Result<(), SourceError> {
        use tar::EntryType as T;
        let ty = entry.header().entry_type();
        let what = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let cap = match ty {
            T::GNULongName | T::GNULongLink => self.limits.max_path_len as u64 + 1,
            _ => MAX_PAX_HEADER,
        };
        let size = entry
            .header()
            .entry_size()
            .map_err(|e| bad(self.archive, format!("reading: {e}")))?;
        if size > cap {
            let reason = match ty {
                T::GNULongName | T::GNULongLink => format!(
                    "a GNU long name of {size} bytes, over the cap of {}",
                    self.limits.max_path_len
                ),
                _ => format!("a PAX header of {size} bytes, over the cap of {cap}"),
            };
            return Err(self.refuse(&what, reason));
        }
        let mut data = Vec::with_capacity(size as usize);
        entry
            .read_to_end(&mut data)
            .map_err(|e| self.read_error(Some(&what), e))?;
        let trimmed = |mut d: Vec<u8>| {
            if d.last() == Some(&0) {
                d.pop();
            }
            d
        };
        match ty {
            T::GNULongName => meta.gnu_name = Some(trimmed(data)),
            T::GNULongLink => meta.gnu_link = Some(trimmed(data)),
            T::XHeader => {
                for ext in tar::PaxExtensions::new(&data) {
                    let ext =
                        ext.map_err(|e| self.refuse(&what, format!("malformed PAX header: {e}")))?;
                    match ext.key_bytes() {
                        b"path" => meta.pax_path = Some(ext.value_bytes().to_vec()),
                        b"linkpath" => meta.pax_link = Some(ext.value_bytes().to_vec()),
                        b"size" => {
                            let v = ext.value().ok().and_then(|v| v.parse().ok());
                            let Some(v) = v else {
                                return Err(self.refuse(&what, "malformed PAX `size`"));
                            };
                            meta.pax_size = Some(v);
                        }
                        k if k.starts_with(b"GNU.sparse.") => meta.sparse = true,
                        _ => {}
                    }
                }
            }
            // A global PAX header changes nothing this extractor keeps.
            _ => {}
        }
        Ok(())
    }

    fn zip(&mut self, file: File) -> Result<(), SourceError> {
        let mut zip =
            zip::ZipArchive::new(file).map_err(|e| bad(self.archive, format!("reading: {e}")))?;
        self.count(zip.len() as u64)?;
        for i in 0..zip.len() {
            let f = zip
                .by_index(i)
                .map_err(|e| bad(self.archive, format!("reading: {e}")))?;
            let name = match f.name() {
                Ok(n) => n.into_owned(),
                Err(_) => String::from_utf8_lossy(f.name_raw()).into_owned(),
            };
            if name.len() > self.limits.max_path_len {
                return Err(self.refuse(
                    &name,
                    format!(
                        "its path is {} bytes long, over the cap of {}",
                        name.len(),
                        self.limits.max_path_len
                    ),
                ));
            }
            let is_dir = f.is_dir();
            let is_symlink = f.is_symlink();
            let mode = f.unix_mode().unwrap_or(if is_dir { 0o755 } else { 0o644 });
            let mtime = f.last_modified().and_then(zip_time);
            // The data of every entry counts against the extraction cap as it is inflated,
            // whatever size the zip's directory claims.
            let mut f = Capped::new(f, self.budget);
            let kind = if is_dir {
                Kind::Dir
            } else if is_symlink {
                let mut target = Vec::new();
                (&mut f)
                    .take(self.limits.max_path_len as u64 + 1)
                    .read_to_end(&mut target)
                    .map_err(|e| self.read_error(Some(&name), e))?;
                Kind::Symlink(target)
            } else {
                Kind::File(&mut f)
            };
            self.entry(&name, name.as_bytes(), kind, mode, mtime)?;
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
        let mut found = Vec::new();
        find_symlinks(self.root, Path::new(""), &mut found)
            .map_err(io_err(format!("walking {}", self.root.display())))?;
        for rel in found {
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

/// Longest PAX header read, in bytes: 1 MiB (real ones hold a few short records).
const MAX_PAX_HEADER: u64 = 1 << 20;

/// What GNU long-name and PAX headers said about the next tar entry.
#[derive(Default)]
struct TarMeta {
    gnu_name: Option<Vec<u8>>,
    gnu_link: Option<Vec<u8>>,
    pax_path: Option<Vec<u8>>,
    pax_link: Option<Vec<u8>>,
    pax_size: Option<u64>,
    /// A `GNU.sparse.*` record: the entry's data is a map of holes, not the file's bytes.
    sparse: bool,
}

fn join(comps: &[OsString]) -> PathBuf {
    comps.iter().collect()
}

/// Collects the relative paths of all symlinks under `root/rel`, without following any.
fn find_symlinks(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(root.join(rel))? {
        let entry = entry?;
        let t = entry.file_type()?;
        let child = rel.join(entry.file_name());
        if t.is_symlink() {
            out.push(child);
        } else if t.is_dir() {
            find_symlinks(root, &child, out)?;
        }
    }
    Ok(())
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

/// A zip timestamp (local time without a zone; taken as UTC) as a `SystemTime`.
fn zip_time(t: zip::DateTime) -> Option<SystemTime> {
    let (y, m, d) = (
        i64::from(t.year()),
        i64::from(t.month()),
        i64::from(t.day()),
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || y < 1970 {
        return None;
    }
    // Days from civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400
        + i64::from(t.hour()) * 3600
        + i64::from(t.minute()) * 60
        + i64::from(t.second());
    u64::try_from(secs)
        .ok()
        .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s))
}
