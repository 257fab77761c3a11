//! The content-addressed store: `<root>/sha256/<hex>`, filled only with verified bytes, and
//! `<root>/dates/<hex>`, when such a file was published where its origin says so (a Go module
//! version's `.info` `Time`: a function of the module version, so of the bytes). The folder
//! names are `cache::layout::Sources`'s.
//!
//! Invariant: a fetch of a source with a `go-module` origin returns only once `dates/<hex>`
//! holds the module proxy's `.info` `Time`, whichever origin gave the bytes (or the store
//! already held them); when the proxy gives none the fetch fails
//! ([`SourceError::GoModuleUndated`]). Only a store for runs with an explicit
//! `SOURCE_DATE_EPOCH` ([`Store::with_explicit_date`]), whose builds do not use the source's
//! date, lets such a source go undated. So the same source always gets the same date, never
//! one taken from its files.

use std::fs;
use std::path::{Path, PathBuf};

use super::download::sha256_file;
use super::limits::Limits;
use super::{Fetch, Origin, SourceError, debian, gomod, http, io_err, pypi};
use crate::cache::layout::Sources;

/// A content-addressed store of downloaded files. Every file in it lives at
/// `<root>/sha256/<hex>` and was verified before it was moved there; downloads in progress live
/// in `<root>/tmp` (same filesystem, so the final move is an atomic rename).
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    /// Caps given with [`Store::with_limits`]; `None` reads them with [`Limits::from_env`] at
    /// each fetch.
    limits: Option<Limits>,
    /// The pinned Go's own `go` binary, for Go module origins ([`Store::with_go`]); without
    /// it, `go` from PATH.
    go: Option<PathBuf>,
    /// The run gives an explicit `SOURCE_DATE_EPOCH`: a Go module's date is not needed.
    explicit_date: bool,
}

