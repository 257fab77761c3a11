//! Fetch and extract: a content-addressed download store pinned by sha256, and safe archive
//! extraction.
//!
//! A recipe pins every source by the sha256 of its bytes and names one or more [`Origin`]s to
//! get them from: a URL, a Debian source package (apt checks it against the signed archive
//! index), a Go module (through the Go module proxy) or a PyPI file (`pip download`). [`Store::fetch`] tries them in order and
//! keeps only bytes whose sha256 matches, under `<root>/sha256/<hex>`. [`extract`] unpacks the
//! result (tar.gz, tar.xz, tar.bz2, tar or zip, sniffed by magic bytes) without ever writing
//! outside the destination.

pub mod crates;
pub mod date;
mod debian;
mod download;
mod extract;
mod fingerprint;
mod gomod;
mod http;
pub mod limits;
mod pypi;
mod store;

use std::fmt;
use std::path::PathBuf;

pub use debian::{ENV_MIRROR as ENV_DEBIAN_MIRROR, mirror as debian_mirror};
pub use download::sha256_file;
pub use extract::{ArchiveKind, extract, extract_with, sniff};
pub use fingerprint::fingerprint_dir;
pub(crate) use fingerprint::{checked_symlink, open_regular, source_tree};
pub use gomod::{LocalReplace, check_local_replaces, go_module_strip, local_replaces};
pub use limits::Limits;
pub use store::Store;

/// A file of a Debian source package, fetched from the mirror's pool (`debian.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebianSource {
    /// Source (or binary) package name, e.g. `redis`.
    pub package: String,
    /// Exact Debian version, epoch included, e.g. `5:7.0.15-1~deb12u1`.
    pub version: String,
    /// The file of the source package whose bytes the sha256 pins, e.g.
    /// `redis_7.0.15.orig.tar.gz`.
    pub file: String,
}

/// Where the bytes of a [`Fetch`] may be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// An `http://` or `https://` URL; redirects are followed.
    Url(String),
    /// A file of a Debian source package.
    Debian(DebianSource),
    /// A Go module's zip as the Go module proxy serves it (`go mod download`). Its entries are
    /// prefixed `MODULE@VERSION/`: extract it with [`go_module_strip`] components stripped.
    GoModule { module: String, version: String },
    /// A file PyPI distributes for `package==version` (`pip download`), e.g. a wheel.
    Pypi {
        package: String,
        version: String,
        file: String,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Url(url) => write!(f, "{url}"),
            Origin::Debian(d) => {
                write!(f, "debian source {}={} ({})", d.package, d.version, d.file)
            }
            Origin::GoModule { module, version } => write!(f, "go module {module}@{version}"),
            Origin::Pypi {
                package,
                version,
                file,
            } => write!(f, "pypi {package}=={version} ({file})"),
        }
    }
}

/// One pinned source: its sha256 and the origins to try, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    /// Lowercase hex, 64 characters.
    pub sha256: String,
    /// Tried in order until one gives the right bytes.
    pub origins: Vec<Origin>,
}

