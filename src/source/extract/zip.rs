//! Reading a zip archive entry by entry (its central directory checked against the caps first).

use std::fs::File;
use std::io::Read;
use std::time::SystemTime;

use super::super::SourceError;
use super::super::limits::Capped;
use super::{Extractor, Kind, bad};

impl Extractor<'_> {
    pub(super) fn zip(&mut self, file: File) -> Result<(), SourceError> {
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
}

/// A zip timestamp (local time without a zone; taken as UTC) as a `SystemTime`; `None` for an
/// impossible date or one before 1970.
fn zip_time(t: zip::DateTime) -> Option<SystemTime> {
    let at = jiff::civil::DateTime::new(
        i16::try_from(t.year()).ok()?,
        i8::try_from(t.month()).ok()?,
        i8::try_from(t.day()).ok()?,
        i8::try_from(t.hour()).ok()?,
        i8::try_from(t.minute()).ok()?,
        i8::try_from(t.second()).ok()?,
        0,
    )
    .ok()?
    .to_zoned(jiff::tz::TimeZone::UTC)
    .ok()?
    .timestamp();
    (at.as_second() >= 0).then(|| SystemTime::from(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip_times_are_utc() {
        let secs = |t| {
            zip_time(t)
                .map(|s: SystemTime| s.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs())
        };
        let t = zip::DateTime::from_date_and_time(2020, 9, 13, 12, 26, 40).unwrap();
        assert_eq!(secs(t), Some(1_600_000_000));
        let t = zip::DateTime::from_date_and_time(2024, 2, 29, 0, 0, 0).unwrap();
        assert_eq!(secs(t), Some(1_709_164_800));
        assert_eq!(secs(zip::DateTime::default()), Some(315_532_800));
    }
}
