//! Reproducible distroless OCI images: the public API, its data types and its errors.
//!
//! The core is pure: [`base_entries`] says what a distroless root holds, `layer` turns entries
//! into one reproducible tar+gzip stream, `oci` turns digests into canonical config, manifest and
//! index JSON. The one writer, [`write_layout`], puts it all in an OCI image layout directory
//! (atomically), and [`write_archive`] packs such a directory into one deterministic tar that
//! `skopeo copy oci-archive:FILE` and `podman load -i FILE` accept, with a docker
//! `manifest.json` (`docker.rs`) so `docker load -i FILE` does too. [`write_context`] writes the
//! same entries as a BuildKit build context.

mod context;
mod docker;
mod layer;
mod layout;
mod oci;
mod pgz;
mod rootfs;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::arch::Arch;

pub use context::{dockerfile, platform_dir, write_context};
pub use docker::DOCKER_PLATFORM;
pub use layer::LAYER_FORMAT;
pub use layout::{write_archive, write_layout};
pub use oci::rfc3339;
pub(crate) use oci::{digest, to_canonical};
pub use rootfs::base_entries;

/// What an entry of the image filesystem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    Dir,
    File(FileSource),
    /// A symbolic link to this target (absolute or relative, stored as given).
    Symlink(String),
}

/// Where the bytes of a file come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileSource {
    Bytes(Vec<u8>),
    /// A file on disk, streamed into the layer; only its contents are used (not its mode, owner
    /// or mtime). Symlinks on disk are followed.
    Path(PathBuf),
}

/// One entry of the image filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Absolute path in the image, e.g. `/usr/local/bin/redis-server`.
    pub path: String,
    pub kind: EntryKind,
    /// Permission bits only (at most `0o1777`: setuid and setgid are refused).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

impl Entry {
    /// A root-owned directory.
    pub fn dir(path: impl Into<String>, mode: u32) -> Entry {
        Entry {
            path: path.into(),
            kind: EntryKind::Dir,
            mode,
            uid: 0,
            gid: 0,
        }
    }

    /// A root-owned file with these contents.
    pub fn bytes(path: impl Into<String>, mode: u32, data: impl Into<Vec<u8>>) -> Entry {
        Entry {
            path: path.into(),
            kind: EntryKind::File(FileSource::Bytes(data.into())),
            mode,
            uid: 0,
            gid: 0,
        }
    }

    /// A root-owned file streamed from `source` on disk.
    pub fn file(path: impl Into<String>, mode: u32, source: impl Into<PathBuf>) -> Entry {
        Entry {
            path: path.into(),
            kind: EntryKind::File(FileSource::Path(source.into())),
            mode,
            uid: 0,
            gid: 0,
        }
    }

    /// A root-owned symlink (mode 0777).
    pub fn symlink(path: impl Into<String>, target: impl Into<String>) -> Entry {
        Entry {
            path: path.into(),
            kind: EntryKind::Symlink(target.into()),
            mode: 0o777,
            uid: 0,
            gid: 0,
        }
    }
}

/// The unprivileged user the app runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
    pub name: String,
}

impl Default for User {
    fn default() -> Self {
        User {
            uid: 1000,
            gid: 1000,
            name: "app".to_string(),
        }
    }
}

/// The runtime configuration of an image (the `config` object of the OCI image config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageConfig {
    /// `uid:gid`, e.g. `1000:1000`.
    pub user: String,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// `K=V`.
    pub env: Vec<String>,
    pub workdir: Option<String>,
    /// `6379/tcp`.
    pub exposed_ports: Vec<String>,
    pub volumes: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// Seconds since the epoch for `created` and every file's mtime: SOURCE_DATE_EPOCH or 0.
    pub created_epoch: u64,
    pub healthcheck: Option<Healthcheck>,
}