/// Everything that can go wrong while fetching or extracting.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("invalid sha256 {0:?}: expected 64 hex digits")]
    BadSha256(String),

    #[error("no origin given for sha256 {0}")]
    NoOrigins(String),

    #[error("sha256 mismatch for {origin}: expected {expected}, got {got}")]
    Mismatch {
        origin: String,
        expected: String,
        got: String,
    },

    #[error("could not fetch sha256 {sha256} from any origin:{}", list(errors))]
    AllOriginsFailed {
        sha256: String,
        errors: Vec<SourceError>,
    },

    #[error("unsupported url {0:?}: only http:// and https:// are fetched")]
    BadUrl(String),

    #[error("GET {url}: http status {status}")]
    HttpStatus { url: String, status: u16 },

    #[error("GET {url}")]
    Http {
        url: String,
        #[source]
        source: Box<ureq::Error>,
    },

    #[error("invalid {what} {value:?}")]
    BadName { what: &'static str, value: String },

    #[error("{file} is in neither archive's pool of {mirror} ({})", inline(errors))]
    NotInPool {
        file: String,
        mirror: String,
        errors: Vec<SourceError>,
    },

    #[error(
        "invalid `{}` value {}: expected the http(s) URL under which `debian/` and \
         `debian-security/` live, such as `http://deb.debian.org`",
        debian::ENV_MIRROR,
        Quoted(value)
    )]
    BadMirror { value: String },

    #[error("`{command}` failed: {detail}")]
    Command { command: String, detail: String },

    #[error("refusing entry {entry:?} of {archive}: {reason}")]
    UnsafeEntry {
        archive: PathBuf,
        entry: String,
        reason: String,
    },

    #[error("{archive}: {reason}")]
    BadArchive { archive: PathBuf, reason: String },

    #[error(
        "GET {url}: the server declares {} (`Content-Length`), over the download cap of {} \
         (`{}`)",
        crate::size::Bytes(*declared), crate::size::Bytes(*cap), limits::ENV_MAX_DOWNLOAD
    )]
    DeclaredTooBig {
        url: String,
        declared: u64,
        cap: u64,
    },

    #[error(
        "{what}: the download is larger than the cap of {} (`{}`); nothing was stored",
        crate::size::Bytes(*cap), limits::ENV_MAX_DOWNLOAD
    )]
    DownloadTooBig { what: String, cap: u64 },

    #[error(
        "{}: unpacking entry {} goes over the extraction cap of {} (`{}`); nothing was kept",
        crate::text::path(archive), Quoted(entry), crate::size::Bytes(*cap), limits::ENV_MAX_EXTRACT
    )]
    ExtractTooBig {
        archive: PathBuf,
        entry: String,
        cap: u64,
    },

    #[error(
        "{}: more than {cap} entries, the cap of one archive",
        crate::text::path(archive)
    )]
    TooManyEntries { archive: PathBuf, cap: u64 },

    #[error(
        "invalid `{var}` value {}: expected a byte count such as `4294967296`, `64M` or `16G`",
        Quoted(value)
    )]
    BadLimit { var: &'static str, value: String },

    #[error("destination {0} exists and is not an empty directory")]
    DestNotEmpty(PathBuf),

    /// A go.mod `replace` directive whose folder the source does not hold (a module zip holds
    /// its own module only).
    #[error(
        "{}:{line}: `{directive}` replaces a module with the folder `{folder}`, which {problem}\n\
         help: a Go module zip (or a source folder) holds one module only: build from the repository's tarball \
         instead (`[source] urls`, and `[build] subdir` naming the module's folder), or add the \
         replaced module's files to the source with a patch",
        crate::text::path(go_mod),
        directive = crate::text::escape(directive),
        folder = crate::text::escape(folder)
    )]
    GoLocalReplace {
        go_mod: PathBuf,
        line: usize,
        directive: String,
        folder: String,
        problem: &'static str,
    },

    /// A Go module source whose publication time (its proxy's `.info` `Time`, the source's
    /// date) cannot be had, in a run that needs it.
    #[error(
        "cannot date go module {module}@{version}: {why}\n\
         help: a Go module's source is dated by the module proxy's `@v/{version}.info` `Time` \
         (the builds' SOURCE_DATE_EPOCH, the image's `created`), never by its files: let `go` \
         reach a proxy that serves it (check the network and `GOPROXY`, which must not be \
         `off`), or set `SOURCE_DATE_EPOCH` to date the build explicitly",
        module = crate::text::escape(module),
        version = crate::text::escape(version)
    )]
    GoModuleUndated {
        module: String,
        version: String,
        why: String,
    },

    /// A package's `Cargo.lock` that cannot be vendored offline.
    #[error("{}: {reason}", crate::text::path(file))]
    CargoLock { file: PathBuf, reason: String },

    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

/// A string from outside in double quotes, control characters escaped.
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", crate::text::escape(self.0))
    }
}

/// One line per origin's error, each with its causes (`GET URL: io: connection refused`).
fn list(errors: &[SourceError]) -> String {
    errors
        .iter()
        .map(|e| {
            let mut line = format!("\n  - {e}");
            let mut cause = std::error::Error::source(e);
            while let Some(c) = cause {
                line.push_str(&format!(": {c}"));
                cause = c.source();
            }
            line
        })
        .collect()
}

/// The errors on one line, separated by `; `, each with its causes.
fn inline(errors: &[SourceError]) -> String {
    list(errors)
        .split("\n  - ")
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Wraps an io error with what was being done.
pub(crate) fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> SourceError {
    let context = context.into();
    move |source| SourceError::Io { context, source }
}

/// Downloads `url` into a new temporary file in `tmp_dir` with the URL origin's GET (its
/// timeouts, `limits.max_download` as the cap): the file (removed when dropped) and the sha256
/// of its bytes. For toolchain files pinned by hash, fetched outside the source store.
pub fn download_to_temp(
    url: &str,
    tmp_dir: &std::path::Path,
    limits: &Limits,
) -> Result<(tempfile::TempPath, String), SourceError> {
    let fetched = http::download(url, tmp_dir, limits)?;
    match fetched.keep {
        download::Keep::File(path) => Ok((path, fetched.sha256)),
        download::Keep::Dir(_) => unreachable!("an HTTP download is one file"),
    }
}
