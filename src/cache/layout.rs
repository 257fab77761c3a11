//! The build cache's folder tree (`RECIPE_CACHE`), and the only code that spells its names:
//! every other module asks a [`Layout`], an [`Entry`], a [`Work`] or [`Sources`] for its paths.
//!
//! ```text
//! <cache>/
//!   builds/                         cache::Cache: one entry per key
//!     KEY/                          an Entry, appears by one rename when complete
//!       dest/                       the job's installed tree
//!       meta.json                   what the entry says about itself, with its manifest
//!       build.log                   the log of the build that made it
//!     .locks/KEY.lock               one lock file per key
//!     .tmp-WHAT-*/, .KEY.old-*/     scratch and leftovers of killed runs (never read; `gc`)
//!   work/                           scratch of jobs (never read by a later run; `gc_work`)
//!     RECIPE-ARCH-KEYPREFIX/        a Work: one job's folder (`/build` in the sandbox)
//!       src/ dest/ sysroot/ host-sysroot/ build.log zig-cache/ patches/
//!       ...                         and what steps, `build` and the smoke test make there
//!                                   (build/, debian-part/, smoke/, smoke.log: their own)
//!   sources/                        a Sources, source::Store's: sha256/HEX (verified), dates/HEX,
//!                                   tmp/
//!   toolchains/                     provisioned once, shared by every job (read-only in a step)
//!     NAME-VERSION/                 a pip tool's install (zig, meson), upx's binary
//!     .NAME-VERSION.lock            held while upx is installed
//!     .NAME-VERSION.tmp-*/          an install being made (`publish::temp_dir_beside`)
//!     zig-VERSION-wrappers[-sandbox]/TRIPLE/   the compiler wrappers of one target
//!   zig/TRIPLE/                     zig's global cache, one per target triple
//!   go/{build,mod,path}/            Go's GOCACHE, GOMODCACHE and GOPATH
//!   debian-indexes/                 archive's: verified Debian suite indexes,
//!     MIRRORHASH/SUITE/             InRelease and Sources.xz, reused for an hour
//!   tmp/                            scratch of commands that fetch outside a build
//! ```
//!
//! A step in the sandbox sees some of these folders under `/recipe/cache` with the same
//! relative paths (`plan::view`), so a `Layout` over that root names what a step sees.
//!
//! Architecture invariant: the names above are joined only in `cache/` (the insides marked as
//! another module's are that module's); `tests/it/tidy_layout.rs` reads `src/` and fails on a
//! join of them anywhere else. This module is a leaf: it reads no file and imports nothing of
//! the crate but `arch`.

use std::path::{Path, PathBuf};

use crate::arch::Arch;

/// The tree under one cache root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    root: PathBuf,
}

/// How many characters of the key name a job's work folder.
const WORK_KEY_PREFIX: usize = 12;