impl Store {
    /// A store rooted at `root` (created on first fetch).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Store {
            root: root.into(),
            limits: None,
            go: None,
            explicit_date: false,
        }
    }

    /// Fetches Go modules with this `go` binary (the pinned toolchain's, run with
    /// `GOTOOLCHAIN=local`), not whatever `go` is on PATH.
    pub fn with_go(mut self, go: PathBuf) -> Self {
        self.go = Some(go);
        self
    }

    /// For a run whose builds are dated by an explicit `SOURCE_DATE_EPOCH` (`explicit`): a Go
    /// module source's own date is then not needed, and a fetch does not fail (nor ask the
    /// proxy) for want of it.
    pub fn with_explicit_date(mut self, explicit: bool) -> Self {
        self.explicit_date = explicit;
        self
    }

    /// A store whose downloads run under `limits` instead of the environment's.
    pub fn with_limits(root: impl Into<PathBuf>, limits: Limits) -> Self {
        Store {
            root: root.into(),
            limits: Some(limits),
            go: None,
            explicit_date: false,
        }
    }

    /// The store's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a file with this sha256 lives (or would live) in the store.
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        Sources::at(&self.root).blob(sha256)
    }

    /// Where downloads in progress go.
    /// Removes what a killed fetch left in `<root>/tmp`: entries not written to for `age`
    /// (a fetch still running keeps writing, so its files stay young). Returns how many were
    /// removed and their bytes.
    pub fn gc_tmp(&self, age: std::time::Duration) -> (usize, u64) {
        let (mut n, mut bytes) = (0, 0);
        let now = std::time::SystemTime::now();
        for e in fs::read_dir(self.tmp_dir()).into_iter().flatten().flatten() {
            let Ok(meta) = e.path().symlink_metadata() else {
                continue;
            };
            let idle = meta
                .modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .is_some_and(|d| d >= age);
            if !idle {
                continue;
            }
            let size = if meta.is_dir() {
                crate::cache::dir_size(&e.path())
            } else {
                meta.len()
            };
            let gone = if meta.is_dir() {
                fs::remove_dir_all(e.path())
            } else {
                fs::remove_file(e.path())
            };
            if gone.is_ok() {
                n += 1;
                bytes += size;
            }
        }
        (n, bytes)
    }

    pub(crate) fn tmp_dir(&self) -> PathBuf {
        Sources::at(&self.root).tmp()
    }

    /// Returns the path of a verified file with that sha256.
    ///
    /// A file already in the store is re-hashed (cheap next to a build) and, if it no longer
    /// matches, removed and fetched again. Otherwise each origin is tried in turn: its bytes go
    /// to a temporary file inside `<root>/tmp` (a URL is hashed while it streams to disk), are
    /// verified, and are renamed into place. A mismatch is refused with
    /// `sha256 mismatch for ORIGIN: expected X, got Y`, nothing is stored and the temporary file
    /// is removed. If no origin works, the error lists every origin's error.
    ///
    /// A download larger than the cap ([`Limits::max_download`], `RECIPE_MAX_DOWNLOAD`) fails
    /// like any other origin error and leaves no file behind.
    ///
    /// A source with a Go module origin is also dated ([`Store::date_of`]) before this returns,
    /// whichever origin gave the bytes: the proxy's `.info` is asked for when `go mod download`
    /// did not give it; without it the fetch fails with [`SourceError::GoModuleUndated`]
    /// (unless [`Store::with_explicit_date`]).
    pub fn fetch(&self, f: &Fetch, progress: &mut dyn FnMut(&str)) -> Result<PathBuf, SourceError> {
        let sha256 = normalize_sha256(&f.sha256)?;
        let limits = match self.limits {
            Some(l) => l,
            None => Limits::from_env()?,
        };
        let dest = self.path_of(&sha256);
        if dest.is_file() {
            let got = sha256_file(&dest).map_err(io_err(format!("reading {}", dest.display())))?;
            if got == sha256 {
                self.date_fetch(f, &sha256, None)?;
                return Ok(dest);
            }
            progress(&format!(
                "stored {} is corrupt (sha256 {got}); removing it and fetching again",
                dest.display()
            ));
            fs::remove_file(&dest).map_err(io_err(format!("removing {}", dest.display())))?;
        }
        if f.origins.is_empty() {
            return Err(SourceError::NoOrigins(sha256));
        }
        let tmp = self.tmp_dir();
        fs::create_dir_all(&tmp).map_err(io_err(format!("creating {}", tmp.display())))?;
        let sha_dir = Sources::at(&self.root).blobs();
        fs::create_dir_all(&sha_dir).map_err(io_err(format!("creating {}", sha_dir.display())))?;

        let mut errors = Vec::new();
        for origin in &f.origins {
            progress(&format!("fetching {origin}"));
            match self.try_origin(origin, &sha256, &dest, &limits) {
                Ok((note, published)) => {
                    if let Some(note) = note {
                        progress(&note);
                    }
                    progress(&format!("stored sha256 {sha256} from {origin}"));
                    self.date_fetch(f, &sha256, published)?;
                    return Ok(dest);
                }
                Err(e) => {
                    progress(&format!("failed: {e}"));
                    errors.push(e);
                }
            }
        }
        Err(SourceError::AllOriginsFailed { sha256, errors })
    }

    /// Fetches from one origin without a pin, for `recipe new` writing the pin: the bytes are
    /// hashed by us as they arrive (go has checked a module zip against the checksum database) and stored under that sha256. Returns the
    /// stored path and its sha256. The download cap applies as for [`Store::fetch`].
    pub fn fetch_unpinned(
        &self,
        origin: &Origin,
        progress: &mut dyn FnMut(&str),
    ) -> Result<(PathBuf, String), SourceError> {
        let limits = match self.limits {
            Some(l) => l,
            None => Limits::from_env()?,
        };
        let tmp = self.tmp_dir();
        fs::create_dir_all(&tmp).map_err(io_err(format!("creating {}", tmp.display())))?;
        let sha_dir = Sources::at(&self.root).blobs();
        fs::create_dir_all(&sha_dir).map_err(io_err(format!("creating {}", sha_dir.display())))?;
        progress(&format!("fetching {origin}"));
        let got = self.download(origin, &tmp, &limits)?;
        let sha256 = got.fetched.sha256.clone();
        let dest = self.path_of(&sha256);
        if !dest.is_file() {
            got.fetched
                .move_to(&dest)
                .map_err(io_err(format!("moving download into {}", dest.display())))?;
        }
        progress(&format!("stored sha256 {sha256} from {origin}"));
        if let Origin::GoModule { module, version } = origin {
            self.date_module(module, version, &sha256, got.published)?;
        }
        Ok((dest, sha256))
    }

    /// When the file `sha256` was published, as its origin said when it was fetched (a Go
    /// module version's `.info` `Time`); None for other sources, and for a Go module fetched
    /// only in runs with an explicit `SOURCE_DATE_EPOCH`.
    pub fn date_of(&self, sha256: &str) -> Option<u64> {
        let path = Sources::at(&self.root).date(&sha256.to_ascii_lowercase());
        fs::read_to_string(path).ok()?.trim().parse().ok()
    }

    /// Dates the verified file `sha256` of `f` if `f` has a Go module origin (the first one
    /// names the module version): see [`Store::date_module`]. `published` is what that origin
    /// said, when it gave the bytes.
    fn date_fetch(
        &self,
        f: &Fetch,
        sha256: &str,
        published: Option<gomod::Published>,
    ) -> Result<(), SourceError> {
        let module = f.origins.iter().find_map(|o| match o {
            Origin::GoModule { module, version } => Some((module, version)),
            _ => None,
        });
        match module {
            Some((module, version)) => self.date_module(module, version, sha256, published),
            None => Ok(()),
        }
    }

    /// Makes sure `dates/HEX` holds when `module@version` (the file `sha256`) was published:
    /// kept from an earlier fetch, else what `go mod download` said (`published`, when the Go
    /// module origin gave the bytes), else the proxy's `.info` asked for now (when another
    /// origin gave the bytes, or the store held them undated). Fails naming the module when no
    /// date can be had, unless the run's date is explicit: never a date from the files.
    fn date_module(
        &self,
        module: &str,
        version: &str,
        sha256: &str,
        published: Option<gomod::Published>,
    ) -> Result<(), SourceError> {
        if self.date_of(sha256).is_some() {
            return Ok(());
        }
        let published = match published {
            Some(p) => p,
            None if self.explicit_date => return Ok(()),
            None => {
                let tmp = self.tmp_dir();
                fs::create_dir_all(&tmp)
                    .map_err(|e| format!("cannot create {}: {e}", tmp.display()))
                    .and_then(|()| gomod::published(self.go.as_deref(), module, version, &tmp))
            }
        };
        match published {
            Ok(date) => self.write_date(sha256, date).map_err(io_err(format!(
                "recording when go module {module}@{version} was published"
            ))),
            Err(_) if self.explicit_date => Ok(()),
            Err(why) => Err(SourceError::GoModuleUndated {
                module: module.to_string(),
                version: version.to_string(),
                why,
            }),
        }
    }

    /// Writes `dates/HEX` whole (a temporary file renamed into place).
    fn write_date(&self, sha256: &str, date: u64) -> std::io::Result<()> {
        let path = Sources::at(&self.root).date(sha256);
        fs::create_dir_all(path.parent().unwrap_or(&self.root))?;
        crate::publish::write_file(&path, format!("{date}\n").as_bytes())
    }

    /// Downloads from `origin` into `tmp` (the note says where a Debian file came from),
    /// within the download cap.
    fn download(
        &self,
        origin: &Origin,
        tmp: &Path,
        limits: &Limits,
    ) -> Result<Downloaded, SourceError> {
        let mut note = None;
        let mut published = None;
        let fetched = match origin {
            Origin::Url(url) => http::download(url, tmp, limits)?,
            Origin::Debian(d) => {
                let (f, n) = debian::download(d, tmp, limits, http::download)?;
                note = n;
                f
            }
            Origin::GoModule { module, version } => {
                let (f, p) = gomod::download(self.go.as_deref(), module, version, tmp)?;
                published = Some(p);
                f
            }
            Origin::Pypi {
                package,
                version,
                file,
            } => pypi::download(package, version, file, tmp)?,
        };
        // go and pip write their files themselves; a file over the cap is refused here
        // (and removed when `fetched` is dropped).
        let size = fs::metadata(&fetched.path)
            .map_err(io_err(format!("reading {}", fetched.path.display())))?
            .len();
        if size > limits.max_download {
            return Err(SourceError::DownloadTooBig {
                what: origin.to_string(),
                cap: limits.max_download,
            });
        }
        Ok(Downloaded {
            fetched,
            note,
            published,
        })
    }

    /// Fetches from `origin` and stores the bytes at `dest` if their sha256 is `sha256`: the
    /// origin's note, and when it says the bytes were published.
    fn try_origin(
        &self,
        origin: &Origin,
        sha256: &str,
        dest: &Path,
        limits: &Limits,
    ) -> Result<(Option<String>, Option<gomod::Published>), SourceError> {
        let tmp = self.tmp_dir();
        let Downloaded {
            fetched,
            note,
            published,
        } = self.download(origin, &tmp, limits)?;
        if fetched.sha256 != sha256 {
            // Dropping `fetched` removes the temporary file or directory.
            return Err(SourceError::Mismatch {
                origin: match &note {
                    Some(n) => format!("{origin} ({n})"),
                    None => origin.to_string(),
                },
                expected: sha256.to_string(),
                got: fetched.sha256,
            });
        }
        fetched
            .move_to(dest)
            .map_err(io_err(format!("moving download into {}", dest.display())))?;
        Ok((note, published))
    }
}

/// What one origin gave: the bytes, a note on where they came from, and (for a Go module)
/// when they were published.
struct Downloaded {
    fetched: super::download::Fetched,
    note: Option<String>,
    published: Option<gomod::Published>,
}

/// Checks a sha256 string (64 hex digits) and returns it in lowercase.
pub(crate) fn normalize_sha256(s: &str) -> Result<String, SourceError> {
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(SourceError::BadSha256(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gc_tmp_removes_only_idle_leftovers() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::new(t.path());
        fs::create_dir_all(store.tmp_dir().join("apt-source-x")).unwrap();
        fs::write(store.tmp_dir().join("apt-source-x/a.tar"), b"12345").unwrap();
        fs::write(store.tmp_dir().join("download-y"), b"123").unwrap();
        fs::write(store.tmp_dir().join("fresh"), b"1").unwrap();
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        for p in ["apt-source-x", "download-y"] {
            fs::File::open(store.tmp_dir().join(p))
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
        assert_eq!(store.gc_tmp(std::time::Duration::from_secs(3600)), (2, 8));
        assert!(store.tmp_dir().join("fresh").is_file());
    }
}
