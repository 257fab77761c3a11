//! Size caps for downloads and extraction, so that a hostile server or archive (an endless body,
//! a gzip bomb, a sparse entry claiming a terabyte) fails with an error instead of filling the
//! disk. The two byte caps can be changed through environment variables, read here and nowhere
//! else ([`Limits::from_env`]).

use std::cell::Cell;
use std::io::{self, Read};

use super::SourceError;

/// Environment variable overriding [`DEFAULT_MAX_DOWNLOAD`]: a size as [`crate::size::parse`]
/// reads it (`4294967296`, `64M`, `64MiB`, `16G`).
pub const ENV_MAX_DOWNLOAD: &str = "RECIPE_MAX_DOWNLOAD";

/// Environment variable overriding [`DEFAULT_MAX_EXTRACT`], in the same syntax.
pub const ENV_MAX_EXTRACT: &str = "RECIPE_MAX_EXTRACT";

/// Largest download kept, in bytes: 4 GiB. Real sources are far smaller (Qt 6's whole source is
/// about 50 MB as tar.xz). A `Content-Length` above it is refused before the body is read; a
/// body without one stops at the cap.
pub const DEFAULT_MAX_DOWNLOAD: u64 = 4 << 30;

/// Most bytes one archive may unpack to, in bytes: 16 GiB (Qt 6's source unpacks to about
/// 600 MB). Counted on the decompressed tar stream (headers included) and on the data of zip
/// entries, as they are read, so a bomb stops at the cap whatever its headers claim.
pub const DEFAULT_MAX_EXTRACT: u64 = 16 << 30;

/// Most entries one archive may hold: 1,000,000 (the Linux kernel has under 100,000 files).
pub const MAX_ENTRIES: u64 = 1_000_000;

/// Longest entry path or symlink target accepted, in bytes: 4096 (Linux's `PATH_MAX`).
pub const MAX_PATH_LEN: usize = 4096;

/// The caps one fetch or extraction runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest download, in bytes.
    pub max_download: u64,
    /// Most bytes one archive may unpack to.
    pub max_extract: u64,
    /// Most entries one archive may hold.
    pub max_entries: u64,
    /// Longest entry path or symlink target, in bytes.
    pub max_path_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_download: DEFAULT_MAX_DOWNLOAD,
            max_extract: DEFAULT_MAX_EXTRACT,
            max_entries: MAX_ENTRIES,
            max_path_len: MAX_PATH_LEN,
        }
    }
}

impl Limits {
    /// The defaults, with [`ENV_MAX_DOWNLOAD`] and [`ENV_MAX_EXTRACT`] applied when set. This
    /// is the only place those variables are read.
    pub fn from_env() -> Result<Limits, SourceError> {
        let mut limits = Limits::default();
        if let Some(v) = read_env(ENV_MAX_DOWNLOAD)? {
            limits.max_download = v;
        }
        if let Some(v) = read_env(ENV_MAX_EXTRACT)? {
            limits.max_extract = v;
        }
        Ok(limits)
    }
}

fn read_env(var: &'static str) -> Result<Option<u64>, SourceError> {
    crate::size::from_env(var).map_err(|value| SourceError::BadLimit { var, value })
}

/// What is left of a byte cap, shared by the readers that draw on it.
#[derive(Debug)]
pub(crate) struct Budget {
    left: Cell<u64>,
    hit: Cell<bool>,
}

impl Budget {
    pub(crate) fn new(cap: u64) -> Budget {
        Budget {
            left: Cell::new(cap),
            hit: Cell::new(false),
        }
    }

    /// True once a reader found more bytes than the cap allowed.
    pub(crate) fn exceeded(&self) -> bool {
        self.hit.get()
    }
}

/// A reader that fails with an error (and marks its [`Budget`] exceeded) as soon as it has more
/// bytes to give than the budget has left. Reaching the cap exactly at the end is fine.
pub(crate) struct Capped<'b, R> {
    inner: R,
    budget: &'b Budget,
}

impl<'b, R> Capped<'b, R> {
    pub(crate) fn new(inner: R, budget: &'b Budget) -> Self {
        Capped { inner, budget }
    }
}

impl<R: Read> Read for Capped<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let left = self.budget.left.get();
        if left == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => {
                    self.budget.hit.set(true);
                    Err(io::Error::other("size cap exceeded"))
                }
            };
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.budget.left.set(left - n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_reader_stops_at_the_cap() {
        let b = Budget::new(10);
        let mut out = Vec::new();
        assert!(
            Capped::new(&[0u8; 10][..], &b)
                .read_to_end(&mut out)
                .is_ok()
        );
        assert!(!b.exceeded());
        let b = Budget::new(10);
        let mut out = Vec::new();
        assert!(
            Capped::new(&[0u8; 11][..], &b)
                .read_to_end(&mut out)
                .is_err()
        );
        assert!(b.exceeded());
        assert_eq!(out.len(), 10);
    }
}
