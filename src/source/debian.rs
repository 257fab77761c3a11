//! The Debian origin: a source package's file fetched straight from the mirror's pool, the main
//! archive first (`debian/pool/main/<prefix>/<package>/<file>`), then the security archive
//! (`debian-security/pool/updates/main/...`). No apt: the store checks the bytes against the
//! sha256 the recipe pins (which `recipe new`/`recipe update` took from a signed index).
//!
//! A pool path depends only on the package and the file name, not on the version: when the
//! pinned version's upload is gone from one archive but another version of the same package
//! ships the same file (a security update's `.orig` tarball is the point release's), the
//! other archive's copy is the same path, and the sha256 decides.
//!
//! The mirror is `RECIPE_DEBIAN_MIRROR` (read here, [`mirror`]), default
//! [`crate::debian::mirror::DEFAULT_MIRROR`].

use std::path::Path;

use super::download::{Fetched, check_file_name, check_name};
use super::limits::Limits;
use super::{DebianSource, SourceError};
use crate::debian::mirror::Mirror;
use crate::debian::suites::Archive;

/// The environment variable naming the mirror's base URL (under which `debian/` and
/// `debian-security/` live).
pub const ENV_MIRROR: &str = "RECIPE_DEBIAN_MIRROR";

/// The mirror: `RECIPE_DEBIAN_MIRROR`, or Debian's own redirector. This is the only reader of
/// the variable.
pub fn mirror() -> Result<Mirror, SourceError> {
    match std::env::var_os(ENV_MIRROR) {
        None => Ok(Mirror::default()),
        Some(v) if v.is_empty() => Ok(Mirror::default()),
        Some(v) => {
            let text = v.to_string_lossy().into_owned();
            Mirror::parse(&text).ok_or(SourceError::BadMirror { value: text })
        }
    }
}

/// The HTTP getter the origin uses (the URL origin's, handed in by the store so that origins
/// never import each other).
pub(crate) type Get = fn(&str, &Path, &Limits) -> Result<Fetched, SourceError>;

/// Fetches `d.file` from the pool of each archive in turn; the note says which URL served it.
pub(crate) fn download(
    d: &DebianSource,
    tmp_dir: &Path,
    limits: &Limits,
    get: Get,
) -> Result<(Fetched, Option<String>), SourceError> {
    check_name("debian package", &d.package)?;
    check_name("debian version", &d.version)?;
    check_file_name("debian source file", &d.file)?;
    if !d
        .package
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b))
    {
        return Err(SourceError::BadName {
            what: "debian package",
            value: d.package.clone(),
        });
    }
    let mirror = mirror()?;
    let mut errors = Vec::new();
    for archive in Archive::ALL {
        let url = mirror.pool_url(archive, &d.package, &d.file);
        match get(&url, tmp_dir, limits) {
            Ok(f) => return Ok((f, Some(format!("served by {url}")))),
            // A download over the cap is the same file in the other archive: stop here.
            Err(e @ (SourceError::DeclaredTooBig { .. } | SourceError::DownloadTooBig { .. })) => {
                return Err(e);
            }
            Err(e) => errors.push(e),
        }
    }
    Err(SourceError::NotInPool {
        file: d.file.clone(),
        mirror: mirror.base().to_string(),
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    thread_local! {
        static ASKED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    }

    fn demo() -> DebianSource {
        DebianSource {
            package: "libdemo".into(),
            version: "1.0-1+deb12u1".into(),
            file: "libdemo_1.0.orig.tar.gz".into(),
        }
    }

    /// Serves only URLs of the security archive.
    fn security_only(url: &str, tmp: &Path, l: &Limits) -> Result<Fetched, SourceError> {
        ASKED.with(|a| a.borrow_mut().push(url.to_string()));
        if url.contains("/debian-security/") {
            super::super::download::stream_to_temp(&mut &b"orig"[..], tmp, url, l.max_download)
        } else {
            Err(SourceError::HttpStatus {
                url: url.into(),
                status: 404,
            })
        }
    }

    fn nowhere(url: &str, _: &Path, _: &Limits) -> Result<Fetched, SourceError> {
        Err(SourceError::HttpStatus {
            url: url.into(),
            status: 404,
        })
    }

    #[test]
    fn the_main_archive_then_the_security_archive() {
        let t = tempfile::tempdir().unwrap();
        let (f, note) = download(&demo(), t.path(), &Limits::default(), security_only).unwrap();
        assert_eq!(std::fs::read(&f.path).unwrap(), b"orig");
        let asked = ASKED.with(|a| a.borrow().clone());
        assert_eq!(
            asked,
            [
                "http://deb.debian.org/debian/pool/main/libd/libdemo/libdemo_1.0.orig.tar.gz",
                "http://deb.debian.org/debian-security/pool/updates/main/libd/libdemo/libdemo_1.0.orig.tar.gz"
            ]
        );
        assert!(note.unwrap().contains("debian-security"));
        let e = download(&demo(), t.path(), &Limits::default(), nowhere)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.starts_with("libdemo_1.0.orig.tar.gz is in neither archive's pool"),
            "{e}"
        );
        assert_eq!(e.matches("http status 404").count(), 2, "{e}");
    }

    #[test]
    fn names_that_are_no_pool_path_are_refused() {
        let t = tempfile::tempdir().unwrap();
        for d in [
            DebianSource {
                file: "../x".into(),
                ..demo()
            },
            DebianSource {
                package: "Demo/x".into(),
                ..demo()
            },
        ] {
            let e = download(&d, t.path(), &Limits::default(), nowhere)
                .err()
                .unwrap();
            assert!(matches!(e, SourceError::BadName { .. }), "{e}");
        }
    }
}
