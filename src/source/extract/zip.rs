//! Reading a zip archive entry by entry (its central directory checked against the caps first).

use std::fs::File;
use std::io::Read;
use std::time::{Duration, SystemTime};

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
