//! Reading a tar stream (already decompressed) entry by entry, GNU long names and PAX headers
//! size-checked before they are read.

use std::io::Read;
use std::time::{Duration, SystemTime};

use super::super::SourceError;
use super::super::limits::Capped;
use super::{Extractor, Kind, bad};

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

impl Extractor<'_> {
    /// Reads a tar stream; the decompressed stream (headers, long names and skipped data
    /// included) counts against the extraction cap.
    ///
    /// Entries are read raw: GNU long names and links and PAX headers are read here, each only
    /// after its size is checked against a cap, so no header can make the reader allocate by a
    /// size it claims. They apply to the next entry as GNU tar applies them: a GNU long name
    /// first, then a PAX `path`, then the header's own name (the same for link targets).
    pub(super) fn tar(&mut self, reader: impl Read) -> Result<(), SourceError> {
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
}