impl Layout {
    pub fn new(root: &Path) -> Layout {
        Layout {
            root: root.to_path_buf(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `builds/`: the entries, their locks and their scratch folders.
    pub fn builds(&self) -> PathBuf {
        self.root.join("builds")
    }

    /// `builds/KEY/`.
    pub fn entry(&self, key: &str) -> Entry {
        Entry::at(self.builds().join(key))
    }

    /// `builds/.locks/KEY.lock`.
    pub fn key_lock(&self, key: &str) -> PathBuf {
        self.builds().join(".locks").join(format!("{key}.lock"))
    }

    /// Whether `name`, a folder of `builds/`, is one of its own (the locks), not an entry or
    /// a leftover.
    pub fn is_locks(name: &str) -> bool {
        name == ".locks"
    }

    /// `work/`.
    pub fn work(&self) -> PathBuf {
        self.root.join("work")
    }

    /// `work/RECIPE-ARCH-KEYPREFIX/`: where the job of `recipe` for `arch` with key `key` works.
    pub fn work_dir(&self, recipe: &str, arch: Arch, key: &str) -> Work {
        let prefix = &key[..key.len().min(WORK_KEY_PREFIX)];
        Work::at(self.work().join(format!("{recipe}-{arch}-{prefix}")))
    }

    /// The key prefix a work folder's name ends with (the inverse of [`Layout::work_dir`]).
    pub fn work_key_prefix(name: &str) -> &str {
        name.rsplit('-').next().unwrap_or("")
    }

    /// `sources/`: the root of the source store.
    pub fn sources(&self) -> PathBuf {
        self.root.join("sources")
    }

    /// `toolchains/`.
    pub fn toolchains(&self) -> PathBuf {
        self.root.join("toolchains")
    }

    /// `toolchains/NAME-VERSION/`: the install of one provisioned tool.
    pub fn toolchain(&self, name: &str, version: &str) -> PathBuf {
        self.toolchains().join(format!("{name}-{version}"))
    }

    /// `toolchains/.NAME-VERSION.lock`: held while one tool is installed.
    pub fn toolchain_lock(&self, name: &str, version: &str) -> PathBuf {
        self.toolchains().join(format!(".{name}-{version}.lock"))
    }

    /// `toolchains/zig-VERSION-wrappers[-sandbox]/TRIPLE/`: the compiler wrappers of zig
    /// `version` for one target triple; `sandboxed`: those of sandboxed steps.
    pub fn zig_wrappers(&self, version: &str, triple: &str, sandboxed: bool) -> PathBuf {
        let suffix = if sandboxed { "-sandbox" } else { "" };
        self.toolchains()
            .join(format!("zig-{version}-wrappers{suffix}"))
            .join(triple)
    }

    /// `zig/`: zig's global caches.
    pub fn zig(&self) -> PathBuf {
        self.root.join("zig")
    }

    /// `zig/TRIPLE/`: zig's global cache for one target triple.
    pub fn zig_global(&self, triple: &str) -> PathBuf {
        self.zig().join(triple)
    }

    /// `go/build/`: Go's build cache (`GOCACHE`).
    pub fn go_build(&self) -> PathBuf {
        self.root.join("go").join("build")
    }

    /// `go/mod/`: Go's module cache (`GOMODCACHE`).
    pub fn go_mod(&self) -> PathBuf {
        self.root.join("go").join("mod")
    }

    /// `go/path/`: `GOPATH`.
    pub fn go_path(&self) -> PathBuf {
        self.root.join("go").join("path")
    }

    /// `debian-indexes/`: the verified Debian suite indexes.
    pub fn debian_indexes(&self) -> PathBuf {
        self.root.join("debian-indexes")
    }

    /// `tmp/`: scratch of commands that fetch outside a build (`recipe new`, `outdated`).
    pub fn tmp(&self) -> PathBuf {
        self.root.join("tmp")
    }
}

/// One entry folder, `builds/KEY/` or a scratch folder being put together as one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    dir: PathBuf,
}

impl Entry {
    /// The entry whose folder is `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Entry {
        Entry { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `dest/`: the installed tree.
    pub fn dest(&self) -> PathBuf {
        self.dir.join("dest")
    }

    /// `meta.json`.
    pub fn meta(&self) -> PathBuf {
        self.dir.join("meta.json")
    }

    /// `build.log`.
    pub fn log(&self) -> PathBuf {
        self.dir.join("build.log")
    }
}

/// The source store's folder, `sources/` (or a store rooted elsewhere, with the same inside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    dir: PathBuf,
}

impl Sources {
    pub fn at(dir: impl Into<PathBuf>) -> Sources {
        Sources { dir: dir.into() }
    }

    /// `sha256/`: the verified files, by their sha256.
    pub fn blobs(&self) -> PathBuf {
        self.dir.join("sha256")
    }

    /// `sha256/HEX`.
    pub fn blob(&self, sha256: &str) -> PathBuf {
        self.blobs().join(sha256)
    }

    /// `dates/HEX`: when the file `sha256/HEX` was published, where its origin says (a Go
    /// module version's `.info` `Time`), in seconds since the epoch.
    pub fn date(&self, sha256: &str) -> PathBuf {
        self.dir.join("dates").join(sha256)
    }

    /// `tmp/`: downloads in progress (beside the files: a move into place is one rename).
    pub fn tmp(&self) -> PathBuf {
        self.dir.join("tmp")
    }
}

/// One job's folder, `work/RECIPE-ARCH-KEYPREFIX/` (or a throwaway one with the same inside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Work {
    dir: PathBuf,
}

impl Work {
    /// The job folder `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Work {
        Work { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `src/`: the unpacked source.
    pub fn src(&self) -> PathBuf {
        self.dir.join("src")
    }

    /// `dest/`: the DESTDIR the steps install into.
    pub fn dest(&self) -> PathBuf {
        self.dir.join("dest")
    }

    /// `sysroot/`: the dependencies' trees, merged.
    pub fn sysroot(&self) -> PathBuf {
        self.dir.join("sysroot")
    }

    /// `host-sysroot/`: the host tools' trees, merged (`${HOST_SYSROOT}`).
    pub fn host_sysroot(&self) -> PathBuf {
        self.dir.join("host-sysroot")
    }

    /// `build.log`.
    pub fn log(&self) -> PathBuf {
        self.dir.join("build.log")
    }

    /// `zig-cache/`: zig's local cache of this job.
    pub fn zig_cache(&self) -> PathBuf {
        self.dir.join("zig-cache")
    }

    /// `patches/`: the recipe's patch files, as the patch steps read them.
    pub fn patches(&self) -> PathBuf {
        self.dir.join("patches")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_work_folder_name_reads_back_as_its_key_prefix() {
        let l = Layout::new(Path::new("/c"));
        let key = "0123456789abcdef0123";
        let w = l.work_dir("redis", Arch::Arm64, key);
        assert_eq!(w.dir(), Path::new("/c/work/redis-arm64-0123456789ab"));
        let name = w.dir().file_name().unwrap().to_str().unwrap();
        assert!(key.starts_with(Layout::work_key_prefix(name)));
        assert_eq!(Layout::work_key_prefix(name), "0123456789ab");
    }

    #[test]
    fn the_tree_is_the_one_the_module_doc_draws() {
        let l = Layout::new(Path::new("/c"));
        let e = l.entry("k");
        assert_eq!(e.dest(), Path::new("/c/builds/k/dest"));
        assert_eq!(e.meta(), Path::new("/c/builds/k/meta.json"));
        assert_eq!(e.log(), Path::new("/c/builds/k/build.log"));
        assert_eq!(l.key_lock("k"), Path::new("/c/builds/.locks/k.lock"));
        assert_eq!(
            l.zig_wrappers("0.14", "x", true),
            Path::new("/c/toolchains/zig-0.14-wrappers-sandbox/x")
        );
        assert_eq!(l.toolchain("upx", "5"), Path::new("/c/toolchains/upx-5"));
        assert_eq!(l.zig_global("x"), Path::new("/c/zig/x"));
        assert_eq!(l.go_mod(), Path::new("/c/go/mod"));
    }
}
