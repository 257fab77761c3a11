//! A source's own date: the default `SOURCE_DATE_EPOCH` of the images made from it. For a Debian
//! source package the newest entry of `debian/changelog` (its ` -- Name <mail>  DATE` line);
//! for a Go module its publication time, which the store recorded when it fetched the zip
//! ([`super::Store::date_of`]; the fetch fails without it, never falling back to the files);
//! otherwise the newest file mtime of the unpacked tree (a
//! tarball's entry times; a local folder has no date). Reproducible: it depends on the source's bytes (or, for a
//! local folder, its files' mtimes) alone, never on when it was unpacked; mtimes the unpacking
//! itself gave (entries the archive left undated) are not counted.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// The most bytes of `debian/changelog` read for its dates.
const MAX_CHANGELOG: u64 = 16 << 20;

/// The newest date of the changelog's entries, in seconds since the epoch: the trailer lines
/// (` -- Maintainer <mail>  Thu, 01 Feb 2024 10:00:00 +0100`) read as RFC 2822.
pub fn changelog_date(text: &str) -> Option<u64> {
    text.lines()
        .filter_map(|l| l.strip_prefix(" -- "))
        .filter_map(|l| l.split_once(">  ").map(|(_, date)| date.trim()))
        .filter_map(|d| jiff::fmt::rfc2822::parse(d).ok())
        .filter_map(|z| u64::try_from(z.timestamp().as_second()).ok())
        .max()
}

/// The newest mtime of the files and symlinks below `dir`, in seconds since the epoch, leaving
/// out those at or after `before` (given by whoever wrote them there, not by the source); None
/// when there are none or the folder cannot be read.
pub fn newest_mtime(dir: &Path, before: Option<SystemTime>) -> Option<u64> {
    let entries = crate::walk::walk(dir).ok()?;
    entries
        .iter()
        .filter(|e| !e.file_type.is_dir())
        .filter_map(|e| std::fs::symlink_metadata(&e.path).ok()?.modified().ok())
        .filter(|t| before.is_none_or(|b| *t < b))
        .filter_map(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .max()
}

/// The date of the unpacked Debian source package at `src`: its changelog's newest entry.
pub fn debian_date(src: &Path) -> Option<u64> {
    let changelog = src.join("debian/changelog");
    let (f, _) = crate::walk::open_regular(&changelog, false).ok()?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(f, MAX_CHANGELOG), &mut bytes).ok()?;
    changelog_date(&String::from_utf8_lossy(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changelog_newest_entry_wins() {
        let text = "\
redis (5:7.0.15-1~deb12u1) bookworm-security; urgency=medium

  * Fix CVE-2023-0001.

 -- Chris Lamb <lamby@debian.org>  Thu, 01 Feb 2024 10:00:00 +0100

redis (5:7.0.11-1) unstable; urgency=medium

  * New upstream release.

 -- Chris Lamb <lamby@debian.org>  Mon, 17 Apr 2023 09:00:00 +0000
";
        // 2024-02-01T09:00:00Z.
        assert_eq!(changelog_date(text), Some(1_706_778_000));
        assert_eq!(changelog_date("no trailer\n"), None);
        assert_eq!(changelog_date(" -- A <a@b>  not a date\n"), None);
    }

    #[test]
    fn newest_mtime_skips_folders_and_late_files() {
        let t = tempfile::tempdir().unwrap();
        let at = |s: u64| UNIX_EPOCH + std::time::Duration::from_secs(s);
        std::fs::create_dir(t.path().join("d")).unwrap();
        std::fs::write(t.path().join("d/a"), "a").unwrap();
        std::fs::write(t.path().join("b"), "b").unwrap();
        filetime::set_file_mtime(
            t.path().join("d/a"),
            filetime::FileTime::from_unix_time(1000, 0),
        )
        .unwrap();
        filetime::set_file_mtime(
            t.path().join("b"),
            filetime::FileTime::from_unix_time(500, 0),
        )
        .unwrap();
        filetime::set_file_mtime(
            t.path().join("d"),
            filetime::FileTime::from_unix_time(9000, 0),
        )
        .unwrap();
        assert_eq!(newest_mtime(t.path(), None), Some(1000));
        assert_eq!(newest_mtime(t.path(), Some(at(1000))), Some(500));
        assert_eq!(newest_mtime(&t.path().join("none"), None), None);
    }
}