/// Docker's `Healthcheck` in the image config (podman and docker honour it), always exec form:
/// a distroless image has no shell for the `CMD-SHELL` form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Healthcheck {
    /// The program and its arguments (`Test` is `["CMD", ...argv]`).
    pub argv: Vec<String>,
    pub interval_secs: u64,
    pub timeout_secs: u64,
    pub start_period_secs: u64,
    pub retries: u32,
}

/// The PATH a distroless image gets by default.
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

impl Default for ImageConfig {
    /// User 1000:1000, [`DEFAULT_PATH`] in the environment, created at the epoch; nothing else.
    fn default() -> Self {
        ImageConfig {
            user: "1000:1000".to_string(),
            entrypoint: Vec::new(),
            cmd: Vec::new(),
            env: vec![DEFAULT_PATH.to_string()],
            workdir: None,
            exposed_ports: Vec::new(),
            volumes: Vec::new(),
            labels: BTreeMap::new(),
            created_epoch: 0,
            healthcheck: None,
        }
    }
}

/// The image of one platform: one layer holding `entries`, run with `config`.
#[derive(Debug, Clone)]
pub struct PlatformImage {
    pub arch: Arch,
    pub entries: Vec<Entry>,
    pub config: ImageConfig,
    /// `created_by` of the layer's history entry, e.g. `recipe build redis 7.0.15`.
    pub history: String,
}

/// What [`write_layout`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Written {
    /// Digest (`sha256:...`) of the multi-arch image index the tag points to.
    pub index_digest: String,
    /// One per platform, sorted by arch.
    pub platforms: Vec<PlatformSummary>,
}

/// What was written for one platform.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PlatformSummary {
    pub arch: Arch,
    pub manifest_digest: String,
    /// Digest of the compressed layer blob.
    pub layer_digest: String,
    /// Size of the layer tar (its digest is the config's diff_id).
    pub uncompressed_size: u64,
    /// Size of the gzip blob.
    pub compressed_size: u64,
}

/// Why an image could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("invalid image path `{path}`: {reason}")]
    InvalidPath { path: String, reason: &'static str },
    #[error("image path `{0}` is given twice with different contents")]
    Duplicate(String),
    #[error("image path `{path}` has mode {mode:o}: setuid and setgid bits are not allowed")]
    SetId { path: String, mode: u32 },
    #[error(
        "image path `{path}` has mode {mode:o}: only permission bits (at most 1777) are allowed"
    )]
    InvalidMode { path: String, mode: u32 },
    #[error("image path `{path}` is not a directory but other entries are inside it")]
    NotADirectory { path: String },
    #[error("invalid symlink target for `{path}`: {reason}")]
    InvalidLinkTarget { path: String, reason: &'static str },
    #[error(
        "{} is not a regular file (for image path `{image_path}`)",
        crate::text::path(source_path)
    )]
    NotAFile {
        source_path: PathBuf,
        image_path: String,
    },
    #[error(
        "{} changed while being read (expected {expected} bytes)",
        crate::text::path(path)
    )]
    Changed { path: PathBuf, expected: u64 },
    #[error("cannot read {}", crate::text::path(path))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}", crate::text::path(path))]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "invalid image tag `{0}`: use letters, digits and . _ - : / @ +, not starting with a separator"
    )]
    InvalidTag(String),
    #[error("no platform images to write")]
    NoPlatforms,
    #[error("arch {0} is given twice")]
    DuplicateArch(Arch),
    #[error("{} is not an OCI image layout (no oci-layout or index.json)", crate::text::path(.0))]
    NotALayout(PathBuf),
    #[error("{} is not a valid image layout: {reason}", crate::text::path(path))]
    BadLayout { path: PathBuf, reason: String },
    #[error("the platforms of a build context differ in their config; a Dockerfile has one")]
    ConfigsDiffer,
    #[error(
        "{} holds {kind}, which an image layout archive cannot carry",
        crate::text::path(path)
    )]
    UnexpectedFile { path: PathBuf, kind: &'static str },
}
